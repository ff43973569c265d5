"""Fact inventory: statements of Markdown text, key facts, tolerant fact matching, coverage, language."""

import pytest

from builder.facts import (answer_key_facts, coverage, fact_in_answer, informative_statements, key_facts,
                           language_problem, last_table_header, split_statements, uninformative_reason)


def texts(markdown: str, heading: list[str] | None = None, header: list[str] | None = None) -> list[str]:
    return [s.text for s in split_statements(markdown, heading or [], header)]


def facts(text: str) -> list[tuple[str, str]]:
    return [(f.kind, f.text) for f in key_facts(text)]


def test_wrapped_lines_are_joined_and_short_title_lines_stay_apart():
    pdf = ("4.1 Fees are set out in the Standard Fee Schedule. A change must be\n"
           "approved by an ordinary resolution, and riders are told by email at\n"
           "least 30 days before it takes effect.\nPage 1 of 3")
    assert texts(pdf) == ["Fees are set out in the Standard Fee Schedule.",
                          "A change must be approved by an ordinary resolution, and riders are told by email at least "
                          "30 days before it takes effect."]
    minutes = "Resolution 2 — Heron fleet expansion\nFor: 270   Against: 16   Abstain: 12\nCARRIED."
    statements = split_statements(minutes, ["Resolutions"])
    assert [s.text for s in statements] == ["For: 270 Against: 16 Abstain: 12."]
    assert statements[0].context == ("Resolutions", "Resolution 2 — Heron fleet expansion")


def test_list_items_read_on_from_their_lead_in_and_keep_wrapped_lines():
    markdown = ("To book a bike you must:\n\n- be aged 21 or over;\n- hold a Member card that was issued\n"
                "  within the last year; and\n- have completed the induction.")
    assert texts(markdown) == ["To book a bike you must be aged 21 or over.",
                               "To book a bike you must hold a Member card that was issued within the last year.",
                               "To book a bike you must have completed the induction."]
    short = "Every Member owns one share of €25. The share:\n\n- cannot be sold;\n- does not earn interest."
    assert texts(short)[1:] == ["The share cannot be sold.", "The share does not earn interest."]
    sentences = "The rules are simple:\n\n- Wear closed-toe shoes.\n- Tie back long hair."
    assert texts(sentences) == ["Wear closed-toe shoes.", "Tie back long hair."]


def test_table_rows_carry_their_header_and_a_cut_table_keeps_it():
    table = "| Slot | Time |\n|---|---|\n| A | 07:00–10:00 |\n| B | 10:00–13:00 |"
    rows = split_statements(table, ["Prices"])
    assert [r.text for r in rows] == ["Slot A: time 07:00–10:00.", "Slot B: time 10:00–13:00."]
    assert rows[0].kind == "row" and rows[0].row["cells"] == [("Time", "07:00–10:00")]
    wide = "| Pass | Price | Included ride time |\n| Day Pass | €4.50 | 45 minutes |"
    assert texts(wide) == ["Day Pass: price €4.50; included ride time 45 minutes."]
    header = last_table_header(table)
    assert header == ["Slot", "Time"]
    assert texts("| C | 13:00–16:00 |", header=header) == ["Slot C: time 13:00–16:00."]
    hours = "| Day | Open |\n|---|---|\n| Monday | 09:00–17:00 |\n| Sunday | closed |"
    assert texts(hours, header=header) == ["Monday: open 09:00–17:00.", "Sunday: open closed."]
    two_tables = f"{table}\n\n| Monday to Friday | Saturday |\n|---|---|\n| 8am–6pm | 9am–1pm |"
    in_section = [s.text for s in split_statements(two_tables, ["Hours"])]
    assert in_section[2:] == ["Hours: Monday to Friday 8am–6pm; Saturday 9am–1pm."]


