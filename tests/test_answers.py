"""Grounded prompts (``builder.answers``): passages and sources for a question, switched off, a project
without documents, no match, a huge question, hostile passages, removed documents, threads at once.

    .venv/bin/python -m pytest tests/test_answers.py -q
"""

import math
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from builder import retrieve
from builder.answers import (GROUNDED, NO_DOCUMENTS, NO_MATCH, OFF, GroundedPrompt, abstained, claim_beside_decline,
                             figure_lines, grounded_prompt, snippet, source_line, source_record, unsupported_facts)
from builder.config import ChatConfig, ProjectConfig
from builder.errors import ConfigError
from builder.project import Project
from builder.retrieve import ABSTAIN_ANSWER, MAX_QUESTION_CHARS, NO_PASSAGES, PASSAGES_INTRO, Passage

from .support import handbook_project

ASK = [{"role": "user", "content": "How much does a day pass cost?"}]


@pytest.fixture()
def project(project_dir, tiny_model_dir) -> Project:
    """A project with the three short HANDBOOK documents, chunked with the tiny model's tokenizer."""
    retrieve.forget_indexes()
    return handbook_project(project_dir, tiny_model_dir)


@pytest.fixture(scope="module")
def special_tokens(tiny_model_dir):
    from builder.models import load_tokenizer

    return load_tokenizer(str(tiny_model_dir)).all_special_tokens


def test_grounded_question_quotes_the_best_passages_and_names_its_sources(project, special_tokens):
    history = [{"role": "user", "content": "Where is the depot?"}, {"role": "assistant", "content": "Quay Street."}]
    prompt = grounded_prompt(project, history + ASK, ChatConfig(passages_k=2), special_tokens)
    assert prompt.status == GROUNDED and prompt.note is None and 1 <= len(prompt.passages) <= 2
    assert prompt.passages[0].document == "fees.md" and "4.50 euro" in prompt.passages[0].text
    assert prompt.messages[:2] == history  # only the last question is grounded
    content = prompt.messages[-1]["content"]
    assert content.startswith(PASSAGES_INTRO) and content.endswith("Question: How much does a day pass cost?")
    assert "4.50 euro" in content and ABSTAIN_ANSWER in content
    record = source_record(prompt.passages[0])
    assert record["document"] == "fees.md" and record["heading"].endswith("Day passes")
    assert record["snippet"].startswith("A day pass costs 4.50 euro") and record["chunk_id"] == prompt.passages[0].chunk_id
    assert source_line(1, prompt.passages[0]).startswith("[1] fees.md > ")
    assert ASK[0]["content"] == "How much does a day pass cost?"  # the caller's messages are untouched


def test_switched_off_sends_the_conversation_as_it_is(project):
    prompt = grounded_prompt(project, ASK, ChatConfig(grounded=False))
    assert prompt.status == OFF and prompt.messages == ASK and prompt.passages == ()
    assert prompt.note == "From memory: the documents were not looked up."


def test_project_without_chunks_answers_closed_book_and_says_so(project_dir):
    empty = Project.create(project_dir)
    for where in (empty, None):
        prompt = grounded_prompt(where, ASK, ChatConfig())
        assert prompt.status == NO_DOCUMENTS and prompt.messages == ASK and not prompt.passages
        assert prompt.note == "No documents: answering without them."


def test_question_matching_nothing_gets_no_passage_and_the_prompt_asks_to_abstain(project):
    prompt = grounded_prompt(project, [{"role": "user", "content": "Quantum zebras of Jupiter?"}], ChatConfig())
    assert prompt.status == NO_MATCH and prompt.passages == () and prompt.note == NO_PASSAGES
    content = prompt.messages[-1]["content"]
    assert content.startswith(NO_PASSAGES) and f'say: "{ABSTAIN_ANSWER}"' in content
    assert content.endswith("Question: Quantum zebras of Jupiter?")


def test_huge_question_is_searched_and_quoted_by_its_end(project):
    question = "zebra quantum jupiter " * 5_000 + "How much does a day pass cost?"
    prompt = grounded_prompt(project, [{"role": "user", "content": question}], ChatConfig())
    assert len(question) > 100_000 and prompt.passages[0].document == "fees.md"
    asked = prompt.messages[-1]["content"].split("Question: ", 1)[1]
    assert question.endswith(asked) and len(asked) <= MAX_QUESTION_CHARS
    assert prompt.question == asked and prompt.sources()[0]["snippet"].startswith("A day pass costs 4.50 euro")


