"""The wizard's handlers driven through ``gradio_client`` against the real app on 127.0.0.1.

    .venv/bin/python -m pytest tests/test_ui_app.py -q

One app is launched per module on a free port, over a projects folder in a tmp dir whose
project trains the tiny random model of ``tests/conftest.py``. Fixtures build on each other
(uploaded → pairs → trained), so each test asks only for the state it needs.
"""

import errno
import io
import json
import os
import re
import signal
import threading
import time
import zipfile

import httpx
import pytest

from builder.pairs import training_pairs
from builder.project import Project
from builder.templates import sample_documents
from builder.runs import finished_runs, newest_run, newest_trained_run

from .support import client, free_port, make_run

pytestmark = pytest.mark.e2e

MAX_UPLOAD_BYTES = 200_000


@pytest.fixture(scope="module")
def wizard(tmp_path_factory, tiny_model_dir):
    """(url, project) of a running wizard whose project uses the tiny model."""
    from ui.app import launch

    home = tmp_path_factory.mktemp("projects")
    project = Project.create(home / "bikes")
    cfg = project.load_config()
    cfg.train.base_model = str(tiny_model_dir)
    cfg.chat.max_new_tokens = 12
    project.save_config(cfg)
    app, url = launch(project=project.root, port=free_port(), max_file_bytes=MAX_UPLOAD_BYTES, block=False)
    yield url, project
    app.close()
    run = newest_run(project)  # never leave a training running after a failed test
    if run is not None and run.active():
        run.request_stop()


def value_of(output):
    """A component's value from a handler output (plain, or a component update)."""
    is_update = isinstance(output, dict) and ("__type__" in output or {"visible", "value"} <= set(output))
    return output["value"] if is_update else output


def upload(url, paths):
    from gradio_client import handle_file

    return client(url).predict([handle_file(str(p)) for p in paths], api_name="/upload")


@pytest.fixture(scope="module")
def uploaded(wizard):
    url, project = wizard
    table, summary, _, _ = upload(url, sample_documents())
    return url, project, table, summary


@pytest.fixture(scope="module")
def paired(uploaded):
    url, project, _, _ = uploaded
    outputs = client(url).predict("rules", "bundled", "http://127.0.0.1:11434/v1", "", "OPENAI_API_KEY", "general",
                                  "all", 0, "all", api_name="/generate_pairs")
    table, counts, report, generated = outputs[0], outputs[1], outputs[3], outputs[-1]
    assert report.splitlines()[-2].startswith("total:") and report.splitlines()[-1].startswith("coverage:")
    assert generated.startswith(f"✅ {len(project.pairs())} new pairs ({len(project.pairs())} in all)")
    return url, project, table, counts


@pytest.fixture(scope="module")
def trained(paired):
    """Start a 3-step training with a double click, then follow it from a fresh session."""
    url, project, _, _ = paired
    first, second = client(url), client(url)
    model = project.load_config().train.base_model
    jobs = [c.submit(model, "custom", 1.0, 3, 1e-3, 4, api_name="/train_start") for c in (first, second)]
    outcomes = []
    for job in jobs:
        try:
            outcomes.append(job.result(timeout=60))
        except Exception as exc:  # noqa: BLE001  (the refused click surfaces as an exception)
            outcomes.append(exc)
    reloaded_status, _, _ = client(url).predict(api_name="/train_poll")  # a reload while training runs
    return url, project, outcomes, reloaded_status


def wait_for_training(url, timeout_s: float = 120) -> str:
    reloaded = client(url)  # a new session, like a reloaded page
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status, plot, _ = reloaded.predict(api_name="/train_poll")
        if status.startswith(("**completed", "**stopped", "**failed")):
            return status, plot
        time.sleep(1)
    raise AssertionError(f"training did not finish: {status}")


def test_upload_reports_each_file(uploaded):
    _, project, table, summary = uploaded
    names = {row[0] for row in table["data"]}
    assert {"membership-guide.md", "terms-of-membership.pdf", "staff-handbook.docx"} <= names
    assert all(row[1] == "ok" and row[3] > 0 for row in table["data"])
    assert "9 documents" in summary
    stored = [p.name for p in project.sources_dir.iterdir()]
    assert not any(name in stored for name in names)  # stored under generated names


