"""Teacher setup and its bad inputs: Test connection and generation against small real HTTP servers
on 127.0.0.1 that refuse, stall, answer with HTML, 401, or JSON that is not a pair list; the key
variable unset; a model the endpoint does not serve. Each failure is one clear message, from the
library and from ``dab pairs``, and the project's pairs are left as they were."""

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from builder.config import PairsConfig
from builder.errors import ConfigError, GeneratorError
from builder.pairs.endpoint import check_endpoint, served_name
from builder.pairs.openai_api import generate_openai
from builder.pairs.teacher_setup import BUNDLED_NOTE, check_teacher, with_teacher
from builder.project import Project
from builder.records import Chunk
from dab.cli import main

from .support import depot_project, free_port

PAIR_REPLY = {"pairs": [{"question": "When does the depot open?", "answer": "The depot opens at 7 am.",
                         "evidence": "The depot opens at 7 am."}]}


class Canned:
    """A tiny OpenAI-looking server: ``routes[(method, path)] = (status, content_type, body, delay_s)``,
    or a function of the request's JSON body that returns one."""

    def __init__(self, routes: dict):
        self.routes, self.seen = routes, []
        canned = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                self.answer("GET", None)

            def do_POST(self):
                request = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                canned.seen.append((self.path, self.headers.get("Authorization"), request))
                self.answer("POST", request)

            def answer(self, method: str, request):
                route = canned.routes.get((method, self.path), (404, "text/plain", "nope", 0))
                status, kind, body, delay_s = route(request) if callable(route) else route
                time.sleep(delay_s)
                payload = (body if isinstance(body, str) else json.dumps(body)).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", kind)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped waiting

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def models(*names: str) -> tuple:
    return 200, "application/json", {"object": "list", "data": [{"id": n, "object": "model"} for n in names]}, 0


def completion(content: str) -> tuple:
    return 200, "application/json", {"choices": [{"message": {"role": "assistant", "content": content}}]}, 0


@pytest.fixture()
def canned():
    servers = []

    def start(routes: dict) -> Canned:
        servers.append(Canned(routes))
        return servers[-1]
    yield start
    for server in servers:
        server.close()


HTML = "<!DOCTYPE html><html><body>Welcome to nginx</body></html>"


def cfg_for(url: str, **extra) -> PairsConfig:
    settings = {"generator": "openai", "base_url": url, "api_model": "teacher", "api_key_env": "DAB_TEST_TEACHER_KEY",
                "timeout_s": 1.0, "max_retries": 1}
    return PairsConfig(**{**settings, **extra})


# --- Test connection ---------------------------------------------------------------------------

def test_check_lists_models_and_sends_the_key(canned, monkeypatch):
    server = canned({("GET", "/v1/models"): models("teacher", "other")})
    monkeypatch.setenv("DAB_TEST_TEACHER_KEY", "s3cret")
    check = check_endpoint(cfg_for(server.url))
    assert check.models == ["teacher", "other"] and check.model == "teacher" and check.key_sent
    assert "2 model(s) served (teacher, other)" in check.message and "ready to generate" in check.message


@pytest.mark.parametrize("routes, base, message", [
    ({}, "refused", "connection refused. Is the server running"),
    ({("GET", "/v1/models"): (200, "application/json", {"data": []}, 3)}, "", "did not answer within 1 s"),
    ({("GET", "/v1/models"): (200, "text/html", HTML, 0)}, "", "web page (HTML), not the OpenAI API"),
    ({("GET", "/models"): (200, "text/html", HTML, 0)}, "root", "the base URL usually ends in /v1"),
    ({("GET", "/v1/models"): (401, "application/json", {"error": {"message": "no key"}}, 0)}, "",
     "needs an API key (HTTP 401), and the environment variable DAB_TEST_TEACHER_KEY is not set"),
    ({("GET", "/v1/models"): (200, "application/json", {"pairs": []}, 0)}, "", "not with an OpenAI model list"),
    ({("GET", "/v1/models"): models("llama3.1:latest", "qwen2.5:7b")}, "", "does not serve a model named 'teacher'; "
                                                                            "it serves: llama3.1:latest, qwen2.5:7b"),
])
def test_check_says_exactly_what_failed(canned, routes, base, message):
    server = canned(routes)
    url = {"refused": f"http://127.0.0.1:{free_port()}/v1", "root": server.url.removesuffix("/v1")}.get(base, server.url)
    with pytest.raises(GeneratorError, match=re.escape(message)):
        check_endpoint(cfg_for(url), timeout_s=1.0)


