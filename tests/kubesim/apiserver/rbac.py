"""RBAC evaluated from the stored Roles, ClusterRoles and their bindings, and the default policy.

A transcription of the real authorizer:
- plugin/pkg/auth/authorizer/rbac/rbac.go: ``RBACAuthorizer.Authorize`` (allow on the first rule
  that matches, reason ``RBAC: allowed by <binding>``; otherwise no opinion, with the rule
  resolution errors as the reason), ``RuleAllows`` and ``RulesFor``;
- pkg/apis/rbac/v1/evaluation_helpers.go: ``VerbMatches``, ``APIGroupMatches``,
  ``ResourceMatches`` (``*``, ``resource/subresource``, ``*/subresource``),
  ``ResourceNameMatches``, ``NonResourceURLMatches`` (``*`` and trailing-``*`` prefixes);
- pkg/registry/rbac/validation/rule.go: ``DefaultRuleResolver.VisitRulesFor`` (every
  ClusterRoleBinding, then the RoleBindings of the request's namespace), ``appliesTo``
  (User by name, Group by membership, ServiceAccount by namespace/name — the binding's
  namespace when the subject has none), ``GetRoleReferenceRules`` and the descriptions used in
  the reasons (``ClusterRoleBinding "x" of ClusterRole "y" to Group "z"``).
The bootstrap roles and bindings are those of
plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go (``ClusterRoles``,
``ClusterRoleBindings``) that a client needs to discover the API and ask what it may do.
ClusterRole aggregation (``aggregationRule``) is not evaluated.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator, List, Optional, Tuple

from .requestinfo import Attributes

if TYPE_CHECKING:
    from ..cluster import Cluster  # noqa: F401
    from .authentication import UserInfo  # noqa: F401

RBAC = "rbac.authorization.k8s.io/v1"
_BOOTSTRAP_META = {"labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
                   "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"}}


def bootstrap_policy() -> List[dict]:
    """The default ClusterRoles and ClusterRoleBindings kubesim creates (policy.go)."""
    def role(name, rules):
        return {"apiVersion": RBAC, "kind": "ClusterRole", "metadata": dict(_BOOTSTRAP_META, name=name),
                "rules": rules}

    def binding(name, *groups):
        return {"apiVersion": RBAC, "kind": "ClusterRoleBinding", "metadata": dict(_BOOTSTRAP_META, name=name),
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
                "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": g} for g in groups]}
    return [
        role("cluster-admin", [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                               {"nonResourceURLs": ["*"], "verbs": ["*"]}]),
        role("system:discovery", [{"nonResourceURLs": ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez",
                                                       "/openapi", "/openapi/*", "/readyz", "/version", "/version/"],
                                   "verbs": ["get"]}]),
        role("system:basic-user", [{"apiGroups": ["authorization.k8s.io"],
                                    "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
                                    "verbs": ["create"]},
                                   # kubectl auth whoami (kubernetes/kubernetes PR 116274)
                                   {"apiGroups": ["authentication.k8s.io"], "resources": ["selfsubjectreviews"],
                                    "verbs": ["create"]}]),
        role("system:public-info-viewer", [{"nonResourceURLs": ["/healthz", "/livez", "/readyz", "/version",
                                                                "/version/"], "verbs": ["get"]}]),
        binding("cluster-admin", "system:masters"),
        binding("system:discovery", "system:authenticated"),
        binding("system:basic-user", "system:authenticated"),
        binding("system:public-info-viewer", "system:authenticated", "system:unauthenticated"),
    ]


# ---------------------------------------------------------------------------- matching (evaluation_helpers.go)


def _verb_matches(rule: dict, verb: str) -> bool:
    return any(v == "*" or v == verb for v in rule.get("verbs") or ())


def _group_matches(rule: dict, group: str) -> bool:
    return any(g == "*" or g == group for g in rule.get("apiGroups") or ())


def _resource_matches(rule: dict, combined: str, subresource: str) -> bool:
    for r in rule.get("resources") or ():
        if r == "*" or r == combined:
            return True
        if subresource and len(r) == len(subresource) + 2 and r.startswith("*/") and r.endswith(subresource):
            return True
    return False


def _name_matches(rule: dict, name: str) -> bool:
    names = rule.get("resourceNames") or ()
    return not names or name in names


def _url_matches(rule: dict, path: str) -> bool:
    for u in rule.get("nonResourceURLs") or ():
        if u == "*" or u == path or (u.endswith("*") and path.startswith(u.rstrip("*"))):
            return True
    return False


def rule_allows(attrs: Attributes, rule: dict) -> bool:
    """RuleAllows (rbac.go)."""
    if attrs.resource_request:
        combined = attrs.resource + ("/" + attrs.subresource if attrs.subresource else "")
        return (_verb_matches(rule, attrs.verb) and _group_matches(rule, attrs.api_group)
                and _resource_matches(rule, combined, attrs.subresource) and _name_matches(rule, attrs.name))
    return _verb_matches(rule, attrs.verb) and _url_matches(rule, attrs.path)


# ---------------------------------------------------------------------------- rule resolution (rule.go)


def _applies_to(user: "UserInfo", subject: dict, namespace: str) -> bool:
    kind = subject.get("kind")
    if kind == "User":
        return user.name == subject.get("name")
    if kind == "Group":
        return subject.get("name") in user.groups
    if kind == "ServiceAccount":
        sa_ns = subject.get("namespace") or namespace
        if not sa_ns:
            return False
        return user.name == f"system:serviceaccount:{sa_ns}:{subject.get('name', '')}"
    return False


def _describe_subject(subject: dict, binding_ns: str) -> str:
    if subject.get("kind") == "ServiceAccount":
        return f'ServiceAccount "{subject.get("name", "")}/{subject.get("namespace") or binding_ns}"'
    return f'{subject.get("kind", "")} "{subject.get("name", "")}"'


def _role_rules(cluster: "Cluster", ref: dict, namespace: str) -> Tuple[Optional[list], Optional[str]]:
    kind, name = ref.get("kind"), ref.get("name", "")
    if kind == "Role":
        role = cluster.peek(RBAC, "roles", namespace, name)
        return (role.get("rules") or [], None) if role else (None, f'role.rbac.authorization.k8s.io "{name}" not found')
    if kind == "ClusterRole":
        role = cluster.peek(RBAC, "clusterroles", None, name)
        return ((role.get("rules") or [], None) if role else
                (None, f'clusterrole.rbac.authorization.k8s.io "{name}" not found'))
    return None, f'unsupported role reference kind: "{kind}"'


def visit_rules(cluster: "Cluster", user: "UserInfo", namespace: str) -> Iterator[Tuple[Optional[str], Optional[dict],
                                                                                      Optional[str]]]:
    """(source description, rule, error) for every rule that applies to ``user`` in ``namespace``."""
    for b in sorted(cluster.peek(RBAC, "clusterrolebindings") or [], key=lambda o: o["metadata"]["name"]):
        subject = next((s for s in b.get("subjects") or [] if _applies_to(user, s, "")), None)
        if subject is None:
            continue
        rules, err = _role_rules(cluster, b.get("roleRef") or {}, "")
        if err:
            yield None, None, err
            continue
        ref = b.get("roleRef") or {}
        source = (f'ClusterRoleBinding "{b["metadata"]["name"]}" of {ref.get("kind")} "{ref.get("name")}" '
                  f'to {_describe_subject(subject, "")}')
        for rule in rules:
            yield source, rule, None
    if not namespace:
        return
    for b in sorted(cluster.peek(RBAC, "rolebindings", namespace) or [], key=lambda o: o["metadata"]["name"]):
        subject = next((s for s in b.get("subjects") or [] if _applies_to(user, s, namespace)), None)
        if subject is None:
            continue
        rules, err = _role_rules(cluster, b.get("roleRef") or {}, namespace)
        if err:
            yield None, None, err
            continue
        ref = b.get("roleRef") or {}
        source = (f'RoleBinding "{b["metadata"]["name"]}/{namespace}" of {ref.get("kind")} "{ref.get("name")}" '
                  f'to {_describe_subject(subject, namespace)}')
        for rule in rules:
            yield source, rule, None


def aggregate(errors: List[str]) -> str:
    """utilerrors.NewAggregate(...).Error(): one message as is, several as "[a, b]" (deduplicated)."""
    seen = list(dict.fromkeys(errors))
    return seen[0] if len(seen) == 1 else "[" + ", ".join(seen) + "]"


def authorize(cluster: "Cluster", user: "UserInfo", attrs: Attributes) -> Tuple[bool, str]:
    """(allowed, reason) as RBACAuthorizer.Authorize decides."""
    errors = []
    with cluster.lock:
        for source, rule, err in visit_rules(cluster, user, attrs.namespace):
            if rule is not None and rule_allows(attrs, rule):
                return True, f"RBAC: allowed by {source}"
            if err:
                errors.append(err)
    return False, ("RBAC: " + aggregate(errors)) if errors else ""


def rules_for(cluster: "Cluster", user: "UserInfo", namespace: str) -> Tuple[List[dict], List[dict], List[str]]:
    """(resource rules, non-resource rules, errors) as RBACAuthorizer.RulesFor returns them."""
    res, nonres, errors = [], [], []
    with cluster.lock:
        for _source, rule, err in visit_rules(cluster, user, namespace):
            if err:
                errors.append(err)
                continue
            if rule.get("resources"):
                out = {"verbs": list(rule.get("verbs") or []), "apiGroups": list(rule.get("apiGroups") or []),
                       "resources": list(rule["resources"])}
                if rule.get("resourceNames"):
                    out["resourceNames"] = list(rule["resourceNames"])
                res.append(out)
            if rule.get("nonResourceURLs"):
                nonres.append({"verbs": list(rule.get("verbs") or []),
                               "nonResourceURLs": list(rule["nonResourceURLs"])})
    return res, nonres, errors
