"""A per-visitor sliding-window rate limit for the shared demo.

    limiter = RateLimiter(max_messages=10, window_s=60)
    if not limiter.allow(visitor_key(request)): ...

Covers: one visitor (one address) sending messages faster than the limit, which would keep the
model busy for everyone else. Does not cover: a visitor using many addresses; put a real proxy
in front of the demo for that.
"""

import threading
import time
from collections import deque


class RateLimiter:
    """At most ``max_messages`` per visitor in any ``window_s`` seconds."""

    def __init__(self, max_messages: int, window_s: float, clock=time.monotonic):
        self.max_messages, self.window_s, self.clock = max_messages, window_s, clock
        self._seen: dict[str, deque] = {}
        self._lock = threading.Lock()

    def allow(self, visitor: str) -> bool:
        """Record one message from ``visitor``; False when it is over the limit."""
        now = self.clock()
        with self._lock:
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


def visitor_key(request) -> str:
    """The visitor's address. ``X-Forwarded-For`` is trusted only from a loopback peer (the share
    tunnel runs on this computer), and only its last entry, the one the tunnel appended: earlier
    entries come from the visitor, who could pick a new key per message with them."""
    host = request.client.host if request is not None and request.client else "unknown"
    if host in {"127.0.0.1", "::1", "localhost"}:
        forwarded = (request.headers.get("x-forwarded-for") or "").split(",")[-1].strip()
        return forwarded or host
    return host
