"""kubesim over real sockets: keep-alive, body draining, faults, the admin endpoint,
the request log, the simulated clock and scheduler, manifests and the CLI."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from kubesim import Fleet
from kubesim.controllers import DEFAULT_CONTROLLER_FACTORIES
from kubesim.controllers.base import Controller
from kubesim.manifests import cert_manager_manifest_yaml


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    f = Fleet(n_clusters=2, workdir=tmp_path_factory.mktemp("kubesim-http"))
    f.start()
    yield f
    f.stop()


@pytest.fixture
def cluster(fleet):
    c = fleet["cluster-1"]
    c.faults.reset()
    yield c
    c.faults.reset()


def conn(c):
    return c.fleet.connection(c)


def raw_socket(c):
    """A connected socket speaking to the API server (TLS with the admin certificate when the fleet is HTTPS)."""
    s = socket.create_connection(("127.0.0.1", c.port))
    return c.fleet.client_ssl_context().wrap_socket(s, server_hostname="127.0.0.1") if c.tls else s


def req(h, method, path, body=None, headers=None):
    data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
    hdrs = {"Content-Type": "application/json", "Accept": "application/json"}
    hdrs.update(headers or {})
    h.request(method, path, body=data, headers=hdrs)
    r = h.getresponse()
    raw = r.read()
    try:
        return r.status, r, json.loads(raw)
    except ValueError:
        return r.status, r, raw


def test_keep_alive_survives_early_errors(cluster):
    h = conn(cluster)
    # 404 for an unknown resource with a body: the body must be drained, the next request must parse
    code, r, body = req(h, "POST", "/api/v1/namespaces/default/frobs", {"metadata": {"name": "x" * 5000}})
    assert code == 404 and r.reason == "Not Found" and body["reason"] == "NotFound"
    code, r, body = req(h, "POST", "/api/v1/namespaces/default/configmaps", b"{not json")
    assert code == 400
    code, r, body = req(h, "GET", "/version")
    assert code == 200 and body["major"] == "1"
    h.close()


def test_chunked_request_body(cluster):
    s = raw_socket(cluster)
    payload = json.dumps({"metadata": {"name": "chunked"}}).encode()
    msg = (b"POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
           b"Transfer-Encoding: chunked\r\n\r\n" + b"%x\r\n" % len(payload) + payload + b"\r\n0\r\n\r\n")
    s.sendall(msg)
    data = s.recv(65536)
    s.close()
    assert data.startswith(b"HTTP/1.1 201 Created")
    assert cluster.get("v1", "configmaps", "default", "chunked") is not None


def test_faults_rates_and_codes(cluster):
    h = conn(cluster)
    cluster.faults.throttle_rate = 1.0
    cluster.faults.retry_after = 7
    code, r, body = req(h, "GET", "/api/v1/namespaces")
    assert code == 429 and r.getheader("Retry-After") == "7" and body["reason"] == "TooManyRequests"
    cluster.faults.reset()
    cluster.faults.error_rate = 1.0
    cluster.faults.error_code = 503
    code, r, body = req(h, "GET", "/api/v1/namespaces")
    assert code == 503 and body["reason"] == "ServiceUnavailable"
    cluster.faults.reset()
    cluster.faults.unauthorized = True
    code, r, body = req(h, "GET", "/api/v1/namespaces")
    assert code == 401 and body["reason"] == "Unauthorized"
    cluster.faults.reset()
    cluster.faults.conflict_rate = 1.0
    assert req(h, "GET", "/api/v1/namespaces")[0] == 200
    code, r, body = req(h, "POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": "c409"}})
    assert code == 409 and body["reason"] == "Conflict"
    cluster.faults.reset()
    cluster.faults.fail_next(2, method="GET", path=r"/secrets", code=500)
    assert req(h, "GET", "/api/v1/namespaces")[0] == 200
    assert req(h, "GET", "/api/v1/namespaces/default/secrets")[0] == 500
    assert req(h, "GET", "/api/v1/namespaces/default/secrets")[0] == 500
    assert req(h, "GET", "/api/v1/namespaces/default/secrets")[0] == 200
    cluster.faults.latency = 0.2
    t = time.monotonic()
    assert req(h, "GET", "/version")[0] == 200
    assert time.monotonic() - t >= 0.2
    # the admin endpoint is never affected
    cluster.faults.reset()
    cluster.faults.unauthorized = True
    assert req(h, "GET", "/_kubesim/faults")[0] == 200
    h.close()


def test_down_refuses_then_comes_back_on_same_port(cluster):
    port = cluster.port
    h = conn(cluster)
    assert req(h, "GET", "/version")[0] == 200
    cluster.faults.down = True
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    with pytest.raises((OSError, http.client.HTTPException)):
        req(h, "GET", "/version")  # the kept-alive connection was cut
    cluster.faults.down = False
    assert cluster.port == port
    h2 = conn(cluster)
    assert req(h2, "GET", "/version")[0] == 200
    h2.close()


def test_request_log_and_admin_endpoint(fleet, cluster):
    other = fleet["cluster-2"]
    cluster.requests.clear()
    h = conn(cluster)
    req(h, "GET", "/api/v1/namespaces/default/configmaps?labelSelector=a%3Db")
    rec = cluster.requests[-1]
    assert (rec["method"], rec["path"], rec["query"], rec["status"]) == ("GET", "/api/v1/namespaces/default/"
                                                                          "configmaps", "labelSelector=a%3Db", 200)
    code, _, body = req(h, "GET", "/_kubesim/requests?method=GET")
    assert code == 200 and body["requests"][-1]["path"] == "/api/v1/namespaces/default/configmaps"
    assert all(not r["path"].startswith("/_kubesim") for r in body["requests"])
    code, _, body = req(h, "PUT", "/_kubesim/faults", {"throttle_rate": 1, "retry_after": 3})
    assert body["throttle_rate"] == 1.0
    assert req(h, "GET", "/version")[0] == 429
    assert req(h, "DELETE", "/_kubesim/faults")[2]["throttle_rate"] == 0.0
    # a sibling can be taken down and brought back through this cluster's admin endpoint
    req(h, "PATCH", "/_kubesim/faults?cluster=cluster-2", {"down": True})
    assert other.faults.down
    req(h, "PATCH", "/_kubesim/faults?cluster=cluster-2", {"down": False})
    assert not other.faults.down
    code, _, body = req(h, "GET", "/_kubesim/clusters")
    assert [c["name"] for c in body["clusters"]] == ["cluster-1", "cluster-2"]
    before = cluster.clock.offset
    code, _, body = req(h, "POST", "/_kubesim/clock", {"advance": 60})
    assert body["offset"] == before + 60
    code, _, body = req(h, "GET", "/_kubesim/errors")
    assert body == {"controller": [], "scheduler": []}
    code, _, body = req(h, "GET", "/_kubesim/nope")
    assert code == 404
    h.close()


def test_clock_scheduler_and_resync(cluster):
    ran = []

    class Ticker(Controller):
        name = "ticker"

        def resync(self):
            ran.append(("resync", round(self.cluster.clock.offset)))

    cluster.add_controller(Ticker())
    assert cluster.settle(5)
    assert ran and ran[-1][0] == "resync"
    cluster.schedule(3600, lambda: ran.append("hourly"), key="job")
    cluster.schedule(7200, lambda: ran.append("replaced"), key="job")  # same key replaces
    cluster.schedule(1800, lambda: ran.append("half"))
    time.sleep(0.05)
    assert "half" not in ran
    cluster.clock.advance(1800)
    assert "half" in ran and "replaced" not in ran
    n = len([r for r in ran if isinstance(r, tuple)])
    cluster.clock.advance(5400)
    assert "replaced" in ran and "hourly" not in ran
    assert len([r for r in ran if isinstance(r, tuple)]) > n
    t0 = cluster.now()
    cluster.clock.advance(10)
    assert (cluster.now() - t0).total_seconds() >= 10


def test_default_controller_factories_attach_to_new_clusters(tmp_path):
    attached = []

    class Probe(Controller):
        name = "probe"

        def attach(self, cluster):
            super().attach(cluster)
            attached.append(cluster.name)

    DEFAULT_CONTROLLER_FACTORIES.append(Probe)
    try:
        with Fleet(n_clusters=2, workdir=tmp_path) as f:
            assert attached == ["cluster-1", "cluster-2"]
            assert f["cluster-1"].controller("probe") is not None
    finally:
        DEFAULT_CONTROLLER_FACTORIES.remove(Probe)


def test_fleet_files(fleet):
    kc = yaml.safe_load(Path(fleet.kubeconfig).read_text())
    assert [c["name"] for c in kc["contexts"]] == ["cluster-1", "cluster-2"]
    assert kc["clusters"][1]["cluster"]["server"] == fleet["cluster-2"].url
    if fleet.tls:  # kind's admin: client certificate in the kubeconfig, CA data for the server
        assert kc["clusters"][0]["cluster"]["certificate-authority-data"]
        assert kc["users"][0]["user"]["client-certificate-data"] and kc["users"][0]["user"]["client-key-data"]
        assert fleet["cluster-2"].url.startswith("https://127.0.0.1:")
    else:
        assert kc["users"][0]["user"]["token"]
    inv = yaml.safe_load(Path(fleet.inventory).read_text())
    hosts = inv["all"]["children"]["clusters"]["hosts"]
    assert hosts["cluster-2"] == {"ansible_connection": "local",
                                  "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                                  "k8s_kubeconfig": str(Path(fleet.kubeconfig).resolve()),
                                  "k8s_context": "cluster-2"}
    assert Path(fleet.ready_file).read_text().splitlines()[0] == f"cluster-1 {fleet['cluster-1'].url}"


def test_preinstall_and_release_manifest(tmp_path):
    with Fleet(n_clusters=1, workdir=tmp_path, preinstall=("cert-manager", "istio"), istio_version="1.17.2",
               cert_manager_version="1.15.3") as f:
        c = f["cluster-1"]
        crds = {o["metadata"]["name"]: o for o in c.list("apiextensions.k8s.io/v1", "customresourcedefinitions")}
        assert set(crds) == {"certificaterequests.cert-manager.io", "certificates.cert-manager.io",
                             "challenges.acme.cert-manager.io", "clusterissuers.cert-manager.io",
                             "issuers.cert-manager.io", "orders.acme.cert-manager.io"}
        assert crds["clusterissuers.cert-manager.io"]["spec"]["scope"] == "Cluster"
        assert crds["issuers.cert-manager.io"]["spec"]["scope"] == "Namespaced"
        for crd in crds.values():
            assert {x["type"]: x["status"] for x in crd["status"]["conditions"]} == {"NamesAccepted": "True",
                                                                                      "Established": "True"}
            assert crd["spec"]["versions"][0]["subresources"] == {"status": {}}
        images = {d["metadata"]["name"]: d["spec"]["template"]["spec"]["containers"][0]["image"]
                  for d in c.list("apps/v1", "deployments", "cert-manager")}
        assert images == {"cert-manager": "quay.io/jetstack/cert-manager-controller:v1.15.3",
                          "cert-manager-cainjector": "quay.io/jetstack/cert-manager-cainjector:v1.15.3",
                          "cert-manager-webhook": "quay.io/jetstack/cert-manager-webhook:v1.15.3"}
        for d in c.list("apps/v1", "deployments", "cert-manager"):
            assert d["status"]["availableReplicas"] == 1
        assert c.get("v1", "services", "cert-manager", "cert-manager-webhook") is not None
        istiod = c.get("apps/v1", "deployments", "istio-system", "istiod")
        spec = istiod["spec"]["template"]["spec"]
        assert istiod["metadata"]["labels"]["app"] == "istiod"
        assert spec["containers"][0]["image"] == "docker.io/istio/pilot:1.17.2"
        assert {"name": "cacerts", "secret": {"secretName": "cacerts", "optional": True}} in spec["volumes"]
        assert {"name": "cacerts", "mountPath": "/etc/cacerts", "readOnly": True} in spec["containers"][0][
            "volumeMounts"]
        pods = c.list("v1", "pods", "istio-system", label_selector="app=istiod")
        assert len(pods) == 1 and pods[0]["status"]["phase"] == "Running"
        assert pods[0]["status"]["startTime"]
    docs = [d for d in yaml.safe_load_all(cert_manager_manifest_yaml("1.15.3")) if d]
    kinds = [d["kind"] for d in docs]
    assert kinds[0] == "Namespace" and kinds.count("CustomResourceDefinition") == 6
    assert kinds.count("Deployment") == 3 and "ValidatingWebhookConfiguration" in kinds
    assert "MutatingWebhookConfiguration" in kinds and kinds.count("ServiceAccount") == 3


def kubeconfig_connection(kc: dict, context: str, host: str, port: int):
    """http.client connection with the TLS settings and admin certificate of a kubeconfig's context."""
    import base64
    import ssl
    ctx_entry = next(c["context"] for c in kc["contexts"] if c["name"] == context)
    cluster = next(c["cluster"] for c in kc["clusters"] if c["name"] == ctx_entry["cluster"])
    if not cluster["server"].startswith("https://"):
        return http.client.HTTPConnection(host, port, timeout=5)
    from kubesim.apiserver.tls import client_context
    user = next(u["user"] for u in kc["users"] if u["name"] == ctx_entry["user"])
    ctx: ssl.SSLContext = client_context(base64.b64decode(cluster["certificate-authority-data"]),
                                         base64.b64decode(user["client-certificate-data"]),
                                         base64.b64decode(user["client-key-data"]))
    return http.client.HTTPSConnection(host, port, timeout=5, context=ctx)


