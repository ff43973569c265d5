"""The OpenAI-compatible server (``dab serve``) as a background process of a project.

    info = start_server(project, run, port=8000)   # waits until /health answers; {"url", "pid", ...}
    server_info(project)                           # the running server's info, or None
    stop_server(project)                           # True when one was stopped
    print(curl_example(info["url"]))               # a request to paste into a terminal

The server runs ``python -m dab serve`` for the run's adapter on 127.0.0.1 (this computer only)
in a process session of its own, so it outlives the wizard; its output goes to ``serve.log`` and
its address and pid to ``serve.json`` in the project. A port that is already taken is refused
before anything starts. With ``api_key``, every request must carry ``Authorization: Bearer KEY``
(the key is passed in the environment, never on the command line, and is not saved).
"""

import json
import shlex
import sys

from .errors import ConfigError
from .processes import port_taken, process_alive, spawn, stop_process, wait_ready
from .project import Project
from .runs import Run
from .storage import read_json, write_json

INFO_FILE = "serve.json"
LOG_FILE = "serve.log"
HOST = "127.0.0.1"
COMMAND = "dab\0serve"  # in /proc/<pid>/cmdline: the process is ours (``processes.process_alive``)
START_TIMEOUT_S = 180


def server_info(project: Project) -> dict | None:
    """``serve.json`` while its process is still our server; None otherwise."""
    info = read_json(project.root / INFO_FILE)
    return info if info and process_alive(info.get("pid"), COMMAND) else None


def start_server(project: Project, run: Run, port: int = 8000, api_key: str = "") -> dict:
    """Start ``dab serve`` for the run's adapter on ``port``; wait until it answers ``/health``."""
    if not 1024 <= int(port) <= 65535:
        raise ConfigError(f"port {port} is out of range: pick one from 1024 to 65535")
    stop_server(project)
    if port_taken(HOST, port):
        raise ConfigError(f"port {port} is in use by another program: pick another port")
    cmd = [sys.executable, "-m", "dab", "serve", "--project", str(project.root), "--adapter", str(run.adapter_dir),
           "--host", HOST, "--port", str(port)]
    process = spawn(cmd, project.root / LOG_FILE, env={"DAB_SERVE_API_KEY": api_key})
    url = f"http://{HOST}:{port}/v1"
    wait_ready(process, lambda: healthy(url, api_key), "The API server", project.root / LOG_FILE, START_TIMEOUT_S)
    info = {"url": url, "pid": process.pid, "port": port, "adapter": str(run.adapter_dir), "key": bool(api_key)}
    write_json(project.root / INFO_FILE, info)
    return info


def healthy(url: str, api_key: str = "") -> bool | None:
    """True when the server at ``url`` answers its health check; None while it does not yet."""
    import httpx

    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        response = httpx.get(url.removesuffix("/v1") + "/health", headers=headers, timeout=1.0)
        return True if response.status_code == 200 else None
    except httpx.HTTPError:
        return None


def stop_server(project: Project) -> bool:
    """Stop the project's server if one runs; True when one was stopped."""
    info = read_json(project.root / INFO_FILE) or {}
    stopped = stop_process(info.get("pid"), COMMAND)
    (project.root / INFO_FILE).unlink(missing_ok=True)
    return stopped


def curl_example(url: str, question: str = "What do your documents say about opening hours?",
                 with_key: bool = False) -> str:
    """A ``curl`` request for one streamed answer (the key read from ``$DAB_SERVE_API_KEY``)."""
    body = json.dumps({"messages": [{"role": "user", "content": question}], "stream": True}, ensure_ascii=False)
    key = ' \\\n     -H "Authorization: Bearer $DAB_SERVE_API_KEY"' if with_key else ""
    return (f"curl -N {url}/chat/completions \\\n     -H 'Content-Type: application/json'{key} \\\n"
            f"     -d {shlex.quote(body)}")
