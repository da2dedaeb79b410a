"""Acceptance test of issue 4: the upstream tutorial, by hand with plain kubectl, against kubesim.

SelfSigned ClusterIssuer → root Certificate (isCA, 21600h) in cert-manager → CA ClusterIssuer →
``cacerts`` Certificate in istio-system (1440h/360h) → istiod 1.17 with
AUTO_RELOAD_PLUGIN_CERTS=true → change the duration to 720h → istiod's log shows the reload,
and the issued chain verifies with ``openssl verify``.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
import shutil
import subprocess
import time

import pytest
import yaml

from kubesim import Fleet
from kubesim import pki
from kubesim.controllers.certmanager import CertManagerSim
from kubesim.controllers.istiod import IstiodSim
from kubesim.manifests import istio_objects

pytestmark = [pytest.mark.kubectl,
              pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not on PATH"),
              pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not on PATH")]

ISTIO_VERSION = "1.17.8"
MARKER = "Istiod has detected the newly added intermediate CA and updated its key and certs accordingly"

CA_SETUP = """
apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata:
  name: selfsigned-issuer
spec:
  selfSigned: {}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: root-ca
  namespace: cert-manager
spec:
  isCA: true
  duration: 21600h
  secretName: root-ca
  commonName: root-ca.example.com
  subject:
    organizations:
    - Example Mesh
  privateKey:
    algorithm: ECDSA
    size: 256
    rotationPolicy: Never
  issuerRef:
    name: selfsigned-issuer
    kind: ClusterIssuer
    group: cert-manager.io
---
apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata:
  name: root-ca
spec:
  ca:
    secretName: root-ca
"""

CACERTS = """
apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: cacerts
  namespace: istio-system
spec:
  secretName: cacerts
  duration: {duration}
  renewBefore: 360h
  commonName: istiod.istio-system.svc
  isCA: true
  usages:
  - digital signature
  - key encipherment
  - cert sign
  dnsNames:
  - istiod.istio-system.svc
  subject:
    organizations:
    - Example Mesh
    localities:
    - cluster-1
  issuerRef:
    name: root-ca
    kind: ClusterIssuer
    group: cert-manager.io
"""

WORKLOAD = """
apiVersion: cert-manager.io/v1
kind: Issuer
metadata:
  name: mesh-intermediate
  namespace: istio-system
spec:
  ca:
    secretName: cacerts
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: workload
  namespace: istio-system
spec:
  secretName: workload
  dnsNames:
  - app.example.internal
  usages:
  - server auth
  - client auth
  privateKey:
    algorithm: ECDSA
  issuerRef:
    name: mesh-intermediate
    kind: Issuer
