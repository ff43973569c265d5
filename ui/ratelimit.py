"""A per-visitor sliding-window rate limit for the shared demo.

    limiter = RateLimiter(max_messages=10, window_s=60, trust=ProxyTrust(proxies=["10.0.0.2"]))
    limiter.trust.add_tunnel(share_url)          # once the share link is known
    if not limiter.allow(visitor_key(request, limiter.trust)): ...

Who the visitor is: the socket address of the request, except for requests that came through a
proxy this app trusts, whose ``X-Forwarded-For`` names the visitor (its last entry, the one that
proxy appended: earlier entries come from the visitor, who could pick a new key per message with
them). Trusted are the share tunnel (its helper runs on this computer, so its requests come from
loopback, and they carry the share link's host name) and the proxies configured by address.

Covers: one visitor (one address) sending messages faster than the limit, which would keep the
model busy for everyone else, also when they forge ``X-Forwarded-For``; the memory of visitors
is pruned, so many addresses cannot grow it without bound. Does not cover: a visitor using many
addresses; a program on this computer that sends the share link's host name and forges the
header (it can use the model directly anyway); put a real proxy in front of the demo for more.
"""

import threading
import time
from collections import deque
from collections.abc import Iterable

from .guard import host_name, url_host

LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


class ProxyTrust:
    """Which requests' ``X-Forwarded-For`` is believed: the share tunnel's and configured proxies'."""

    def __init__(self, proxies: Iterable[str] = ()):
        self.proxies = set(proxies)  # socket addresses of reverse proxies in front of the app
        self.tunnel_hosts: set[str] = set()  # the share link's host (requests through the tunnel)

    def add_tunnel(self, share_url: str | None) -> None:
        """Believe requests that carry the share link's host name (they come through its tunnel)."""
        name = url_host(share_url)
        if name:
            self.tunnel_hosts.add(name)

    def trusted(self, peer: str, host_header: str | None) -> bool:
        through_tunnel = peer in LOOPBACK and host_name(host_header) in self.tunnel_hosts
        return through_tunnel or peer in self.proxies


def visitor_key(request, trust: ProxyTrust | None = None) -> str:
    """The visitor's address: the socket's, or the trusted proxy's last ``X-Forwarded-For`` entry."""
    peer = request.client.host if request is not None and request.client else "unknown"
    if trust is not None and trust.trusted(peer, request.headers.get("host")):
        forwarded = (request.headers.get("x-forwarded-for") or "").split(",")[-1].strip()
        return forwarded or peer
    return peer


class RateLimiter:
    """At most ``max_messages`` per visitor in any ``window_s`` seconds."""

    def __init__(self, max_messages: int, window_s: float, clock=time.monotonic, trust: ProxyTrust | None = None):
        self.max_messages, self.window_s, self.clock = max_messages, window_s, clock
        self.trust = trust or ProxyTrust()
        self._seen: dict[str, deque] = {}
        self._pruned_at = clock()
        self._lock = threading.Lock()

    def allow(self, visitor: str) -> bool:
        """Record one message from ``visitor``; False when it is over the limit."""
        now = self.clock()
        with self._lock:
            self._prune(now)
            times = self._seen.setdefault(visitor, deque())
            while times and now - times[0] >= self.window_s:
                times.popleft()
            if len(times) >= self.max_messages:
                return False
            times.append(now)
            return True

    def retry_after_s(self, visitor: str) -> float:
        """Seconds until ``visitor`` may send again (0 when allowed now)."""
        with self._lock:
            times = self._seen.get(visitor)
            if not times or len(times) < self.max_messages:
                return 0.0
            return max(0.0, self.window_s - (self.clock() - times[0]))

    def visitors(self) -> int:
        """How many visitors are remembered (those with a message inside the window, or just after)."""
        with self._lock:
            return len(self._seen)

    def _prune(self, now: float) -> None:
        """Forget visitors whose last message left the window (at most once per window)."""
        if now - self._pruned_at < self.window_s:
            return
        self._pruned_at = now
        for visitor in [v for v, times in self._seen.items() if not times or now - times[-1] >= self.window_s]:
            del self._seen[visitor]