def test_cli_runs_until_sigterm(tmp_path):
    wd = tmp_path / "cli"
    tests_dir = str(Path(__file__).resolve().parents[1])
    env = dict(os.environ, PYTHONPATH=tests_dir + os.pathsep + os.environ.get("PYTHONPATH", ""))
    p = subprocess.Popen([sys.executable, "-m", "kubesim", "--clusters", "2", "--workdir", str(wd),
                          "--preinstall", "istio", "--istio-version", "1.20.1", "--propagation-delay", "2"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 60
        while not (wd / "ready").exists():
            assert p.poll() is None, p.stderr.read()
            assert time.monotonic() < deadline, "kubesim CLI did not become ready"
            time.sleep(0.05)
        kc = yaml.safe_load((wd / "kubeconfig").read_text())
        server = kc["clusters"][1]["cluster"]["server"]
        host, port = server.rsplit("/", 1)[1].split(":")
        h = kubeconfig_connection(kc, "cluster-2", host, int(port))
        h.request("GET", "/apis/apps/v1/namespaces/istio-system/deployments/istiod")
        dep = json.loads(h.getresponse().read())
        assert dep["spec"]["template"]["spec"]["containers"][0]["image"] == "docker.io/istio/pilot:1.20.1"
        assert (wd / "inventory.yml").exists()
    finally:
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    assert "stopped" in out
    assert not (wd / "ready").exists()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((host, int(port)), timeout=2).close()


def test_cli_rejects_unknown_component(tmp_path):
    tests_dir = str(Path(__file__).resolve().parents[1])
    env = dict(os.environ, PYTHONPATH=tests_dir)
    r = subprocess.run([sys.executable, "-m", "kubesim", "--workdir", str(tmp_path), "--preinstall", "linkerd"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 2 and "linkerd" in r.stderr


def test_discovery_caches_do_not_outlive_a_fleet(tmp_path):
    from kubernetes.dynamic import DynamicClient

    from kubesim.fleet import discovery_cache_files
    f = Fleet(n_clusters=1, workdir=tmp_path).start()
    url = f["cluster-1"].url
    api = f.python_client("cluster-1")
    DynamicClient(api).resources.get(api_version="v1", kind="Secret")
    api.close()
    assert any(os.path.exists(p) for p in discovery_cache_files(url))
    from kubesim.fleet import find_kubectl
    if find_kubectl():
        assert f.kubectl("get", "secrets").returncode == 0
        assert os.path.isdir(f.kubectl_cache_dir)
    f.stop()
    assert not any(os.path.exists(p) for p in discovery_cache_files(url))
    assert not os.path.exists(f.kubectl_cache_dir)


def test_required_token(tmp_path):
    with Fleet(n_clusters=1, workdir=tmp_path, require_token=True) as f:
        c = f["cluster-1"]
        kc = yaml.safe_load(Path(f.kubeconfig).read_text())
        assert kc["users"][0]["user"] == {"token": f.token_for("cluster-1")}  # the token, no client certificate
        h = f.connection(c, client_certificate=False)
        code, r, body = req(h, "GET", "/api/v1/namespaces")
        assert code == 401 and body["reason"] == "Unauthorized"
        code, r, body = req(h, "GET", "/api/v1/namespaces",
                            headers={"Authorization": f"Bearer {f.token_for('cluster-1')}"})
        assert code == 200
        h.close()
        from kubernetes import client as k8s
        api = f.python_client("cluster-1")
        assert k8s.CoreV1Api(api).read_namespace("default").metadata.name == "default"
        api.close()