def test_a_set_but_refused_key_is_named(canned, monkeypatch):
    server = canned({("GET", "/v1/models"): (401, "application/json", {"error": {"message": "bad key"}}, 0)})
    monkeypatch.setenv("DAB_TEST_TEACHER_KEY", "wrong")
    with pytest.raises(GeneratorError, match="refused the key in DAB_TEST_TEACHER_KEY"):
        check_endpoint(cfg_for(server.url))


def test_ollama_names_and_settings_validation():
    assert served_name("llama3.1", ["llama3.1:latest"]) == "llama3.1:latest"
    assert served_name("llama3", ["llama3.1:latest"]) is None
    cfg = with_teacher(PairsConfig(), generator="openai", base_url=" http://h:11434/v1/ ", api_model="m ",
                       api_key_env="OLLAMA_KEY")
    assert (cfg.base_url, cfg.api_model, cfg.api_key_env) == ("http://h:11434/v1", "m", "OLLAMA_KEY")
    assert with_teacher(PairsConfig(), teacher_model="bundled").teacher_model.startswith("bundled:")
    for bad, message in [({"api_key_env": "sk-abc123def456ghi789"}, "NAME of an environment variable"),
                         ({"api_key_env": "hf_abcdefgh12345678"}, "not the key itself"),
                         ({"base_url": "127.0.0.1:11434"}, "must start with http"),
                         ({"teacher_model": " "}, "name the teacher model")]:
        with pytest.raises(ConfigError, match=message):
            with_teacher(PairsConfig(), **bad)


def test_bundled_teacher_is_marked_too_small():
    assert BUNDLED_NOTE in check_teacher(PairsConfig(generator="local", teacher_model="bundled"))


# --- generation: nothing lost ------------------------------------------------------------------

CHUNKS = [Chunk(id=f"c{i}", source_id="s", heading_path=["Depot"], text=f"The depot opens at 7 am on weekdays. Members return bikes to the depot by 6 pm. Passage {i}.",
                tokens=10) for i in range(3)]


def test_generation_asks_for_the_schema_and_reads_pairs(canned, monkeypatch):
    server = canned({("GET", "/v1/models"): models("teacher:latest"),
                     ("POST", "/v1/chat/completions"): completion(json.dumps(PAIR_REPLY))})
    monkeypatch.setenv("DAB_TEST_TEACHER_KEY", "s3cret")
    progress = []
    results = generate_openai(CHUNKS, cfg_for(server.url), progress=lambda *args: progress.append(args))
    assert [r.candidates[0].answer for r in results] == ["The depot opens at 7 am."] * 3
    path, auth, body = server.seen[0]
    assert auth == "Bearer s3cret" and body["model"] == "teacher:latest" and body["temperature"] == 0.0
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["schema"]["required"] == ["pairs"]
    assert sorted(progress) == [(1, 3, 1), (2, 3, 2), (3, 3, 3)]


