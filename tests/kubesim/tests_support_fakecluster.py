"""A tiny in-memory ClusterView for unit-testing the cert-manager and istiod simulations.

It implements the contract in ``kubesim/controllers/base.py`` without HTTP: a store with
resourceVersions, generations and status subresources, watch-style events delivered to
the controllers after each write, admission for "client" requests, and a manual
simulated clock whose ``advance()`` runs the scheduled work that falls due. The real
kubesim server replaces all of this in the integration tests.
"""

from __future__ import annotations

import copy
import datetime as _dt
import heapq
import itertools
import uuid
from typing import Callable, Dict, List, Optional, Tuple

from kubesim.controllers.base import ApiError, rfc3339

PLURALS = {
    "Secret": "secrets", "ConfigMap": "configmaps", "Namespace": "namespaces", "Deployment": "deployments",
    "Pod": "pods", "Event": "events", "Service": "services", "Certificate": "certificates",
    "CertificateRequest": "certificaterequests", "Issuer": "issuers", "ClusterIssuer": "clusterissuers",
    "CustomResourceDefinition": "customresourcedefinitions",
    "ValidatingWebhookConfiguration": "validatingwebhookconfigurations",
}
CLUSTER_SCOPED = {"namespaces", "clusterissuers", "customresourcedefinitions", "validatingwebhookconfigurations"}
STATUS_SUBRESOURCE = {"certificates", "certificaterequests", "issuers", "clusterissuers", "deployments", "pods"}


def _matches(labels: dict, selector: Optional[str]) -> bool:
    if not selector:
        return True
    for part in selector.split(","):
        part = part.strip()
        if "!=" in part:
            k, v = part.split("!=", 1)
            if labels.get(k.strip()) == v.strip():
                return False
        elif "=" in part:
            k, v = part.replace("==", "=").split("=", 1)
            if labels.get(k.strip()) != v.strip():
                return False
        elif part.startswith("!"):
            if part[1:] in labels:
                return False
        elif part not in labels:
            return False
    return True


