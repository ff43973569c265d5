"""`dab review`: list with filters, accept, reject, edit, add and move pairs by id; wrong ids or
values are one clear error line and exit code 2, with nothing changed."""

import json
import subprocess
import sys

import pytest

from dab.cli import main

from .test_review import copy_of


@pytest.fixture()
def project(review_template, tmp_path):
    return copy_of(review_template, tmp_path)


def review(project, *args, capsys) -> tuple[int, list[str], str]:
    code = main(["review", *args, "-p", str(project.root)])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def listed(project, capsys, *filters) -> list[dict]:
    code, lines, _ = review(project, "list", "--json", *filters, capsys=capsys)
    assert code == 0
    return [json.loads(line) for line in lines]


def test_list_filters_by_status_and_split(project, capsys):
    everything = listed(project, capsys)
    assert len(everything) == len(project.pairs()) and {row["status"] for row in everything} == {"pending"}
    held = listed(project, capsys, "--split", "eval")
    assert held and {row["used_for"] for row in held} == {"evaluation"}
    assert len(held) + len(listed(project, capsys, "--split", "train")) == len(everything)
    code, lines, err = review(project, "list", "--status", "pending", capsys=capsys)
    assert code == 0 and len(lines) == len(everything) and f"{len(everything)} of {len(everything)} pairs" in err
    assert lines[0].startswith(everything[0]["id"]) and " -> " in lines[0]
    assert listed(project, capsys, "--status", "accepted") == []


def test_accept_reject_edit_add_and_move(project, capsys):
    first, second, third = (row["id"] for row in listed(project, capsys)[:3])
    assert review(project, "accept", first, second, capsys=capsys)[1] == ["2 pair(s) accepted (0 already were)"]
    assert review(project, "reject", second, capsys=capsys)[0] == 0
    code, lines, _ = review(project, "edit", third, "--answer", "At 07:00 sharp.", capsys=capsys)
    assert code == 0 and lines == [f"pair {third} edited"]
    pairs = {p.id: p for p in project.pairs()}
    assert (pairs[first].status, pairs[second].status, pairs[third].status) == ("accepted", "rejected", "edited")
    assert pairs[third].answer == "At 07:00 sharp." and pairs[third].question == listed(project, capsys)[2]["question"]
    code, lines, _ = review(project, "add", "-q", "Is there a café?", "-a", "Yes, by the door.", capsys=capsys)
    added = lines[0].split()[1]
    assert code == 0 and next(r for r in listed(project, capsys) if r["id"] == added)["used_for"] == "training"
    assert review(project, "move", added, first, "--to", "eval", capsys=capsys)[0] == 0
    assert {r["id"] for r in listed(project, capsys, "--split", "eval")} >= {added, first}


@pytest.mark.parametrize("args, message", [
    (("accept", "0000000000000000"), "no pair with id 0000000000000000; nothing was changed"),
    (("move", "0000000000000000", "--to", "eval"), "no pair with id 0000000000000000"),
    (("edit", "0000000000000000", "-q", "Why?"), "no pair with id 0000000000000000"),
    (("edit", "{first}", "-q", "  "), "the question cannot be empty"),
    (("edit", "{first}",), "give --question and/or --answer"),
    (("add", "-q", "Why?", "-a", "Because.", "--passage", "nope"), "no chunk with id nope"),
])
def test_wrong_ids_and_values_change_nothing(project, capsys, args, message):
    first = project.pairs()[0].id
    before = (project.root / "pairs.jsonl").read_bytes()
    code, lines, err = review(project, *(a.format(first=first) for a in args), capsys=capsys)
    assert code == 2 and lines == [] and err.startswith("error: ") and message in err, err
    assert (project.root / "pairs.jsonl").read_bytes() == before


def test_an_unknown_status_or_split_is_a_usage_error(project):
    """Through the real command: argparse names the allowed values, exit code 2, no traceback."""
    for args in (("list", "--status", "Reject"), ("move", "x", "--to", "evaluation")):
        result = subprocess.run([sys.executable, "-m", "dab", "review", *args, "-p", str(project.root)],
                                capture_output=True, text=True, timeout=120, env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"})
        assert result.returncode == 2 and "invalid choice" in result.stderr and "Traceback" not in result.stderr