def test_a_server_refusing_json_schema_is_asked_for_json_object(canned):
    refusal = (400, "application/json", {"error": {"message": "response_format json_schema is not supported"}}, 0)

    def chat(request):
        return refusal if request.get("response_format", {}).get("type") == "json_schema" else completion(
            json.dumps(PAIR_REPLY))
    server = canned({("GET", "/v1/models"): models("teacher"), ("POST", "/v1/chat/completions"): chat})
    results = generate_openai(CHUNKS, cfg_for(server.url, concurrency=1), backoff_s=0.01)
    formats = [body.get("response_format", {}).get("type") for _, _, body in server.seen]
    assert formats == ["json_schema", "json_object", "json_object", "json_object"]  # stepped down once, for all
    assert all(r.candidates for r in results)


@pytest.mark.parametrize("reply, message", [
    (completion('{"answer": 42}'), "not JSON pairs"),
    (completion("Sorry, I can only answer questions about cooking."), "not JSON pairs"),
    ((200, "application/json", [1, 2, 3], 0), "not an OpenAI chat completion"),
    (completion(json.dumps({"pairs": [{"question": "¿A qué hora abre el depósito?",
                                       "answer": "El depósito abre a las siete de la mañana, todos los días."}]})),
     "another language (es) than the passage (en)"),
])
def test_replies_without_usable_pairs_fail_the_run_with_the_reason(canned, reply, message):
    server = canned({("GET", "/v1/models"): models("teacher"), ("POST", "/v1/chat/completions"): reply})
    with pytest.raises(GeneratorError, match=rf"no usable pair for any of the 3 passages: .*{re.escape(message)}"):
        generate_openai(CHUNKS, cfg_for(server.url), backoff_s=0.01)


def test_control_tokens_in_a_reply_are_removed(canned):
    content = "<|im_start|>assistant\n" + json.dumps(
        {"pairs": [{"question": "When does the depot open?<|im_end|>", "answer": "At 7 am.</s>"}]}) + "<|eot_id|>"
    server = canned({("GET", "/v1/models"): models("teacher"), ("POST", "/v1/chat/completions"): completion(content)})
    candidate = generate_openai(CHUNKS[:1], cfg_for(server.url))[0].candidates[0]
    assert (candidate.question, candidate.answer) == ("When does the depot open?", "At 7 am.")


# --- dab pairs: the same messages, and nothing lost -----------------------------------------------

@pytest.fixture()
def paired_project(tmp_path):
    """A project with chunks and rule pairs (what a failed teacher run must leave untouched)."""
    return depot_project(tmp_path)


def dab_pairs(project: Project, *args: str) -> int:
    return main(["pairs", "--project", str(project.root), *args])


def test_cli_saves_the_teacher_and_tests_the_connection(canned, paired_project, capsys):
    server = canned({("GET", "/v1/models"): models("teacher", "other")})
    code = dab_pairs(paired_project, "--generator", "openai", "--base-url", server.url, "--model", "teacher",
                     "--api-key-env", "DAB_TEST_TEACHER_KEY", "--test-connection")
    out = capsys.readouterr()
    assert code == 0 and "2 model(s) served (teacher, other)" in out.out and "No API key was sent" in out.out
    saved = paired_project.load_config().pairs
    assert (saved.generator, saved.base_url, saved.api_model, saved.api_key_env) == (
        "openai", server.url, "teacher", "DAB_TEST_TEACHER_KEY")
    assert "DAB_TEST" in paired_project.config_path.read_text() and "s3cret" not in paired_project.config_path.read_text()


@pytest.mark.parametrize("routes, message", [
    ({("GET", "/v1/models"): (200, "text/html", HTML, 0)}, "web page (HTML)"),
    ({("GET", "/v1/models"): (401, "application/json", {}, 0)}, "DAB_TEST_TEACHER_KEY is not set"),
    ({("GET", "/v1/models"): models("other")}, "does not serve a model named 'teacher'"),
    ({("GET", "/v1/models"): models("teacher"), ("POST", "/v1/chat/completions"): completion("[]")}, "no valid pair in the teacher's reply"),
])
def test_cli_failures_are_one_line_and_lose_nothing(canned, paired_project, capsys, routes, message):
    server = canned(routes)
    before = (paired_project.root / "pairs.jsonl").read_bytes()
    code = dab_pairs(paired_project, "--generator", "openai", "--base-url", server.url, "--model", "teacher",
                     "--api-key-env", "DAB_TEST_TEACHER_KEY")
    err = capsys.readouterr().err
    assert code == 2 and message in err and "The project's pairs were not changed." in err and "Traceback" not in err
    assert (paired_project.root / "pairs.jsonl").read_bytes() == before