def test_steps_keep_their_number_and_procedure_heading_and_headings_are_not_statements():
    markdown = "## How to renew\n\n1. Open the app.\n2. Pay the fee of €96.\n"
    statements = split_statements(markdown, ["Membership"])
    assert [(s.kind, s.step, s.text) for s in statements] == [("step", 1, "Open the app."),
                                                               ("step", 2, "Pay the fee of €96.")]
    assert statements[1].context == ("Membership", "How to renew")
    assert texts("# Title\n\n## Section\n\n### Subsection") == []


def test_faq_answers_keep_the_authors_question():
    statements = split_statements("Q: Can I pause?\nA: No. Passes cannot be paused.", [])
    assert [(s.kind, s.text, s.faq_question) for s in statements] == [
        ("faq", "No. Passes cannot be paused.", "Can I pause?")]


@pytest.mark.parametrize("text, expected", [
    ("It costs €6.00, £1,200 or $15, or EUR 75.", [("money", "€6.00"), ("money", "£1,200"), ("money", "$15"),
                                                  ("money", "EUR 75")]),
    ("About 4,812 members, 70% of them, voted.", [("count", "4,812 members"), ("percent", "70%")]),
    ("Held on 15 January 2024 and on March 3.", [("date", "15 January 2024"), ("date", "March 3")]),
    ("Open at 10:00 and until 7 pm.", [("time", "10:00"), ("time", "7 pm")]),
    ("Wait 30 minutes, then 5 working days.", [("duration", "30 minutes"), ("duration", "5 working days")]),
    ("Report it on Form HR-7 with code ICD-10 J45.909.", [("code", "Form HR-7"), ("code", "code ICD-10 J45.909")]),
    ("Ask Priya Ashdown-Mbeki at Saltmarket Depot.", [("name", "Priya Ashdown-Mbeki"), ("name", "Saltmarket Depot")]),
    ("Call 0404 118 2290 or write to help@example.org.", [("phone", "0404 118 2290"), ("email", "help@example.org")]),
    ("Tyres are inflated to 55 psi below −3 °C.", [("measure", "55 psi"), ("measure", "−3 °C")]),
    ("Claim 45p per mile, 99¢ or 85 pence.", [("money", "45p"), ("money", "99¢"), ("money", "85 pence")]),
    ("Applications to the 2025/26 fund close in 2026.", [("year", "2025/26"), ("year", "2026")]),
    ("Send it once a year, once you are registered.", [("frequency", "once a year")]),
])
def test_key_facts_of_each_kind(text, expected):
    assert facts(text) == expected


def test_ordinary_words_are_not_facts():
    assert facts("If the two differ, your contract applies at once.") == []
    assert facts("Thank you for giving your time to the Commons.") == []


@pytest.mark.parametrize("fact, answer", [
    ("€96.00", "It is €96 a year."), ("€96.00", "96 euros"), ("£1,200", "£1200"), ("7 days", "seven days"),
    ("19:00", "at 7 pm"), ("15 January 2024", "January 15, 2024"), ("Form HR-7", "use form hr 7"),
    ("Priya Ashdown-Mbeki", "ask priya ashdown mbeki"), ("ICD-10 J45.909", "icd10 j45.909"), ("4,812", "4812 members"),
    ("5 working days", "within five days"), ("70%", "70 percent"), ("0404 118 2290", "ring 0404-118-2290"),
    ("Wednesday", "Recycling is collected every Wednesday."), ("Wednesday", "We are closed on Wednesdays."),
    ("45p", "£0.45 per mile"),
])
def test_fact_matching_tolerates_harmless_variation(fact, answer):
    assert fact_in_answer(key_facts(fact)[0], answer)


