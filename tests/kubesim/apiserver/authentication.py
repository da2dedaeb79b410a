"""Who is asking: client certificates, bearer tokens, anonymous — and the 401 when nobody is.

Follows kube-apiserver's authenticator chain (pkg/kubeapiserver/authenticator/config.go
``BuildAuthenticator``): a union tried in order — x509 client certificates
(staging/src/k8s.io/apiserver/pkg/authentication/request/x509/x509.go), the static token file
(staging/src/k8s.io/apiserver/pkg/authentication/token/tokenfile/tokenfile.go), ServiceAccount
tokens (pkg/serviceaccount/jwt.go; see ``serviceaccount_tokens``) — whose first success wins.
A bearer token no authenticator accepts is an error, so the request fails with 401 instead of
falling through to anonymous (``union.NewFailOnError``). Every authenticated user gets the
``system:authenticated`` group
(staging/src/k8s.io/apiserver/pkg/authentication/group/authenticated_group_adder.go).
A failure is answered by ``filters.Unauthorized``
(staging/src/k8s.io/apiserver/pkg/endpoints/filters/authentication.go):
``apierrors.NewUnauthorized("Unauthorized")``, a Status with no details.

Anonymous requests (``--anonymous-auth``, on by default upstream) are off by default here, as
on hardened clusters: no credentials is a 401. With ``cluster.anonymous_auth`` they become
``system:anonymous`` in ``system:unauthenticated``
(staging/src/k8s.io/apiserver/pkg/authentication/request/anonymous/anonymous.go).

Plain HTTP (the ``KUBESIM_PLAIN_HTTP`` escape hatch) behaves like the insecure port that
kube-apiserver had until 1.20: a request without credentials is ``system:unsecured`` in
``system:masters`` (unless the cluster requires a token); credentials, when sent, are checked
as over HTTPS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Dict, List, Optional

from ..controllers.base import ApiError
from . import serviceaccount_tokens as sat

if TYPE_CHECKING:
    from ..cluster import Cluster  # noqa: F401
    from .request import Request  # noqa: F401

AUTHENTICATED = "system:authenticated"
UNAUTHENTICATED = "system:unauthenticated"
ANONYMOUS = "system:anonymous"
MASTERS = "system:masters"


@dataclass
class UserInfo:
    """user.Info: name, uid, groups, extra (staging/src/k8s.io/apiserver/pkg/authentication/user/user.go)."""

    name: str
    groups: List[str] = field(default_factory=list)
    uid: str = ""
    extra: Dict[str, List[str]] = field(default_factory=dict)
    authenticated_by: str = ""  # x509, token, serviceaccount, anonymous, insecure (kubesim's own bookkeeping)


def unauthorized() -> ApiError:
    """apierrors.NewUnauthorized("Unauthorized"): code 401, reason and message Unauthorized, no details."""
    return ApiError(401, "Unauthorized", "Unauthorized", omit_details=True)


def _with_authenticated_group(u: UserInfo) -> UserInfo:
    if AUTHENTICATED not in u.groups and UNAUTHENTICATED not in u.groups:
        u.groups = list(u.groups) + [AUTHENTICATED]
    return u


def _bearer(req: "Request") -> Optional[str]:
    """The token of ``Authorization: Bearer <token>`` (bearertoken.go: scheme case-insensitive)."""
    auth = (req.headers.get("authorization") or "").strip()
    parts = auth.split(" ")
    if len(parts) < 2 or parts[0].lower() != "bearer":
        return None
    return parts[1] if len(parts) == 2 else ""


def authenticate(cluster: "Cluster", req: "Request") -> UserInfo:
    """The request's user, or raise the 401 ApiError."""
    if req.peer is not None:  # verified by the TLS handshake against the cluster CA
        name, groups = req.peer
        return _with_authenticated_group(UserInfo(name=name, groups=list(groups), authenticated_by="x509"))
    token = _bearer(req)
    if token is not None:
        if not token:
            raise unauthorized()  # bearertoken.go: "invalid bearer token" (empty)
        static = cluster.static_tokens.get(token)
        if static is not None:
            return _with_authenticated_group(UserInfo(name=static.name, groups=list(static.groups), uid=static.uid,
                                                      authenticated_by="token"))
        sa_user = sat.authenticate(cluster, token)
        if sa_user is not None:
            return _with_authenticated_group(sa_user)
        raise unauthorized()
    if cluster.required_token is not None:
        raise unauthorized()
    if not cluster.tls:
        return UserInfo(name="system:unsecured", groups=[MASTERS, AUTHENTICATED], authenticated_by="insecure")
    if cluster.anonymous_auth:
        return UserInfo(name=ANONYMOUS, groups=[UNAUTHENTICATED], authenticated_by="anonymous")
    raise unauthorized()