"""


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    fl = Fleet(n_clusters=1, workdir=tmp_path_factory.mktemp("tutorial"), preinstall=("cert-manager",),
               propagation_delay=1.5)
    fl.start()
    yield fl
    fl.stop()


def kubectl(fleet, *args, stdin=None, check=True, timeout=60):
    cmd = ["kubectl", "--kubeconfig", fleet.kubeconfig, "--context", "cluster-1", "--cache-dir",
           fleet.kubectl_cache_dir, *args]
    res = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=timeout)
    if check and res.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed ({res.returncode}): {res.stderr}")
    return res


def poll(fn, timeout=30.0, every=0.3):
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every)


def secret_pem(fleet, ns, name, key):
    """Read back through the simulator (kubectl would only add its start-up time)."""
    sec = fleet["cluster-1"].get("v1", "secrets", ns, name)
    return base64.b64decode(sec["data"][key])


def istiod_log(fleet) -> str:
    cluster = fleet["cluster-1"]
    pods = cluster.list("v1", "pods", "istio-system", label_selector="app=istiod")
    return "".join(line + "\n" for p in pods
                   for _, line in cluster.pod_log_lines("istio-system", p["metadata"]["name"], "discovery"))


def istiod_manifest() -> str:
    """What ``istioctl install --set values.pilot.env.AUTO_RELOAD_PLUGIN_CERTS=true`` would apply."""
    objs = copy.deepcopy(istio_objects(ISTIO_VERSION))
    for obj in objs:
        if obj["kind"] == "Deployment" and obj["metadata"]["name"] == "istiod":
            container = obj["spec"]["template"]["spec"]["containers"][0]
            container["env"].append({"name": "AUTO_RELOAD_PLUGIN_CERTS", "value": "true"})
    return "".join("---\n" + yaml.safe_dump(o, sort_keys=False) for o in objs)


def test_upstream_tutorial_with_kubectl(fleet, tmp_path):
    cluster = fleet["cluster-1"]

    # 1. root of trust and CA ClusterIssuer
    out = kubectl(fleet, "apply", "-f", "-", stdin=CA_SETUP).stdout
    assert "certificate.cert-manager.io/root-ca created" in out
    kubectl(fleet, "wait", "--for=condition=Ready", "certificate/root-ca", "-n", "cert-manager", "--timeout=30s")
    kubectl(fleet, "wait", "--for=condition=Ready", "clusterissuer/root-ca", "--timeout=30s")

    # 2. the intermediate for Istio
    kubectl(fleet, "create", "namespace", "istio-system")
    kubectl(fleet, "apply", "-f", "-", stdin=CACERTS.format(duration="1440h"))
    kubectl(fleet, "wait", "--for=condition=Ready", "certificate/cacerts", "-n", "istio-system", "--timeout=30s")
    first = pki.load_certs(secret_pem(fleet, "istio-system", "cacerts", "tls.crt"))[0]
    assert pki.not_after(first) - pki.not_before(first) == dt.timedelta(hours=1440)

    # 3. istiod with hot reload switched on
    kubectl(fleet, "apply", "-f", "-", stdin=istiod_manifest())
    kubectl(fleet, "-n", "istio-system", "rollout", "status", "deploy/istiod", "--timeout=60s")
    assert poll(lambda: "Istiod CA has started" in istiod_log(fleet))
    logs = kubectl(fleet, "-n", "istio-system", "logs", "deploy/istiod").stdout
    assert "Use local CA certificate" in logs and "Added cacerts files watcher at ./etc/cacerts" in logs

    # 4. change the duration to 720h: cert-manager re-issues, istiod reloads
    kubectl(fleet, "apply", "-f", "-", stdin=CACERTS.format(duration="720h"))
    assert poll(lambda: (cluster.get("cert-manager.io/v1", "certificates", "istio-system", "cacerts")["status"]
                         .get("revision")) == 2, 30)
    assert kubectl(fleet, "get", "certificate", "cacerts", "-n", "istio-system", "-o",
                   "jsonpath={.status.revision}").stdout == "2"
    second = pki.load_certs(secret_pem(fleet, "istio-system", "cacerts", "tls.crt"))[0]
    assert second.serial_number != first.serial_number
    assert pki.not_after(second) - pki.not_before(second) == dt.timedelta(hours=720)
    assert poll(lambda: MARKER in istiod_log(fleet), 30), "istiod never logged the reload"
    logs = kubectl(fleet, "-n", "istio-system", "logs", "deploy/istiod").stdout
    reload = [ln.split("\t", 2)[2] for ln in logs.splitlines()[logs.splitlines().index(
        next(ln for ln in logs.splitlines() if ln.endswith("\tUpdate Istiod cacerts"))):]]
    new_subject = pki.go_name_string(second.subject)
    assert reload[:2] == ["Update Istiod cacerts", "Using kubernetes.io/tls secret type for signing ca files"]
    assert reload[2].startswith(f'x509 cert - Issuer: "{new_subject}", Subject: "", SN: ')
    assert reload[3].startswith(f'x509 cert - Issuer: "CN=root-ca.example.com,O=Example Mesh", '
                                f'Subject: "{new_subject}", SN: {pki.serial_hex(second)}, ')
    assert reload[-2:] == ["Istiod certificates are reloaded", MARKER]
    sim = IstiodSim.of(cluster)
    assert [st.signing_serial for st in sim.pods.values()] == [pki.serial_hex(second)]

    # 5. the chain verifies with openssl: root → intermediate → a leaf issued from cacerts
    kubectl(fleet, "apply", "-f", "-", stdin=WORKLOAD)
    kubectl(fleet, "wait", "--for=condition=Ready", "certificate/workload", "-n", "istio-system", "--timeout=30s")
    root = tmp_path / "root.pem"
    inter = tmp_path / "intermediate.pem"
    leaf = tmp_path / "leaf.pem"
    root.write_bytes(secret_pem(fleet, "istio-system", "cacerts", "ca.crt"))
    inter.write_bytes(secret_pem(fleet, "istio-system", "cacerts", "tls.crt"))
    leaf.write_bytes(pki.cert_pem(pki.load_certs(secret_pem(fleet, "istio-system", "workload", "tls.crt"))[0]))
    assert root.read_bytes() == secret_pem(fleet, "cert-manager", "root-ca", "ca.crt")
    for args in (["-CAfile", str(root), str(inter)], ["-CAfile", str(root), "-untrusted", str(inter), str(leaf)]):
        res = subprocess.run(["openssl", "verify", *args], capture_output=True, text=True, timeout=30)
        assert res.returncode == 0 and res.stdout.strip().endswith(": OK"), res.stdout + res.stderr

    # 6. the intermediate-only rotation left every root ConfigMap alone, and nothing failed inside kubesim
    cms = json.loads(kubectl(fleet, "get", "configmap", "-A", "-l", "istio.io/config=true", "-o", "json").stdout)
    assert cms["items"] and all(i["data"]["root-cert.pem"] == root.read_text() for i in cms["items"])
    assert CertManagerSim.of(cluster).errors == [] and sim.errors == []
    assert cluster.controller_errors == [] and cluster.scheduler_errors == []