def test_empty_and_unsupported_files_are_reported_and_lose_nothing(uploaded, tmp_path):
    url, project, _, _ = uploaded
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    table, summary, _, _ = upload(url, [empty])
    rows = {row[0]: row for row in table["data"]}
    assert rows["empty.txt"][1] == "error" and "empty" in rows["empty.txt"][5]
    assert "9 documents" in summary  # the earlier documents are all still there
    odd, good = tmp_path / "tool.exe", tmp_path / "opening-hours.md"
    odd.write_bytes(b"MZ\x90\x00 not a document")
    good.write_text("# Opening hours\n\nThe depot opens at 07:00 on weekdays and at 09:00 on Saturdays.\n")
    table, summary, _, _ = upload(url, [odd, good])  # one unsupported file never stops the batch
    rows = {row[0]: row for row in table["data"]}
    assert rows["tool.exe"][1] == "error" and "'.exe' files are not supported" in rows["tool.exe"][5]
    assert rows["opening-hours.md"][1] == "ok" and "10 documents" in summary
    source_id = next(s.id for s in project.sources() if s.original_name == "opening-hours.md")
    client(url).predict(source_id, api_name="/remove_document")
    assert len(project.sources()) == 9


def test_transfer_check_from_the_documents_step(uploaded):
    url, project, _, _ = uploaded
    text = client(url).predict(api_name="/transfer_check")
    assert re.match(r"\*\*(Close to|Moderately far from|Far from) general text\.\*\*", text)
    assert re.search(r"\*\*Aim for about \d+ pairs\*\* \(you have \d+\)", text) and "rule of thumb" in text


