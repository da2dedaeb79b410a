"""Our modules and kubernetes.core read a connection the same way: same server, same user, same failure.

Both collections' modules share one ``module_defaults`` group (``group/meshpki.istio_ca.k8s`` extends
``kubernetes.core.k8s``) and one inventory, so each credential form a kubeconfig or the options can
carry is fed, in one play per form, to ``meshpki.istio_ca.x509_inspect`` (reading the ``cacerts``
Secret; in-process and, with ``meshpki_in_process: false``, as a module process) and to
``kubernetes.core.k8s_info`` (the same Secret) against one HTTPS kubesim cluster. Every form has
its own identity (a ServiceAccount or a client certificate CN), so kubesim's request log — the
audit event's user of each ``GET .../secrets/cacerts``, told apart by user agent — shows which
user each tool reached the server as. Forms that must fail fail in both tools with the same cause.

Run through ansible-playbook with the repository's collection path (helpers_ansible).
"""

from __future__ import annotations

import base64
import json
import os
import select
import socket
import sys
import threading
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helpers_ansible import run_playbook  # noqa: E402
from kubesim import Fleet  # noqa: E402
from kubesim.apiserver.tls import ClusterCA  # noqa: E402
from unit.x509_factory import mesh  # noqa: E402

NS = "istio-system"
SECRET_PATH = "/api/v1/namespaces/istio-system/secrets/cacerts"
OUR_AGENT = "meshpki.istio_ca"
SA_NS = "ops"
# in-cluster: the loader reads the token and CA from fixed paths (kubernetes.config.incluster_config
# SERVICE_TOKEN_FILENAME / SERVICE_CERT_FILENAME); this sitecustomize points both at temp files, in
# ansible-playbook (our in-process module) and in every module process (kubernetes.core).
SITECUSTOMIZE = '''
import os
_sa = os.environ.get("CONTRACT_SA_DIR")
if _sa:
    from kubernetes.config import incluster_config
    incluster_config.SERVICE_TOKEN_FILENAME = os.path.join(_sa, "token")
    incluster_config.SERVICE_CERT_FILENAME = os.path.join(_sa, "ca.crt")
'''


class ConnectProxy:
    """An HTTP CONNECT proxy on loopback that records its tunnels' targets (only to 127.0.0.1)."""

    def __init__(self):
        self.targets = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.stopped = False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while not self.stopped:
            try:
                conn = self.sock.accept()[0]
            except OSError:
                return
            threading.Thread(target=self._tunnel, args=(conn,), daemon=True).start()

    def _tunnel(self, conn):
        conn.settimeout(30)
        try:
            head = b""
            while b"\r\n\r\n" not in head and len(head) < 65536:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                head += chunk
            method, target = head.split(b"\r\n", 1)[0].decode().split(" ")[:2]
            host, port = target.rsplit(":", 1)
            if method != "CONNECT" or host != "127.0.0.1":
                conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                return
            self.targets.append(target)
            upstream = socket.create_connection((host, int(port)), timeout=30)
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            socks = [conn, upstream]
            while True:
                ready = select.select(socks, [], [], 30)[0]
                if not ready:
                    return
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    (upstream if s is conn else conn).sendall(data)
        except OSError:
            return
        finally:
            conn.close()

    def stop(self):
        self.stopped = True
        self.sock.close()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    work = tmp_path_factory.mktemp("contract")
    fleet = Fleet(n_clusters=1, workdir=work / "fleet", tls=True)
    fleet.start()
    cluster = fleet["cluster-1"]
    root, inter = mesh("ec256")
    cluster.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    cluster.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": SA_NS}})
    cluster.create({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
                    "metadata": {"name": "cacerts", "namespace": NS},
                    "data": {k: _b64(v.encode()) for k, v in
                             {"tls.crt": inter.pem, "tls.key": inter.key_pem(), "ca.crt": root.pem}.items()}})
    cluster.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "other", "namespace": NS}})
    # every authenticated user may read exactly this Secret, so each form's user shows in the request log
    cluster.create({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                    "metadata": {"name": "read-cacerts", "namespace": NS},
                    "rules": [{"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["cacerts"],
                               "verbs": ["get"]}]})
    cluster.create({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                    "metadata": {"name": "read-cacerts", "namespace": NS},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "read-cacerts"},
                    "subjects": [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io",
                                  "name": "system:authenticated"}]})
    proxy = ConnectProxy()
    yield {"fleet": fleet, "cluster": cluster, "work": work, "proxy": proxy}
    proxy.stop()
    fleet.stop()


