"""An evaluation report in plain words: its headline, a one-sentence verdict, and Markdown.

    report["headline"] = headline(report)     # fact accuracy of base and tuned, closed- and open-book
    print(verdict(report))                    # "The tuned model answered 19 of 33 questions ..."
    MEASURES["token_f1"]                      # ("word overlap", "the share of the reference's words ...")
    base_model_note(run, project_cfg)         # "" or why the report is not about the project's base model now
    save_report(report, run)                  # eval.json + eval.md in the run folder
    report_files(run)                         # (eval.md, eval.json) to download, or None

The headline set is ``recall`` (held-out phrasings of trained facts, or the sample's hand-written
questions): what users will ask about the documents the model learned. The verdict gives advice
by the better of the tuned model's two scores (``GOOD_ACCURACY``, ``SOME_ACCURACY``).
"""

from pathlib import Path

from .config import ProjectConfig
from .runs import Run
from .storage import atomic_write_text, write_json

GOOD_ACCURACY = 0.6
SOME_ACCURACY = 0.3
FEW_QUESTIONS = 10  # below this many checked questions, the verdict says the score is rough
MEASURES = {  # measure -> (plain name, one line saying what it means)
    "fact_accuracy": ("right facts", "share of answers that state every key fact of the reference answer "
                                     "(its numbers, dates, codes and names); higher is better"),
    "abstained": ("said not covered", "share of answers saying the documents do not cover the question: "
                                      "wanted for questions they do not answer, a miss elsewhere"),
    "token_f1": ("word overlap", "how many words the answer shares with the reference answer (F1, 0 to 1); "
                                 "a rough check: right facts matter more"),
    "rouge_l": ("same wording", "the longest run of words in the same order as the reference answer "
                                "(ROUGE-L, 0 to 1); a rough check"),
    "answer_nll": ("surprise at the reference", "how unlikely the model finds the reference answer (NLL); lower is "
                                        "better, yet a lower value does not mean right answers"),
    "perplexity": ("perplexity", "the same surprise as a number of equally likely words; lower is better, "
                                 "yet it can fall while the answers stay wrong"),
}
SET_NAMES = {"recall": "questions about the trained facts, asked in new words",
             "unseen": "questions about passages left out of training",
             "unanswerable": "questions the documents do not answer"}
MODES = {"closed": "from memory", "open": "reading the documents"}
MARKDOWN_NAME = "eval.md"


def headline(report: dict) -> dict:
    """Fact accuracy on the first set that has key facts to check (recall, else unseen)."""
    for name in ("recall", "unseen"):
        result = report["results"].get(name)
        if result and result["closed"]["tuned"]["facts_checked"]:
            line = {"set": name, "questions": result["closed"]["tuned"]["facts_checked"]}
            for model in ("base", "tuned"):
                for mode in ("closed", "open"):
                    line[f"{model}_{mode}"] = result[mode][model]["fact_accuracy"]
            line["retrieval_recall"] = result["retrieval"]["recall_at_k"]
            unanswerable = report["results"].get("unanswerable")
            line["tuned_declines"] = unanswerable["open"]["tuned"]["abstained"] if unanswerable else None
            return line
    return {}


def verdict(report: dict) -> str:
    """Plain words for a person: how many questions the tuned model got right, then what to do next."""
    line = report.get("headline") or {}
    if not line:
        return ("No question with a checkable fact was asked, so there is no score: add pairs whose answers "
                "hold figures, dates or names, and train again.")
    return " ".join(part for part in (score_sentence(line), advice(line), size_note(line["questions"])) if part)


def score_sentence(line: dict) -> str:
    n = line["questions"]
    right = lambda share: round((share or 0) * n)  # noqa: E731
    return (f"The tuned model answered {right(line['tuned_closed'])} of {n} questions correctly from memory "
            f"(the original: {right(line['base_closed'])}), and {right(line['tuned_open'])} of {n} reading "
            f"the documents, as the chat does (the original: {right(line['base_open'])}).")


