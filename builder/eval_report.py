"""An evaluation report in plain words: its headline, a one-sentence verdict, and Markdown.

    report["headline"] = headline(report)     # fact accuracy of base and tuned, closed- and open-book
    print(verdict(report))                    # "The tuned model answered 19 of 33 questions ..."
    save_report(report, run)                  # eval.json + eval.md in the run folder

The headline set is ``recall`` (held-out phrasings of trained facts, or the sample's hand-written
questions): what users will ask about the documents the model learned.
"""

from .runs import Run
from .storage import atomic_write_text, write_json

GOOD_ACCURACY = 0.6
SOME_ACCURACY = 0.3


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
    """One sentence for a person: how many questions the tuned model got right, and what to do next."""
    line = report.get("headline") or {}
    if not line:
        return "No question with a checkable fact was asked: add pairs whose answers hold figures, dates or names."
    n = line["questions"]
    right = lambda share: round((share or 0) * n)  # noqa: E731
    said = (f"From memory, the tuned model answered {right(line['tuned_closed'])} of {n} questions with the right "
            f"facts (the original model: {right(line['base_closed'])}); reading the documents, "
            f"{right(line['tuned_open'])} of {n} (the original: {right(line['base_open'])}).")
    best = max(line["tuned_closed"] or 0, line["tuned_open"] or 0)
    if best >= GOOD_ACCURACY:
        return said + " Good enough to try with real users; keep answers from the documents on."
    if best >= SOME_ACCURACY:
        return said + (" Useful, with mistakes: keep answers from the documents on, add pairs for the facts it "
                       "misses, or train a larger base model on a GPU.")
    return said + (" Not reliable yet: check that the pairs cover the facts, train longer (the Thorough preset), "
                   "or use a larger base model.")


def save_report(report: dict, run: Run) -> None:
    """``eval.json`` (everything) and ``eval.md`` (summary + per-question table) in the run's folder."""
    write_json(run.eval_path, report)
    atomic_write_text(run.folder / "eval.md", report_markdown(report))


def report_markdown(report: dict) -> str:
    """The report as Markdown: the verdict, a table per set, then one row per question."""
    lines = ["# Evaluation", "", verdict(report), ""]
    for name, result in report["results"].items():
        lines += set_table(name, report["sets"][name], result) + [""]
    lines += [f"{report['wall_s']} s in all; open-book answers read {report['passages_k']} retrieved passages.", "",
              "| set | question | reference | base (memory) | tuned (memory) | base (documents) | tuned (documents) |",
              "|---|---|---|---|---|---|---|"]
    for row in report["questions"]:
        cells = [row["set"], row["question"], row["reference"]] + [
            answer_cell(row, f"{model}_{mode}") for mode in ("closed", "open") for model in ("base", "tuned")]
        lines.append("| " + " | ".join(cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def set_table(name: str, size: int, result: dict) -> list[str]:
    """One set's averages: rows are measures, columns model x mode."""
    measures = ("fact_accuracy", "abstained", "token_f1", "rouge_l", "answer_nll", "perplexity")
    lines = [f"## {name} ({size} questions)", "",
             "| measure | base, from memory | tuned, from memory | base, reading | tuned, reading |", "|---|---|---|---|---|"]
    for measure in measures:
        values = [result[mode][model].get(measure) for mode in ("closed", "open") for model in ("base", "tuned")]
        if any(v is not None for v in values):
            lines.append(f"| {measure} | " + " | ".join("-" if v is None else str(v) for v in values) + " |")
    if "retrieval" in result:
        lines += ["", f"Retrieval: a passage with the answer's facts among the top {result['retrieval']['k']} "
                      f"for {result['retrieval']['recall_at_k']} of the questions."]
    return lines


def answer_cell(row: dict, key: str) -> str:
    mark = {True: "✓ ", False: "✗ ", None: ""}[row.get(f"{key}_right")]
    return mark + row.get(key, "")


def cell(value) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")