def _sa_token(fleet, cluster, name: str) -> str:
    """A TokenRequest token for a ServiceAccount of its own (kubectl create token, through the Python client)."""
    import kubernetes.client as k8s
    cluster.create({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": SA_NS}})
    api = fleet.python_client()
    try:
        tr = k8s.CoreV1Api(api).create_namespaced_service_account_token(
            name, SA_NS, k8s.AuthenticationV1TokenRequest(spec=k8s.V1TokenRequestSpec(audiences=[])))
    finally:
        api.close()
    return tr.status.token


def _sa_user(name: str) -> str:
    return "system:serviceaccount:%s:%s" % (SA_NS, name)


def _kubeconfig(cluster, user: dict, **cluster_fields) -> dict:
    entry = {"server": cluster.url}
    entry.update(cluster_fields)
    # long names: a kubeconfig given as a dict is no_log, and Ansible masks each of its values in results
    return {"apiVersion": "v1", "kind": "Config", "current-context": "contract-context",
            "clusters": [{"name": "contract-cluster", "cluster": entry}],
            "users": [{"name": "contract-user", "user": user}],
            "contexts": [{"name": "contract-context", "context": {"cluster": "contract-cluster",
                                                                  "user": "contract-user"}}]}


def _write(path: Path, doc) -> str:
    path.write_text(yaml.safe_dump(doc, sort_keys=False) if isinstance(doc, dict) else doc)
    path.chmod(0o600)
    return str(path)


def _cases(world):
    """name -> (connection options for module_defaults, play environment, expected user or failure cause)."""
    fleet, cluster, work, proxy = world["fleet"], world["cluster"], world["work"], world["proxy"]
    ca = fleet.ca_pem
    ca_data = _b64(ca)
    ca_file = work / "ca.crt"
    ca_file.write_bytes(ca)
    wrong_ca = _b64(ClusterCA().cert_pem)
    cases = {}

    cert, key = fleet.ca.issue("contract-cert-data", ["contract"])
    kc = _kubeconfig(cluster, {"client-certificate-data": _b64(cert), "client-key-data": _b64(key)},
                     **{"certificate-authority-data": ca_data})
    cases["ca_data_cert_data"] = ({"kubeconfig": _write(work / "cert-data.kubeconfig", kc)}, {}, "contract-cert-data")

    cert, key = fleet.ca.issue("contract-cert-dict", ["contract"])
    kc = _kubeconfig(cluster, {"client-certificate-data": _b64(cert), "client-key-data": _b64(key)},
                     **{"certificate-authority-data": ca_data})
    cases["kubeconfig_as_dict"] = ({"kubeconfig": kc}, {}, "contract-cert-dict")

    # files named relative to the kubeconfig's directory, as client-go resolves them
    files = work / "files"
    files.mkdir()
    cert, key = fleet.ca.issue("contract-cert-files", ["contract"])
    (files / "client.crt").write_bytes(cert)
    (files / "client.key").write_bytes(key)
    (files / "client.key").chmod(0o600)
    (files / "ca.crt").write_bytes(ca)
    kc = _kubeconfig(cluster, {"client-certificate": "client.crt", "client-key": "client.key"},
                     **{"certificate-authority": "ca.crt"})
    cases["ca_file_cert_files"] = ({"kubeconfig": _write(files / "kubeconfig", kc)}, {}, "contract-cert-files")

    token = _sa_token(fleet, cluster, "token")
    kc = _kubeconfig(cluster, {"token": token}, **{"certificate-authority-data": ca_data})
    cases["token"] = ({"kubeconfig": _write(work / "token.kubeconfig", kc)}, {}, _sa_user("token"))

    (work / "token-file").write_text(_sa_token(fleet, cluster, "token-file"))
    kc = _kubeconfig(cluster, {"tokenFile": str(work / "token-file")}, **{"certificate-authority": str(ca_file)})
    cases["token_file"] = ({"kubeconfig": _write(work / "token-file.kubeconfig", kc)}, {}, _sa_user("token-file"))

    credential = {"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
                  "status": {"token": _sa_token(fleet, cluster, "exec")}}
    plugin = work / "credential-plugin.py"
    plugin.write_text("#!%s\nimport json, os, sys\nassert json.loads(os.environ['KUBERNETES_EXEC_INFO'])"
                      "['kind'] == 'ExecCredential'\nsys.stdout.write(%r)\n" % (sys.executable, json.dumps(credential)))
    plugin.chmod(0o700)
    exec_user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": str(plugin),
                          "interactiveMode": "Never"}}
    kc = _kubeconfig(cluster, exec_user, **{"certificate-authority-data": ca_data})
    cases["exec_plugin"] = ({"kubeconfig": _write(work / "exec.kubeconfig", kc)}, {}, _sa_user("exec"))

    token = _sa_token(fleet, cluster, "tls-name")
    kc = _kubeconfig(cluster, {"token": token}, **{"certificate-authority-data": ca_data,
                                                   "tls-server-name": "localhost"})
    cases["tls_server_name"] = ({"kubeconfig": _write(work / "tls-name.kubeconfig", kc)}, {}, _sa_user("tls-name"))

    token = _sa_token(fleet, cluster, "proxy")
    kc = _kubeconfig(cluster, {"token": token}, **{"certificate-authority-data": ca_data,
                                                   "proxy-url": "http://127.0.0.1:%d" % proxy.port})
    cases["proxy"] = ({"kubeconfig": _write(work / "proxy.kubeconfig", kc)}, {}, _sa_user("proxy"))

    sa_dir = work / "serviceaccount"
    sa_dir.mkdir()
    (sa_dir / "token").write_text(_sa_token(fleet, cluster, "in-cluster"))
    (sa_dir / "ca.crt").write_bytes(ca)
    cases["in_cluster"] = ({}, {"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": str(cluster.port)},
                           _sa_user("in-cluster"))

    token = _sa_token(fleet, cluster, "insecure")
    kc = _kubeconfig(cluster, {"token": token}, **{"certificate-authority-data": wrong_ca})
    cases["validate_certs_false"] = ({"kubeconfig": _write(work / "insecure.kubeconfig", kc),
                                      "validate_certs": False}, {}, _sa_user("insecure"))

    # host and token from K8S_AUTH_*, the CA through the client attribute's name (K8S_AUTH_SSL_CA_CERT)
    cases["k8s_auth_env"] = ({}, {"K8S_AUTH_HOST": cluster.url, "K8S_AUTH_API_KEY": _sa_token(fleet, cluster, "env"),
                                  "K8S_AUTH_SSL_CA_CERT": str(ca_file)}, _sa_user("env"))

    kc = _kubeconfig(cluster, {"token": _sa_token(fleet, cluster, "wrong-ca")},
                     **{"certificate-authority-data": wrong_ca})
    cases["wrong_ca"] = ({"kubeconfig": _write(work / "wrong-ca.kubeconfig", kc)}, {},
                         ("fail", "CERTIFICATE_VERIFY_FAILED"))

    kc = _kubeconfig(cluster, {"token": _sa_token(fleet, cluster, "wrong-name")},
                     **{"certificate-authority-data": ca_data, "tls-server-name": "not-the-apiserver.example"})
    cases["wrong_tls_server_name"] = ({"kubeconfig": _write(work / "wrong-name.kubeconfig", kc)}, {},
                                      ("fail", "Hostname mismatch"))

    kc = _kubeconfig(cluster, {"token": "not-a-token"}, **{"certificate-authority-data": ca_data})
    cases["bad_token"] = ({"kubeconfig": _write(work / "bad-token.kubeconfig", kc)}, {}, ("fail", "Unauthorized"))

    failing = work / "failing-plugin.sh"
    failing.write_text("#!/bin/sh\necho 'login expired' >&2\nexit 3\n")
    failing.chmod(0o700)
    kc = _kubeconfig(cluster, {"exec": dict(exec_user["exec"], command=str(failing))},
                     **{"certificate-authority-data": ca_data})
    cases["failing_exec_plugin"] = ({"kubeconfig": _write(work / "failing-exec.kubeconfig", kc)}, {},
                                    ("fail", "Unauthorized"))
    return cases, sa_dir


