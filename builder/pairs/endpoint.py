"""Talk to an OpenAI-compatible endpoint: its key, its model list, and what a failure means.

    check = check_endpoint(pairs_cfg)          # "Test connection": raises GeneratorError saying what failed
    print(check.message)                        # "Connected to ...: 3 models (llama3.1:8b, ...)"
    headers = auth_headers(pairs_cfg)           # {"Authorization": "Bearer ..."} when the key variable is set

The conventions covered: OpenAI (``https://api.openai.com/v1``, key required), vLLM
(``http://host:8000/v1``), llama.cpp's ``llama-server`` (``http://host:8080/v1``), Ollama
(``http://host:11434/v1``; a model ``llama3.1`` is served as ``llama3.1:latest``) and ``dab
serve`` (``http://127.0.0.1:8000/v1``): ``GET {base_url}/models`` lists the models and
``POST {base_url}/chat/completions`` answers; a key, when there is one, goes in
``Authorization: Bearer``. The key itself is read from the environment variable named by
``pairs.api_key_env`` and never stored in the project.

Every failure becomes one message that says what happened and what to do: connection refused,
no answer in time, a web page instead of the API (usually a base URL without ``/v1``), a refused
or missing key, a model the endpoint does not serve, an answer that is not a model list.
"""

import os
from dataclasses import dataclass

import httpx

from ..config import PairsConfig
from ..errors import GeneratorError

CHECK_TIMEOUT_S = 10.0
SHOWN_MODELS = 8


@dataclass
class EndpointCheck:
    """What Test connection found: the models served and whether the configured one is among them."""

    base_url: str
    models: list[str]
    model: str
    key_sent: bool

    @property
    def message(self) -> str:
        shown = ", ".join(self.models[:SHOWN_MODELS]) + (" ..." if len(self.models) > SHOWN_MODELS else "")
        lines = [f"Connected to {self.base_url}: {len(self.models)} model(s) served ({shown or 'none listed'})."]
        if self.model:
            lines.append(f"Model '{self.model}' is served: ready to generate.")
        else:
            lines.append("Choose one of these models as the teacher model.")
        if not self.key_sent:
            lines.append("No API key was sent (none needed so far).")
        return "\n".join(lines)


def api_key(pairs_cfg: PairsConfig) -> str:
    """The key from the environment variable ``pairs_cfg.api_key_env`` ('' when unnamed or unset)."""
    return os.environ.get(pairs_cfg.api_key_env, "").strip() if pairs_cfg.api_key_env else ""


def auth_headers(pairs_cfg: PairsConfig) -> dict[str, str]:
    key = api_key(pairs_cfg)
    return {"Authorization": f"Bearer {key}"} if key else {}


def check_endpoint(pairs_cfg: PairsConfig, timeout_s: float | None = None) -> EndpointCheck:
    """List the endpoint's models and check the configured model is one of them; raises
    GeneratorError with the exact reason otherwise. Waits ``timeout_s`` at most (default: the
    shorter of ``pairs_cfg.timeout_s`` and ``CHECK_TIMEOUT_S``)."""
    timeout_s = timeout_s or min(pairs_cfg.timeout_s, CHECK_TIMEOUT_S)
    base_url = pairs_cfg.base_url.rstrip("/")
    if base_url.endswith("/chat/completions"):
        raise GeneratorError(f"give the base URL without /chat/completions: {base_url.removesuffix('/chat/completions')}")
    models = list_models(pairs_cfg, timeout_s)
    model = pairs_cfg.api_model.strip()
    if model and served_name(model, models) is None:
        raise GeneratorError(f"{base_url} does not serve a model named '{model}'; it serves: "
                             f"{', '.join(models[:SHOWN_MODELS]) or 'no models'}")
    return EndpointCheck(base_url, models, served_name(model, models) or "", bool(api_key(pairs_cfg)))


def served_name(model: str, models: list[str]) -> str | None:
    """The endpoint's name for ``model`` (Ollama serves ``name`` as ``name:latest``), or None."""
    for candidate in (model, f"{model}:latest"):
        if candidate in models:
            return candidate
    return None


def list_models(pairs_cfg: PairsConfig, timeout_s: float) -> list[str]:
    """The ids of ``GET {base_url}/models``; GeneratorError with the reason when that fails."""
    url = f"{pairs_cfg.base_url.rstrip('/')}/models"
    try:
        response = httpx.get(url, headers=auth_headers(pairs_cfg), timeout=timeout_s, follow_redirects=True)
    except httpx.HTTPError as exc:
        raise GeneratorError(transport_problem(exc, pairs_cfg.base_url, timeout_s)) from exc
    problem = response_problem(response, pairs_cfg)
    if problem:
        raise GeneratorError(problem)
    try:
        return [str(item["id"]) for item in response.json()["data"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise GeneratorError(f"{url} answered, but not with an OpenAI model list ({response.text[:80]!r}): "
                             "is this an OpenAI-compatible endpoint?") from exc


def transport_problem(exc: httpx.HTTPError, base_url: str, timeout_s: float) -> str:
    """Plain words for a request that got no HTTP answer."""
    if isinstance(exc, httpx.TimeoutException):
        return f"{base_url} did not answer within {timeout_s:g} s: is the server running and not overloaded?"
    text = str(exc) or type(exc).__name__
    if "refused" in text.lower():
        return f"cannot connect to {base_url}: connection refused. Is the server running on that address and port?"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect to {base_url} ({text}): check the address"
    return f"the connection to {base_url} failed ({type(exc).__name__}: {text})"


def response_problem(response: httpx.Response, pairs_cfg: PairsConfig) -> str | None:
    """Plain words for an HTTP answer that is an error or not the API (None when it looks right)."""
    url, status = str(response.request.url), response.status_code
    if status in (401, 403):
        return key_problem(status, pairs_cfg)
    if is_html(response):
        hint = "" if pairs_cfg.base_url.rstrip("/").endswith("/v1") else ": the base URL usually ends in /v1"
        return f"{url} answered with a web page (HTML), not the OpenAI API (HTTP {status}){hint}"
    if status == 404:
        detail = error_detail(response)
        if "model" in detail.lower():
            return f"the endpoint does not know model '{pairs_cfg.api_model}' ({detail})"
        hint = "" if pairs_cfg.base_url.rstrip("/").endswith("/v1") else " (the base URL usually ends in /v1)"
        return f"{url} was not found (HTTP 404): check the base URL{hint}"
    if status >= 400:
        return f"HTTP {status} from {url}: {error_detail(response) or response.reason_phrase}"
    return None


def key_problem(status: int, pairs_cfg: PairsConfig) -> str:
    name = pairs_cfg.api_key_env
    if not name:
        return f"the endpoint needs an API key (HTTP {status}): name the environment variable that holds it"
    if not api_key(pairs_cfg):
        return f"the endpoint needs an API key (HTTP {status}), and the environment variable {name} is not set"
    return f"the endpoint refused the key in {name} (HTTP {status}): check that it is valid for this endpoint"


def is_html(response: httpx.Response) -> bool:
    kind = response.headers.get("content-type", "")
    return "html" in kind or response.text.lstrip()[:15].lower().startswith(("<!doctype", "<html"))


def error_detail(response: httpx.Response) -> str:
    """The message of an OpenAI-style error body ({"error": {"message": ...}}), else the text."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:160].strip()
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("message") or error)[:160]
    return str(error or body.get("detail") or body)[:160] if isinstance(body, dict) else str(body)[:160]
