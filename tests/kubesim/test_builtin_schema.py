"""Built-in kinds are checked against Kubernetes' published v1.29 OpenAPI schemas (the ``kubernetes-validate``
package's ``v1.29.0-local`` definitions, read by apiserver/builtin_schema.py): a wrong JSON type is the
decoder's 400 ``cannot be handled as a`` error, an absent required field 422 ``Required value``.
"""

from __future__ import annotations

import json

import pytest
import yaml

from kubesim.apiserver import builtin_schema


@pytest.fixture(scope="module")
def fleet(kubesim_module_fleet_factory):
    return kubesim_module_fleet_factory(n_clusters=1)


def _post(fleet, path, body):
    conn = fleet.connection("cluster-1")
    try:
        conn.request("POST", path, body=json.dumps(body).encode(),
                     headers={"Content-Type": "application/json", "Accept": "application/json"})
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read())
    finally:
        conn.close()


def _deployment(name, **spec):
    template = {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "app", "image": "nginx"}]}}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "default"},
            "spec": dict({"selector": {"matchLabels": {"app": name}}, "template": template}, **spec)}


@pytest.mark.parametrize("path,body,message", [
    ("/apis/apps/v1/namespaces/default/deployments", _deployment("d-type", replicas="3"),
     'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct '
     'field DeploymentSpec.spec.replicas of type int32'),
    ("/api/v1/namespaces/default/configmaps",
     {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c-type"}, "data": {"k": 1}},
     'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct '
     'field ConfigMap.data of type string'),
    ("/api/v1/namespaces/default/secrets",
     {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s-type", "labels": {"a": True}}},
     'Secret in version "v1" cannot be handled as a Secret: json: cannot unmarshal bool into Go struct field '
     'ObjectMeta.metadata.labels of type string'),
    ("/api/v1/namespaces/default/pods",
     {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p-type"},
      "spec": {"containers": [{"name": "a", "image": "x", "ports": [{"containerPort": 1.5}]}]}},
     'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal number 1.5 into Go struct field '
     'ContainerPort.spec.containers.ports.containerPort of type int32'),
])
def test_wrong_types_are_the_decoders_400(fleet, path, body, message):
    code, status = _post(fleet, path, body)
    assert code == 400 and status["reason"] == "BadRequest", status
    assert status["message"] == message


def test_absent_required_fields_are_422_required_value(fleet):
    body = _deployment("d-req")
    del body["spec"]["template"]["spec"]["containers"][0]["name"]
    code, status = _post(fleet, "/apis/apps/v1/namespaces/default/deployments", body)
    assert code == 422
    assert {"reason": "FieldValueRequired", "message": "Required value",
            "field": "spec.template.spec.containers[0].name"} in status["details"]["causes"]
    assert _post(fleet, "/apis/apps/v1/namespaces/default/deployments", _deployment("d-ok", replicas=2))[0] == 201


def test_kubectl_prints_the_decode_error(fleet):
    doc = yaml.safe_dump(_deployment("d-kubectl", replicas="two"))
    r = fleet.kubectl("apply", "-f", "-", input=doc)
    assert r.returncode == 1
    assert ('Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go '
            'struct field DeploymentSpec.spec.replicas of type int32') in r.stderr, r.stderr


def test_every_kind_the_collection_writes_has_a_published_schema():
    for gvk in [("", "v1", "Namespace"), ("", "v1", "Secret"), ("", "v1", "ConfigMap"), ("", "v1", "Pod"),
                ("", "v1", "Service"), ("", "v1", "ServiceAccount"), ("apps", "v1", "Deployment"),
                ("rbac.authorization.k8s.io", "v1", "Role"), ("rbac.authorization.k8s.io", "v1", "RoleBinding"),
                ("rbac.authorization.k8s.io", "v1", "ClusterRole"),
                ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding")]:
        assert builtin_schema.definition_for(*gvk), gvk
