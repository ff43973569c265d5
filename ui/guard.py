"""Checks every request to the wizard or the demo passes before Gradio sees it.

    hosts = AllowedHosts("127.0.0.1")                       # the address the app was started on
    app.launch(..., app_kwargs=guard_kwargs(hosts))         # the wizard
    app.launch(..., app_kwargs=guard_kwargs(hosts, DEMO_REFUSED_PATHS))   # the demo
    hosts.add_url(share_url)                                # the share link's host, once known

Host check (DNS rebinding): a web page the user visits can make its own domain resolve to
127.0.0.1 and then read the wizard as "same origin"; its requests still carry its own name in
the ``Host`` header, so a request whose Host is not a name of the address the app was started
on (loopback: ``localhost``, ``127.0.0.1``, ``::1``) is refused with 400. What it does not
cover: an app started with ``--host`` on another address accepts that address too, and one
bound to every interface (``0.0.0.0``, ``::``) accepts any Host: it was opened to the network
on purpose (the wizard warns that it has no password).

Refused paths (the demo): Gradio's file, upload, proxy and media-stream routes answer 403, so
the demo serves no file (not even one of Gradio's cache) and accepts no upload.
"""

import re
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
ANY_INTERFACE = frozenset({"0.0.0.0", "::", ""})
DEMO_REFUSED_PATHS = ("/gradio_api/file", "/gradio_api/upload", "/gradio_api/proxy=", "/gradio_api/stream/",
                      "/gradio_api/process_recording", "/file", "/upload", "/proxy=")


def host_name(value: str | None) -> str | None:
    """The lower-case name in a Host header or URL authority (no port, no IPv6 brackets)."""
    try:
        return urlsplit(f"//{value}").hostname if value else None
    except ValueError:
        return None


def url_host(url: str | None) -> str | None:
    """The host name of a URL such as a share link (None for no URL)."""
    return host_name(urlsplit(url).netloc) if url else None


class AllowedHosts:
    """The names a request's Host may carry: loopback, the bind address, the share link's host."""

    def __init__(self, bind_host: str):
        self.any = bind_host in ANY_INTERFACE
        self.names = set(LOOPBACK_NAMES) | {host_name(bind_host) or bind_host}

    def add_url(self, url: str | None) -> None:
        """Also allow the host of ``url`` (the public share link, known after launch)."""
        name = url_host(url)
        if name:
            self.names.add(name)

    def allows(self, host_header: str | None) -> bool:
        return self.any or host_name(host_header) in self.names


class RequestGuard:
    """ASGI middleware: refuse a request whose Host is not allowed (400) or whose path is refused (403)."""

    def __init__(self, app, hosts: AllowedHosts, refused_paths: tuple[str, ...] = ()):
        self.app, self.hosts, self.refused_paths = app, hosts, refused_paths

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] in ("http", "websocket"):
            response = self.refusal(scope)
            if response is not None:
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008})
                    return
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def refusal(self, scope) -> PlainTextResponse | None:
        host = Headers(scope=scope).get("host")
        if not self.hosts.allows(host):
            address, port = scope.get("server") or ("127.0.0.1", None)
            own = f"http://{address}:{port}/" if port else f"http://{address}/"
            return PlainTextResponse(f"Refused: '{host}' is not the address this app was started on; "
                                     f"open {own} instead.", status_code=400)
        path = re.sub("/+", "/", scope.get("path", ""))
        if path.startswith(self.refused_paths):
            return PlainTextResponse("Refused: this app serves no files and takes no uploads.", status_code=403)
        return None


def guard_kwargs(hosts: AllowedHosts, refused_paths: tuple[str, ...] = ()) -> dict:
    """``launch(app_kwargs=...)`` that puts ``RequestGuard`` in front of every route of the app."""
    return {"middleware": [Middleware(RequestGuard, hosts=hosts, refused_paths=refused_paths)]}