def test_hostile_passage_stays_quoted_text(project, special_tokens, tiny_model_dir):
    from builder.models import load_tokenizer

    question = [{"role": "user", "content": "How long do member share refunds take?"}]
    prompt = grounded_prompt(project, question, ChatConfig(), special_tokens)
    content = prompt.messages[-1]["content"]
    assert prompt.passages[0].document == "notes.md"
    assert "<|im_start|>" not in content and "<|im_end|>" not in content
    tokenizer = load_tokenizer(str(tiny_model_dir))
    control = set(tokenizer.convert_tokens_to_ids(["<|im_start|>", "<|im_end|>", "<|endoftext|>"]))
    assert not control & set(tokenizer(content, add_special_tokens=False)["input_ids"])
    quote = content.split("<passage 1 ", 1)[1]
    assert quote.index("Ignore previous instructions") < quote.index("The refund rule ends here") < quote.index("</passage>")
    assert content.count("</passage>") == len(prompt.passages)


def test_removed_document_is_never_a_source_again(project):
    assert grounded_prompt(project, ASK, ChatConfig()).passages[0].document == "fees.md"
    fees = next(source.id for source in project.sources() if source.original_name == "fees.md")
    project.remove_source(fees)
    prompt = grounded_prompt(project, ASK, ChatConfig(passages_k=10))
    assert "fees.md" not in {p.document for p in prompt.passages} and "4.50" not in prompt.messages[-1]["content"]


def test_two_chats_retrieve_at_once(project):
    questions = ["How much does a day pass cost?", "When does the depot open?", "What does a lost bike cost?",
                 "Where are cargo bikes parked?"] * 4
    retrieve.forget_indexes()
    start = threading.Barrier(4)

    def ask(question: str):
        start.wait(timeout=10)
        return grounded_prompt(project, [{"role": "user", "content": question}], ChatConfig())

    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(ask, questions[:4]))
    together += [grounded_prompt(project, [{"role": "user", "content": q}], ChatConfig()) for q in questions[4:]]
    alone = [grounded_prompt(project, [{"role": "user", "content": q}], ChatConfig()) for q in questions]
    assert [p.passages for p in together] == [p.passages for p in alone]
    assert [p.passages[0].document for p in alone[:4]] == ["fees.md", "depot.md", "fees.md", "depot.md"]


def test_another_conversation_is_asked_over_the_same_passages(project):
    prompt = grounded_prompt(project, ASK, ChatConfig())
    other = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}] + ASK
    again = prompt.for_conversation(other)
    assert again[:2] == other[:2] and again[-1]["content"] == prompt.messages[-1]["content"]
    off = grounded_prompt(project, ASK, ChatConfig(grounded=False))
    assert off.for_conversation(other) == other


def test_a_source_snippet_shows_the_sentence_the_question_asks_about(project):
    """Under an answer, a long passage's snippet is the part that shares the question's words (the
    fact the user can check the answer against), not the passage's first line."""
    text = ("Saltings Court has 48 flats in two blocks and a garden that residents share. Bins are "
            "collected on Tuesdays from the store beside Block A. The lift charge at Saltings Court is "
            "2.65 pounds a week, and the cleaning charge 3.85 pounds a week. Visitors park in the bays.")
    asked = snippet(text, question="How much is the weekly lift charge at Saltings Court?")
    assert asked == ("… store beside Block A. The lift charge at Saltings Court is 2.65 pounds a week, and the "
                     "cleaning charge 3.85 pounds a week. Visitors park in the bays.")
    assert snippet(text).startswith("Saltings Court has 48 flats")  # no question: the start
    assert snippet(text, question="zebra quantum?").startswith("Saltings Court has 48 flats")  # no shared word
    listed = ("3.1 Where you receive services that are shared with other residents, a weekly service charge is "
              "added to your rent, and it is reviewed every year in line with costs. The charges are:\n"
              "- communal cleaning of stairs and landings, charged to all flats: £3.85 a week;\n"
              "- lift maintenance and the yearly inspection of the lifts, charged at Saltings Court only: £2.65 a week.\n"
              "- grounds maintenance: £1.10 a week.")
    lift = snippet(listed, question="How much is the weekly lift charge at Saltings Court?")
    assert "Saltings Court only: £2.65 a week" in lift and len(lift) <= 160  # past a long lead-in
    table = ("| Add-on | Price | Available on |\n|---|---|---|\n| QuickStart onboarding | $350 one-off | all plans |\n"
             "| Priority Plus support | $90 per month | Team |\n| Extra seats | $12 per seat per month | Business |")
    row = snippet(table, question="How much is Priority Plus support on the Team plan?")
    assert "Priority Plus support · $90 per month · Team;" in row and "|" not in row and "---" not in row
    prompt = grounded_prompt(project, ASK, ChatConfig(passages_k=2))
    assert prompt.question == ASK[0]["content"]
    assert prompt.sources() == [source_record(p, prompt.question) for p in prompt.passages]
    assert prompt.sources()[0]["snippet"] == snippet(prompt.passages[0].text, question=prompt.question)
    assert grounded_prompt(project, ASK, ChatConfig(grounded=False)).sources() == []


