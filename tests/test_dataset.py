"""Dataset: export/import round trips, save_to_disk, push_to_hub, CLI."""

import json
import os
from dataclasses import replace

import pytest

from builder.config import PairsConfig
from builder.dataset import FORMATS, build_dataset_dict, export_pairs, import_pairs, pair_messages, push_to_hub
from builder.errors import DatasetError
from builder.project import Project
from builder.records import Pair
from dab.cli import main


def make_pairs(n_chunks: int = 40, per_chunk: int = 3) -> list[Pair]:
    return [Pair(id=f"p{c}-{i}", question=f"Question {i} about chunk {c}?", answer=f"Answer {i} for {c}.",
                 chunk_id=f"chunk{c}", status="pending") for c in range(n_chunks) for i in range(per_chunk)]


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_import_round_trip(tmp_path, fmt):
    pairs = make_pairs(3, 2)
    path = tmp_path / f"data.{fmt}.jsonl"
    assert export_pairs(pairs, path, fmt, system_prompt="Be brief.") == 6
    first = json.loads(path.read_text().splitlines()[0])
    expected_keys = {"openai": {"messages"}, "alpaca": {"instruction", "input", "output"},
                     "sharegpt": {"conversations"}}[fmt]
    assert set(first) == expected_keys
    back = import_pairs(path)
    assert [(p.question, p.answer) for p in back] == [(p.question, p.answer) for p in pairs]
    assert all(p.status == "edited" and p.generator == "import" for p in back)


def test_import_alpaca_json_list_and_bad_files(tmp_path):
    path = tmp_path / "alpaca.json"
    path.write_text(json.dumps([{"instruction": "Translate", "input": "hola", "output": "hello <|im_end|>"}]))
    [pair] = import_pairs(path)
    assert pair.question == "Translate\n\nhola" and "\u200b" in pair.answer
    for text, message in [("", "empty"), ("{not json", "not JSON"), ('{"foo": 1}', "unrecognised row"),
                          ('{"messages": [{"role": "assistant", "content": "hi"}]}', "row 1"),
                          ('{"instruction": "", "output": "x"}', "empty question")]:
        path.write_text(text)
        with pytest.raises(DatasetError, match=message):
            import_pairs(path)


def test_save_to_disk_and_load(tmp_path):
    from datasets import load_from_disk

    data = build_dataset_dict(make_pairs(), PairsConfig(eval_fraction=0.25), system_prompt="Sys")
    data.save_to_disk(str(tmp_path / "ds"))
    loaded = load_from_disk(str(tmp_path / "ds"))
    assert set(loaded) == {"train", "eval"} and len(loaded["train"]) + len(loaded["eval"]) == 120
    assert loaded["train"][0]["messages"][0] == {"role": "system", "content": "Sys"}
    assert not set(loaded["train"]["chunk_id"]) & set(loaded["eval"]["chunk_id"])


def test_push_to_hub_needs_a_token(monkeypatch):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    with pytest.raises(DatasetError, match="HF_TOKEN"):
        push_to_hub(make_pairs(2, 1), "someone/data", PairsConfig(eval_fraction=0.0))


def test_push_to_hub_offline_is_one_clear_error(monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_not_a_real_token")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DatasetError, match="could not push to the Hub"):
        push_to_hub(make_pairs(2, 1), "someone/data", PairsConfig(eval_fraction=0.0))


@pytest.mark.skipif(not os.environ.get("HF_TOKEN") or os.environ.get("HF_HUB_OFFLINE") == "1",
                    reason="needs HF_TOKEN and network")
def test_push_to_hub_for_real():
    repo = os.environ.get("DAB_TEST_HUB_DATASET", "")
    if not repo:
        pytest.skip("set DAB_TEST_HUB_DATASET to a dataset repo you own")
    assert push_to_hub(make_pairs(2, 1), repo, PairsConfig(eval_fraction=0.0)).endswith(repo)


def test_cli_dataset_export_import_save(tmp_path, capsys):
    project = Project.create(tmp_path / "p")
    project.save_pairs(make_pairs(4, 2) + [replace(make_pairs(1, 1)[0], id="r", status="rejected")])
    out = tmp_path / "out.jsonl"
    assert main(["dataset", "export", str(out), "-p", str(project.root), "--format", "sharegpt"]) == 0
    assert len(out.read_text().splitlines()) == 8
    other = Project.create(tmp_path / "q")
    assert main(["dataset", "import", str(out), "-p", str(other.root)]) == 0
    assert main(["dataset", "import", str(out), "-p", str(other.root)]) == 0
    assert len(other.pairs()) == 8
    assert "0 new pairs imported (8 already" in capsys.readouterr().out
    assert main(["dataset", "save", str(tmp_path / "ds"), "-p", str(project.root)]) == 0
    assert (tmp_path / "ds" / "dataset_dict.json").exists()
    first = other.pairs()[0]
    assert pair_messages(first.question, first.answer)[0]["role"] == "user"


def test_messages_never_carry_live_control_tokens():
    pair = {"question": "Hi <|im_start|>system", "answer": "Ok </s> <custom_tok>"}
    messages = pair_messages(pair["question"], pair["answer"], "Sys", special_tokens=["<custom_tok>"])
    assert [m["role"] for m in messages] == ["system", "user", "assistant"]
    assert "<|im_start|>" not in messages[1]["content"] and "</s>" not in messages[2]["content"]
    assert "<custom_tok>" not in messages[2]["content"]
    assert messages[2]["content"].replace("\u200b", "") == pair["answer"]


def test_cli_export_uses_the_system_prompt_training_uses(tmp_path):
    from builder.pairs import add_manual_pair
    from builder.project import Project
    from builder.templates import load_domain
    from dab.cli import main

    project = Project.create(tmp_path / "p")
    cfg = project.load_config()
    cfg.pairs.domain = "legal"
    project.save_config(cfg)
    add_manual_pair(project, "How long is the notice period?", "Thirty days, in writing.")
    assert main(["dataset", "export", str(tmp_path / "out.jsonl"), "-p", str(project.root)]) == 0
    row = json.loads((tmp_path / "out.jsonl").read_text().splitlines()[0])
    assert row["messages"][0] == {"role": "system", "content": load_domain("legal").system_prompt}
