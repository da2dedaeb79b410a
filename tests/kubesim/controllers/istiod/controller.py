"""Simulated istiod's CA behaviour for one kubesim cluster (a stand-in, not istiod itself).

Active for every Pod labelled ``app=istiod`` in ``istio-system`` (the Deployment controller
makes them); each pod's Istio version comes from its ``discovery`` container image tag
(``docker.io/istio/pilot:1.22.3``) and its flags from the container env
(``AUTO_RELOAD_PLUGIN_CERTS``, ``ISTIO_MULTIROOT_MESH``; pilot/pkg/features/pilot.go). Upstream:
istio pilot/pkg/bootstrap/istio_ca.go, security/pkg/pki/ca/ca.go, security/pkg/k8s/configutil.go.

- startup: the ``cacerts`` Secret as mounted at pod start decides plugged vs self-signed
  (``tls.crt`` vs Istio-native names from 1.14.2; completeness: 1.27+ hard error on a partial
  bundle, before only the key file counts); plugged material is verified (Go's chain rules,
  key parse, key/cert match) and must be a CA (startup only); bad material crash-loops the
  pod (not ready, restartCount up, the error in its log, back-off restarts). Self-signed
  mode loads or creates ``istio-ca-secret``.
- hot reload (``handleEvent`` in istio_ca.go): the Secret volume changes ``propagation_delay`` seconds (the cluster
  setting) after the Secret; a watcher only runs in plugged mode and per version/flag
  (≤1.11 none, 1.12–1.13 never fires, 1.14–1.17 only with AUTO_RELOAD_PLUGIN_CERTS=true,
  1.18 default on, ≥1.19 always); ``handleEvent`` logs the exact lines, refuses root changes
  (byte comparison; ISTIO_MULTIROOT_MESH subset rule from 1.20), keeps the old CA on
  ``Failed to update new Plug-in CA certs``, re-issues istiod's DNS cert from the new
  intermediate and logs its chain.
- ``istio-ca-root-cert`` ConfigMaps (pilot/pkg/serviceregistry/kube/controller/namespacecontroller.go) (key ``root-cert.pem``, label ``istio.io/config``)
  in every namespace but kube-public/kube-node-lease/local-path-storage, written by the
  leader pod only when the bytes differ; the expiry metrics on port 15014 ``/metrics``
  (refreshed on reload from 1.24, stale before).

Helpers for tests: ``IstiodSim.of(cluster)`` returns the instance attached to a cluster;
``.pods`` maps pod name → ``PodState`` (``mode``: starting | plugged | self-signed |
crashloop, ``version``, ``signing_serial`` (lowercase hex of the CA cert istiod signs with
now), ``root_pem``, ``reloads``, ``watching``, ``restart_count``, ``last_error``);
``.errors`` lists exceptions raised inside scheduled work (should stay empty); ``.listeners`` are called with a
pod name whenever that pod starts serving, reloads, crash-loops or goes away (the simulated sidecars of
``controllers/mesh`` reconnect and take their PCDS pushes from there).
"""

from __future__ import annotations

import base64
import datetime as _dt
import re
import traceback
import weakref
from typing import Dict, List, Optional

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ... import pki
from . import logs as L
from . import pki as ipki
from . import volumes
from ..base import ApiError, Controller

NAMESPACE = "istio-system"
SECRET = "cacerts"
CA_SECRET = "istio-ca-secret"
ROOT_CM = "istio-ca-root-cert"
ROOT_KEY = "root-cert.pem"
SKIP_NAMESPACES = {"kube-public", "kube-node-lease", "local-path-storage"}
METRICS_PORT = 15014
CONTAINER = "discovery"
DNS_NAMES = ["istiod.istio-system.svc", "istiod-remote.istio-system.svc", "istio-pilot.istio-system.svc"]
DEFAULT_VERSION = (1, 24, 0)
TEN_YEARS = _dt.timedelta(days=3650)  # CITADEL_SELF_SIGNED_CA_CERT_TTL
CLOCK_SKEW = _dt.timedelta(minutes=2)  # istio backdates the certs it issues
START_DELAY = 0.3
DEBOUNCE = 0.1  # handleCACertsFileWatch's timer
MANAGER = "pilot-discovery"

