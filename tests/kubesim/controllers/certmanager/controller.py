"""Simulated cert-manager for one kubesim cluster (it stands in for cert-manager; it does not run it).

Active once the cert-manager CRDs exist and the ``cert-manager`` Deployment in namespace
``cert-manager`` is available; the version comes from that Deployment's image tag (default
v1.19.1 when it cannot be read). Admission (cert-manager internal/apis/certmanager/validation, its CRDs, the webhook):

- the CRD schema checks the API server runs (enums, required fields) → 422 Invalid;
- while a webhook is registered (the ValidatingWebhookConfiguration or the webhook
  Deployment exists) but ``cert-manager-webhook`` is not available, every create/update of
  a cert-manager resource fails like a real cluster: 500 InternalError ``failed calling
  webhook ... connect: connection refused`` (``x509: certificate signed by unknown
  authority`` while cainjector has not injected the CA yet);
- once serving, the webhook's own rules → 403 Forbidden ``admission webhook
  "webhook.cert-manager.io" denied the request: ...`` (cert-manager's
  pkg/webhook/admission/custom_validator_webhook.go answers with controller-runtime's
  ``admission.Denied``, which is 403/Forbidden, and the API server's webhook
  ``ToStatusErr`` prefixes the message; 406 NotAcceptable before v1.12), and the v1.18/v1.19
  rotationPolicy warning, returned from ``admit`` as a list of warning strings.

Issuers and the certificate pipeline live in issuers.py and
issuance.py. Helpers for tests: ``CertManagerSim.of(cluster)`` returns the
instance attached to a cluster; ``.active``, ``.webhook_serving``, ``.version`` and
``.errors`` (exceptions raised inside scheduled work, which should stay empty).
"""

from __future__ import annotations

import datetime as _dt
import re
import traceback
import uuid
import weakref
from typing import List, Optional

from . import issuers
from . import validation as val
from .. import latency
from ..base import ApiError, Controller, rfc3339
from .issuance import API, CertificatePipeline, get_condition, set_condition

NAMESPACE = "cert-manager"
CONTROLLER = "cert-manager"
WEBHOOK = "cert-manager-webhook"
CAINJECTOR = "cert-manager-cainjector"
WEBHOOK_NAME = "webhook.cert-manager.io"
WEBHOOK_TIMEOUT = 30  # chart value webhook.timeoutSeconds (v1.14+; 10 before)
CA_INJECTION_DELAY = 2.0  # simulated seconds from "webhook available" to "caBundle injected"
DEFAULT_VERSION = (1, 19, 1)
ISSUING_MANAGER = "cert-manager-certificates-issuing"
GROUPS = ("cert-manager.io", "acme.cert-manager.io")
CRD_NAMES = ("certificates.cert-manager.io", "certificaterequests.cert-manager.io",
             "issuers.cert-manager.io", "clusterissuers.cert-manager.io")
DISABLE_VALIDATION_LABEL = "cert-manager.io/disable-validation"
KIND_OF = {"certificates": "Certificate", "certificaterequests": "CertificateRequest",
           "issuers": "Issuer", "clusterissuers": "ClusterIssuer"}

_REGISTRY: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def parse_version(image: str, default=DEFAULT_VERSION):
    m = re.search(r":v?(\d+)\.(\d+)(?:\.(\d+))?", image or "")
    if not m:
        return default
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)


def deployment_available(dep: Optional[dict]) -> bool:
    if not dep:
        return False
    st = dep.get("status") or {}
    for c in st.get("conditions") or []:
        if c.get("type") == "Available":
            return c.get("status") == "True"
    return int(st.get("availableReplicas") or 0) > 0