def _play(name, options, env):
    tasks = [
        {"name": "ours " + name, "meshpki.istio_ca.x509_inspect": {"secret": {"name": "cacerts", "namespace": NS}},
         "ignore_errors": True},
        {"name": "ours-module " + name, "meshpki.istio_ca.x509_inspect": {"secret": {"name": "cacerts", "namespace": NS}},
         "vars": {"meshpki_in_process": False}, "ignore_errors": True},
        {"name": "theirs " + name, "kubernetes.core.k8s_info": {"kind": "Secret", "namespace": NS, "name": "cacerts"},
         "ignore_errors": True},
    ]
    return {"name": name, "hosts": "localhost", "connection": "local", "gather_facts": False,
            "environment": env, "module_defaults": {"group/meshpki.istio_ca.k8s": options}, "tasks": tasks}


@pytest.fixture(scope="module")
def outcome(world):
    cases, sa_dir = _cases(world)
    work = world["work"]
    site = work / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    book = work / "contract.yml"
    book.write_text(yaml.safe_dump([_play(name, opts, env) for name, (opts, env, _expected) in cases.items()],
                                   sort_keys=False))
    inventory = work / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])),
           "CONTRACT_SA_DIR": str(sa_dir), "KUBECONFIG": str(work / "no-default-kubeconfig"),
           "HOME": str(work)}
    for var in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"):
        env[var] = ""
    world["cluster"].requests.clear()
    res = run_playbook(book, inventory=inventory, env=env, timeout=900)
    assert res.plays, res.explain()
    return cases, res, list(world["cluster"].requests)