class FakeCluster:
    """ClusterView + a client-side request path with admission + a manual clock."""

    def __init__(self, name: str = "fake-1", controllers=(), start: Optional[_dt.datetime] = None,
                 propagation_delay: float = 0.0, preinstall=()):
        self.name = name
        self.propagation_delay = propagation_delay
        self.options = {"propagation_delay": propagation_delay, "preinstall": tuple(preinstall)}
        # Start at the wall clock so that openssl (which uses real time) agrees with the certs.
        self._now = start or _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0)
        self._store: Dict[Tuple[str, str, Optional[str], str], dict] = {}
        self._rv = itertools.count(1)
        self._tasks: List[tuple] = []
        self._seq = itertools.count()
        self._keys: Dict[str, int] = {}
        self.logs: Dict[Tuple[str, str], List[Tuple[_dt.datetime, Optional[str], str]]] = {}
        self.proxies: Dict[Tuple[str, str, int], Callable] = {}
        self.warnings: List[str] = []
        self.controllers = list(controllers)
        for c in self.controllers:
            c.attach(self)
        for c in self.controllers:
            c.resync()

    # ------------------------------------------------------------------ ClusterView

    def now(self) -> _dt.datetime:
        return self._now

    @staticmethod
    def _plural(obj: dict) -> str:
        return PLURALS[obj["kind"]]

    def _key(self, api_version, plural, namespace, name):
        return (api_version, plural, None if plural in CLUSTER_SCOPED else namespace, name)

    def get(self, api_version, plural, namespace, name):
        obj = self._store.get(self._key(api_version, plural, namespace, name))
        return copy.deepcopy(obj) if obj is not None else None

    def list(self, api_version, plural, namespace=None, label_selector=None):
        out = []
        for (av, pl, ns, _), obj in sorted(self._store.items(), key=lambda kv: str(kv[0])):
            if av == api_version and pl == plural and (namespace is None or ns == namespace) \
                    and _matches((obj["metadata"].get("labels") or {}), label_selector):
                out.append(copy.deepcopy(obj))
        return out

    def _emit(self, event_type, api_version, plural, obj, old):
        for c in self.controllers:
            c.on_event(event_type, api_version, plural, copy.deepcopy(obj), copy.deepcopy(old))

    def create(self, obj: dict) -> dict:
        obj = copy.deepcopy(obj)
        plural = self._plural(obj)
        md = obj.setdefault("metadata", {})
        if not md.get("name") and md.get("generateName"):
            md["name"] = md["generateName"] + uuid.uuid4().hex[:5]
        ns = md.get("namespace")
        if plural not in CLUSTER_SCOPED and ns and plural != "namespaces" and \
                self.get("v1", "namespaces", None, ns) is None:
            raise ApiError(404, "NotFound", f'namespaces "{ns}" not found', {"name": ns, "kind": "namespaces"})
        key = self._key(obj["apiVersion"], plural, ns, md["name"])
        if key in self._store:
            raise ApiError(409, "AlreadyExists", f'{plural} "{md["name"]}" already exists')
        md["uid"] = str(uuid.uuid4())
        md["resourceVersion"] = str(next(self._rv))
        md["creationTimestamp"] = rfc3339(self._now)
        md["generation"] = 1
        if plural == "secrets" and "type" not in obj:
            obj["type"] = "Opaque"
        if plural in STATUS_SUBRESOURCE and plural not in ("deployments", "pods"):
            obj.pop("status", None)
        self._store[key] = obj
        self._emit("ADDED", obj["apiVersion"], plural, obj, None)
        return copy.deepcopy(obj)

    def _replace(self, obj: dict, status_only: bool) -> dict:
        obj = copy.deepcopy(obj)
        plural = self._plural(obj)
        md = obj["metadata"]
        key = self._key(obj["apiVersion"], plural, md.get("namespace"), md["name"])
        old = self._store.get(key)
        if old is None:
            raise ApiError(404, "NotFound", f'{plural} "{md["name"]}" not found')
        rv = md.get("resourceVersion")
        if rv and rv != old["metadata"]["resourceVersion"]:
            raise ApiError(409, "Conflict", f'Operation cannot be fulfilled on {plural} "{md["name"]}": the object '
                                            "has been modified; please apply your changes to the latest version "
                                            "and try again")
        new = copy.deepcopy(old)
        if status_only:
            new["status"] = obj.get("status")
        else:
            for k, v in obj.items():
                if k == "status" and plural in STATUS_SUBRESOURCE:
                    continue
                if k == "metadata":
                    for mk in ("labels", "annotations", "ownerReferences", "finalizers"):
                        if mk in v:
                            new["metadata"][mk] = v[mk]
                        else:
                            new["metadata"].pop(mk, None)
                    continue
                new[k] = v
            for k in list(new):
                if k not in obj and k not in ("metadata", "status", "apiVersion", "kind"):
                    del new[k]
            body = {k: v for k, v in new.items() if k not in ("metadata", "status")}
            old_body = {k: v for k, v in old.items() if k not in ("metadata", "status")}
            if body != old_body:
                new["metadata"]["generation"] = int(old["metadata"].get("generation") or 1) + 1
        if new == old:
            return copy.deepcopy(old)  # a no-op write keeps the resourceVersion
        new["metadata"]["resourceVersion"] = str(next(self._rv))
        self._store[key] = new
        self._emit("MODIFIED", new["apiVersion"], plural, new, old)
        return copy.deepcopy(new)

    def update(self, obj: dict) -> dict:
        return self._replace(obj, status_only=False)

    def update_status(self, obj: dict) -> dict:
        return self._replace(obj, status_only=True)

    def apply(self, obj: dict) -> dict:
        md = obj["metadata"]
        cur = self.get(obj["apiVersion"], self._plural(obj), md.get("namespace"), md["name"])
        if cur is None:
            return self.create(obj)
        merged = copy.deepcopy(obj)
        merged["metadata"]["resourceVersion"] = cur["metadata"]["resourceVersion"]
        out = self.update(merged)
        if "status" in obj:
            out["status"] = obj["status"]
            out = self.update_status(out)
        return out

    def delete(self, api_version, plural, namespace, name) -> None:
        key = self._key(api_version, plural, namespace, name)
        old = self._store.pop(key, None)
        if old is None:
            raise ApiError(404, "NotFound", f'{plural} "{name}" not found')
        self._emit("DELETED", api_version, plural, old, old)

    def schedule(self, delay_seconds, fn, key=None) -> None:
        seq = next(self._seq)
        due = self._now + _dt.timedelta(seconds=max(delay_seconds, 0.0))
        if key is not None:
            self._keys[key] = seq
        heapq.heappush(self._tasks, (due, seq, key, fn))

    def append_log(self, namespace, pod, container, line, when=None) -> None:
        self.logs.setdefault((namespace, pod), []).append((when or self._now, container, line))

    def register_proxy(self, namespace, pod, port, handler) -> None:
        self.proxies[(namespace, pod, port)] = handler

    # ------------------------------------------------------------------ clock

    def jump(self, seconds: float) -> None:
        """A test moving the clock forward (kubesim's ``cluster.clock.advance``): runs resync too."""
        self.advance(seconds)
        for c in self.controllers:
            c.resync()
        self.advance(0)

    def advance(self, seconds: float) -> None:
        """Let simulated time pass, running every task that falls due (in time order)."""
        target = self._now + _dt.timedelta(seconds=seconds)
        while self._tasks and self._tasks[0][0] <= target:
            due, seq, key, fn = heapq.heappop(self._tasks)
            if key is not None and self._keys.get(key) != seq:
                continue  # replaced by a later call with the same key
            if key is not None:
                self._keys.pop(key, None)
            self._now = max(self._now, due)
            fn()
        self._now = target

    def run_until(self, predicate: Callable[[], bool], timeout: float = 30.0, step: float = 0.25) -> bool:
        waited = 0.0
        while waited <= timeout:
            if predicate():
                return True
            self.advance(step)
            waited += step
        return predicate()

    # ------------------------------------------------------------------ client requests (with admission)

    def _admit(self, operation, api_version, plural, obj, old, dry_run=False):
        warnings = []
        for c in self.controllers:
            res = c.admit(operation, api_version, plural, copy.deepcopy(obj), copy.deepcopy(old), dry_run)
            if res:
                warnings.extend(res)
        self.warnings.extend(warnings)
        return warnings

    def client_create(self, obj: dict, dry_run: bool = False) -> dict:
        plural = self._plural(obj)
        self._admit("CREATE", obj["apiVersion"], plural, obj, None, dry_run)
        if dry_run:
            return copy.deepcopy(obj)
        return self.create(obj)

    def client_update(self, obj: dict) -> dict:
        plural = self._plural(obj)
        md = obj["metadata"]
        old = self.get(obj["apiVersion"], plural, md.get("namespace"), md["name"])
        self._admit("UPDATE", obj["apiVersion"], plural, obj, old)
        return self.update(obj)

    def client_update_status(self, obj: dict) -> dict:
        plural = self._plural(obj)
        md = obj["metadata"]
        old = self.get(obj["apiVersion"], plural, md.get("namespace"), md["name"])
        self._admit("UPDATE", obj["apiVersion"], plural + "/status", obj, old)
        return self.update_status(obj)

    def client_apply(self, obj: dict) -> dict:
        md = obj["metadata"]
        cur = self.get(obj["apiVersion"], self._plural(obj), md.get("namespace"), md["name"])
        if cur is None:
            return self.client_create(obj)
        merged = copy.deepcopy(cur)
        for k, v in obj.items():
            if k == "metadata":
                merged["metadata"].setdefault("labels", {}).update(v.get("labels") or {})
                merged["metadata"].setdefault("annotations", {}).update(v.get("annotations") or {})
            elif k not in ("status",):
                merged[k] = copy.deepcopy(v)
        return self.client_update(merged)

    def logs_text(self, namespace: str, pod: str) -> str:
        return "".join(line + "\n" for _, _, line in self.logs.get((namespace, pod), []))

    def proxy_get(self, namespace: str, pod: str, port: int, path: str):
        handler = self.proxies.get((namespace, pod, port))
        if handler is None:
            raise ApiError(503, "ServiceUnavailable", "no endpoints available")
        return handler("GET", path)