_REGISTRY: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def parse_version(image: str):
    m = re.search(r":v?(\d+)\.(\d+)(?:\.(\d+))?", image or "")
    if not m:
        return DEFAULT_VERSION
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)


def go_bool(value: Optional[str], default: bool) -> bool:
    """istio's env bool: strconv.ParseBool, the default when unset or unparsable."""
    if value in ("1", "t", "T", "true", "TRUE", "True"):
        return True
    if value in ("0", "f", "F", "false", "FALSE", "False"):
        return False
    return default


def watcher_starts(version: tuple, env: dict) -> bool:
    """Whether the cacerts file watcher runs (istio_ca.go and the flag's history in pilot/pkg/features)."""
    if version < (1, 12, 0):
        return False
    if version < (1, 18, 0):
        return go_bool(env.get("AUTO_RELOAD_PLUGIN_CERTS"), False)
    if version < (1, 19, 0):
        return go_bool(env.get("AUTO_RELOAD_PLUGIN_CERTS"), True)
    return True


class PodState:
    """What one istiod process holds in memory."""

    def __init__(self, name: str, uid: str, image: str, env: dict, log_levels: Optional[dict] = None):
        self.name = name
        self.log_levels = dict(log_levels or {})  # scope -> minimum level (--log_output_level)
        self.uid = uid
        self.image = image
        self.version = parse_version(image)
        self.env = env
        self.mode = "starting"
        self.files: Dict[str, bytes] = {}
        self.bundle: Optional[ipki.Bundle] = None
        self.self_signed_root: bytes = b""
        self.dns_chain: List[x509.Certificate] = []
        self.watching = False
        self.reloads = 0
        self.restart_count = 0
        self.started_at: Optional[_dt.datetime] = None
        self.last_error = ""
        self.chain_expiry = 0.0
        self.root_expiry = 0.0
        self._tick = 0

    @property
    def version_str(self) -> str:
        return ".".join(str(p) for p in self.version)

    @property
    def multiroot(self) -> bool:
        return self.version >= (1, 20, 0) and go_bool(self.env.get("ISTIO_MULTIROOT_MESH"), False)

    @property
    def signing_serial(self) -> Optional[str]:
        return pki.serial_hex(self.bundle.cert) if self.bundle is not None else None

    @property
    def root_pem(self) -> bytes:
        return self.bundle.root_bytes if self.bundle is not None else b""

    @property
    def serving(self) -> bool:
        return self.mode in ("plugged", "self-signed")


