"""Run the playbooks as a ServiceAccount bound to the shipped least-privilege roles (docs/rbac/).

Why a module of its own: test_least_privilege.py grants, revokes and trims the roles of
docs/rbac/*.yaml on a kubesim fleet, mints ServiceAccount tokens through the TokenRequest API (as
``kubectl create token`` does), writes an inventory whose hosts carry a kubeconfig with that token,
and reads back what a run asked the API server for (kubesim's request log turned into the
authorizer's request attributes by kubesim's transcription of requestinfo.go ``NewRequestInfo``).

The files under docs/rbac/ hold two kinds of documents: the roles (the least-privilege contract) and,
after them, the bindings an operator applies for ServiceAccount ``meshpki`` in ``meshpki-system``.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Iterable, List, Optional, Set, Tuple

import yaml

from kubesim.apiserver.request import Request, parse_request_query
from kubesim.apiserver.requestinfo import request_info

REPO = Path(__file__).resolve().parents[2]
RBAC_DIR = REPO / "docs" / "rbac"
SA_NAMESPACE = "meshpki-system"
SA_NAME = "meshpki"
SA_USER = f"system:serviceaccount:{SA_NAMESPACE}:{SA_NAME}"
ROLE_KINDS = ("Role", "ClusterRole")
BINDING_KINDS = ("RoleBinding", "ClusterRoleBinding")
RBAC_API = "rbac.authorization.k8s.io/v1"

# (verb, apiGroup, resource, subresource, namespace, name) of one request, as RBAC sees it
Attr = Tuple[str, str, str, str, str, str]


def rbac_documents(playbook: str) -> List[dict]:
    """Every document of docs/rbac/<playbook>.yaml (roles first, then bindings)."""
    text = (RBAC_DIR / f"{playbook}.yaml").read_text()
    return [d for d in yaml.safe_load_all(text) if d]


def roles(playbook: str) -> List[dict]:
    return [d for d in rbac_documents(playbook) if d["kind"] in ROLE_KINDS]


def bindings(playbook: str) -> List[dict]:
    return [d for d in rbac_documents(playbook) if d["kind"] in BINDING_KINDS]


def _plural(kind: str) -> str:
    return kind.lower() + "s"


def _ref(doc: dict) -> tuple:
    md = doc["metadata"]
    return RBAC_API, _plural(doc["kind"]), md.get("namespace"), md["name"]


def put(cluster, doc: dict) -> None:
    """Create or replace one RBAC object as the admin (kubesim's internal write, no authorization)."""
    api_version, plural, ns, name = _ref(doc)
    current = cluster.get(api_version, plural, ns, name)
    if current is None:
        cluster.create(copy.deepcopy(doc))
        return
    new = copy.deepcopy(doc)
    new["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
    cluster.update(new)


def remove(cluster, doc: dict) -> None:
    api_version, plural, ns, name = _ref(doc)
    if cluster.get(api_version, plural, ns, name) is not None:
        cluster.delete(api_version, plural, ns, name)


def create_service_account(cluster) -> None:
    """Namespace meshpki-system and ServiceAccount meshpki, as the operator's first step."""
    if cluster.get("v1", "namespaces", None, SA_NAMESPACE) is None:
        cluster.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": SA_NAMESPACE}})
    if cluster.get("v1", "serviceaccounts", SA_NAMESPACE, SA_NAME) is None:
        cluster.create({"apiVersion": "v1", "kind": "ServiceAccount",
                        "metadata": {"name": SA_NAME, "namespace": SA_NAMESPACE}})


def grant(cluster, playbooks: Iterable[str]) -> None:
    """Apply the roles and bindings of docs/rbac/<playbook>.yaml for each playbook."""
    for pb in playbooks:
        for doc in rbac_documents(pb):
            put(cluster, doc)


def revoke(cluster, playbooks: Iterable[str]) -> None:
    for pb in playbooks:
        for doc in rbac_documents(pb):
            remove(cluster, doc)


def bound_role_names(cluster) -> Set[str]:
    """Names of every Role/ClusterRole some binding of ours grants to the ServiceAccount."""
    found = set()
    for plural in ("rolebindings", "clusterrolebindings"):
        for b in cluster.list(RBAC_API, plural):
            if any(s.get("kind") == "ServiceAccount" and s.get("name") == SA_NAME
                   and s.get("namespace") == SA_NAMESPACE for s in b.get("subjects") or []):
                found.add(b["roleRef"]["name"])
    return found


def service_account_token(fleet, cluster: str, seconds: int = 3600) -> str:
    """A bound token from the TokenRequest API (what ``kubectl create token meshpki -n meshpki-system``
    prints), asked for as the admin through the official Python client."""
    from kubernetes import client as k8s
    api = fleet.python_client(cluster)
    try:
        spec = k8s.V1TokenRequestSpec(audiences=[], expiration_seconds=seconds)
        tr = k8s.CoreV1Api(api).create_namespaced_service_account_token(
            SA_NAME, SA_NAMESPACE, k8s.AuthenticationV1TokenRequest(spec=spec))
    finally:
        api.close()
    return tr.status.token


def token_inventory(fleet, directory: Path, hosts: Optional[Iterable[str]] = None) -> Path:
    """A copy of the fleet's inventory whose hosts each carry a kubeconfig with the ServiceAccount's token
    for that cluster (and no admin credentials anywhere). Returns its path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    inventory = fleet.inventory_dict()
    all_hosts = inventory["all"]["children"]["clusters"]["hosts"]
    for name in list(all_hosts):
        if hosts is not None and name not in hosts:
            del all_hosts[name]
            continue
        create_service_account(fleet[name])
        kubeconfig = fleet.write_kubeconfig(directory / f"{name}.kubeconfig",
                                            {"token": service_account_token(fleet, name)}, cluster=name)
        all_hosts[name].update(k8s_kubeconfig=kubeconfig, k8s_context=name)
    path = directory / "inventory.yml"
    path.write_text(yaml.safe_dump(inventory, sort_keys=False))
    return path


def attributes(entry: dict) -> Attr:
    """One request-log entry as the authorizer sees it (kubesim's requestinfo.py, after requestinfo.go)."""
    req = Request(method=entry["method"], path=entry["path"], query=parse_request_query(entry.get("query") or ""),
                  headers={}, raw_query=entry.get("query") or "")
    info = request_info(req)
    if not info.resource_request:
        return (info.verb, "", info.path, "", "", "")
    return (info.verb, info.api_group, info.resource, info.subresource, info.namespace, info.name)


def requested(cluster, since: int = 0) -> List[Tuple[Attr, int]]:
    """(attributes, status) of every API request logged on ``cluster`` from log position ``since``."""
    return [(attributes(e), e["status"]) for e in list(cluster.requests)[since:]]


def rule_label(rule: dict) -> str:
    """A short human name of one rule: verbs, resources, resourceNames."""
    res = ",".join(rule.get("resources") or rule.get("nonResourceURLs") or [])
    names = f" [{','.join(rule['resourceNames'])}]" if rule.get("resourceNames") else ""
    return f"{'/'.join(rule['verbs'])} {res}{names}"


def without_rule(role: dict, index: int) -> dict:
    trimmed = copy.deepcopy(role)
    del trimmed["rules"][index]
    return trimmed


def rules_of(playbook: str) -> List[Tuple[dict, int, dict]]:
    """(role, index, rule) for every rule of every role of docs/rbac/<playbook>.yaml."""
    return [(role, i, rule) for role in roles(playbook) for i, rule in enumerate(role.get("rules") or [])]


def forbidden_text(verb: str, resource: str) -> str:
    """What the server's 403 message says for a denied request: ``cannot <verb> resource "<resource>"``
    with the subresource joined by "/" (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/
    errors.go ``forbiddenMessage``)."""
    return f'cannot {verb} resource "{resource}"'


def rule_matches(rule: dict, role_namespace: str, attr: Attr) -> bool:
    """Whether one PolicyRule of a Role in ``role_namespace`` ("" for a ClusterRole bound cluster-wide)
    allows a request (pkg/apis/rbac/v1/evaluation_helpers.go ``RuleAllows``: VerbMatches,
    APIGroupMatches, ResourceMatches with "resource/subresource", ResourceNameMatches)."""
    verb, group, resource, sub, namespace, name = attr
    if role_namespace and namespace != role_namespace:
        return False
    verbs = rule.get("verbs") or []
    if "*" not in verbs and verb not in verbs:
        return False
    if "resources" not in rule:
        return False
    groups = rule.get("apiGroups") or []
    if "*" not in groups and group not in groups:
        return False
    combined = f"{resource}/{sub}" if sub else resource
    if not any(r in ("*", combined) or (sub and r == f"*/{sub}") for r in rule["resources"]):
        return False
    names = rule.get("resourceNames") or []
    return not names or name in names