# ---------------------------------------------------------------------- installers


def ensure_namespace(fake: FakeCluster, name: str, labels: Optional[dict] = None) -> None:
    if fake.get("v1", "namespaces", None, name) is None:
        fake.create({"apiVersion": "v1", "kind": "Namespace",
                     "metadata": {"name": name, "labels": labels or {"kubernetes.io/metadata.name": name}}})


def make_deployment(fake: FakeCluster, namespace: str, name: str, image: str, available: bool = True,
                    labels: Optional[dict] = None, env: Optional[list] = None, container: str = "main") -> dict:
    labels = labels or {"app": name}
    dep = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
        "spec": {"replicas": 1, "selector": {"matchLabels": dict(labels)},
                 "template": {"metadata": {"labels": dict(labels)},
                              "spec": {"containers": [{"name": container, "image": image, "env": env or []}]}}},
        "status": _deployment_status(available),
    }
    return fake.create(dep)


def _deployment_status(available: bool) -> dict:
    return {"replicas": 1, "availableReplicas": 1 if available else 0, "readyReplicas": 1 if available else 0,
            "conditions": [{"type": "Available", "status": "True" if available else "False"}]}


def set_deployment_available(fake: FakeCluster, namespace: str, name: str, available: bool) -> None:
    dep = fake.get("apps/v1", "deployments", namespace, name)
    dep["status"] = _deployment_status(available)
    fake.update_status(dep)