def test_file_over_the_size_limit_is_refused(uploaded, tmp_path):
    url, project, _, _ = uploaded
    big = tmp_path / "big.txt"
    big.write_text("bicycle " * (MAX_UPLOAD_BYTES // 8 + 1000))
    with pytest.raises(Exception, match=r"(?i)too large|size|413"):
        upload(url, [big])
    assert len(project.sources()) == 9


def test_remove_document(wizard, tmp_path):
    url, project = wizard
    note = tmp_path / "note.md"
    note.write_text("# Spare parts\n\nThe spare parts cupboard is in the basement of the depot.\n")
    upload(url, [note])
    source_id = next(s.id for s in project.sources() if s.original_name == "note.md")
    table, _, _ = client(url).predict(source_id, api_name="/remove_document")
    assert "note.md" not in {row[0] for row in table["data"]}
    assert not any(c.source_id == source_id for c in project.chunks())


def test_pairs_edit_filter_bulk_and_add(paired):
    url, project, table, counts = paired
    assert len(table["data"]) > 10 and "pending" in counts
    c = client(url)
    c.predict(api_name="/load_page")  # a page shows the table before its edits are saved
    edited = [list(row) for row in table["data"][:1]]
    edited[0][4] = "Members borrow bikes for up to a week."
    table, counts, *_, saved = c.predict("all", 0, "all", {"headers": table["headers"], "data": edited},
                                         api_name="/save_pairs")
    assert saved == "✅ 1 change(s) saved."
    pair = next(p for p in project.pairs() if p.id == edited[0][0])
    assert pair.status == "edited" and pair.answer == "Members borrow bikes for up to a week."
    shown, *_ = c.predict("edited", 0, "all", api_name="/reject_shown")
    assert [row[0] for row in shown["data"]] == []  # the filter shows edited ones; now none are edited
    assert next(p for p in project.pairs() if p.id == pair.id).status == "rejected"
    shown, counts, *_ = c.predict("Where is the depot?", "On Mill Lane.", "", "edited", 0, "all", api_name="/add_pair")
    assert "Where is the depot?" in [row[3] for row in shown["data"]]  # a pair the user writes is "edited"
    assert "1 rejected" in counts


def test_filter_by_source_and_download_in_three_formats(paired):
    url, project, _, _ = paired
    c = client(url)
    pdf = next(s for s in project.sources() if s.original_name == "terms-of-membership.pdf")
    shown, *_ = c.predict("all", 0, pdf.id, api_name="/reject_shown")
    assert shown["data"] and {row[6] for row in shown["data"]} == {"terms-of-membership.pdf"}
    keys = {"openai": "messages", "alpaca": "instruction", "sharegpt": "conversations"}
    for fmt, key in keys.items():
        file, _ = c.predict(fmt, api_name="/download_pairs")
        response = httpx.get(file["url"])
        assert response.status_code == 200, fmt
        rows = [json.loads(line) for line in response.text.splitlines()]
        assert rows and key in rows[0]
    assert len(rows) == len(training_pairs(project.pairs())) < len(project.pairs())


def test_bad_project_names_cannot_escape_the_projects_folder(wizard):
    url, project = wizard
    for name in ("../evil", "/tmp/evil", "a/b"):
        with pytest.raises(Exception, match="Project names"):
            client(url).predict(name, api_name="/create_project")
    assert not (project.root.parent.parent / "evil").exists()


def test_create_and_delete_project(wizard):
    url, project = wizard
    c = client(url)
    choose, _ = c.predict("scratch", api_name="/create_project")
    assert value_of(choose) == "scratch" and (project.root.parent / "scratch" / "project.yaml").exists()
    reloaded = client(url).predict(api_name="/load_page")
    assert value_of(reloaded[0]) == "scratch" and "Project <b>scratch</b>" in reloaded[1]  # a reload reopens it
    assert value_of(client(url).predict("scratch", api_name="/delete_project")) == "bikes"
    assert not (project.root.parent / "scratch").exists() and project.root.exists()
    assert value_of(client(url).predict(api_name="/load_page")[0]) == "bikes"


@pytest.mark.parametrize("path", ["../../../../../../etc/passwd", "/etc/passwd", "..%2F..%2F..%2Fetc%2Fpasswd"])
def test_file_route_refuses_paths_outside_the_projects(wizard, path):
    url, _ = wizard
    response = httpx.get(f"{url}gradio_api/file={path}")
    assert response.status_code in (403, 404) and "root:" not in response.text


def test_file_route_refuses_a_file_beside_the_projects(wizard, tmp_path):
    url, _ = wizard
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the browser")
    response = httpx.get(f"{url}gradio_api/file={secret}")
    assert response.status_code in (403, 404) and "not for the browser" not in response.text


def test_double_click_on_train_starts_one_run_and_reload_picks_it_up(trained):
    url, project, outcomes, reloaded_status = trained
    assert reloaded_status.startswith(("**starting", "**loading", "**running")), reloaded_status
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert len(errors) == 1 and "already running" in str(errors[0])
    assert len(list(project.runs_dir.iterdir())) == 1
    status, plot = wait_for_training(url)
    assert status.startswith("**completed") and "step 3 of 3" in status
    series, loss = plot["columns"].index("series"), plot["columns"].index("loss")
    points = [row for row in plot["data"] if row[loss] is not None and row[loss] == row[loss]]  # not NaN
    assert {"training pairs", "held-out pairs"} == {row[series] for row in points}
    assert len([row for row in points if row[series] == "training pairs"]) == 3


def test_page_state_after_training(trained):
    url, _, _, _ = trained
    wait_for_training(url)
    values = client(url).predict(api_name="/load_page")
    assert value_of(values[0]) == "bikes"  # the project dropdown: the last project opened
    progress_html = values[1]
    assert "3 of 5 steps done" in progress_html and "Evaluate &amp; Chat" in progress_html


def test_evaluate_shows_the_report_card(trained):
    url, project, _, _ = trained
    wait_for_training(url)
    c = client(url)
    assert c.predict(api_name="/evaluate") == "Evaluation of project **bikes** finished."
    summary, markdown, data, table, *charts, questions = c.predict(api_name="/report")  # buttons are not returned
    assert summary.startswith("The tuned model answered") and "(the original: " in summary
    assert {(row[0].split(" ")[0], row[2]) for row in table["data"]} >= {("questions", "right facts")}
    assert questions["data"] and all(len(chart["data"]) == 4 for chart in charts)  # original/tuned x memory/reading
    run = finished_runs(project)[0]
    assert markdown["visible"] and httpx.get(value_of(markdown)["url"]).text == (run.folder / "eval.md").read_text()
    assert httpx.get(value_of(data)["url"]).json()["headline"] == json.loads(run.eval_path.read_text())["headline"]


def test_switching_project_leaves_an_evaluation_and_a_training_running(trained):
    """Each keeps running for its own project; the session's views show the project open now."""
    url, project, _, _ = trained
    wait_for_training(url)
    c = client(url)
    before = newest_trained_run(project).eval_path.stat().st_mtime_ns
    model = project.load_config().train.base_model
    evaluation = c.submit(api_name="/evaluate")
    time.sleep(1.0)
    c.predict("elsewhere", api_name="/create_project")  # this session now works on another project
    try:
        assert evaluation.result(timeout=300) == "Evaluation of project **bikes** finished."
        assert newest_trained_run(project).eval_path.stat().st_mtime_ns > before  # saved in its own project
        summary, markdown, *_ = c.predict(api_name="/report")
        assert summary.startswith("No report yet") and markdown["visible"] is False
        c.predict("bikes", api_name="/open_project")
        c.predict(model, "custom", 1.0, 2000, 1e-3, 4, api_name="/train_start")
        run = newest_run(project)
        c.predict("elsewhere", api_name="/open_project")
        assert run.name not in c.predict(api_name="/train_poll")[0] and run.active()
        c.predict("bikes", api_name="/open_project")
        assert run.name in c.predict(api_name="/train_poll")[0]
        c.predict(api_name="/train_stop")
        assert wait_for_training(url)[0].startswith("**stopped")
    finally:
        c.predict("elsewhere", api_name="/delete_project")


def test_chat_streams_both_models(trained):
    url, _, _, _ = trained
    wait_for_training(url)
    job = client(url).submit("How much is a day pass?", [], [], api_name="/chat")
    updates = list(job)
    final = job.result()
    assert len(updates) > 2  # streamed, not one final answer
    tuned, base = final[1], final[2]
    assert tuned[0]["role"] == "user" and tuned[1]["role"] == "assistant" and tuned[1]["content"]
    assert base[1]["role"] == "assistant" and final[0] == ""
    sources = [m["metadata"]["title"] for m in tuned[2:] if m["metadata"]["title"].startswith("Source ")]
    assert sources[0].startswith("Source 1: fees-and-passes.html")  # grounded by default


def test_chat_says_it_waits_while_the_model_is_busy(trained):
    from builder import torch_thread
    from ui.engines import plain_text
    from ui.steps.chat import WAITING

    url, _, _, _ = trained
    wait_for_training(url)
    gate = threading.Event()
    torch_thread.submit(gate.wait, 60)  # as an evaluation would: the model is taken
    job = client(url).submit("How much is a day pass?", [], [], api_name="/chat")
    deadline = time.monotonic() + 30
    while not any(output[1] and plain_text(output[1][1]["content"]) == WAITING for output in job.outputs()):
        assert time.monotonic() < deadline, job.outputs()
        time.sleep(0.1)
    gate.set()
    tuned, base = job.result(timeout=60)[1:]
    assert WAITING not in plain_text(tuned[1]["content"]) + plain_text(base[1]["content"])  # the answers
    assert tuned[1]["role"] == base[1]["role"] == "assistant"


def export(session, api_name, *args):
    """One export through the Share step: (final outputs, or the error it raised; every status line shown)."""
    job = session.submit(*args, api_name=api_name)
    try:
        result = job.result(timeout=120)
    except Exception as exc:  # noqa: BLE001  (a refused export surfaces as an exception)
        result = exc
    return result, [output[0] for output in job.outputs()]


def test_export_adapter_offers_a_zip_with_the_weights_and_the_card(trained):
    url, project, _, _ = trained
    wait_for_training(url)
    (status, file), statuses = export(client(url), "/export_adapter")
    run = newest_trained_run(project)
    assert statuses[0].startswith("*Exporting the adapter") and "Adapter exported" in status and run.name in status
    assert file["visible"] is True
    response = httpx.get(value_of(file)["url"])
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    expected = {"adapter/adapter_model.safetensors", "adapter/adapter_config.json", "adapter/README.md"}
    assert expected <= set(archive.namelist())
    assert "library_name: peft" in archive.read("adapter/README.md").decode()
    assert (project.root / "exports" / run.name / f"bikes-{run.name}-adapter.zip").is_file()


def test_export_without_a_trained_model_says_so(wizard):
    url, project = wizard
    session = client(url)
    session.predict("untrained", api_name="/create_project")  # this session now works on an empty project
    try:
        for api_name, args in (("/export_adapter", ()), ("/export_merged", ()), ("/export_gguf", ("q8_0",))):
            error, statuses = export(session, api_name, *args)
            assert isinstance(error, Exception) and "Train a model first (step 3)" in str(error), api_name
            assert "Traceback" not in str(error) and statuses[-1] == "**Export failed.** Train a model first (step 3)."
        assert not (project.root.parent / "untrained" / "exports").exists()
    finally:
        session.predict("untrained", api_name="/delete_project")


def test_gguf_export_of_the_tiny_model_shows_the_converters_reason(trained):
    """The tiny model's word-level tokenizer is one llama.cpp's converter refuses."""
    url, project, _, _ = trained
    wait_for_training(url)
    error, statuses = export(client(url), "/export_gguf", "q8_0")
    assert isinstance(error, Exception) and "Traceback" not in str(error)
    assert re.search(r"GGUF converter could not convert .*merged: .*pre-tokenizer.*still usable", str(error))
    assert statuses[0].startswith("*Exporting a GGUF (q8_0)") and statuses[-1].startswith("**Export failed.** The GGUF")
    out = project.root / "exports" / newest_trained_run(project).name
    assert [p.name for p in out.iterdir() if "gguf" in p.name or p.name == "Modelfile"] == []  # no partial file
    assert (out / "merged" / "config.json").is_file()  # the merged folder the message calls usable


def test_export_on_a_full_disk_says_so(trained, monkeypatch):
    url, _, _, _ = trained
    wait_for_training(url)

    def disk_full(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("ui.steps.share.export_merged", disk_full)  # the app runs in this process
    error, statuses = export(client(url), "/export_merged")
    assert "The disk is full" in str(error) and "Traceback" not in str(error)
    assert statuses[-1].startswith("**Export failed.** The disk is full")


def test_gguf_export_links_the_file_and_a_modelfile_for_ollama(wizard, smol_shaped_run):
    url, bikes = wizard
    base, run = smol_shaped_run
    smol = Project.create(bikes.root.parent / "smol")
    cfg = smol.load_config()
    cfg.train.base_model = str(base)
    smol.save_config(cfg)
    run_name = make_run(smol, run / "adapter").name
    session = client(url)
    session.predict("smol", api_name="/open_project")
    try:
        (status, file), _ = export(session, "/export_gguf", "q8_0")
        assert file["visible"] is False and value_of(file) is None  # no empty download box
        assert "GGUF ready" in status and "ollama create smol -f Modelfile" in status
        links = dict(re.findall(r"\[([^\]]+)\]\((gradio_api/file=[^)]+)\)", status))
        assert set(links) == {"model.gguf", "Modelfile"}
        gguf = httpx.get(f"{url}{links['model.gguf']}")
        modelfile = httpx.get(f"{url}{links['Modelfile']}")
        assert gguf.status_code == modelfile.status_code == 200
        on_disk = smol.root / "exports" / run_name / "model.gguf"
        assert gguf.content[:4] == b"GGUF" and len(gguf.content) == on_disk.stat().st_size
        assert modelfile.text.startswith("FROM ./model.gguf\n") and "PARAMETER stop <|im_end|>" in modelfile.text
    finally:
        session.predict("smol", api_name="/delete_project")


DEMO_PASSWORD = "correct-horse-battery"


@pytest.fixture(scope="module")
def shared(trained):
    """The chat-only demo started from the Share step, asking for a public link (none offline)."""
    url, project, _, _ = trained
    wait_for_training(url)
    c = client(url)
    status = c.predict(DEMO_PASSWORD, True, 2, api_name="/share_start")
    info = json.loads((project.root / "share.json").read_text())
    yield url, project, status, info
    c.predict(api_name="/share_stop")


def demo_client(info):
    from gradio_client import Client

    return Client(info["local_url"], auth=("demo", DEMO_PASSWORD), verbose=False, download_files=False)


def test_share_reports_the_demo_and_the_missing_public_link(shared):
    _, _, status, info = shared
    assert info["local_url"] in status and "Demo running" in status
    if info["share_url"] is None:  # offline: Gradio leaves share_url empty and the user is told
        assert "No public link could be made" in status


def test_demo_needs_the_password(shared):
    _, _, _, info = shared
    assert httpx.get(f"{info['local_url']}config").status_code == 401
    bad = httpx.post(f"{info['local_url']}login", data={"username": "demo", "password": "wrong"})
    assert bad.status_code >= 400


def test_demo_api_offers_only_chat_and_serves_no_project_file(shared):
    _, project, _, info = shared
    assert set(demo_client(info).view_api(return_format="dict")["named_endpoints"]) == {"/chat"}
    with httpx.Client(base_url=info["local_url"]) as http:
        assert http.post("login", data={"username": "demo", "password": DEMO_PASSWORD}).status_code == 200
        for path in (project.root / "pairs.jsonl", project.root / "project.yaml", "../../etc/passwd"):
            response = http.get(f"gradio_api/file={path}")
            assert response.status_code in (403, 404), path
        assert http.get("gradio_api/info").status_code == 200  # logged in, yet only chat is listed


def test_demo_chats_and_limits_each_visitor(shared):
    _, _, _, info = shared
    demo = demo_client(info)
    answers = [demo.predict("Where can I park a cargo bike?", api_name="/chat") for _ in range(2)]
    assert all(a[0]["role"] == "assistant" and a[0]["content"].strip() for a in answers)  # then its sources
    with pytest.raises(Exception, match="Too many messages"):
        demo.predict("And a third question?", api_name="/chat")


def test_stop_sharing_ends_the_demo(shared):
    url, project, _, info = shared
    assert client(url).predict(api_name="/share_stop") == "Sharing stopped."
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            httpx.get(info["local_url"], timeout=1)
        except httpx.TransportError:
            break
        time.sleep(0.3)
    else:
        raise AssertionError("the demo still answers after stop sharing")
    assert not (project.root / "share.json").exists()


def test_the_share_step_serves_an_openai_compatible_api(trained):
    from builder.processes import port_taken

    url, project, _, _ = trained
    wait_for_training(url)
    c, port = client(url), free_port()
    status, example = c.predict(port, "s3cret-key", api_name="/serve_start")
    api = f"http://127.0.0.1:{port}/v1"
    try:
        assert f"`{api}`" in status and "export DAB_SERVE_API_KEY" in status
        assert value_of(example).startswith(f"curl -N {api}/chat/completions") and "Bearer" in value_of(example)
        body = {"messages": [{"role": "user", "content": "How much is a day pass?"}], "max_tokens": 6}
        assert httpx.post(f"{api}/chat/completions", json=body, timeout=60).status_code == 401
        answer = httpx.post(f"{api}/chat/completions", json=body, timeout=60,
                            headers={"Authorization": "Bearer s3cret-key"})
        assert answer.status_code == 200 and answer.json()["choices"][0]["message"]["role"] == "assistant"
        assert client(url).predict(api_name="/load_page") and (project.root / "serve.json").is_file()
    finally:
        stopped, example = c.predict(api_name="/serve_stop")
    assert stopped == "API stopped." and example["visible"] is False
    deadline = time.monotonic() + 10
    while port_taken("127.0.0.1", port) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not port_taken("127.0.0.1", port) and not (project.root / "serve.json").exists()


def test_plan_shows_the_memory_estimate(trained):
    url, project, _, _ = trained
    model = project.load_config().train.base_model
    text = client(url).predict(model, "quick", 1.0, 0, 1e-3, 4, api_name="/train_plan")
    assert "Estimated memory" in text and "GiB" in text and "stops sooner" not in text
    assert re.search(r"\*\*\d+ pairs about \d+ facts\*\*", text) and "Expected time: **about " in text
    assert project.load_config().train.preset == "quick"
    balanced = client(url).predict(model, "balanced", 1.0, 0, 1e-3, 4, api_name="/train_plan")
    assert "stops sooner when 2 checks in a row find no better answers" in balanced


@pytest.mark.slow
def test_killed_training_can_be_resumed_from_the_page(trained):
    """kill -9 during training: the page says so and offers Resume, which continues the same run."""
    url, project, _, _ = trained
    wait_for_training(url)
    c = client(url)
    model = project.load_config().train.base_model
    c.predict(model, "custom", 1.0, 2000, 1e-3, 4, api_name="/train_start")
    run = sorted(project.runs_dir.iterdir())[-1]
    wait_for_state(url, "**running")
    os.kill(int((run / "pid").read_text()), signal.SIGKILL)
    status = wait_for_state(url, "**failed")
    assert "Resume" in status
    status, _ = c.predict(api_name="/train_resume")
    assert run.name in status and sorted(project.runs_dir.iterdir())[-1] == run
    wait_for_state(url, "**running")
    c.predict(api_name="/train_stop")
    final, _ = wait_for_training(url)
    assert final.startswith("**stopped") and run.name in final


def wait_for_state(url, prefix: str, timeout_s: float = 60) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status, _, _ = client(url).predict(api_name="/train_poll")
        if status.startswith(prefix):
            return status
        time.sleep(0.3)
    raise AssertionError(f"never reached {prefix}: {status}")