class IstiodSim(Controller):
    name = "istiod"
    interests = frozenset({"pods", "secrets", "namespaces", "configmaps"})

    def __init__(self):
        self.cluster = None
        self.pods: Dict[str, PodState] = {}
        self.errors: List[str] = []
        self._seq = 0
        # Called (on the scheduler thread) with the pod name when a pod starts serving, reloads its CA or goes
        # away: the simulated sidecars (multiroot.py's agents) reconnect and take PCDS pushes from here.
        self.listeners: List = []

    @classmethod
    def of(cls, cluster) -> Optional["IstiodSim"]:
        return _REGISTRY.get(cluster)

    def attach(self, cluster) -> None:
        self.cluster = cluster
        try:
            _REGISTRY[cluster] = self
        except TypeError:
            pass

    # ------------------------------------------------------------------ plumbing

    def _later(self, delay: float, key: Optional[str], fn, *args) -> None:
        def run():
            try:
                fn(*args)
            except Exception as exc:  # noqa: BLE001 - recorded, never silently lost
                self.errors.append(traceback.format_exc())
                sink = getattr(self.cluster, "controller_errors", None)
                if isinstance(sink, list):  # kubesim's GET /_kubesim/errors
                    sink.append(f"istiod: {type(exc).__name__}: {exc}")

        full = f"{self.cluster.name}/istiod/{key}" if key else None
        self.cluster.schedule(max(delay, 0.0), run, key=full)

    @property
    def propagation_delay(self) -> float:
        return float(getattr(self.cluster, "propagation_delay", 0.0) or 0.0)

    def _write(self, method: str, obj: dict) -> dict:
        fn = getattr(self.cluster, method)
        try:
            return fn(obj, manager=MANAGER)
        except TypeError:
            return fn(obj)

    def _log(self, st: PodState, level: str, message: str, scope: str = "") -> None:
        if not L.written(st.log_levels, scope, level):
            return  # istio pkg/log drops lines below the scope's --log_output_level
        st._tick += 1
        when = self.cluster.now() + _dt.timedelta(microseconds=137 * st._tick)
        self.cluster.append_log(NAMESPACE, st.name, CONTAINER, L.line(when, level, message, scope), when)

    @staticmethod
    def _is_istiod_pod(obj: dict) -> bool:
        md = obj.get("metadata") or {}
        return md.get("namespace") == NAMESPACE and (md.get("labels") or {}).get("app") == "istiod"

    def _secret_files(self) -> Dict[str, bytes]:
        """The cacerts Secret as kubelet projects it (optional volume: absent → empty directory)."""
        sec = self.cluster.get("v1", "secrets", NAMESPACE, SECRET)
        if sec is None:
            return {}
        out = {}
        for k, v in (sec.get("data") or {}).items():
            try:
                out[k] = base64.b64decode(v or "")
            except Exception:  # noqa: BLE001
                out[k] = b""
        return out

    # ------------------------------------------------------------------ events

    def on_event(self, event_type, api_version, plural, obj, old):
        md = obj.get("metadata") or {}
        if api_version != "v1":
            return
        if plural == "pods" and self._is_istiod_pod(obj):
            name = md.get("name")
            if event_type == "DELETED" or md.get("deletionTimestamp"):
                # state changes happen on the scheduler thread only (on_event runs in request threads)
                self._later(0, f"gone/{name}", self._forget, name, md.get("uid"))
                return
            st = self.pods.get(name)
            if st is None or st.uid != md.get("uid"):
                self._later(START_DELAY, f"start/{name}", self.start, name)
            return
        if plural == "secrets" and md.get("namespace") == NAMESPACE and md.get("name") == SECRET:
            rv = md.get("resourceVersion", "")
            for st in list(self.pods.values()):
                self._seq += 1
                delay = volumes.pod_delay(self.cluster, NAMESPACE, st.name, SECRET, rv)
                self._later(delay, f"files/{st.name}/{self._seq}", self._sync_files, st.name, st.uid)
            return
        if plural == "namespaces" and event_type != "DELETED":
            if self.pods:
                self._later(0.1, "configmaps", self.reconcile_configmaps)
            return
        if plural == "configmaps" and md.get("name") == ROOT_CM and self.pods:
            self._later(0.1, "configmaps", self.reconcile_configmaps)

    def resync(self) -> None:
        if self.cluster is None:
            return
        for pod in self.cluster.list("v1", "pods", NAMESPACE, label_selector="app=istiod"):
            md = pod["metadata"]
            st = self.pods.get(md["name"])
            if (st is None or st.uid != md.get("uid")) and not md.get("deletionTimestamp"):
                self._later(START_DELAY, f"start/{md['name']}", self.start, md["name"])
        if self.pods:
            self._later(0.1, "configmaps", self.reconcile_configmaps)

    def _forget(self, name: str, uid: Optional[str]) -> None:
        st = self.pods.get(name)
        if st is not None and st.uid == uid:
            del self.pods[name]
            self.reconcile_configmaps()
            self._notify(name)

    def _notify(self, name: str) -> None:
        for fn in list(self.listeners):
            fn(name)

    # ------------------------------------------------------------------ startup

    def start(self, name: str) -> None:
        pod = self.cluster.get("v1", "pods", NAMESPACE, name)
        if pod is None or pod["metadata"].get("deletionTimestamp"):
            return
        uid = pod["metadata"].get("uid")
        st = self.pods.get(name)
        if st is not None and st.uid == uid:
            return
        containers = (pod.get("spec") or {}).get("containers") or []
        c = next((x for x in containers if x.get("name") == CONTAINER), containers[0] if containers else {})
        env = {e.get("name"): e.get("value") for e in c.get("env") or [] if "value" in e}
        try:
            levels = L.output_levels(c.get("args") or [])
        except ValueError as exc:
            # Real istiod exits at flag parsing; not modelled beyond recording it (no pod log is written).
            self.errors.append(f"istiod {name}: {exc}")
            return
        st = PodState(name, uid, c.get("image", ""), env, levels)
        self.pods[name] = st
        st.files = self._secret_files()
        self._boot(st)

    def _boot(self, st: PodState) -> None:
        now = self.cluster.now()
        st.started_at = now
        st.bundle = None
        st.watching = False
        self._log(st, "info", "initializing mesh configuration ./etc/istio/config/mesh")
        self._log(st, "info", "initializing mesh handlers")
        self._log(st, "info", "creating CA and initializing public key")
        names, fmt_line = ipki.file_bundle(st.files, st.version)
        if fmt_line:
            self._log(st, "info", fmt_line)
        crl = self._crl(st, names)
        try:
            plugged = self._plugged(st, names)
            if plugged:
                self._log(st, "info", "Use local CA certificate")
                try:
                    bundle = ipki.load_bundle(st.files, names, now, crl)
                except ipki.BundleError as exc:
                    raise ipki.BundleError(f"failed to create an istiod CA: failed to create CA KeyCertBundle ({exc})")
                if not pki.is_ca(bundle.cert):
                    raise ipki.BundleError("failed to create an istiod CA: certificate is not authorized to sign "
                                           "other certificates")
                st.bundle = bundle
                if watcher_starts(st.version, st.env):
                    st.watching = True
                    self._log(st, "info", f"Added cacerts files watcher at {ipki.DIR}")
            else:
                self._log(st, "info", "Use self-signed certificate as the CA certificate")
                st.bundle = self._self_signed_bundle(st, now)
        except ipki.BundleError as exc:
            self._crash(st, str(exc))
            return
        self._log(st, "info", "initializing controllers")
        self._log(st, "info", "Discover server subject alt names: [" + " ".join(reversed(DNS_NAMES)) + "]")
        self._log(st, "info", "initializing Istiod DNS certificates host: istiod.istio-system.svc, custom host: ")
        if plugged:
            self._log(st, "info", f"Use root cert from {ipki.path(names['root'])}")
        else:
            self._log(st, "info", f"Use istio-generated cacerts at {ipki.path('ca-key.pem')} or {CA_SECRET}")
        self._issue_dns_cert(st, now)
        self._record_expiry(st)
        st.mode = "plugged" if plugged else "self-signed"
        self._log(st, "info", "initializing secure discovery service")
        self._log(st, "info", "Starting IstioD CA")
        self._log(st, "info", "Istiod CA has started")
        self.cluster.register_proxy(NAMESPACE, st.name, METRICS_PORT, self._metrics_handler(st.name, st.uid))
        if st.restart_count:
            self._set_container(st, ready=True)
        self.reconcile_configmaps()
        self._notify(st.name)

    def _crl(self, st: PodState, names: dict) -> Optional[str]:
        """detectSigningCABundleAndCRL's CRL part (1.27+), with its ``Detected CRL file`` line."""
        crl = ipki.crl_file(st.files, names, st.version, go_bool(st.env.get("PILOT_ENABLE_CA_CRL"), True))
        if crl:
            self._log(st, "info", "Detected CRL file")
        return crl

    @staticmethod
    def _plugged(st: PodState, names: dict) -> bool:
        """Completeness: 1.27+ needs every file or none; before, the signing key alone decides."""
        f = st.files
        if st.version >= (1, 27, 0):
            have = [names["key"] in f, names["cert"] in f, names["root"] in f, any(n in f for n in names["chain"])]
            if all(have):
                return True
            if any(have):
                raise ipki.BundleError("failed to create an istiod CA: incomplete signing CA bundle detected")
            return False
        return names["key"] in f

    def _self_signed_bundle(self, st: PodState, now: _dt.datetime) -> ipki.Bundle:
        sec = self.cluster.get("v1", "secrets", NAMESPACE, CA_SECRET)
        if sec is not None:
            self._log(st, "info", f"Load signing key and cert from existing secret {NAMESPACE}/{CA_SECRET}", "pkica")
            data = sec.get("data") or {}
            cert_pem = base64.b64decode(data.get("ca-cert.pem") or "")
            key_pem = base64.b64decode(data.get("ca-key.pem") or "")
            try:
                cert, key = ipki.verify(cert_pem, key_pem, b"", cert_pem, now)
            except ipki.BundleError as exc:
                raise ipki.BundleError(f"failed to create an istiod CA: failed to create CA KeyCertBundle ({exc})")
            self._log(st, "info", f"Set secret name for self-signed CA cert rotator to {CA_SECRET}", "pkica")
            self._log(st, "info", "Use roots from istio-ca-secret")
            return ipki.Bundle(cert, key, b"", cert_pem)
        self._log(st, "info", f'Failed to get secret (error: secrets "{CA_SECRET}" not found), will create one',
                  "pkica")
        # Real istiod makes an RSA key here (CITADEL_SELF_SIGNED_CA_RSA_KEY_SIZE, 2048). kubesim
        # uses a fresh ECDSA P-256 key: every cluster still gets its own distinct root, at a
        # fraction of the cost of an RSA generation (~60 ms each, paid per cluster at start).
        # No test of the collection inspects this key's type or size (README: not modelled).
        key = pki.generate_key("ECDSA", 256)
        name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "cluster.local")])
        cert = pki.sign(subject=name, public_key=key.public_key(), not_before_=now, not_after_=now + TEN_YEARS,
                        is_ca_flag=True, key_usage={"key_cert_sign"}, ext_key_usage=[], san=None, signer_key=key)
        cert_pem = pki.cert_pem(cert)
        secret = {"apiVersion": "v1", "kind": "Secret", "type": "istio.io/ca-root",
                  "metadata": {"name": CA_SECRET, "namespace": NAMESPACE},
                  "data": {"ca-cert.pem": base64.b64encode(cert_pem).decode(),
                           "ca-key.pem": base64.b64encode(pki.encode_key(key, "PKCS1")).decode(),
                           "cert-chain.pem": "", "root-cert.pem": ""}}
        try:
            self._write("create", secret)
        except ApiError as exc:
            self._log(st, "error", f"Failed to write secret to CA (error: {exc.message}). Abort.", "pkica")
            raise ipki.BundleError("failed to create an istiod CA: failed to create CA due to secret write error")
        self._log(st, "info", f"Set secret name for self-signed CA cert rotator to {CA_SECRET}", "pkica")
        return ipki.Bundle(cert, key, b"", cert_pem)

    def _issue_dns_cert(self, st: PodState, now: _dt.datetime) -> None:
        """istiod's own serving cert, signed by the CA it currently holds; logs the chain."""
        b = st.bundle
        ca_key = b.key
        if isinstance(ca_key, ec.EllipticCurvePrivateKey):
            size = ca_key.curve.key_size if ca_key.curve.key_size in (256, 384) else 256
            key = ipki.serving_key("ECDSA", size)
        else:
            key = ipki.serving_key("RSA", 2048)
        not_after = now + TEN_YEARS
        if ipki.leaf_clamped(st.version):
            not_after = min(not_after, pki.not_after(b.cert))  # PR #59766 and its backports
        leaf = pki.sign(subject=x509.Name([]), public_key=key.public_key(), not_before_=now - CLOCK_SKEW,
                        not_after_=not_after, is_ca_flag=False,
                        key_usage={"digital_signature", "key_encipherment"},
                        ext_key_usage=[ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH],
                        san=pki.san_extension(DNS_NAMES), signer_key=b.key, parent=b.cert)
        st.dns_chain = [leaf] + b.chain_certs
        for cert in st.dns_chain:
            self._log(st, "info", L.x509_message(cert))
        self._log(st, "info", "Istiod certificates are reloaded")

    def _record_expiry(self, st: PodState) -> None:
        chain = st.bundle.chain_certs
        first = chain[0] if chain else st.bundle.cert
        roots = st.bundle.root_certs
        st.chain_expiry = pki.not_after(first).timestamp()
        st.root_expiry = pki.not_after(roots[0]).timestamp() if roots else 0.0

    # ------------------------------------------------------------------ crash loop

    def _crash(self, st: PodState, message: str) -> None:
        st.mode = "crashloop"
        st.last_error = message
        self._log(st, "error", f"failed to create discovery service: failed to create CA: {message}")
        st.restart_count += 1
        backoff = min(10 * (2 ** (st.restart_count - 1)), 300)
        self._set_container(st, ready=False, backoff=backoff)
        self._later(backoff, f"restart/{st.name}", self._restart, st.name, st.uid)
        self.reconcile_configmaps()
        self._notify(st.name)

    def _restart(self, name: str, uid: str) -> None:
        st = self.pods.get(name)
        if st is None or st.uid != uid or st.mode != "crashloop":
            return
        if hasattr(self.cluster, "set_pod_log"):
            self.cluster.set_pod_log(NAMESPACE, name, "", CONTAINER)  # a new container instance, a new log
        st.mode = "starting"
        self._boot(st)

    def _set_container(self, st: PodState, ready: bool, backoff: int = 0) -> None:
        pod = self.cluster.get("v1", "pods", NAMESPACE, st.name)
        if pod is None or pod["metadata"].get("uid") != st.uid:
            return
        now = L._rfc3339(self.cluster.now())
        status = pod.setdefault("status", {})
        statuses = status.get("containerStatuses") or [{"name": CONTAINER, "image": st.image}]
        for cs in statuses:
            if cs.get("name") not in (CONTAINER, None) and len(statuses) > 1:
                continue
            cs["restartCount"] = st.restart_count
            cs["ready"] = ready
            cs["started"] = ready
            if ready:
                cs["state"] = {"running": {"startedAt": now}}
            else:
                cs["lastState"] = {"terminated": {"exitCode": 255, "reason": "Error", "startedAt": now,
                                                  "finishedAt": now, "containerID": cs.get("containerID", "")}}
                cs["state"] = {"waiting": {"reason": "CrashLoopBackOff",
                                           "message": f"back-off {backoff}s restarting failed container={CONTAINER} "
                                                      f"pod={st.name}_{NAMESPACE}({st.uid})"}}
        status["containerStatuses"] = statuses
        conds = status.get("conditions") or []
        for c in conds:
            if c.get("type") in ("Ready", "ContainersReady"):
                if c.get("status") != ("True" if ready else "False"):
                    c["lastTransitionTime"] = now
                c["status"] = "True" if ready else "False"
                if ready:
                    c.pop("reason", None)
                    c.pop("message", None)
                else:
                    c["reason"] = "ContainersNotReady"
                    c["message"] = f"containers with unready status: [{CONTAINER}]"
        status["conditions"] = conds
        try:
            self._write("update_status", pod)
        except ApiError:
            pass

    # ------------------------------------------------------------------ hot reload

    def _sync_files(self, name: str, uid: str) -> None:
        """kubelet's Secret volume update (an atomic ..data swap → one Create event)."""
        st = self.pods.get(name)
        if st is None or st.uid != uid:
            return
        files = self._secret_files()
        if files == st.files:
            return
        st.files = files
        if st.mode == "plugged" and st.watching and st.version >= (1, 14, 0):
            # 1.12–1.13 filtered events by base name, so the ..data swap never reached handleEvent.
            self._later(DEBOUNCE, f"debounce/{name}", self._handle_event, name, uid)

    def _handle_event(self, name: str, uid: str) -> None:
        st = self.pods.get(name)
        if st is None or st.uid != uid or st.mode != "plugged":
            return
        now = self.cluster.now()
        self._log(st, "info", "Update Istiod cacerts")
        names, fmt_line = ipki.file_bundle(st.files, st.version)
        if fmt_line:
            self._log(st, "info", fmt_line)
        crl = self._crl(st, names)
        if names["root"] not in st.files:
            self._log(st, "error", f"failed reading root-cert.pem: open {ipki.path(names['root'])}: no such file or "
                                   "directory")
            return
        new_root = st.files[names["root"]]
        root_changed = new_root != st.bundle.root_bytes
        if root_changed:
            if st.version < (1, 20, 0):
                # Before multi-root, handleEvent logged this refusal with log.Info (pilot/pkg/bootstrap/istio_ca.go).
                self._log(st, "info", "Updating new ROOT-CA not supported")
                return
            if not st.multiroot:
                self._log(st, "warn", "Multi root is disabled, updating new ROOT-CA not supported")
                return
            if not ipki.roots_subset(st.bundle.root_bytes, new_root, st.version):
                self._log(st, "warn", "Updating new ROOT-CA not supported")
                return
            self._log(st, "info", "Updating new ROOT-CA")
        update_crl = bool(crl) and st.files.get(crl, b"") != st.bundle.crl_bytes
        if update_crl:
            self._log(st, "info", "Updating CRL data")
        try:
            bundle = ipki.load_bundle(st.files, names, now, crl, st.bundle.crl_bytes)
        except ipki.BundleError as exc:
            self._log(st, "error", f"Failed to update new Plug-in CA certs: {exc}")
            return
        st.bundle = bundle
        if st.version >= (1, 24, 0):
            self._record_expiry(st)
        if update_crl:
            self._log(st, "info", "Istiod has detected the newly added CRL file and updated its CRL accordingly")
        if st.version >= (1, 21, 0):
            self._log(st, "info", "update root cert and generate new dns certs")
        if st.multiroot and st.version >= (1, 21, 0):
            # updateRootCertAndGenKeyCert (certcontroller.go) logs this whenever ISTIO_MULTIROOT_MESH is on, root
            # changed or not (Infof from 1.21; 1.20's updatePluggedinRootCertAndGenKeyCert used Debugf)
            self._log(st, "info", "Update trust anchor with new root cert")
        self._issue_dns_cert(st, now)
        self._log(st, "info", L.MARKER)
        st.reloads += 1
        self.reconcile_configmaps()
        self._notify(st.name)

    # ------------------------------------------------------------------ root ConfigMaps

    def leader(self) -> Optional[PodState]:
        serving = [s for s in list(self.pods.values()) if s.serving]
        serving.sort(key=lambda s: (s.started_at or self.cluster.now(), s.name))
        return serving[0] if serving else None

    def reconcile_configmaps(self) -> None:
        """The leader's namespace controller: insert root-cert.pem only where it differs."""
        lead = self.leader()
        if lead is None:
            return
        root = lead.root_pem.decode("utf-8", errors="replace")
        for ns in self.cluster.list("v1", "namespaces"):
            name = ns["metadata"]["name"]
            if name in SKIP_NAMESPACES or (ns.get("status") or {}).get("phase") == "Terminating":
                continue
            cm = self.cluster.get("v1", "configmaps", name, ROOT_CM)
            try:
                if cm is None:
                    self._write("create", {"apiVersion": "v1", "kind": "ConfigMap",
                                           "metadata": {"name": ROOT_CM, "namespace": name,
                                                        "labels": {"istio.io/config": "true"}},
                                           "data": {ROOT_KEY: root}})
                elif (cm.get("data") or {}).get(ROOT_KEY) != root:
                    cm.setdefault("data", {})[ROOT_KEY] = root
                    self._write("update", cm)
            except ApiError as exc:
                if exc.code not in (404, 409):
                    raise

    # ------------------------------------------------------------------ metrics

    def _metrics_handler(self, name: str, uid: str):
        def handler(method: str, path: str):
            st = self.pods.get(name)
            if st is None or st.uid != uid or not st.serving:
                return 503, "text/plain", "no endpoints available\n"
            if method != "GET" or path.lstrip("/").split("?")[0] not in ("metrics", "stats/prometheus"):
                return 404, "text/plain", "404 page not found\n"
            body = L.metrics_text(st.chain_expiry, st.root_expiry, st.version_str)
            return 200, "text/plain; version=0.0.4; charset=utf-8", body

        return handler


def factory() -> IstiodSim:
    return IstiodSim()


CONTROLLER_FACTORIES = [factory]  # picked up by kubesim.controllers (DEFAULT_CONTROLLER_FACTORIES)