def install_cert_manager(fake: FakeCluster, version: str = "v1.19.1", webhook_available: bool = True,
                         controller_available: bool = True, webhook_config: bool = True) -> None:
    ensure_namespace(fake, "cert-manager")
    for plural, kind in (("certificates", "Certificate"), ("certificaterequests", "CertificateRequest"),
                         ("issuers", "Issuer"), ("clusterissuers", "ClusterIssuer")):
        fake.create({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                     "metadata": {"name": f"{plural}.cert-manager.io"},
                     "spec": {"group": "cert-manager.io", "names": {"plural": plural, "kind": kind}}})
    if webhook_config:
        fake.create({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
                     "metadata": {"name": "cert-manager-webhook"}, "webhooks": []})
    make_deployment(fake, "cert-manager", "cert-manager", f"quay.io/jetstack/cert-manager-controller:{version}",
                    controller_available)
    make_deployment(fake, "cert-manager", "cert-manager-cainjector",
                    f"quay.io/jetstack/cert-manager-cainjector:{version}", True)
    make_deployment(fake, "cert-manager", "cert-manager-webhook", f"quay.io/jetstack/cert-manager-webhook:{version}",
                    webhook_available)


# ---------------------------------------------------------------------- cert-manager scenario helpers

CM = "cert-manager.io/v1"


def new_fake(cm_version: Optional[str] = "v1.19.1", propagation_delay: float = 1.0, istio: bool = True,
             preinstalled: bool = True, **install) -> FakeCluster:
    """A fake cluster with the cert-manager (and istiod) simulations attached; cert-manager installed
    (as ``--preinstall cert-manager`` does, unless ``preinstalled=False``)."""
    from kubesim.controllers.certmanager import CertManagerSim
    from kubesim.controllers.istiod import IstiodSim

    controllers = [CertManagerSim()] + ([IstiodSim()] if istio else [])
    fake = FakeCluster(controllers=controllers, propagation_delay=propagation_delay,
                       preinstall=("cert-manager",) if preinstalled else ())
    for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
        ensure_namespace(fake, ns)
    if cm_version:
        install_cert_manager(fake, cm_version, **install)
        fake.advance(0.2)
    return fake


def certificate(name: str, namespace: str, issuer: str, kind: str = "ClusterIssuer", **spec) -> dict:
    body = {"secretName": spec.pop("secretName", name), "issuerRef": {"name": issuer, "kind": kind,
                                                                      "group": "cert-manager.io"}}
    body.update(spec)
    return {"apiVersion": CM, "kind": "Certificate", "metadata": {"name": name, "namespace": namespace},
            "spec": body}


def issuer(name: str, spec: dict, namespace: Optional[str] = None) -> dict:
    kind = "Issuer" if namespace else "ClusterIssuer"
    md = {"name": name}
    if namespace:
        md["namespace"] = namespace
    return {"apiVersion": CM, "kind": kind, "metadata": md, "spec": spec}


def condition(obj: Optional[dict], ctype: str) -> Optional[dict]:
    for c in ((obj or {}).get("status") or {}).get("conditions") or []:
        if c.get("type") == ctype:
            return c
    return None


def get_cert(fake: FakeCluster, namespace: str, name: str) -> Optional[dict]:
    return fake.get(CM, "certificates", namespace, name)


def issued(fake: FakeCluster, namespace: str, name: str, revision: int = 1) -> bool:
    crt = get_cert(fake, namespace, name)
    ready = condition(crt, "Ready")
    return bool(crt and (crt.get("status") or {}).get("revision") == revision and ready
                and ready["status"] == "True" and condition(crt, "Issuing") is None)


def wait_issued(fake: FakeCluster, namespace: str, name: str, revision: int = 1, timeout: float = 20.0) -> dict:
    assert fake.run_until(lambda: issued(fake, namespace, name, revision), timeout), \
        f"{namespace}/{name} revision {revision} not issued: {get_cert(fake, namespace, name)}"
    return get_cert(fake, namespace, name)


def ca_chain(fake: FakeCluster, root_key: Optional[dict] = None, root_duration: str = "21600h") -> None:
    """The tutorial's chain: SelfSigned ClusterIssuer → root Certificate (cert-manager ns) → CA ClusterIssuer."""
    fake.client_create(issuer("selfsigned", {"selfSigned": {}}))
    fake.client_create(certificate("root-ca", "cert-manager", "selfsigned", secretName="root-secret", isCA=True,
                                   commonName="Root CA", duration=root_duration,
                                   subject={"organizations": ["Istio"]},
                                   privateKey=root_key or {"algorithm": "ECDSA", "size": 256,
                                                           "rotationPolicy": "Never"}))
    fake.client_create(issuer("ca-issuer", {"ca": {"secretName": "root-secret"}}))
    wait_issued(fake, "cert-manager", "root-ca")
    assert fake.run_until(lambda: (condition(fake.get(CM, "clusterissuers", None, "ca-issuer"), "Ready")
                                   or {}).get("status") == "True", 5)


