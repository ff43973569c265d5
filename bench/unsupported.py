"""How well does "Not in the sources" single out wrong answers? Prints one line per project.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/unsupported.py --project DIR --corpus bench/corpora/hollinvale-housing

``--project`` is a trained project (``bench/learn.py --keep DIR`` makes one) of the corpus
folder's documents; its newest run's tuned model, then the base model, answer the corpus's hand-written questions
over the passages chat would quote (``answers.grounded_prompt`` with the project's chat settings),
greedily, and each answer is scored with ``generation.states_facts`` (right or wrong) and with
``GroundedPrompt.unsupported`` (flagged or not). Reported: the share of wrong answers flagged, the
share of right answers flagged (false alarms), and how many answers state a key fact at all.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from builder import evaluate, torch_thread  # noqa: E402
from builder.answers import engine_prompt  # noqa: E402
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
    """Right and flagged answers, counted; then each flagged answer."""
    right = [bool(states_facts(text, ref)) for text, ref in zip(texts, refs)]
    flags = [prompt.unsupported(text) for prompt, text in zip(prompts, texts)]
    wrong_flagged = sum(bool(f) for f, r in zip(flags, right) if not r)
    right_flagged = sum(bool(f) for f, r in zip(flags, right) if r)
    print(f"{name}: {sum(right)} of {len(refs)} right; flagged {wrong_flagged} of {len(refs) - sum(right)} "
          f"wrong answers and {right_flagged} of {sum(right)} right ones", flush=True)
    for text, ref, ok, flag in zip(texts, refs, right, flags):
        if flag:
            print(f"  {'right' if ok else 'wrong'}: {ref['question'][:60]!r} -> {text[:70]!r} flags {flag}")

if __name__ == "__main__":
    main()