def _users(log, agent_is_ours):
    return sorted({r["user"] for r in log if r["path"] == SECRET_PATH and r["method"] == "GET"
                   and (r["user_agent"] == OUR_AGENT) == agent_is_ours})


CASE_NAMES = ["ca_data_cert_data", "kubeconfig_as_dict", "ca_file_cert_files", "token", "token_file", "exec_plugin",
              "tls_server_name", "proxy", "in_cluster", "validate_certs_false", "k8s_auth_env", "wrong_ca",
              "wrong_tls_server_name", "bad_token", "failing_exec_plugin"]


@pytest.mark.parametrize("name", CASE_NAMES)
def test_same_server_same_user_or_same_failure(outcome, name):
    cases, res, log = outcome
    expected = cases[name][2]
    ours = res.task_results("ours " + name)["localhost"]
    ours_module = res.task_results("ours-module " + name)["localhost"]
    theirs = res.task_results("theirs " + name)["localhost"]
    if isinstance(expected, tuple):
        cause = expected[1]
        for result in (ours, ours_module, theirs):
            assert result.get("failed") is True, result
            assert cause in json.dumps(result), result
        return
    for result in (ours, ours_module):
        assert result.get("failed") is not True, result
        assert [c["source"] for c in result["certificates"]] == ["tls.crt", "ca.crt"]
    assert theirs.get("failed") is not True, theirs
    assert theirs["resources"][0]["metadata"]["name"] == "cacerts"
    # the user each tool reached the server as, from the server's own log (GETs of this case's user only)
    case_log = [r for r in log if r.get("user") == expected]
    assert _users(case_log, True) == [expected] and _users(case_log, False) == [expected]


def test_proxy_tunnelled_both_tools(outcome, world):
    """Our module (twice) and k8s_info each opened a CONNECT tunnel to the API server."""
    assert world["proxy"].targets.count("127.0.0.1:%d" % world["cluster"].port) >= 3


def test_failures_reached_no_handler_or_were_refused_as_unauthenticated(outcome):
    cases, res, log = outcome
    # TLS failures never reach HTTP; bad credentials are 401s before any handler
    secret_gets = [r for r in log if r["path"] == SECRET_PATH]
    assert all(r["user"] is not None or r["status"] == 401 for r in secret_gets)
    assert any(r["status"] == 401 and r["user_agent"] == OUR_AGENT for r in secret_gets)
    ours = res.task_results("ours failing_exec_plugin")["localhost"]
    assert "login expired" in ours["msg"]  # our message names the plugin's failure; the status is the same 401


def test_a_403_names_verb_resource_namespace_and_user(outcome, world):
    """The server's RBAC text reaches the user whole, with what to do about it."""
    from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import K8sApiError
    from ansible_collections.meshpki.istio_ca.plugins.module_utils.k8s.client import K8sClient, close_all
    api = K8sClient.from_params({"kubeconfig": str(world["work"] / "token.kubeconfig")})
    try:
        with pytest.raises(K8sApiError) as err:
            api.get("/api/v1/namespaces/istio-system/secrets/other")
    finally:
        close_all()
    assert err.value.code == 403 and err.value.reason == "Forbidden"
    assert str(err.value).startswith(
        'secrets "other" is forbidden: User "system:serviceaccount:ops:token" cannot get resource "secrets" in API '
        'group "" in the namespace "istio-system"')
    assert "grant the missing RBAC verb" in str(err.value)