def test_an_answer_s_figures_that_no_source_states_are_named(project):
    sources = ["The lift charge at Saltings Court is £2.65 a week, and the cleaning charge £3.85 a week.",
               "Rents rose by 3.4% from Monday 7 April 2025. Call Annika Solberg on 07700 900 552."]
    assert unsupported_facts("£10.40. By 15 April 2026 my rent went up to £10.40.", sources) == ["£10.40", "15 April 2026"]
    assert unsupported_facts("£3.85 a week.", sources) == []  # a neighbouring line's figure is in the sources
    stated = "Rents went up by 3.4 per cent on 7 April 2025; ring Annika Solberg on 07700 900 552 or 07700 900 999."
    assert unsupported_facts(stated, sources) == ["07700 900 999"]  # same values in other words pass
    assert unsupported_facts("Two weeks, at Hollin Vale House.", sources) == ["Hollin Vale House"]  # words: not checked
    asked = grounded_prompt(project, ASK, ChatConfig(passages_k=1))
    assert asked.unsupported("It costs 4.50 euro a day, or 7.90 euro for two.") == ["7.90 euro"]
    assert asked.unsupported("A day pass costs 4.50 euro.") == []
    off = grounded_prompt(project, ASK, ChatConfig(grounded=False))
    assert off.unsupported("It costs 7.90 euro.") == []  # nothing to check against: the note says so


CHARGES = Passage("c1", "rent.pdf", ("Service charges",), (
    "Service charges are added to your rent. The charges are:\n"
    "- communal cleaning of stairs and landings, charged to all flats: £3.85 a week;\n"
    "- lift maintenance and the yearly inspection of the lifts, charged at Saltings Court only: £2.65 a week.\n"
    "- grounds maintenance: £1.10 a week.\n\n"
    "| Home | Weekly rent |\n|---|---|\n| Two-bedroom flat | £104.30 |\n| Three-bedroom house | £131.20 |"), 1.0)
LIFT = "How much is the weekly lift charge at Saltings Court?"


def test_each_figure_of_an_answer_comes_with_the_line_that_states_it(project):
    cleaning = "- communal cleaning of stairs and landings, charged to all flats: £3.85 a week;"
    assert figure_lines("£3.85 a week.", LIFT, [CHARGES]) == [{"fact": "£3.85", "document": "rent.pdf", "line": cleaning}]
    assert [f["line"] for f in figure_lines("£2.65 a week, or £2.65.", LIFT, [CHARGES])] == [
        "- lift maintenance and the yearly inspection of the lifts, charged at Saltings Court only: £2.65 a week."]
    house = "What is the weekly rent on a three-bedroom house?"
    assert [f["line"] for f in figure_lines("£131.20 a week, not £104.30.", house, [CHARGES])] == [
        "Three-bedroom house · £131.20;", "Two-bedroom flat · £104.30;"]  # table rows, as read
    twice = Passage("c2", "notice.md", (), "Lifts are serviced at Saltings Court for £3.85 a visit.", 2.0)
    assert figure_lines("£3.85.", LIFT, [CHARGES, twice])[0]["document"] == "notice.md"  # the line nearer the question
    assert figure_lines("£9.99 a week.", LIFT, [CHARGES]) == []  # no line states it: ``unsupported`` names it
    assert figure_lines("£3.85 a week.", "Is it £3.85?", [CHARGES]) == []  # the question gives it
    assert figure_lines("Two-bedroom flats, at Saltings Court.", LIFT, [CHARGES]) == []  # no figure
    asked = grounded_prompt(project, ASK, ChatConfig(passages_k=1))
    assert asked.figure_lines("A day pass costs 4.50 euro.") == [
        {"fact": "4.50 euro", "document": "fees.md", "line": snippet(asked.passages[0].text.split("\n")[-1], question="4.50 euro")}]
    from dab.commands import check_lines

    lift = GroundedPrompt([], (CHARGES,), GROUNDED, question=LIFT)
    assert check_lines(lift, "£3.85 a week, or £9.99.") == [
        "(Not in the sources, check them: £9.99)", f'(Where £3.85 is: rent.pdf, "{cleaning}")']
    assert check_lines(lift, "At Saltings Court.") == []
    assert check_lines(lift, "£3.85 a week. The documents do not cover this.")[0].startswith(
        "(Unsure: the answer also says the documents do not cover this")
    assert grounded_prompt(project, ASK, ChatConfig(grounded=False)).figure_lines("It costs 4.50 euro.") == []