def secret_data(fake: FakeCluster, namespace: str, name: str) -> Dict[str, bytes]:
    import base64

    sec = fake.get("v1", "secrets", namespace, name) or {}
    return {k: base64.b64decode(v) for k, v in (sec.get("data") or {}).items()}


def istiod_pod(fake: FakeCluster, version: str = "1.22.3", env: Optional[dict] = None, name: str = "istiod-1",
               args: Optional[list] = None) -> str:
    """An istiod Pod as the Deployment controller and kubelet would leave it (Running)."""
    ensure_namespace(fake, "istio-system")
    env_list = [{"name": k, "value": v} for k, v in (env or {}).items()]
    container = {"name": "discovery", "image": f"docker.io/istio/pilot:{version}", "env": env_list}
    if args is not None:
        container["args"] = list(args)
    fake.create({"apiVersion": "v1", "kind": "Pod",
                 "metadata": {"name": name, "namespace": "istio-system", "labels": {"app": "istiod"}},
                 "spec": {"containers": [container]},
                 "status": {"phase": "Running",
                            "conditions": [{"type": "Ready", "status": "True"},
                                           {"type": "ContainersReady", "status": "True"}],
                            "containerStatuses": [{"name": "discovery", "ready": True, "restartCount": 0,
                                                   "state": {"running": {}}}]}})
    fake.advance(0.5)
    return name


# ---------------------------------------------------------------------- CA material for the istiod tests


class CA:
    """A certificate and its key (ECDSA P-256 by default, to keep tests fast)."""

    def __init__(self, cert, key):
        self.cert = cert
        self.key = key

    @property
    def pem(self) -> bytes:
        from kubesim import pki
        return pki.cert_pem(self.cert)

    @property
    def key_pem(self) -> bytes:
        from kubesim import pki
        return pki.encode_key(self.key, "PKCS1")


def make_ca(cn: str, parent: Optional[CA] = None, is_ca: bool = True, eku: Optional[list] = None,
            days: float = 60, start: Optional[_dt.datetime] = None, org: str = "Istio",
            path_len_zero: bool = False) -> CA:
    from cryptography import x509 as _x509
    from cryptography.x509.oid import NameOID

    from kubesim import pki

    key = pki.generate_key("ECDSA", 256)
    start = start or _dt.datetime.now(_dt.timezone.utc) - _dt.timedelta(minutes=5)
    name = _x509.Name([_x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
                       _x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    cert = pki.sign(subject=name, public_key=key.public_key(), not_before_=start,
                    not_after_=start + _dt.timedelta(days=days), is_ca_flag=is_ca,
                    key_usage={"key_cert_sign", "digital_signature"} if is_ca else {"digital_signature"},
                    ext_key_usage=eku or [], san=None,
                    signer_key=parent.key if parent else key, parent=parent.cert if parent else None,
                    max_path_len_zero=path_len_zero)
    return CA(cert, key)


def tls_cacerts(inter: CA, root_pem: bytes, key_pem: Optional[bytes] = None) -> Dict[str, bytes]:
    return {"tls.crt": inter.pem, "tls.key": key_pem if key_pem is not None else inter.key_pem, "ca.crt": root_pem}


def native_cacerts(inter: CA, root: CA) -> Dict[str, bytes]:
    return {"ca-cert.pem": inter.pem, "ca-key.pem": inter.key_pem, "root-cert.pem": root.pem,
            "cert-chain.pem": inter.pem + root.pem}


def put_cacerts(fake: FakeCluster, files: Dict[str, bytes], name: str = "cacerts") -> dict:
    import base64

    ensure_namespace(fake, "istio-system")
    data = {k: base64.b64encode(v).decode() for k, v in files.items()}
    cur = fake.get("v1", "secrets", "istio-system", name)
    if cur is None:
        return fake.create({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                            "metadata": {"name": name, "namespace": "istio-system"}, "data": data})
    cur["data"] = data
    return fake.update(cur)


def pod_log(fake: FakeCluster, pod: str = "istiod-1") -> List[str]:
    """istiod's own log lines without their timestamps: ``level<TAB>[scope<TAB>]message``."""
    return [line.split("\t", 1)[1] for _, _, line in fake.logs.get(("istio-system", pod), [])]
