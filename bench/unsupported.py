"""What do the answer checks show of wrong and right answers? Prints their counts per model.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/unsupported.py --project DIR --corpus bench/corpora/hollinvale-housing

``--project`` is a trained project (``bench/learn.py --keep DIR`` makes one) of the corpus
folder's documents; its newest run's tuned model, then the base model, answer the corpus's hand-written questions
over the passages chat would quote (``answers.grounded_prompt`` with the project's chat settings),
greedily, and each answer is scored with ``generation.states_facts`` (right or wrong) and checked:
``GroundedPrompt.unsupported`` ("⚠ Not in the sources": figures no source states) and
``answers.claim_beside_decline`` ("⚠ Unsure": the answer also says the documents do not cover it) and
``GroundedPrompt.figure_lines`` ("Where the figures are": the line that states each other figure).
Reported: wrong answers flagged as not in the sources, wrong answers marked unsure (and not flagged),
wrong answers whose figures are shown with the lines they come from (none of those lines states
the reference's figure: the reader sees a line about something else), wrong answers with none of
these (they decline or state no figure); right answers flagged or marked unsure (false alarms),
and right answers whose figure is shown with a line stating it.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from builder import evaluate, torch_thread  # noqa: E402
from builder.answers import claim_beside_decline, engine_prompt  # noqa: E402
from builder.generation import greedy_texts, states_facts  # noqa: E402
from builder.project import Project  # noqa: E402
from builder.runs import chat_settings, load_engine, newest_trained_run  # noqa: E402
from builder.storage import read_jsonl  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, required=True, help="a trained project of the corpus's documents")
    parser.add_argument("--corpus", type=Path, required=True, help="a corpus folder with questions.jsonl")
    args = parser.parse_args()
    project = Project.open(args.project)
    project_cfg = project.load_config()
    run = newest_trained_run(project)
    engine, chat = load_engine(run, project_cfg), chat_settings(project_cfg, run)
    refs = read_jsonl(args.corpus / "questions.jsonl")
    prompts = [engine_prompt(engine, project, [{"role": "user", "content": r["question"]}], chat) for r in refs]
    ids = [engine.prompt_ids(p.messages, chat) for p in prompts]
    budgets = evaluate.answer_budgets(engine, refs, chat)
    for label, tuned in (("tuned", True), ("base", False)):
        def answers() -> list[str]:
            with engine.adapter_enabled(tuned):
                return greedy_texts(engine.model, engine.tokenizer, ids, budgets)

        report(f"{args.corpus.name}, {label}", torch_thread.call(answers), refs, prompts)


def report(name: str, texts: list[str], refs: list[dict], prompts: list) -> None:
    """The checks' counts over wrong and right answers; then each wrong answer with a figure line."""
    right = [bool(states_facts(text, ref)) for text, ref in zip(texts, refs)]
    flagged = [bool(prompt.unsupported(text)) for prompt, text in zip(prompts, texts)]
    lines = [prompt.figure_lines(text) for prompt, text in zip(prompts, texts)]
    unsure = [bool(claim_beside_decline(text)) and not flag for text, flag in zip(texts, flagged)]
    shows_other = [bool(found) and not any(states_facts(f["line"], ref) for f in found) for found, ref in zip(lines, refs)]
    wrong = [i for i, ok in enumerate(right) if not ok]
    good = [i for i, ok in enumerate(right) if ok]
    print(f"{name}: {len(good)} of {len(refs)} right", flush=True)
    other = [shows_other[i] and not flagged[i] and not unsure[i] for i in range(len(refs))]
    print(f"  wrong {len(wrong)}: not in the sources {sum(flagged[i] for i in wrong)}, unsure "
          f"{sum(unsure[i] for i in wrong)}, figure shown with a line about something else "
          f"{sum(other[i] for i in wrong)}, none of these "
          f"{sum(not (flagged[i] or unsure[i] or other[i]) for i in wrong)}")
    print(f"  right {len(good)}: flagged not in the sources {sum(flagged[i] for i in good)}, unsure "
          f"{sum(unsure[i] for i in good)}, figure shown with "
          f"the line stating it {sum(any(states_facts(f['line'], refs[i]) for f in lines[i]) for i in good)}")
    for i in wrong:
        if shows_other[i]:
            print(f"  wrong: {refs[i]['question'][:60]!r} -> {texts[i][:50]!r}: {lines[i][0]['line'][:70]!r}")


if __name__ == "__main__":
    main()
