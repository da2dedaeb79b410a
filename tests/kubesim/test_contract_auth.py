"""HTTPS, authentication and RBAC as real clients meet them: kubectl, the kubernetes Python client and
kubernetes.core.

Each expectation is what a real kube-apiserver answers (texts from
staging/src/k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/errors.go ``forbiddenMessage``,
apimachinery ``NewForbidden``/``NewUnauthorized``, plugin/pkg/auth/authorizer/rbac/rbac.go) and what
the clients then print (kubectl's "You must be logged in to the server", "Error from server
(Forbidden)", TLS "certificate signed by unknown authority").
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kubesim import Fleet
from kubesim.apiserver.tls import ClusterCA
from kubesim.fleet import find_kubectl

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client as k8s  # noqa: E402
from kubernetes import config as kconfig  # noqa: E402
from kubernetes.client.rest import ApiException  # noqa: E402

KUBECTL = find_kubectl()
needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not on PATH")
ANSIBLE = Path(sys.executable).parent / "ansible"
SA_USER = "system:serviceaccount:ops:meshpki"
SECRETS_DENIED = (f'secrets "cacerts" is forbidden: User "{SA_USER}" cannot get resource "secrets" in API group "" '
                  f'in the namespace "istio-system"')


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    f = Fleet(n_clusters=1, workdir=tmp_path_factory.mktemp("kubesim-auth"), tls=True)
    f.start()
    c = f["cluster-1"]
    for ns in ("ops", "istio-system"):
        c.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    c.create({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "meshpki", "namespace": "ops"}})
    c.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "cacerts", "namespace": "istio-system"},
              "data": {"ca.crt": base64.b64encode(b"not a real cert").decode()}})
    c.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "other", "namespace": "istio-system"}})
    # read one Secret by name, and the ConfigMaps of istio-system; nothing else
    c.create({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
              "metadata": {"name": "meshpki-read", "namespace": "istio-system"},
              "rules": [{"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["cacerts"], "verbs": ["get"]},
                        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]},
                        {"apiGroups": ["apps"], "resources": ["deployments/scale"], "verbs": ["get"]}]})
    c.create({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
              "metadata": {"name": "meshpki-read", "namespace": "istio-system"},
              "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "meshpki-read"},
              "subjects": [{"kind": "ServiceAccount", "name": "meshpki", "namespace": "ops"}]})
    yield f
    f.stop()


def kubectl(kubeconfig, *args, stdin=None, cache=None):
    cmd = [KUBECTL, f"--kubeconfig={kubeconfig}", f"--cache-dir={cache or Path(kubeconfig).parent / 'cache'}", *args]
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=60, env=env)


def sa_token(fleet, seconds=None) -> str:
    """A bound token from the TokenRequest API, asked for by the Python client as the admin."""
    api = fleet.python_client()
    spec = k8s.V1TokenRequestSpec(audiences=[], expiration_seconds=seconds)
    tr = k8s.CoreV1Api(api).create_namespaced_service_account_token("meshpki", "ops",
                                                                      k8s.AuthenticationV1TokenRequest(spec=spec))
    api.close()
    return tr.status.token


def token_kubeconfig(fleet, tmp_path, token) -> str:
    return fleet.write_kubeconfig(tmp_path / "token.kubeconfig", {"token": token})


def python_api(kubeconfig):
    return kconfig.new_client_from_config(config_file=str(kubeconfig))


# ---------------------------------------------------------------------------- TLS


def test_kubeconfig_has_ca_data_and_the_admin_client_certificate(fleet):
    kc = yaml.safe_load(Path(fleet.kubeconfig).read_text())
    cluster = kc["clusters"][0]["cluster"]
    assert cluster["server"].startswith("https://127.0.0.1:")
    assert base64.b64decode(cluster["certificate-authority-data"]) == fleet.ca_pem
    from cryptography import x509
    cert = x509.load_pem_x509_certificate(base64.b64decode(kc["users"][0]["user"]["client-certificate-data"]))
    assert cert.subject.rfc4514_string() == "CN=kubernetes-admin,O=system:masters"
    assert "BEGIN PRIVATE KEY" in base64.b64decode(kc["users"][0]["user"]["client-key-data"]).decode()
    api = fleet.python_client()
    assert api.configuration.verify_ssl is True
    names = [n.metadata.name for n in k8s.CoreV1Api(api).list_namespace().items]
    api.close()
    assert "istio-system" in names


@needs_kubectl
def test_wrong_ca_fails_the_clients_tls_check(fleet, tmp_path):
    kc = yaml.safe_load(Path(fleet.kubeconfig).read_text())
    kc["clusters"][0]["cluster"]["certificate-authority-data"] = base64.b64encode(ClusterCA().cert_pem).decode()
    path = tmp_path / "wrong-ca.kubeconfig"
    path.write_text(yaml.safe_dump(kc))
    r = kubectl(path, "get", "namespaces")
    assert r.returncode == 1
    assert "x509: certificate signed by unknown authority" in r.stderr, r.stderr
    api = python_api(path)
    with pytest.raises(Exception) as exc:
        k8s.CoreV1Api(api).list_namespace(_request_timeout=5)
    api.close()
    assert "CERTIFICATE_VERIFY_FAILED" in str(exc.value)


# ---------------------------------------------------------------------------- authentication


@needs_kubectl
def test_admin_client_certificate_is_kubernetes_admin_in_system_masters(fleet):
    r = fleet.kubectl("auth", "whoami", "-o", "json")
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)["status"]["userInfo"]
    assert info == {"username": "kubernetes-admin", "groups": ["system:masters", "system:authenticated"]}


@needs_kubectl
def test_another_client_certificate_is_its_cn_and_organisations(fleet, tmp_path):
    cert, key = fleet.ca.issue("jane", ["devs", "ops-team"])
    path = fleet.write_kubeconfig(tmp_path / "jane.kubeconfig",
                                  {"client-certificate-data": base64.b64encode(cert).decode(),
                                   "client-key-data": base64.b64encode(key).decode()})
    r = kubectl(path, "auth", "whoami", "-o", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["status"]["userInfo"] == {
        "username": "jane", "groups": ["devs", "ops-team", "system:authenticated"]}
    r = kubectl(path, "get", "pods", "-A")
    assert r.returncode == 1
    assert r.stderr.strip() == ('Error from server (Forbidden): pods is forbidden: User "jane" cannot list resource '
                                '"pods" in API group "" at the cluster scope')


@needs_kubectl
def test_kubectl_create_token_and_use_it(fleet, tmp_path):
    r = fleet.kubectl("create", "token", "meshpki", "-n", "ops", "--duration=20m")
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip()
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert claims["sub"] == SA_USER and claims["exp"] - claims["iat"] == 1200
    path = token_kubeconfig(fleet, tmp_path, token)
    r = kubectl(path, "auth", "whoami", "-o", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["status"]["userInfo"]["groups"] == [
        "system:serviceaccounts", "system:serviceaccounts:ops", "system:authenticated"]
    r = kubectl(path, "get", "secret", "cacerts", "-n", "istio-system", "-o", "jsonpath={.metadata.name}")
    assert (r.returncode, r.stdout) == (0, "cacerts"), r.stderr
    r = fleet.kubectl("create", "token", "meshpki", "-n", "ops", "--duration=5m")
    assert r.returncode == 1 and "may not specify a duration less than 10 minutes" in r.stderr, r.stderr
    r = fleet.kubectl("create", "token", "nobody", "-n", "ops")
    assert r.returncode == 1 and 'serviceaccounts "nobody" not found' in r.stderr


def test_token_request_token_expires_and_dies_with_its_service_account(fleet, tmp_path):
    c = fleet["cluster-1"]
    c.create({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "shortlived", "namespace": "ops"}})
    api = fleet.python_client()
    tr = k8s.CoreV1Api(api).create_namespaced_service_account_token(
        "shortlived", "ops", k8s.AuthenticationV1TokenRequest(spec=k8s.V1TokenRequestSpec(audiences=[],
                                                                                           expiration_seconds=600)))
    api.close()
    user_api = python_api(token_kubeconfig(fleet, tmp_path, tr.status.token))
    review = k8s.AuthenticationV1Api(user_api).create_self_subject_review(k8s.V1SelfSubjectReview())
    assert review.status.user_info.username == "system:serviceaccount:ops:shortlived"
    c.delete("v1", "serviceaccounts", "ops", "shortlived")
    with pytest.raises(ApiException) as exc:
        k8s.AuthenticationV1Api(user_api).create_self_subject_review(k8s.V1SelfSubjectReview())
    assert exc.value.status == 401
    user_api.close()
    token = sa_token(fleet, 600)
    user_api = python_api(token_kubeconfig(fleet, tmp_path, token))
    c.clock.advance(600 + 61)  # past exp and the validator's minute of leeway, on the cluster's clock
    with pytest.raises(ApiException) as exc:
        k8s.CoreV1Api(user_api).list_namespaced_config_map("istio-system")
    user_api.close()
    assert exc.value.status == 401


@needs_kubectl
def test_legacy_token_secret_is_filled_and_valid_while_it_exists(fleet, tmp_path):
    c = fleet["cluster-1"]
    r = fleet.kubectl("apply", "-f", "-", input=yaml.safe_dump({
            "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
            "metadata": {"name": "meshpki-token", "namespace": "ops",
                         "annotations": {"kubernetes.io/service-account.name": "meshpki"}}}))
    assert r.returncode == 0, r.stderr
    assert c.wait_for(lambda: "token" in ((c.peek("v1", "secrets", "ops", "meshpki-token") or {}).get("data") or {}))
    secret = c.get("v1", "secrets", "ops", "meshpki-token")
    assert base64.b64decode(secret["data"]["ca.crt"]) == fleet.ca_pem
    assert base64.b64decode(secret["data"]["namespace"]) == b"ops"
    sa_uid = c.get("v1", "serviceaccounts", "ops", "meshpki")["metadata"]["uid"]
    assert secret["metadata"]["annotations"]["kubernetes.io/service-account.uid"] == sa_uid
    path = token_kubeconfig(fleet, tmp_path, base64.b64decode(secret["data"]["token"]).decode())
    r = kubectl(path, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}")
    assert (r.returncode, r.stdout) == (0, SA_USER), r.stderr
    assert fleet.kubectl("delete", "secret", "meshpki-token", "-n", "ops").returncode == 0
    r = kubectl(path, "auth", "whoami")
    assert r.returncode == 1 and "You must be logged in to the server (Unauthorized)" in r.stderr, r.stderr
    # a token Secret for a ServiceAccount that does not exist is removed by the token controller
    c.create({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
              "metadata": {"name": "ghost-token", "namespace": "ops",
                           "annotations": {"kubernetes.io/service-account.name": "ghost"}}})
    assert c.wait_for(lambda: c.peek("v1", "secrets", "ops", "ghost-token") is None)


@needs_kubectl
def test_no_or_bad_credentials_are_the_real_401(fleet, tmp_path):
    # (kubectl with no credentials at all prompts for a username on stdin, so it gets a bad token; its
    # discovery client cannot decode a Status, hence its generic 401 text, as against a real cluster)
    r = kubectl(token_kubeconfig(fleet, tmp_path, "not-a-token"), "get", "namespaces")
    assert r.returncode == 1
    assert r.stderr.strip().splitlines()[-1] == ("error: You must be logged in to the server (the server has asked "
                                                 "for the client to provide credentials)"), r.stderr
    path = fleet.write_kubeconfig(tmp_path / "nobody.kubeconfig", {})
    for kc in (path, token_kubeconfig(fleet, tmp_path, "not-a-token")):
        api = python_api(kc)
        with pytest.raises(ApiException) as exc:
            k8s.CoreV1Api(api).list_namespace()
        api.close()
        assert exc.value.status == 401
        assert json.loads(exc.value.body) == {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                              "status": "Failure", "message": "Unauthorized", "reason": "Unauthorized",
                                              "code": 401}
    # a token signed by another cluster's key is no token here
    other = Fleet(n_clusters=1, workdir=tmp_path / "other", tls=True)
    with other:
        other["cluster-1"].create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ops"}})
        other["cluster-1"].create({"apiVersion": "v1", "kind": "ServiceAccount",
                                   "metadata": {"name": "meshpki", "namespace": "ops"}})
        foreign = sa_token(other)
    r = kubectl(token_kubeconfig(fleet, tmp_path, foreign), "get", "configmaps", "-n", "istio-system")
    assert r.returncode == 1 and "error: You must be logged in to the server" in r.stderr


def test_the_unauthorized_fault_is_the_same_401(fleet):
    c = fleet["cluster-1"]
    c.faults.configure(unauthorized=True)
    try:
        h = fleet.connection(c)
        h.request("GET", "/api/v1/namespaces", headers={"Accept": "application/json"})
        r = h.getresponse()
        body = json.loads(r.read())
        h.close()
    finally:
        c.faults.reset()
    assert r.status == 401 and body == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                        "message": "Unauthorized", "reason": "Unauthorized", "code": 401}


# ---------------------------------------------------------------------------- authorization


@needs_kubectl
def test_rbac_allows_what_the_role_grants_and_denies_the_rest_with_the_real_text(fleet, tmp_path):
    path = token_kubeconfig(fleet, tmp_path, sa_token(fleet))
    assert kubectl(path, "get", "configmaps", "-n", "istio-system").returncode == 0
    r = kubectl(path, "get", "secret", "other", "-n", "istio-system")
    assert r.stderr.strip() == ('Error from server (Forbidden): secrets "other" is forbidden: User '
                                f'"{SA_USER}" cannot get resource "secrets" in API group "" in the namespace '
                                '"istio-system"')
    r = kubectl(path, "get", "secret", "cacerts", "-n", "ops")
    assert 'in the namespace "ops"' in r.stderr and r.returncode == 1
    r = kubectl(path, "get", "deployments", "-n", "istio-system")
    assert r.stderr.strip() == ('Error from server (Forbidden): deployments.apps is forbidden: User '
                                f'"{SA_USER}" cannot list resource "deployments" in API group "apps" in the '
                                'namespace "istio-system"')
    r = kubectl(path, "get", "namespaces")
    assert r.stderr.strip() == (f'Error from server (Forbidden): namespaces is forbidden: User "{SA_USER}" '
                                'cannot list resource "namespaces" in API group "" at the cluster scope')


def test_python_client_403_body_is_the_real_status(fleet, tmp_path):
    token = sa_token(fleet)
    api = python_api(token_kubeconfig(fleet, tmp_path, token))
    v1 = k8s.CoreV1Api(api)
    assert v1.read_namespaced_secret("cacerts", "istio-system").metadata.name == "cacerts"
    with pytest.raises(ApiException) as exc:
        v1.read_namespaced_pod_log("istiod-x", "istio-system")
    assert exc.value.status == 403
    assert json.loads(exc.value.body) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": f'pods "istiod-x" is forbidden: User "{SA_USER}" cannot get resource "pods/log" in API group "" '
                   'in the namespace "istio-system"',
        "reason": "Forbidden", "details": {"name": "istiod-x", "kind": "pods"}, "code": 403}
    h = fleet.connection(client_certificate=False)
    h.request("GET", "/metrics", headers={"Authorization": f"Bearer {token}"})
    r = h.getresponse()
    body = json.loads(r.read())
    h.close()
    assert r.status == 403 and body["message"] == f'forbidden: User "{SA_USER}" cannot get path "/metrics"'
    scale = k8s.AppsV1Api(api)
    with pytest.raises(ApiException) as exc:  # get deployments/scale is granted; the Deployment does not exist
        scale.read_namespaced_deployment_scale("istiod", "istio-system")
    assert exc.value.status == 404
    with pytest.raises(ApiException) as exc:
        scale.patch_namespaced_deployment_scale("istiod", "istio-system", {"spec": {"replicas": 2}})
    assert exc.value.status == 403 and 'cannot patch resource "deployments/scale" in API group "apps"' in \
        json.loads(exc.value.body)["message"]
    api.close()


def test_bindings_by_group_cluster_role_and_a_missing_role(fleet, tmp_path):
    c = fleet["cluster-1"]
    c.create({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
              "metadata": {"name": "cert-status-writer"},
              "rules": [{"apiGroups": ["cert-manager.io"], "resources": ["certificates/status"],
                         "verbs": ["update", "patch"]}]})
    c.create({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
              "metadata": {"name": "ops-sas-write-status", "namespace": "istio-system"},
              "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                          "name": "cert-status-writer"},
              "subjects": [{"kind": "Group", "name": "system:serviceaccounts:ops",
                            "apiGroup": "rbac.authorization.k8s.io"}]})
    c.create({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
              "metadata": {"name": "dangling", "namespace": "ops"},
              "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "gone"},
              "subjects": [{"kind": "ServiceAccount", "name": "meshpki"}]})
    api = python_api(token_kubeconfig(fleet, tmp_path, sa_token(fleet)))
    authz = k8s.AuthorizationV1Api(api)

    def can(verb, resource, ns, group="", sub="", name=""):
        ra = k8s.V1ResourceAttributes(verb=verb, resource=resource, namespace=ns, group=group, subresource=sub,
                                      name=name)
        return authz.create_self_subject_access_review(
            k8s.V1SelfSubjectAccessReview(spec=k8s.V1SelfSubjectAccessReviewSpec(resource_attributes=ra))).status
    s = can("patch", "certificates", "istio-system", "cert-manager.io", "status", "cacerts")
    assert s.allowed is True
    assert s.reason == ('RBAC: allowed by RoleBinding "ops-sas-write-status/istio-system" of ClusterRole '
                        '"cert-status-writer" to Group "system:serviceaccounts:ops"')
    assert can("patch", "certificates", "istio-system", "cert-manager.io").allowed is False
    s = can("get", "secrets", "ops")
    assert s.allowed is False and s.reason == 'RBAC: role.rbac.authorization.k8s.io "gone" not found'
    with pytest.raises(ApiException) as exc:
        k8s.CoreV1Api(api).list_namespaced_secret("ops")
    assert json.loads(exc.value.body)["message"] == (
        f'secrets is forbidden: User "{SA_USER}" cannot list resource "secrets" in API group "" in the namespace '
        '"ops": RBAC: role.rbac.authorization.k8s.io "gone" not found')
    api.close()


@needs_kubectl
def test_kubectl_auth_can_i_and_list(fleet, tmp_path):
    r = fleet.kubectl("auth", "can-i", "get", "secrets/cacerts", "-n", "istio-system", f"--as={SA_USER}")
    assert (r.returncode, r.stdout.strip()) == (0, "yes"), r.stderr
    r = fleet.kubectl("auth", "can-i", "get", "secrets/other", "-n", "istio-system", f"--as={SA_USER}")
    assert (r.returncode, r.stdout.strip()) == (1, "no")
    r = fleet.kubectl("auth", "can-i", "create", "deployments", "-A")
    assert (r.returncode, r.stdout.strip()) == (0, "yes")
    path = token_kubeconfig(fleet, tmp_path, sa_token(fleet))
    r = kubectl(path, "auth", "can-i", "--list", "-n", "istio-system")
    assert r.returncode == 0, r.stderr
    rows = [line.split() for line in r.stdout.splitlines()[1:]]
    assert ["secrets", "[]", "[cacerts]", "[get]"] in rows
    assert ["configmaps", "[]", "[]", "[get", "list]"] in rows
    assert ["deployments.apps/scale", "[]", "[]", "[get]"] in rows
    assert ["selfsubjectaccessreviews.authorization.k8s.io", "[]", "[]", "[create]"] in rows
    assert ["[/version]", "[]", "[get]"] in rows


def test_impersonation_needs_the_impersonate_verb(fleet, tmp_path):
    api = python_api(token_kubeconfig(fleet, tmp_path, sa_token(fleet)))
    api.set_default_header("Impersonate-User", "bob")
    with pytest.raises(ApiException) as exc:
        k8s.CoreV1Api(api).list_namespaced_config_map("istio-system")
    api.close()
    assert exc.value.status == 403
    assert json.loads(exc.value.body)["message"] == (
        f'users "bob" is forbidden: User "{SA_USER}" cannot impersonate resource "users" in API group "" at the '
        'cluster scope')
    admin = fleet.python_client()  # system:masters may impersonate anyone; the request then runs as them
    admin.set_default_header("Impersonate-User", SA_USER)
    v1 = k8s.CoreV1Api(admin)
    assert v1.read_namespaced_secret("cacerts", "istio-system").metadata.name == "cacerts"
    with pytest.raises(ApiException) as exc:
        v1.read_namespaced_secret("other", "istio-system")
    admin.close()
    assert exc.value.status == 403 and json.loads(exc.value.body)["message"] == (
        f'secrets "other" is forbidden: User "{SA_USER}" cannot get resource "secrets" in API group "" in the '
        'namespace "istio-system"')


@pytest.mark.skipif(not ANSIBLE.exists(), reason="ansible is not installed next to this Python")
def test_kubernetes_core_with_a_service_account_token(fleet, tmp_path):
    """kubernetes.core's own connection options (host, api_key, ca_cert) against the HTTPS server."""
    ca = tmp_path / "ca.crt"
    ca.write_bytes(fleet.ca_pem)
    token = sa_token(fleet)
    env = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "ANSIBLE_CONFIG")}
    env.update({"ANSIBLE_NOCOLOR": "1", "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"),
                "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1", "ANSIBLE_STDOUT_CALLBACK": "json"})

    def info(name, ca_cert):
        args = json.dumps({"kind": "Secret", "namespace": "istio-system", "name": name, "host": fleet["cluster-1"].url,
                           "api_key": token, "ca_cert": str(ca_cert), "validate_certs": True})
        r = subprocess.run([str(ANSIBLE), "localhost", "-m", "kubernetes.core.k8s_info", "-a", args],
                           capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
        return json.loads(r.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    ok = info("cacerts", ca)
    assert ok.get("failed") is not True, ok
    assert ok["resources"][0]["metadata"]["name"] == "cacerts"
    denied = info("other", ca)
    assert denied["failed"] is True
    body = denied["msg"].split("HTTP response body: ", 1)[1].split("\n", 1)[0]  # kubernetes.core quotes the 403
    assert json.loads(body)["message"] == SECRETS_DENIED.replace("cacerts", "other"), denied["msg"]
    wrong = tmp_path / "wrong.crt"
    wrong.write_bytes(ClusterCA().cert_pem)
    bad_tls = info("cacerts", wrong)
    assert bad_tls["failed"] is True and "CERTIFICATE_VERIFY_FAILED" in json.dumps(bad_tls), bad_tls


def test_discovery_works_for_any_authenticated_user_through_the_bootstrap_roles(fleet, tmp_path):
    api = python_api(token_kubeconfig(fleet, tmp_path, sa_token(fleet)))
    assert k8s.VersionApi(api).get_code().major == "1"
    groups = [g.name for g in k8s.ApisApi(api).get_api_versions().groups]
    assert "rbac.authorization.k8s.io" in groups
    api.close()
    c = fleet["cluster-1"]
    crb = c.get("rbac.authorization.k8s.io/v1", "clusterrolebindings", None, "system:public-info-viewer")
    assert [s["name"] for s in crb["subjects"]] == ["system:authenticated", "system:unauthenticated"]