def advice(line: dict) -> str:
    """What the score means and what to try next, by the better of the tuned model's two scores."""
    closed, opened = line["tuned_closed"] or 0, line["tuned_open"] or 0
    best = max(closed, opened)
    if best <= max(line["base_closed"] or 0, line["base_open"] or 0) and best < GOOD_ACCURACY:
        return ("Training has not helped yet: add more pairs, one per fact of the documents asked in several "
                "ways, train with the Thorough preset, or pick a larger base model (on a GPU).")
    reading = " keep \"Answer from the documents\" on;" if opened > closed else ""
    if best >= GOOD_ACCURACY:
        return f"Good enough to try with real users;{reading} for more, add pairs for the facts it misses."
    if best >= SOME_ACCURACY:
        return (f"Useful, with mistakes: check its answers;{reading} add pairs for the facts it misses, "
                "or train a larger base model on a GPU.")
    return ("Not reliable yet: add more or better pairs (one per fact, asked in several ways), keep "
            "\"Answer from the documents\" on, or train a larger base model on a GPU.")


def size_note(questions: int) -> str:
    if questions >= FEW_QUESTIONS:
        return ""
    return f"Only {questions} questions could be checked, so this score is rough."


def base_model_note(run: Run, project_cfg: ProjectConfig) -> str:
    """Why the report may not describe the model the project trains now: its base model changed."""
    trained_on, now = run.base_model(project_cfg), project_cfg.train.base_model
    if trained_on == now:
        return ""
    return (f"This report is about run {run.name}, trained on the base model `{trained_on}`. The project's base "
            f"model is now `{now}`: train again to build and evaluate a model on it.")


def save_report(report: dict, run: Run) -> None:
    """``eval.json`` (everything) and ``eval.md`` (summary + per-question table) in the run's folder."""
    write_json(run.eval_path, report)
    atomic_write_text(run.folder / MARKDOWN_NAME, report_markdown(report))


def report_files(run: Run) -> tuple[Path, Path] | None:
    """(``eval.md``, ``eval.json``) of the run's report, the Markdown written from the JSON when it is
    missing (a report saved before the Markdown existed); None when the run has no report."""
    report = run.eval_report()
    if report is None:
        return None
    markdown = run.folder / MARKDOWN_NAME
    if not markdown.is_file():
        atomic_write_text(markdown, report_markdown(report))
    return markdown, run.eval_path


def report_markdown(report: dict) -> str:
    """The report as Markdown: the verdict, a table per set, what the measures mean, then one row per question."""
    lines = ["# Evaluation", "", verdict(report), ""]
    for name, result in report["results"].items():
        lines += set_table(name, report["sets"][name], result) + [""]
    lines += ["## What the measures mean", ""] + [f"- **{label}**: {meaning}." for label, meaning in MEASURES.values()]
    lines += ["", f"{report['wall_s']} s in all; answers reading the documents saw {report['passages_k']} "
                  "retrieved passages.", "",
              "| set | question | reference | base (memory) | tuned (memory) | base (documents) | tuned (documents) |",
              "|---|---|---|---|---|---|---|"]
    for row in report["questions"]:
        cells = [row["set"], row["question"], row["reference"]] + [
            answer_cell(row, f"{model}_{mode}") for mode in MODES for model in ("base", "tuned")]
        lines.append("| " + " | ".join(cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def set_table(name: str, size: int, result: dict) -> list[str]:
    """One set's averages: rows are measures (in plain words), columns model x mode."""
    lines = [f"## {name}: {SET_NAMES.get(name, name)} ({size} questions)", "",
             "| measure | base, from memory | tuned, from memory | base, reading | tuned, reading |", "|---|---|---|---|---|"]
    for measure, (label, _) in MEASURES.items():
        values = [result[mode][model].get(measure) for mode in MODES for model in ("base", "tuned")]
        if any(v is not None for v in values):
            lines.append(f"| {label} | " + " | ".join("-" if v is None else str(v) for v in values) + " |")
    if "retrieval" in result:
        lines += ["", f"Retrieval: a passage with the answer's facts among the top {result['retrieval']['k']} "
                      f"for {result['retrieval']['recall_at_k']} of the questions."]
    return lines


def answer_cell(row: dict, key: str) -> str:
    mark = {True: "✓ ", False: "✗ ", None: ""}[row.get(f"{key}_right")]
    return mark + row.get(key, "")


def cell(value) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")
