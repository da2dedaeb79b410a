"""May this user do this: the authorizer chain, the 403 it answers, impersonation and access reviews.

- The chain is kube-apiserver's (pkg/kubeapiserver/authorizer/config.go): the privileged-group
  authorizer first — ``system:masters`` may do anything (staging/src/k8s.io/apiserver/pkg/
  authorization/authorizerfactory/builtin.go ``NewPrivilegedGroups``) — then RBAC (``rbac``);
  a union answers with the first decision and joins the others' reasons
  (staging/src/k8s.io/apiserver/pkg/authorization/union/union.go).
- A denial is ``responsewriters.Forbidden``
  (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/errors.go): a Status
  ``apierrors.NewForbidden(groupResource, name, forbiddenMessage(attrs) [+ ": " + reason])``,
  e.g. ``secrets "cacerts" is forbidden: User "system:serviceaccount:ops:meshpki" cannot get
  resource "secrets" in API group "" in the namespace "istio-system"``.
- Impersonation (``Impersonate-User``, ``-Group``, ``-Uid``, ``-Extra-*``; kubectl ``--as``,
  ``--as-group``) follows staging/src/k8s.io/apiserver/pkg/endpoints/filters/impersonation.go
  (``WithImpersonation``): each header needs the ``impersonate`` verb on users, groups,
  serviceaccounts, uids or userextras, and the result gets ``system:authenticated``.
- SelfSubjectAccessReview / SubjectAccessReview / SelfSubjectRulesReview / SelfSubjectReview
  answer as pkg/registry/authorization/{selfsubjectaccessreview,subjectaccessreview,
  selfsubjectrulesreview}/rest.go and pkg/registry/authentication/selfsubjectreview/rest.go do
  (``kubectl auth can-i``, ``kubectl auth can-i --list``, ``kubectl auth whoami``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, List, Tuple

from ..controllers.base import ApiError
from . import rbac
from . import serviceaccount_tokens as sat
from .authentication import ANONYMOUS, AUTHENTICATED, MASTERS, UNAUTHENTICATED, UserInfo
from .requestinfo import Attributes

if TYPE_CHECKING:
    from ..cluster import Cluster  # noqa: F401
    from .request import Request  # noqa: F401


def authorize(cluster: "Cluster", user: UserInfo, attrs: Attributes) -> Tuple[bool, str]:
    """(allowed, reason) from the union of the privileged-group authorizer and RBAC."""
    if MASTERS in user.groups:
        return True, ""
    return rbac.authorize(cluster, user, attrs)


def forbidden_message(user: UserInfo, attrs: Attributes) -> str:
    """forbiddenMessage (responsewriters/errors.go)."""
    if not attrs.resource_request:
        return f'User "{user.name}" cannot {attrs.verb} path "{attrs.path}"'
    resource = attrs.resource + ("/" + attrs.subresource if attrs.subresource else "")
    if attrs.namespace:
        return (f'User "{user.name}" cannot {attrs.verb} resource "{resource}" in API group "{attrs.api_group}" '
                f'in the namespace "{attrs.namespace}"')
    return (f'User "{user.name}" cannot {attrs.verb} resource "{resource}" in API group "{attrs.api_group}" '
            f"at the cluster scope")


def forbidden(user: UserInfo, attrs: Attributes, reason: str) -> ApiError:
    """responsewriters.Forbidden → apierrors.NewForbidden(gr, name, msg) (apimachinery api/errors/errors.go)."""
    msg = forbidden_message(user, attrs) + (f": {reason}" if reason else "")
    gr = attrs.resource + (f".{attrs.api_group}" if attrs.api_group else "")
    if not attrs.resource:
        message = f"forbidden: {msg}"
    elif not attrs.name:
        message = f"{gr} is forbidden: {msg}"
    else:
        message = f'{gr} "{attrs.name}" is forbidden: {msg}'
    details = {}
    if attrs.name:
        details["name"] = attrs.name
    if attrs.api_group:
        details["group"] = attrs.api_group
    if attrs.resource:
        details["kind"] = attrs.resource
    return ApiError(403, "Forbidden", message, details)


def check(cluster: "Cluster", user: UserInfo, attrs: Attributes) -> None:
    """Raise the real 403 unless ``user`` may do ``attrs``."""
    allowed, reason = authorize(cluster, user, attrs)
    if not allowed:
        raise forbidden(user, attrs, reason)


# ---------------------------------------------------------------------------- impersonation


def impersonate(cluster: "Cluster", req: "Request", user: UserInfo) -> UserInfo:
    """The user the request acts as after its Impersonate-* headers (or ``user`` when it has none)."""
    h = req.headers
    name = h.get("impersonate-user")
    group_values = req.header_values("impersonate-group")
    uid = h.get("impersonate-uid")
    extras = {k[len("impersonate-extra-"):]: v for k, v in h.items() if k.startswith("impersonate-extra-")}
    if name is None and not group_values and uid is None and not extras:
        return user
    if not name:
        raise ApiError(500, "InternalError", "Internal error occurred: requested impersonation of "
                                             f"{', '.join(group_values) or 'extras'} without impersonating a user")
    sa = sat.split_username(name)
    checks: List[Attributes] = []
    if sa:
        checks.append(Attributes(verb="impersonate", resource_request=True, namespace=sa[0],
                                 resource="serviceaccounts", name=sa[1]))
    else:
        checks.append(Attributes(verb="impersonate", resource_request=True, resource="users", name=name))
    for g in group_values:
        checks.append(Attributes(verb="impersonate", resource_request=True, resource="groups", name=g))
    if uid is not None:
        checks.append(Attributes(verb="impersonate", resource_request=True, api_group="authentication.k8s.io",
                                 resource="uids", name=uid))
    for key, value in extras.items():
        for v in value.split(","):
            checks.append(Attributes(verb="impersonate", resource_request=True, api_group="authentication.k8s.io",
                                     resource="userextras", subresource=key, name=v.strip()))
    for attrs in checks:
        allowed, reason = authorize(cluster, user, attrs)
        if not allowed:
            raise forbidden(user, attrs, reason)
    groups = list(group_values)
    if sa and not group_values:
        groups = sat.groups(sa[0])
    if name != ANONYMOUS and AUTHENTICATED not in groups and UNAUTHENTICATED not in groups:
        groups.append(AUTHENTICATED)
    return UserInfo(name=name, groups=groups, uid=uid or "",
                    extra={k: [v.strip() for v in val.split(",")] for k, val in extras.items()},
                    authenticated_by="impersonation")


# ---------------------------------------------------------------------------- reviews


def _attributes_from_spec(spec: dict, name: str, kind: str) -> Attributes:
    ra, nra = spec.get("resourceAttributes"), spec.get("nonResourceAttributes")
    if bool(ra) == bool(nra):
        problem = "exactly one of nonResourceAttributes or resourceAttributes must be specified"
        raise ApiError(422, "Invalid", f'{kind}.authorization.k8s.io "{name}" is invalid: spec.resourceAttributes: '
                                       f"Invalid value: \"null\": {problem}",
                       {"name": name, "group": "authorization.k8s.io", "kind": kind,
                        "causes": [{"reason": "FieldValueInvalid", "message": f'Invalid value: "null": {problem}',
                                    "field": "spec.resourceAttributes"}]})
    if ra:
        return Attributes(verb=ra.get("verb", ""), resource_request=True, api_group=ra.get("group", ""),
                          api_version=ra.get("version", ""), namespace=ra.get("namespace", ""),
                          resource=ra.get("resource", ""), subresource=ra.get("subresource", ""),
                          name=ra.get("name", ""))
    return Attributes(verb=nra.get("verb", ""), resource_request=False, path=nra.get("path", ""))


def access_review(cluster: "Cluster", user: UserInfo, body: dict, kind: str) -> dict:
    """The status of a (Self)SubjectAccessReview."""
    spec = body.get("spec") or {}
    if kind == "SubjectAccessReview":
        subject = UserInfo(name=spec.get("user", ""), groups=list(spec.get("groups") or []), uid=spec.get("uid", ""),
                           extra=dict(spec.get("extra") or {}))
    else:
        subject = user
        spec = dict(spec)
    attrs = _attributes_from_spec(spec, (body.get("metadata") or {}).get("name", ""), kind)
    allowed, reason = authorize(cluster, subject, attrs)
    status = {"allowed": allowed}
    if reason:
        status["reason"] = reason
    return status


def rules_review(cluster: "Cluster", user: UserInfo, body: dict) -> dict:
    """The status of a SelfSubjectRulesReview (the union's RulesFor)."""
    namespace = (body.get("spec") or {}).get("namespace", "")
    res, nonres, errors = [], [], []
    if MASTERS in user.groups:  # builtin.go privilegedGroupAuthorizer.RulesFor
        res.append({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]})
        nonres.append({"verbs": ["*"], "nonResourceURLs": ["*"]})
    r, n, e = rbac.rules_for(cluster, user, namespace)
    res, nonres, errors = res + r, nonres + n, errors + e
    status = {"resourceRules": res, "nonResourceRules": nonres, "incomplete": False}
    if errors:
        status["evaluationError"] = rbac.aggregate(errors)
    return status


def user_info_dict(user: UserInfo) -> dict:
    out = {"username": user.name, "groups": list(user.groups)}
    if user.uid:
        out["uid"] = user.uid
    if user.extra:
        out["extra"] = {k: list(v) for k, v in user.extra.items()}
    return out
