"""`dab` error handling: bad paths and files give one clear line and a non-zero exit code."""

import subprocess
import sys


def dab(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dab", *args], capture_output=True, text=True,
                          timeout=120, cwd=cwd, env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"})


def assert_one_line_error(result: subprocess.CompletedProcess, fragment: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert any(line.startswith("error:") and fragment in line for line in lines), result.stderr


def test_missing_path(tmp_path):
    result = dab("ingest", str(tmp_path / "missing.pdf"), "-p", str(tmp_path / "p"))
    assert_one_line_error(result, "no such file or folder")


def test_empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    result = dab("ingest", str(tmp_path / "empty"), "-p", str(tmp_path / "p"))
    assert_one_line_error(result, "is empty")


def test_unknown_file_type_reports_and_fails(tmp_path):
    (tmp_path / "data.xyz").write_text("hello")
    result = dab("ingest", str(tmp_path / "data.xyz"), "-p", str(tmp_path / "p"))
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "'.xyz' files are not supported" in result.stdout


def test_pairs_on_missing_project(tmp_path):
    assert_one_line_error(dab("pairs", "-p", str(tmp_path / "nope")), "not a project folder")


def test_unknown_model_offline(tmp_path):
    dab("init", str(tmp_path / "p"), "--base-model", "no-such-org/no-such-model")
    (tmp_path / "doc.md").write_text("# Fees\n\nThe Day Pass is a ticket that costs 4.50 euros.\n")
    result = dab("ingest", str(tmp_path / "doc.md"), "-p", str(tmp_path / "p"))
    assert_one_line_error(result, "no-such-org/no-such-model")


def test_missing_or_invalid_files_named_on_the_command_line(tmp_path):
    dab("init", str(tmp_path / "p"))
    assert_one_line_error(dab("dataset", "import", str(tmp_path / "missing.jsonl"), "-p", str(tmp_path / "p")),
                          "missing.jsonl")
    (tmp_path / "bad.jsonl").write_text('{"messages": [\n')
    assert_one_line_error(dab("dataset", "import", str(tmp_path / "bad.jsonl"), "-p", str(tmp_path / "p")),
                          "not JSON")


def test_dataset_push_without_a_token_says_how_to_fix_it(tmp_path):
    dab("init", str(tmp_path / "p"))
    assert_one_line_error(dab("dataset", "push", "someone/sample-pairs", "-p", str(tmp_path / "p")), "set HF_TOKEN")
