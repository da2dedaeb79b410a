"""A simulated fleet already in the state deploy.yml leaves it in, set up in seconds.

Why: the rotation, restore, report and safety tests start from a deployed fleet, and running
deploy.yml for each of them would cost minutes. This helper builds the same objects the
ca_setup role makes (root CA Secret, CA ClusterIssuer, the ``cacerts`` Certificate applied with
the certificate module's field manager so later applies own the same fields), then installs
istiod after ``cacerts`` exists, so it starts as a plugged CA (the upstream "plug in certs before
installing Istio" order). The real deploy.yml path is exercised by the leak-check test.

Also: the checks every test applies to every cluster afterwards (``cluster_state``), and a
reader for the key material of a fleet (for the leak check).
"""

from __future__ import annotations

import base64
import datetime as _dt
import time
from typing import Dict, Iterable, Optional

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from ansible_collections.meshpki.istio_ca.plugins.module_utils.k8s.client import K8sClient, object_path

from kubesim.controllers.istiod import IstiodSim
from kubesim.manifests import preinstall
from meshpki_test_root import RootCA, make_root_ca

NS = "istio-system"
CM_NS = "cert-manager"
ISSUER = "meshpki-istio-ca"
ROOT_SECRET = "meshpki-istio-root-ca"
CERT_MANAGER_FIELD_MANAGER = "meshpki.istio_ca"  # the certificate module's (its DOCUMENTATION, option spec)
BACKUP_LABEL = "meshpki.istio_ca/backup-of=cacerts"


Root = RootCA  # the fleet's root: cert_pem, key_pem, cert, fingerprint, write(dir) -> ca_setup vars


def make_root(common_name: str = "Test Root CA") -> Root:
    """A self-signed ECDSA P-256 root (fast to make, accepted by istiod)."""
    return make_root_ca(common_name)


def client(fleet, cluster: str) -> K8sClient:
    return K8sClient.from_params({"kubeconfig": fleet.kubeconfig, "context": cluster})


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def certificate_spec(cluster: str, duration: str = "1440h", renew_before: str = "360h") -> dict:
    """The spec ca_setup applies (roles/ca_setup/tasks/intermediate.yml), with a fast ECDSA key."""
    return {
        "secretName": "cacerts", "isCA": True, "commonName": "Intermediate CA",
        "subject": {"organizations": ["Istio"], "localities": [cluster]},
        "dnsNames": ["istiod.istio-system.svc"], "duration": duration, "renewBefore": renew_before,
        "usages": ["cert sign", "digital signature", "key encipherment"],
        "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
        "issuerRef": {"name": ISSUER, "kind": "ClusterIssuer", "group": "cert-manager.io"},
    }


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def setup_ca(fleet, root: Root, clusters: Optional[Iterable[str]] = None, istio_version: str = "1.22.3",
             duration: str = "1440h", renew_before: str = "360h", roots: Optional[Dict[str, Root]] = None,
             root_rotation_policy: Optional[str] = None, istio_managed_by: str = "none",
             root_duration: str = "87600h") -> None:
    """Bring ``clusters`` (default all) of a fleet started with preinstall=("cert-manager",) to the
    deployed state: CA issuer on ``root`` (or ``roots[name]``), cacerts issued, istiod plugged.

    ``root_rotation_policy``: instead of a key pair Secret, make the root a cert-manager SelfSigned
    Certificate with this rotationPolicy (a cert-manager-made root, as ca_setup's selfsigned source).
    ``istio_managed_by``: label istiod as that installer would (kubesim ``--istio-managed-by``).
    ``root_duration``: the cert-manager-made root's ``spec.duration`` (with ``root_rotation_policy``).
    """
    names = list(clusters or fleet.names)
    for name in names:
        cluster = fleet[name]
        api = client(fleet, name)
        r = (roots or {}).get(name, root)
        for obj in ({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}},):
            if cluster.get("v1", "namespaces", None, NS) is None:
                cluster.create(obj)
        if root_rotation_policy is None:
            cluster.apply({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
                           "metadata": {"name": ROOT_SECRET, "namespace": CM_NS},
                           "data": {"tls.crt": _b64(r.cert_pem), "tls.key": _b64(r.key_pem),
                                    "ca.crt": _b64(r.cert_pem)}}, manager="meshpki-istio-ca")
        else:
            cluster.apply({"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer",
                           "metadata": {"name": "meshpki-selfsigned"}, "spec": {"selfSigned": {}}},
                          manager="meshpki-istio-ca")
            api.apply(object_path("cert-manager.io/v1", "certificates", CM_NS, ROOT_SECRET), {
                "apiVersion": "cert-manager.io/v1", "kind": "Certificate",
                "metadata": {"name": ROOT_SECRET, "namespace": CM_NS},
                "spec": {"secretName": ROOT_SECRET, "isCA": True, "commonName": "Root CA", "duration": root_duration,
                         "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": root_rotation_policy},
                         "issuerRef": {"name": "meshpki-selfsigned", "kind": "ClusterIssuer",
                                       "group": "cert-manager.io"}}}, CERT_MANAGER_FIELD_MANAGER)
            wait_for(lambda: cluster.get("v1", "secrets", CM_NS, ROOT_SECRET), what=f"{name} root secret")
        cluster.apply({"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer", "metadata": {"name": ISSUER},
                       "spec": {"ca": {"secretName": ROOT_SECRET}}}, manager="meshpki-istio-ca")
        api.apply(object_path("cert-manager.io/v1", "certificates", NS, "cacerts"), {
            "apiVersion": "cert-manager.io/v1", "kind": "Certificate",
            "metadata": {"name": "cacerts", "namespace": NS},
            "spec": certificate_spec(name, duration, renew_before)}, CERT_MANAGER_FIELD_MANAGER)
        api.close()
    for name in names:
        cluster = fleet[name]
        wait_for(lambda: (((cluster.get("cert-manager.io/v1", "certificates", NS, "cacerts") or {})
                           .get("status") or {}).get("revision") == 1
                          and cluster.get("v1", "secrets", NS, "cacerts")), what=f"{name} cacerts issued")
        preinstall(cluster, ["istio"], istio_version=istio_version, istio_managed_by=istio_managed_by)
    for name in names:
        wait_for(lambda: istiod_signing_serial(fleet, name) == cacerts_serial(fleet, name), timeout=30,
                 what=f"{name} istiod plugged with cacerts")


