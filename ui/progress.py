"""The wizard's progress indicator and step gating, computed from the project folder.

    done = project_progress(project)        # {"documents": True, "pairs": False, ...}
    html = progress_html(done, project.root.name)

A step opens (its tab becomes clickable) once the steps before it that it needs are done:
pairs need documents, training needs pairs, evaluation and sharing need a trained adapter.
When the pairs changed since the newest model was trained, Train and Evaluate read "pairs
changed since this model was trained" instead of "done" (``runs.pairs_changed``).
"""

from html import escape

from builder.pairs import training_pairs
from builder.project import Project
from builder.runs import newest_trained_run, pairs_changed

from .steps.share import INFO_FILE

WIZARD_STEPS = ("documents", "pairs", "train", "evaluate", "share")
LABELS = {"documents": "Documents", "pairs": "Pairs", "train": "Train",
          "evaluate": "Evaluate & Chat", "share": "Share"}
NEEDS = {"documents": None, "pairs": "documents", "train": "pairs", "evaluate": "train", "share": "train"}
# Fixed colours (with text) so the state is readable without relying on colour alone.
STYLE = {"done": ("#15803d", "#ffffff", "✓"), "current": ("#1d4ed8", "#ffffff", "●"),
         "open": ("#e5e7eb", "#111827", "○"), "locked": ("#f3f4f6", "#6b7280", "–"),
         "changed": ("#b45309", "#ffffff", "↻")}
CHANGED = "pairs changed since this model was trained"
STALE_STEPS = ("train", "evaluate")  # what a model trained on other pairs makes out of date


def project_progress(project: Project) -> dict[str, bool]:
    """Which wizard steps are done, read from the project folder (drives the progress bar)."""
    run = newest_trained_run(project)
    return {"documents": bool(project.chunks()),
            "pairs": bool(training_pairs(project.pairs())),
            "train": run is not None,
            "evaluate": run is not None and run.eval_path.is_file(),
            "share": (project.root / INFO_FILE).exists(),
            "stale": run is not None and pairs_changed(project, run)}


def step_open(step: str, done: dict[str, bool]) -> bool:
    need = NEEDS[step]
    return need is None or done.get(need, False)


def current_step(done: dict[str, bool]) -> str:
    """The first step that is open but not done (where a returning user continues)."""
    for step in WIZARD_STEPS:
        if step_open(step, done) and not done.get(step):
            return step
    return WIZARD_STEPS[-1]


def step_state(step: str, done: dict[str, bool]) -> str:
    if done.get(step):
        return "changed" if done.get("stale") and step in STALE_STEPS else "done"
    if step == current_step(done):
        return "current"
    return "open" if step_open(step, done) else "locked"


def badge_note(step: str, state: str) -> str:
    """The small text in a step's badge: its state, and for a locked step what opens it."""
    if state == "changed":
        return CHANGED
    if state == "locked":
        need = NEEDS[step]
        return f"locked: opens after {WIZARD_STEPS.index(need) + 1}. {LABELS[need]}"
    return state


def progress_html(done: dict[str, bool], project_name: str) -> str:
    """A row of five labelled step badges plus a one-line "what next" hint."""
    badges = []
    for number, step in enumerate(WIZARD_STEPS, start=1):
        state = step_state(step, done)
        bg, fg, mark = STYLE[state]
        badges.append(f'<span class="dab-step dab-{state}" style="background:{bg};color:{fg};padding:6px 12px;'
                      f'border-radius:999px;margin-right:6px;display:inline-block;font-weight:600">'
                      f'{mark} {number}. {escape(LABELS[step])} <small style="color:inherit">'
                      f'({escape(badge_note(step, state))})</small></span>')
    finished = sum(bool(done.get(s)) for s in WIZARD_STEPS)
    hint = f"Next: <b>{escape(LABELS[current_step(done)])}</b>" if finished < len(WIZARD_STEPS) else "All steps done."
    return (f'<div id="dab-progress"><div>Project <b>{escape(project_name)}</b> · {finished} of '
            f'{len(WIZARD_STEPS)} steps done · {hint}</div><div style="margin-top:6px">{"".join(badges)}</div></div>')