class CertManagerSim(Controller):
    name = "cert-manager"
    interests = frozenset({"deployments", "customresourcedefinitions", "namespaces", "validatingwebhookconfigurations",
                           "services", "issuers", "clusterissuers", "certificates", "certificaterequests", "secrets"})

    def __init__(self):
        self.cluster = None
        self.deployments: dict = {}
        self.crds: set = set()
        self.ns_labels: dict = {}
        self.webhook_configs: set = set()
        self.webhook_ip: Optional[str] = None
        self.errors: List[str] = []
        self.controller_uid = str(uuid.uuid4())
        self.pipeline = CertificatePipeline(self)
        self._was_active = False
        self._injected_at = None

    # ------------------------------------------------------------------ plumbing

    @classmethod
    def of(cls, cluster) -> Optional["CertManagerSim"]:
        return _REGISTRY.get(cluster)

    def attach(self, cluster) -> None:
        self.cluster = cluster
        try:
            _REGISTRY[cluster] = self
        except TypeError:
            pass

    def now(self):
        return self.cluster.now()

    def hop(self, nominal: float) -> float:
        """The delay before the next reconcile a watch event queues: cert-manager's informer and
        workqueue hop (controllers/latency.py; ``nominal`` under the ``instant`` profile)."""
        return latency.of(self.cluster).hop(latency.CERT_MANAGER, nominal)

    def requeue_after_failure(self) -> float:
        """A reconcile that failed (409 Conflict) goes back through the rate-limited queue:
        pkg/controller/util.go DefaultCertificateRateLimiter, 1 s for the first failure."""
        if latency.CERT_MANAGER in latency.of(self.cluster).ranges:
            return latency.CERTIFICATE_RATE_LIMITER_BASE
        return self.hop(0.1)

    def later(self, delay: float, key: tuple, fn, *args) -> None:
        def run():
            if not self.active:
                return
            try:
                fn(*args)
            except Exception as exc:  # noqa: BLE001 - recorded, never silently lost
                self.errors.append(traceback.format_exc())
                sink = getattr(self.cluster, "controller_errors", None)
                if isinstance(sink, list):  # kubesim's GET /_kubesim/errors
                    sink.append(f"cert-manager: {type(exc).__name__}: {exc}")

        self.cluster.schedule(max(delay, 0.0), run, key=f"{self.cluster.name}/certmanager/" + "/".join(map(str, key)))

    def write(self, method: str, obj: dict) -> dict:
        """A Secret write as cert-manager's issuing controller makes it (its field manager when supported)."""
        fn = getattr(self.cluster, method)
        try:
            return fn(obj, manager=ISSUING_MANAGER)
        except TypeError:
            return fn(obj)

    def event(self, obj: dict, etype: str, reason: str, message: str) -> None:
        md = obj.get("metadata") or {}
        ns = md.get("namespace") or "default"
        now = rfc3339(self.now())
        try:
            self.cluster.create({
                "apiVersion": "v1", "kind": "Event",
                "metadata": {"name": f"{md.get('name')}.{uuid.uuid4().hex[:16]}", "namespace": ns},
                "involvedObject": {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"),
                                   "name": md.get("name"), "namespace": md.get("namespace"),
                                   "uid": md.get("uid"), "resourceVersion": md.get("resourceVersion")},
                "reason": reason, "message": message, "type": etype,
                "source": {"component": "cert-manager-certificates"},
                "firstTimestamp": now, "lastTimestamp": now, "count": 1,
            })
        except (ApiError, KeyError, TypeError):
            pass  # events are best effort, as in cert-manager

    # ------------------------------------------------------------------ state

    @property
    def version(self):
        dep = self.deployments.get(CONTROLLER)
        return parse_version(self._image(dep)) if dep else DEFAULT_VERSION

    @property
    def webhook_version(self):
        dep = self.deployments.get(WEBHOOK)
        return parse_version(self._image(dep), self.version) if dep else self.version

    @property
    def webhook_feature_gates(self) -> dict:
        """The ``--feature-gates`` the webhook Deployment's container runs with (cert-manager's
        ``webhook.featureGates`` Helm value ends up there); the version's defaults apply to the rest."""
        dep = self.deployments.get(WEBHOOK)
        containers = (((dep or {}).get("spec") or {}).get("template") or {}).get("spec", {}).get("containers") or []
        return val.parse_feature_gates(containers[0].get("args") or []) if containers else {}

    @staticmethod
    def _image(dep: Optional[dict]) -> str:
        containers = (((dep or {}).get("spec") or {}).get("template") or {}).get("spec", {}).get("containers") or []
        return containers[0].get("image", "") if containers else ""

    @property
    def crds_present(self) -> bool:
        return "certificates.cert-manager.io" in self.crds

    @property
    def active(self) -> bool:
        return self.crds_present and deployment_available(self.deployments.get(CONTROLLER))

    @property
    def webhook_registered(self) -> bool:
        return WEBHOOK in self.webhook_configs or WEBHOOK in self.deployments

    @property
    def webhook_serving(self) -> bool:
        """The webhook pods answer (its Deployment is available)."""
        return deployment_available(self.deployments.get(WEBHOOK))

    @property
    def ca_injected(self) -> bool:
        """cainjector has put the webhook's CA into the webhook configurations.

        That happens CA_INJECTION_DELAY simulated seconds after both the webhook and
        cainjector Deployments are available (at once for a ``--preinstall``ed cert-manager,
        which is "already running"); until then the API server cannot verify the webhook.
        """
        if self._injected_at is None:
            return False
        return self.cluster.now() >= self._injected_at

    def _track_injection(self) -> None:
        dep = self.deployments.get(CAINJECTOR)
        up = self.webhook_serving and (dep is None or deployment_available(dep))
        if not up:
            self._injected_at = None
        elif self._injected_at is None:
            preinstalled = "cert-manager" in tuple((getattr(self.cluster, "options", None) or {}).get("preinstall")
                                                   or ())
            self._injected_at = self.cluster.now() + _dt.timedelta(
                seconds=0 if preinstalled else CA_INJECTION_DELAY)

    def _safe_list(self, api_version, plural, namespace=None):
        try:
            return self.cluster.list(api_version, plural, namespace)
        except (ApiError, KeyError, ValueError):
            return []

    def refresh(self) -> None:
        """Re-read what activation depends on (done on attach and on clock moves)."""
        self.deployments = {d["metadata"]["name"]: d for d in self._safe_list("apps/v1", "deployments", NAMESPACE)}
        crds = self._safe_list("apiextensions.k8s.io/v1", "customresourcedefinitions")
        self.crds = {c["metadata"]["name"] for c in crds if c["metadata"]["name"].endswith(".cert-manager.io")}
        self.ns_labels = {n["metadata"]["name"]: dict(n["metadata"].get("labels") or {})
                          for n in self._safe_list("v1", "namespaces")}
        self.webhook_configs = {w["metadata"]["name"] for w in self._safe_list(
            "admissionregistration.k8s.io/v1", "validatingwebhookconfigurations")}
        self._track_injection()
        for svc in self._safe_list("v1", "services", NAMESPACE):
            if svc["metadata"]["name"] == WEBHOOK:
                self.webhook_ip = (svc.get("spec") or {}).get("clusterIP") or self.webhook_ip

    def resync(self) -> None:
        if self.cluster is None:
            return
        self.refresh()
        self._check_activation(force=True)

    def _check_activation(self, force: bool = False) -> None:
        active = self.active
        if active and (force or not self._was_active):
            self.later(self.hop(0.05), ("all",), self._reconcile_all)
        self._was_active = active

    def _reconcile_all(self) -> None:
        for kind, plural in (("Issuer", "issuers"), ("ClusterIssuer", "clusterissuers")):
            for iss in self._safe_list(API, plural):
                md = iss["metadata"]
                self.later(self.hop(0.05), ("iss", kind, md.get("namespace"), md["name"]), self.reconcile_issuer, kind,
                           md.get("namespace"), md["name"])
        for crt in self._safe_list(API, "certificates"):
            md = crt["metadata"]
            self.later(self.hop(0.1), ("crt", md["namespace"], md["name"]), self.pipeline.reconcile_certificate,
                       md["namespace"], md["name"])
        for cr in self._safe_list(API, "certificaterequests"):
            md = cr["metadata"]
            self.later(self.hop(0.1), ("cr", md["namespace"], md["name"]), self.pipeline.reconcile_request,
                       md["namespace"], md["name"])

    # ------------------------------------------------------------------ admission

    def admit(self, operation, api_version, plural, obj, old, dry_run):
        group = api_version.split("/")[0] if "/" in api_version else ""
        if group not in GROUPS or operation not in ("CREATE", "UPDATE") or obj is None:
            return None
        resource, _, sub = plural.partition("/")
        if not sub:
            errs = val.crd_schema_errors(resource, obj)
            if errs:
                raise self._invalid(resource, obj, errs)
        if not self.webhook_registered:
            return None
        ns = (obj.get("metadata") or {}).get("namespace")
        validating = not (ns and self.ns_labels.get(ns, {}).get(DISABLE_VALIDATION_LABEL) == "true")
        mutating = operation == "CREATE" and resource == "certificaterequests" and not sub
        if not (validating or mutating):
            return None
        if not (self.webhook_serving and self.ca_injected):
            raise self._webhook_unreachable("/mutate" if mutating else "/validate")
        if not validating:
            return None
        version = self.webhook_version
        try:
            if resource == "certificates":
                spec = obj.get("spec") or {}
                errs = val.validate_certificate_spec(spec, version, self.webhook_feature_gates)
                warnings = val.certificate_warnings(spec, version)
            elif resource in ("issuers", "clusterissuers"):
                errs = val.validate_issuer_spec(obj.get("spec") or {})
                warnings = []
            elif resource == "certificaterequests":
                errs = val.validate_certificate_request(obj, old if operation == "UPDATE" and not sub else None)
                warnings = []
            else:
                return None
        except val.DecodeError as exc:
            raise ApiError(400, "", f'admission webhook "{WEBHOOK_NAME}" denied the request: {exc}')
        if errs:
            # v1.12+ (admission plugins on controller-runtime): admission.Denied → 403 Forbidden;
            # before, the webhook's own handler answered 406 NotAcceptable.
            code, reason = (403, "Forbidden") if version >= (1, 12, 0) else (406, "NotAcceptable")
            raise ApiError(code, reason,
                           f'admission webhook "{WEBHOOK_NAME}" denied the request: {val.aggregate(errs)}')
        return warnings or None

    @staticmethod
    def _invalid(resource: str, obj: dict, errs) -> ApiError:
        kind = KIND_OF.get(resource, resource)
        name = (obj.get("metadata") or {}).get("name", "")
        text = val.aggregate(errs)
        return ApiError(422, "Invalid", f'{kind}.cert-manager.io "{name}" is invalid: {text}',
                        {"name": name, "group": "cert-manager.io", "kind": kind,
                         "causes": [e.cause() for e in errs]})

    def _webhook_unreachable(self, path: str) -> ApiError:
        ip = self.webhook_ip or "10.96.0.10"
        timeout = WEBHOOK_TIMEOUT if self.webhook_version >= (1, 14, 0) else 10  # PR #6488 raised it to 30s
        url = f"https://{WEBHOOK}.{NAMESPACE}.svc:443{path}?timeout={timeout}s"
        if self.webhook_serving:  # pods answer, but the caBundle is not injected yet
            why = "tls: failed to verify certificate: x509: certificate signed by unknown authority"
        else:
            why = f"dial tcp {ip}:443: connect: connection refused"
        err = f'failed calling webhook "{WEBHOOK_NAME}": failed to call webhook: Post "{url}": {why}'
        return ApiError(500, "InternalError", f"Internal error occurred: {err}", {"causes": [{"message": err}]})

    # ------------------------------------------------------------------ events

    def on_event(self, event_type, api_version, plural, obj, old):
        md = obj.get("metadata") or {}
        name, ns = md.get("name"), md.get("namespace")
        if plural == "deployments" and ns == NAMESPACE:
            if event_type == "DELETED":
                self.deployments.pop(name, None)
            else:
                self.deployments[name] = obj
            self._track_injection()
            self._check_activation()
            return
        if plural == "customresourcedefinitions":
            if name and name.endswith(".cert-manager.io"):
                (self.crds.discard if event_type == "DELETED" else self.crds.add)(name)
                self._check_activation()
            return
        if plural == "namespaces":
            if event_type == "DELETED":
                self.ns_labels.pop(name, None)
            else:
                self.ns_labels[name] = dict(md.get("labels") or {})
            return
        if plural == "validatingwebhookconfigurations":
            (self.webhook_configs.discard if event_type == "DELETED" else self.webhook_configs.add)(name)
            return
        if plural == "services" and ns == NAMESPACE and name == WEBHOOK:
            self.webhook_ip = (obj.get("spec") or {}).get("clusterIP") or self.webhook_ip
            return
        if not self.active:
            return
        if api_version == API and plural in ("issuers", "clusterissuers"):
            kind = KIND_OF[plural]
            self.later(self.hop(0.1), ("iss", kind, ns, name), self.reconcile_issuer, kind, ns, name)
            if event_type != "DELETED":
                self._requeue_pending_requests()
        elif api_version == API and plural == "certificates":
            if event_type == "DELETED":
                self.later(self.hop(0.05), ("gone", ns, name), self._certificate_deleted, obj)
            else:
                self.later(self.hop(0.1), ("crt", ns, name), self.pipeline.reconcile_certificate, ns, name)
        elif api_version == API and plural == "certificaterequests":
            if event_type != "DELETED":
                self.later(self.hop(0.1), ("cr", ns, name), self.pipeline.reconcile_request, ns, name)
            owner = (md.get("annotations") or {}).get("cert-manager.io/certificate-name")
            if owner:
                self.later(self.hop(0.1), ("crt", ns, owner), self.pipeline.reconcile_certificate, ns, owner)
        elif api_version == "v1" and plural == "secrets":
            self.later(self.hop(0.05), ("secret", ns, name), self._secret_changed, ns, name)

    def _requeue_pending_requests(self) -> None:
        for cr in self._safe_list(API, "certificaterequests"):
            ready = get_condition(cr, "Ready")
            if ready is None or ready.get("reason") == "Pending":
                md = cr["metadata"]
                self.later(self.hop(0.1), ("cr", md["namespace"], md["name"]), self.pipeline.reconcile_request,
                           md["namespace"], md["name"])

    def _secret_changed(self, ns: str, name: str) -> None:
        for kind, plural in (("Issuer", "issuers"), ("ClusterIssuer", "clusterissuers")):
            for iss in self._safe_list(API, plural, ns if kind == "Issuer" else None):
                ca = (iss.get("spec") or {}).get("ca") or {}
                sns = issuers.secret_namespace(kind, iss["metadata"].get("namespace"))
                if ca.get("secretName") == name and sns == ns:
                    md = iss["metadata"]
                    self.later(self.hop(0.05), ("iss", kind, md.get("namespace"), md["name"]), self.reconcile_issuer, kind,
                               md.get("namespace"), md["name"])
        for crt in self._safe_list(API, "certificates", ns):
            if (crt.get("spec") or {}).get("secretName") == name:
                self.later(self.hop(0.1), ("crt", ns, crt["metadata"]["name"]), self.pipeline.reconcile_certificate, ns,
                           crt["metadata"]["name"])

    def _certificate_deleted(self, crt: dict) -> None:
        """Owner-reference clean-up of requests and temporary key Secrets (the Secret itself stays)."""
        md = crt["metadata"]
        ns, uid = md["namespace"], md.get("uid")
        for cr in self._safe_list(API, "certificaterequests", ns):
            if any(o.get("uid") == uid for o in cr["metadata"].get("ownerReferences") or []):
                self._delete_quietly(API, "certificaterequests", ns, cr["metadata"]["name"])
        for s in self._safe_list("v1", "secrets", ns):
            if any(o.get("uid") == uid for o in s["metadata"].get("ownerReferences") or []):
                self._delete_quietly("v1", "secrets", ns, s["metadata"]["name"])

    def _delete_quietly(self, api_version, plural, ns, name) -> None:
        try:
            self.cluster.delete(api_version, plural, ns, name)
        except ApiError:
            pass

    # ------------------------------------------------------------------ issuers

    def reconcile_issuer(self, kind: str, ns: Optional[str], name: str) -> None:
        plural = "clusterissuers" if kind == "ClusterIssuer" else "issuers"
        iss = self.cluster.get(API, plural, None if kind == "ClusterIssuer" else ns, name)
        if iss is None:
            return
        status, reason, message = issuers.issuer_readiness(self.cluster, kind, iss)
        now = self.now()
        gen = iss["metadata"].get("generation")

        def mutate(_obj, st):
            set_condition(st, "Ready", status, reason, message, gen, now)

        try:
            self.pipeline._write_status(plural, None if kind == "ClusterIssuer" else ns, name, mutate)
        except ApiError as exc:
            if exc.code == 409:
                self.later(self.requeue_after_failure(), ("iss", kind, ns, name), self.reconcile_issuer, kind, ns, name)
            elif exc.code != 404:
                raise


def factory() -> CertManagerSim:
    return CertManagerSim()


CONTROLLER_FACTORIES = [factory]  # picked up by kubesim.controllers (DEFAULT_CONTROLLER_FACTORIES)
