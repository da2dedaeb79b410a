"""Per-cluster fault injection and the request log.

Faults apply to Kubernetes API requests only; the admin endpoint (``/_kubesim/``)
and internal (controller) writes are never affected.
"""

from __future__ import annotations

import random
import re
import threading
import time
from typing import List, Optional

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


class RequestLog(list):
    """A list of request records (dicts): method, path, query, status, time, duration, user_agent.

    Bounded: the oldest half is dropped past ``limit`` entries.
    """

    limit = 10000

    def __init__(self):
        super().__init__()
        self._lock = threading.Lock()

    def record(self, entry: dict) -> None:
        with self._lock:
            self.append(entry)
            if len(self) > self.limit:
                del self[: self.limit // 2]

    def matching(self, method: Optional[str] = None, path: Optional[str] = None,
                 status: Optional[int] = None) -> List[dict]:
        """Records with this method, whose path matches the regex ``path`` (search), and status."""
        rx = re.compile(path) if path else None
        with self._lock:
            items = list(self)
        return [r for r in items if (method is None or r["method"] == method.upper())
                and (rx is None or rx.search(r["path"])) and (status is None or r["status"] == status)]


class _Rule:
    def __init__(self, count, method, path, code, reason, message, retry_after):
        self.count = count
        self.method = method.upper() if method else None
        self.path = re.compile(path) if path else None
        self.code = code
        self.reason = reason
        self.message = message
        self.retry_after = retry_after

    def matches(self, method, path) -> bool:
        return (self.method is None or self.method == method) and (self.path is None or self.path.search(path))

    def describe(self) -> dict:
        return {"count": self.count, "method": self.method, "path": self.path.pattern if self.path else None,
                "code": self.code, "reason": self.reason, "message": self.message}


_REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 409: "Conflict",
            410: "Expired", 422: "Invalid", 429: "TooManyRequests", 500: "InternalError", 502: "BadGateway",
            503: "ServiceUnavailable", 504: "Timeout"}


class Faults:
    """Fault knobs for one cluster. All default to off; ``reset()`` turns everything off.

    - ``down``: True closes the listening socket (connection refused) and drops open
      connections; False listens again on the same port.
    - ``latency``: seconds added before each API response.
    - ``error_rate`` / ``error_code``: fraction of API requests answered with a 5xx Status.
    - ``throttle_rate`` / ``retry_after``: fraction answered 429 with ``Retry-After``.
    - ``unauthorized``: every API request gets 401.
    - ``conflict_rate``: fraction of writes (POST/PUT/PATCH/DELETE) answered 409 Conflict.
    - ``fail_next(n, method=None, path=None, code=500, ...)``: the next n matching requests fail.
    """

    def __init__(self, cluster, seed: Optional[int] = None):
        self._cluster = cluster
        self._lock = threading.Lock()
        self.rng = random.Random(seed)
        self._down = False
        self.reset()

    def reset(self) -> None:
        self.latency = 0.0
        self.error_rate = 0.0
        self.error_code = 500
        self.throttle_rate = 0.0
        self.retry_after = 1
        self.unauthorized = False
        self.conflict_rate = 0.0
        self._rules: List[_Rule] = []
        if self._down:
            self.down = False

    @property
    def down(self) -> bool:
        return self._down

    @down.setter
    def down(self, value: bool) -> None:
        value = bool(value)
        if value == self._down:
            return
        self._down = value
        server = self._cluster.server
        if server is not None:
            if value:
                server.go_down()
            else:
                server.come_up()

    def down_for(self, seconds: float) -> None:
        """Go down now and come back after ``seconds`` of real time."""
        self.down = True
        t = threading.Timer(seconds, lambda: setattr(self, "down", False))
        t.daemon = True
        t.start()

    def fail_next(self, count: int = 1, method: Optional[str] = None, path: Optional[str] = None,
                  code: int = 500, reason: Optional[str] = None, message: Optional[str] = None,
                  retry_after: Optional[int] = None) -> None:
        with self._lock:
            self._rules.append(_Rule(int(count), method, path, int(code), reason or _REASONS.get(int(code), "Unknown"),
                                     message, retry_after))

    def configure(self, **settings) -> None:
        """Set several knobs at once (the admin endpoint uses this)."""
        for k, v in settings.items():
            if k == "down":
                self.down = bool(v)
            elif k == "fail_next":
                for rule in v if isinstance(v, list) else [v]:
                    self.fail_next(**rule)
            elif k in ("latency", "error_rate", "throttle_rate", "conflict_rate"):
                setattr(self, k, float(v))
            elif k in ("error_code", "retry_after"):
                setattr(self, k, int(v))
            elif k == "unauthorized":
                self.unauthorized = bool(v)
            elif k == "reset" and v:
                self.reset()
            else:
                raise ValueError(f"unknown fault setting: {k}")

    def describe(self) -> dict:
        with self._lock:
            rules = [r.describe() for r in self._rules]
        return {"down": self._down, "latency": self.latency, "error_rate": self.error_rate,
                "error_code": self.error_code, "throttle_rate": self.throttle_rate, "retry_after": self.retry_after,
                "unauthorized": self.unauthorized, "conflict_rate": self.conflict_rate, "fail_next": rules}

    @property
    def active(self) -> bool:
        return bool(self.latency or self.error_rate or self.throttle_rate or self.unauthorized
                    or self.conflict_rate or self._rules)

    def decide(self, method: str, path: str):
        """None, or (code, reason, message, extra_headers) for the response to send instead."""
        if not self.active:
            return None
        if self.latency:
            time.sleep(self.latency)
        with self._lock:
            for rule in self._rules:
                if rule.count > 0 and rule.matches(method, path):
                    rule.count -= 1
                    if rule.count <= 0:
                        self._rules.remove(rule)
                    headers = {"Retry-After": str(rule.retry_after)} if rule.retry_after is not None else {}
                    if rule.code == 429 and not headers:
                        headers = {"Retry-After": str(self.retry_after)}
                    return (rule.code, rule.reason, rule.message or f"injected fault ({rule.code})", headers)
            roll = self.rng.random
        if self.unauthorized:
            return (401, "Unauthorized", "Unauthorized", {})
        if self.throttle_rate and roll() < self.throttle_rate:
            return (429, "TooManyRequests", "the server has received too many requests and has asked us to try "
                    "again later", {"Retry-After": str(self.retry_after)})
        if self.error_rate and roll() < self.error_rate:
            code = self.error_code
            reason = _REASONS.get(code, "InternalError")
            return (code, reason, "Internal error occurred: injected fault" if code == 500 else
                    f"injected fault ({code})", {})
        if self.conflict_rate and method in WRITE_METHODS and roll() < self.conflict_rate:
            return (409, "Conflict", "Operation cannot be fulfilled: the object has been modified; please apply "
                    "your changes to the latest version and try again (injected)", {})
        return None
