"""``/openapi/v3`` and ``/openapi/v2`` carry the CRDs' schemas, so ``kubectl explain`` and plain
``kubectl apply -f`` work with the oldest and the newest kubectl on the machine image (1.27 reads the
protobuf v2 document, 1.33 the v3 group/version document). Schemas follow apiextensions-apiserver
pkg/controller/openapi/builder/builder.go (names, ``x-kubernetes-group-version-kind``, metadata as ObjectMeta).
"""

from __future__ import annotations

import glob
import json

import pytest

from kubesim.apiserver import openapi_v2_proto

KUBECTLS = sorted(glob.glob("/usr/lib/google-cloud-sdk/bin/kubectl.1.[0-9][0-9]"),
                  key=lambda p: int(p.rsplit(".", 1)[1]))
EDGES = sorted({KUBECTLS[0], KUBECTLS[-1]}) if KUBECTLS else []
CERT_NAME = "io.cert-manager.v1.Certificate"


@pytest.fixture(scope="module")
def fleet(kubesim_module_fleet_factory):
    return kubesim_module_fleet_factory(n_clusters=1, preinstall=("cert-manager",))


def _get(fleet, path, accept="application/json"):
    conn = fleet.connection("cluster-1")
    try:
        conn.request("GET", path, headers={"Accept": accept})
        resp = conn.getresponse()
        return resp.status, resp.getheader("Content-Type"), resp.read()
    finally:
        conn.close()


def test_v3_group_version_document_has_the_crd_schema_with_its_gvk(fleet):
    code, _, body = _get(fleet, "/openapi/v3")
    url = json.loads(body)["paths"]["apis/cert-manager.io/v1"]["serverRelativeURL"]
    code, _, body = _get(fleet, url)
    assert code == 200
    schemas = json.loads(body)["components"]["schemas"]
    cert = schemas[CERT_NAME]
    assert cert["x-kubernetes-group-version-kind"] == [{"group": "cert-manager.io", "version": "v1",
                                                        "kind": "Certificate"}]
    assert cert["properties"]["metadata"]["allOf"] == [
        {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}]
    served = fleet["cluster-1"].get("apiextensions.k8s.io/v1", "customresourcedefinitions", None,
                                    "certificates.cert-manager.io")
    crd_schema = served["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    assert cert["properties"]["spec"] == crd_schema["properties"]["spec"]
    assert "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" in schemas
    assert schemas["io.cert-manager.v1.CertificateList"]["properties"]["items"]["items"] == {
        "$ref": f"#/components/schemas/{CERT_NAME}"}


def test_v2_is_served_as_json_and_as_gnostic_protobuf(fleet):
    code, ctype, body = _get(fleet, "/openapi/v2")
    assert code == 200 and ctype.startswith("application/json")
    doc = json.loads(body)
    assert doc["swagger"] == "2.0"
    assert doc["definitions"][CERT_NAME]["properties"]["metadata"]["$ref"] == (
        "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")
    code, ctype, body = _get(fleet, "/openapi/v2", openapi_v2_proto.MEDIA_TYPE)
    assert code == 200 and ctype == openapi_v2_proto.RESPONSE_TYPE
    assert body == openapi_v2_proto.document(doc) and CERT_NAME.encode() in body
    assert _get(fleet, "/openapi/v2", "application/yaml")[0] == 406


@pytest.mark.skipif(not EDGES, reason="no kubectl.1.x builds on this machine")
@pytest.mark.parametrize("kubectl", EDGES)
def test_kubectl_explain_a_certificate_field(fleet, kubectl):
    r = fleet.kubectl("explain", "certificates.spec.duration", kubectl=kubectl)
    assert r.returncode == 0, r.stderr
    assert "KIND:       Certificate" in r.stdout and "FIELD: duration <string>" in r.stdout
    r = fleet.kubectl("explain", "certificates.spec.privateKey", kubectl=kubectl)
    assert r.returncode == 0 and "rotationPolicy\t<string>" in r.stdout, r.stdout


@pytest.mark.skipif(not EDGES, reason="no kubectl.1.x builds on this machine")
@pytest.mark.parametrize("kubectl", EDGES)
def test_plain_kubectl_apply_and_the_servers_field_validation(fleet, kubectl):
    minor = kubectl.rsplit(".", 1)[1]
    doc = (f"apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata: {{name: ss-{minor}}}\n"
           f"spec: {{selfSigned: {{}}}}\n")
    for verb in ("created", "configured"):
        r = fleet.kubectl("apply", "-f", "-", input=doc if verb == "created" else
                          doc.replace("}\nspec", ", labels: {a: b}}\nspec"), kubectl=kubectl)
        assert r.returncode == 0 and f"clusterissuer.cert-manager.io/ss-{minor} {verb}" in r.stdout, r.stderr
    r = fleet.kubectl("apply", "-f", "-", input=doc.replace("{selfSigned: {}}", "{selfSigned: {}, bogus: 1}"),
                      kubectl=kubectl)
    assert r.returncode == 1 and 'strict decoding error: unknown field "spec.bogus"' in r.stderr, r.stderr
    cm = f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm-{minor}, namespace: default}}\ndata: {{a: b}}\n"
    r = fleet.kubectl("apply", "-f", "-", input=cm, kubectl=kubectl)
    assert r.returncode == 0 and f"configmap/cm-{minor} created" in r.stdout, r.stderr