def test_cli_refused_connection_and_bad_key_name(paired_project, capsys):
    url = f"http://127.0.0.1:{free_port()}/v1"
    assert dab_pairs(paired_project, "--generator", "openai", "--base-url", url, "--model", "m", "--test-connection") == 2
    assert "connection refused" in capsys.readouterr().err
    assert dab_pairs(paired_project, "--api-key-env", "sk-live-abcdef123456") == 2
    assert "not the key itself" in capsys.readouterr().err
    assert "sk-live" not in paired_project.config_path.read_text()


def test_cli_shows_a_progress_bar(paired_project, capsys):
    assert dab_pairs(paired_project, "--generator", "rules") == 0
    err = capsys.readouterr().err
    total = len(paired_project.chunks())
    assert f"{total} of {total} passages" in err and "100%" in err


# --- the wizard: the same messages under the button, nothing lost ----------------------------------

@pytest.fixture()
def wizard(paired_project):
    from gradio_client import Client

    from ui.app import launch

    cfg = paired_project.load_config()
    cfg.pairs.timeout_s = 1.0
    paired_project.save_config(cfg)
    app, url = launch(project=paired_project.root, port=free_port(), block=False)
    yield Client(url, verbose=False, download_files=False), paired_project
    app.close()


@pytest.mark.e2e
def test_wizard_names_each_endpoint_failure_and_loses_nothing(canned, wizard):
    client, project = wizard
    stalled = canned({("GET", "/v1/models"): (200, "application/json", {"data": []}, 3)})
    html = canned({("GET", "/v1/models"): (200, "text/html", HTML, 0)})
    not_pairs = canned({("GET", "/v1/models"): models("teacher"),
                        ("POST", "/v1/chat/completions"): completion('{"answer": 42}')})
    for url, message in [(f"http://127.0.0.1:{free_port()}/v1", "connection refused"),
                         (stalled.url, "did not answer within 1 s"), (html.url, "web page (HTML)"),
                         (not_pairs.url, "1 model(s) served (teacher)")]:
        verdict, _ = client.predict("openai", "bundled", url, "teacher", "DAB_TEST_TEACHER_KEY", api_name="/test_teacher")
        assert message in verdict, verdict
    before = (project.root / "pairs.jsonl").read_bytes()
    for url, message in [(html.url, "web page (HTML)"), (not_pairs.url, "not JSON pairs")]:
        table, _, _, _, generated = client.predict("openai", "bundled", url, "teacher", "DAB_TEST_TEACHER_KEY",
                                                   "general", "all", 0, "all", api_name="/generate_pairs")
        assert generated.startswith("❌") and message in generated and "Your pairs were not changed" in generated
        assert len(table["data"]) == len(project.pairs()) > 0
    assert (project.root / "pairs.jsonl").read_bytes() == before
    assert project.load_config().pairs.base_url == not_pairs.url  # what the user typed is kept


@pytest.mark.e2e
def test_wizard_local_teacher_setup(wizard):
    client, project = wizard
    verdict, _ = client.predict("local", "bundled", "http://127.0.0.1:11434/v1", "", "", api_name="/test_teacher")
    assert verdict.startswith("✅") and BUNDLED_NOTE in verdict
    verdict, _ = client.predict("local", "/no/such/model", "http://127.0.0.1:11434/v1", "", "", api_name="/test_teacher")
    assert verdict.startswith("❌") and "no model folder at /no/such/model" in verdict