def secret_certs(fleet, cluster: str, name: str = "cacerts", namespace: str = NS):
    sec = fleet[cluster].get("v1", "secrets", namespace, name)
    if sec is None:
        return None
    data = {k: base64.b64decode(v) for k, v in (sec.get("data") or {}).items()}
    return sec, data


def cacerts_serial(fleet, cluster: str, name: str = "cacerts") -> Optional[str]:
    found = secret_certs(fleet, cluster, name)
    if not found or "tls.crt" not in found[1]:
        return None
    cert = x509.load_pem_x509_certificate(found[1]["tls.crt"])
    return format(cert.serial_number, "x")


def istiod_signing_serial(fleet, cluster: str) -> Optional[str]:
    sim = IstiodSim.of(fleet[cluster])
    serials = {p.signing_serial for p in sim.pods.values() if p.serving} if sim else set()
    return serials.pop() if len(serials) == 1 else None


def cluster_state(fleet, cluster: str) -> dict:
    """Facts every test asserts per cluster: cacerts valid and verifying to its ca.crt, key matching,
    the root's fingerprint, what istiod signs with, the Certificate's revision."""
    found = secret_certs(fleet, cluster)
    state = {"cacerts": found is not None, "valid": False, "serial": None, "root": None, "key_matches": False,
             "istiod_serial": istiod_signing_serial(fleet, cluster), "revision": None, "not_after": None,
             "not_before": None,
             "certificate": None}
    crt = fleet[cluster].get("cert-manager.io/v1", "certificates", NS, "cacerts")
    if crt:
        state["certificate"] = crt
        state["revision"] = (crt.get("status") or {}).get("revision")
    if not found:
        return state
    data = found[1]
    leaf = x509.load_pem_x509_certificate(data["tls.crt"])
    root = x509.load_pem_x509_certificate(data["ca.crt"])
    key = serialization.load_pem_private_key(data["tls.key"], None)
    now = _dt.datetime.now(_dt.timezone.utc)
    state.update(serial=format(leaf.serial_number, "x"), root=root.fingerprint(hashes.SHA256()).hex(":"),
                 not_after=leaf.not_valid_after_utc, not_before=leaf.not_valid_before_utc,
                 key_matches=key.public_key().public_numbers() == leaf.public_key().public_numbers())
    try:
        leaf.verify_directly_issued_by(root)
        signed = True
    except Exception:  # noqa: BLE001 - any verification failure means not valid
        signed = False
    state["valid"] = signed and state["key_matches"] and leaf.not_valid_before_utc <= now < leaf.not_valid_after_utc
    return state


def assert_fleet_sound(fleet, root_fp: str, clusters: Optional[Iterable[str]] = None) -> Dict[str, dict]:
    """No cluster without a valid cacerts chaining to the shared root, with istiod signing with it."""
    states = {}
    for name in clusters or fleet.names:
        st = cluster_state(fleet, name)
        assert st["cacerts"] and st["valid"], f"{name}: cacerts missing or invalid: {st}"
        assert st["root"] == root_fp, f"{name}: root {st['root']} is not the fleet root {root_fp}"
        assert st["istiod_serial"] == st["serial"], f"{name}: istiod signs with {st['istiod_serial']}, cacerts has {st['serial']}"
        states[name] = st
    return states


def backups(fleet, cluster: str) -> list:
    """The backup Secrets of a cluster, oldest first."""
    items = fleet[cluster].list("v1", "secrets", NS, label_selector=BACKUP_LABEL)
    return sorted(items, key=lambda s: (s["metadata"].get("creationTimestamp", ""), s["metadata"]["name"]))


def key_material(fleet) -> list:
    """Every private key of the fleet's Secrets, as PEM text and as the base64 stored in the Secret."""
    found = []
    for cluster in fleet.clusters:
        for sec in cluster.list("v1", "secrets"):
            for k, v in (sec.get("data") or {}).items():
                if k in ("tls.key", "ca-key.pem") and v:
                    found.append(v)
                    found.append(base64.b64decode(v).decode("utf-8", "replace"))
    return found


def failures(res, task: str) -> Dict[str, str]:
    """{host: msg} of the failed results of the task called ``task`` (role tasks carry a "role : " prefix)."""
    return {host: msg for name, host, msg in res.failed_tasks() if name == task or name.endswith(" : " + task)}