@pytest.mark.parametrize("fact, answer", [
    ("€96.00", "It is €97."), ("€96.00", "£96"), ("7 days", "7 weeks"), ("19:00", "at 7 am"),
    ("15 January 2024", "16 January 2024"), ("15 January 2024", "15 January 2023"), ("Form HR-7", "Form HR-8"),
    ("30 minutes", "half an hour"), ("4,812", "4,821"), ("Priya Ashdown-Mbeki", "Priya"),
    ("Wednesday", "Recycling is collected every Tuesday."), ("45p", "£45"),
])
def test_a_wrong_or_missing_fact_does_not_match(fact, answer):
    assert not fact_in_answer(key_facts(fact)[0], answer)


def test_reference_key_facts_leave_out_what_the_question_gives_away():
    found = answer_key_facts("A Barrow costs €6.00 per slot at Saltmarket Depot.",
                             "How much is a Barrow at Saltmarket Depot?")
    assert [f.text for f in found] == ["€6.00"]


def test_informative_statements_and_the_reason_for_the_others():
    statements = split_statements("Thank you for your time. The fee is €5. Monthly passes cannot be paused. "
                                  "This guide explains how to ride. A Barrow Bay is a covered parking area. "
                                  "Bikes are blue and quiet. Welcome to Kestrel Quay.", [])
    assert [s.text for s in informative_statements(statements)] == [
        "The fee is €5.", "Monthly passes cannot be paused.", "A Barrow Bay is a covered parking area."]
    assert uninformative_reason(statements[5]) == "no figure, date, name, rule, definition or list to ask about"
    assert uninformative_reason(statements[3]) == "describes the document itself"
    assert uninformative_reason(statements[0]) == uninformative_reason(statements[6]) == \
        "a greeting ('Welcome to ...'), not a fact"  # though 'Kestrel Quay' is a name


def test_a_list_of_things_is_informative_and_a_remark_in_a_list_is_not():
    statements = split_statements("The blue bin takes paper, card, cans and glass. Thank you for recycling.\n\n"
                                  "- Asbestos in any form\n- Car parts, tyres and batteries\n- We are sorry.",
                                  ["Items we cannot take"])
    assert [s.text for s in informative_statements(statements)] == [
        "The blue bin takes paper, card, cans and glass.", "Asbestos in any form.", "Car parts, tyres and batteries."]
    assert not informative_statements(split_statements("- Asbestos in any form", []))  # no heading says what it is


def test_coverage_counts_statements_an_answer_states_and_lists_the_rest():
    statements = split_statements("A booking costs €6.00 per slot. Refunds take 10 working days. "
                                  "The desk opens at 09:00.", [])
    answers = ["€6.00 per slot. A booking costs €6.00 per slot.", "Refunds take 14 working days.",
               "Something about the desk and opening."]
    report = coverage(statements, answers)
    assert (report.informative, report.covered) == (3, 1)
    assert [s.text for s in report.uncovered] == ["Refunds take 10 working days.", "The desk opens at 09:00."]
    assert report.ratio == pytest.approx(1 / 3)


@pytest.mark.parametrize("text", [
    "Die Mitgliedschaft kostet 96 Euro pro Jahr. Mitglieder können ihre Mitgliedschaft einmal im Jahr pausieren, "
    "für einen, zwei oder drei ganze Monate.",
    "L'adhésion annuelle coûte 96 euros par an. Les membres peuvent suspendre leur adhésion une fois par an, pour "
    "une période d'un, deux ou trois mois entiers.",
    "Годовое членство стоит 96 евро в год. Члены могут приостановить членство один раз в год на один, два или три "
    "полных месяца.",
])
def test_text_in_another_language_gets_a_reason(text):
    assert language_problem(text).startswith("not English")


def test_english_prose_tables_and_short_texts_pass_the_language_check():
    assert language_problem("Members may pause their membership once a year, for one, two or three months.") is None
    table = "\n".join(f"| Harbourside {n} | {n} | 236 | Harbour Steps (42 docks) |" for n in range(20))
    assert language_problem(table) is None
    assert language_problem("Kurz.", fallback="not English: whole document") == "not English: whole document"
