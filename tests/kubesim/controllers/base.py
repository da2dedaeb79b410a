"""The contract between kubesim's API server and the simulated controllers.

The API server (store, HTTP, scheduler) calls controllers; controllers act on the
cluster only through the methods listed on ``ClusterView``. Keeping this narrow
lets the cert-manager and istiod simulations be tested without HTTP.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, Callable, Iterable, List, Optional, Protocol


class ApiError(Exception):
    """An API error the server turns into a Kubernetes ``Status`` body.

    ``details`` are metav1.StatusDetails (name, group, kind, causes, retryAfterSeconds). Most
    constructors in staging/src/k8s.io/apimachinery/pkg/api/errors/errors.go set them, even
    empty (``"details": {}``); a few (``NewUnauthorized``, ``NewBadRequest``) leave them nil and the
    body has none: pass ``details=None`` with ``omit_details=True`` for those.
    """

    def __init__(self, code: int, reason: str, message: str, details: Optional[dict] = None,
                 omit_details: bool = False):
        super().__init__(message)
        self.omit_details = omit_details and not details
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details or {}

    def status_body(self) -> dict:
        body = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "details": self.details,
            "code": self.code,
        }
        if self.omit_details:
            del body["details"]
        return body


class ClusterView(Protocol):
    """What a controller may do to its cluster (implemented by the server's Cluster).

    All objects are plain dicts (deep copies: mutating them changes nothing until
    written back). ``api_version`` is e.g. ``"v1"`` or ``"cert-manager.io/v1"``;
    ``plural`` is the resource name (``"secrets"``, ``"certificates"``).
    Internal writes bypass admission and fault injection but do go through the
    store: they bump resourceVersion/generation and emit watch events.
    """

    name: str

    def now(self) -> _dt.datetime: ...  # simulated clock, timezone-aware UTC

    def get(self, api_version: str, plural: str, namespace: Optional[str], name: str) -> Optional[dict]: ...

    def list(self, api_version: str, plural: str, namespace: Optional[str] = None,
             label_selector: Optional[str] = None) -> list: ...

    def create(self, obj: dict) -> dict: ...  # raises ApiError(409 AlreadyExists) if present

    def update(self, obj: dict) -> dict: ...  # main resource; keeps stored .status when a status subresource exists

    def update_status(self, obj: dict) -> dict: ...  # status subresource; only .status is taken

    def apply(self, obj: dict) -> dict: ...  # create-or-replace spec/data/metadata (labels, annotations) and status

    def delete(self, api_version: str, plural: str, namespace: Optional[str], name: str) -> None: ...

    def schedule(self, delay_seconds: float, fn: Callable[[], None], key: Optional[str] = None) -> None:
        """Run ``fn`` once the *simulated* clock has moved ``delay_seconds`` ahead.

        Advancing the clock makes due work run. A later call with the same ``key``
        replaces an earlier pending one (a work-queue style de-duplication).
        """

    def append_log(self, namespace: str, pod: str, container: Optional[str], line: str,
                   when: Optional[_dt.datetime] = None) -> None: ...  # a pod log line, timestamped

    def register_proxy(self, namespace: str, pod: str, port: int,
                       handler: Callable[[str, str], "tuple[int, str, str]"]) -> None:
        """Serve ``GET .../pods/<pod>:<port>/proxy/<path>``: handler(method, path) -> (code, content_type, body)."""


class Controller:
    """Base class for simulated controllers. Override what you need.

    - ``admit`` runs before a write is committed (like a validating/mutating
      webhook); raise ApiError to refuse. It also runs for dryRun=All requests.
      ``operation`` is CREATE, UPDATE or DELETE; ``old`` is None on CREATE.
      It may return a list of warning strings (a webhook's AdmissionResponse
      ``warnings``); the server answers them as ``Warning: 299 - "<text>"``
      headers. None (the default) means no warnings.
    - ``on_event`` runs after a write is committed (ADDED, MODIFIED, DELETED),
      outside the request's lock; it should only read and ``schedule`` work, so
      that controllers never act inside the client's request.
    - ``resync`` runs once when the controller is attached and whenever the
      clock is advanced, so time-based behaviour (renewals) can catch up.
    """

    name = "controller"
    # Optional (kubesim extension): the plurals whose events on_event wants; None means
    # every event. Each delivered event costs a deep copy, so narrow it where you can.
    interests: Optional[frozenset] = None

    def attach(self, cluster: ClusterView) -> None:
        self.cluster = cluster

    def admit(self, operation: str, api_version: str, plural: str, obj: Optional[dict],
              old: Optional[dict], dry_run: bool) -> Optional[List[str]]:
        return None

    def on_event(self, event_type: str, api_version: str, plural: str, obj: dict,
                 old: Optional[dict]) -> None:
        return None

    def resync(self) -> None:
        return None


def iter_conditions(obj: dict) -> Iterable[dict]:
    return (obj.get("status") or {}).get("conditions") or []


def rfc3339(when: _dt.datetime) -> str:
    """Kubernetes metav1.Time form: second precision, Z suffix."""
    return when.astimezone(_dt.timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