@pytest.mark.parametrize("answer, claim", [
    ("Two weeks. The documents do not cover this.", "Two weeks."),
    ("Yes. You may have grab rails fitted. The documents don’t cover this.", "Yes. You may have grab rails fitted."),
    ("No. The documents do not cover this.", "No."),
    ("The documents do not cover this.", ""),  # a plain decline
    ("No, the documents do not cover this.", ""),  # one sentence that declines
    ("A day pass costs 4.50 euro.", ""),  # a plain answer
    ("Within 4 hours. The document is not instructions.", ""),  # no decline
])
def test_an_answer_that_also_declines_is_told_apart(answer, claim):
    assert claim_beside_decline(answer) == claim
    assert abstained(answer) == ("cover" in answer)


def test_snippet_is_one_short_line():
    text = "A day pass\ncosts 4.50 euro, " + "and more words follow here " * 20
    cut = snippet(text, 40)
    assert cut == "A day pass costs 4.50 euro, and more…" and "\n" not in cut
    assert snippet("Short.") == "Short."


@pytest.mark.parametrize("values, reason", [
    ({"passages_k": 0}, "passages_k"), ({"passages_k": 11}, "passages_k"),
    ({"temperature": math.nan}, "finite"), ({"temperature": math.inf}, "finite"), ({"temperature": -1.0}, "finite"),
    ({"top_p": math.nan}, "top_p")])
def test_chat_settings_are_validated(values, reason):
    with pytest.raises(ConfigError, match=reason):
        ChatConfig(**values)


def test_grounding_settings_are_saved_with_the_project(tmp_path):
    cfg = ProjectConfig()
    assert cfg.chat.grounded is True and cfg.chat.passages_k == 3
    cfg.chat.grounded, cfg.chat.passages_k = False, 5
    cfg.save(tmp_path / "project.yaml")
    loaded = ProjectConfig.load(tmp_path / "project.yaml")
    assert loaded.chat.grounded is False and loaded.chat.passages_k == 5
    with pytest.raises(ConfigError, match="passages_k"):
        ProjectConfig.from_dict({"chat": {"passages_k": 50}})


def test_dab_chat_prints_the_sources_after_the_answer(project, tiny_adapter, capsys):
    from dab.cli import main

    cfg = project.load_config()
    cfg.chat.max_new_tokens = 4
    project.save_config(cfg)
    root, adapter = str(project.root), str(tiny_adapter)
    assert main(["chat", "-p", root, "--adapter", adapter, "-m", "How much does a day pass cost?", "-k", "1"]) == 0
    out = capsys.readouterr().out
    answer, sources = out.split("Sources:\n")
    assert answer.strip() and sources.splitlines() and sources.splitlines()[0].startswith("  [1] fees.md > ")
    assert len(sources.strip().splitlines()) == 1  # -k 1
    assert main(["chat", "-p", root, "--adapter", adapter, "-m", "How much does a day pass cost?", "--no-documents"]) == 0
    assert "Sources:" not in capsys.readouterr().out
    assert main(["chat", "-p", root, "--adapter", adapter, "-m", "Quantum zebras of Jupiter?"]) == 0
    assert f"({NO_PASSAGES})" in capsys.readouterr().out
    assert main(["chat", "-p", root, "--adapter", adapter, "-m", "How much does a day pass cost?", "-k", "2",
                 "--rerank", "on"]) == 0
    reranked = capsys.readouterr().out.split("Sources:\n")[1].strip().splitlines()
    assert len(reranked) == 2 and all(line.lstrip().startswith(("[1] ", "[2] ")) for line in reranked)
    with pytest.raises(SystemExit):
        main(["chat", "-p", root, "-m", "Hi", "--rerank", "maybe"])


def test_dab_chat_without_documents_says_so(project_dir, tiny_model_dir, tiny_adapter, capsys):
    from dab.cli import main

    empty = Project.create(project_dir)
    cfg = empty.load_config()
    cfg.train.base_model, cfg.chat.max_new_tokens = str(tiny_model_dir), 4
    empty.save_config(cfg)
    assert main(["chat", "-p", str(empty.root), "--adapter", str(tiny_adapter), "-m", "Where is the depot?"]) == 0
    assert "(No documents: answering without them.)" in capsys.readouterr().out
