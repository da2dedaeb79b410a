"""ServiceAccount tokens: the TokenRequest API, legacy token Secrets, and their validation.

Tokens are JWTs signed by a per-cluster key, as kube-apiserver signs them with
``--service-account-signing-key-file`` (pkg/serviceaccount/jwt.go: ``JWTTokenGenerator``,
``JWTTokenAuthenticator``; ``kid`` from ``keyIDFromPublicKey``). ECDSA P-256 (ES256) is one of
the key types upstream accepts.

- Bound tokens (TokenRequest, ``kubectl create token``): claims of pkg/serviceaccount/claims.go
  (``Claims``, ``validator.Validate``): issuer, audiences (default: the API audiences, i.e. the
  issuer), ``exp``/``nbf``/``iat`` on the cluster's simulated clock, and the ServiceAccount must
  still exist with the same uid. Request defaults and checks: expirationSeconds defaults to
  3600 (pkg/apis/authentication/v1/defaults.go) and must lie in [600 s, 2^32 s]
  (pkg/apis/authentication/validation/validation.go ``ValidateTokenRequest``); the registry
  handler is pkg/registry/core/serviceaccount/storage/token.go (``TokenREST.Create``).
- Legacy tokens (Secrets of type ``kubernetes.io/service-account-token``, filled by the token
  controller): claims of pkg/serviceaccount/legacy.go; valid while the Secret exists and holds
  that token and the ServiceAccount exists with the uid the Secret names.

The user is ``system:serviceaccount:<ns>:<name>`` in ``system:serviceaccounts`` and
``system:serviceaccounts:<ns>`` (staging/src/k8s.io/apiserver/pkg/authentication/serviceaccount/util.go).
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import json
import uuid
from typing import TYPE_CHECKING, Optional

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from ..controllers.base import ApiError
from ..util import rfc3339

if TYPE_CHECKING:
    from ..cluster import Cluster  # noqa: F401

ISSUER = "https://kubernetes.default.svc.cluster.local"  # kind's --service-account-issuer
LEGACY_ISSUER = "kubernetes/serviceaccount"
SA_PREFIX = "system:serviceaccount:"
DEFAULT_EXPIRATION = 3600
MIN_EXPIRATION = 600
MAX_EXPIRATION = 1 << 32
LEEWAY = 60  # claims.go: tokens are accepted up to a minute around nbf/exp (jwt.DefaultLeeway)


def username(namespace: str, name: str) -> str:
    return f"{SA_PREFIX}{namespace}:{name}"


def groups(namespace: str) -> list:
    return ["system:serviceaccounts", f"system:serviceaccounts:{namespace}"]


def split_username(name: str):
    """(namespace, name) of a ServiceAccount user name, else None (serviceaccount.SplitUsername)."""
    if not name.startswith(SA_PREFIX):
        return None
    parts = name[len(SA_PREFIX):].split(":")
    if len(parts) != 2 or not parts[0] or not parts[1]:
        return None
    return parts[0], parts[1]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    """One cluster's ServiceAccount signing key."""

    def __init__(self):
        self.key = ec.generate_private_key(ec.SECP256R1())
        der = self.key.public_key().public_bytes(serialization.Encoding.DER,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)
        self.kid = _b64(hashlib.sha256(der).digest())

    def sign(self, claims: dict) -> str:
        header = _b64(json.dumps({"alg": "ES256", "kid": self.kid}, separators=(",", ":")).encode())
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        r, s = decode_dss_signature(self.key.sign(f"{header}.{payload}".encode(), ec.ECDSA(hashes.SHA256())))
        return f"{header}.{payload}.{_b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"

    def verify(self, token: str) -> Optional[dict]:
        """The claims of a token this key signed, else None."""
        parts = token.split(".")
        if len(parts) != 3:
            return None
        try:
            header = json.loads(_unb64(parts[0]))
            sig = _unb64(parts[2])
            if header.get("alg") != "ES256" or len(sig) != 64:
                return None
            der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
            self.key.public_key().verify(der, f"{parts[0]}.{parts[1]}".encode(), ec.ECDSA(hashes.SHA256()))
            claims = json.loads(_unb64(parts[1]))
        except (ValueError, InvalidSignature, TypeError):
            return None
        return claims if isinstance(claims, dict) else None


def signer(cluster: "Cluster") -> Signer:
    """The cluster's signing key, made on first use (under the store lock: one key per cluster)."""
    with cluster.lock:
        if cluster.sa_signer is None:
            cluster.sa_signer = Signer()
        return cluster.sa_signer


# ---------------------------------------------------------------------------- issuing


def token_request(cluster: "Cluster", namespace: str, name: str, body) -> dict:
    """Answer POST serviceaccounts/<name>/token: the TokenRequest with ``status.token``."""
    from . import errors as E
    if not isinstance(body, dict):
        raise E.bad_request("the body of the request must be a TokenRequest object")
    sa = cluster.peek("v1", "serviceaccounts", namespace, name)
    if sa is None:
        raise ApiError(404, "NotFound", f'serviceaccounts "{name}" not found',
                       {"name": name, "kind": "serviceaccounts"})
    spec = dict(body.get("spec") or {})
    exp = spec.get("expirationSeconds")
    if exp is None:
        exp = DEFAULT_EXPIRATION
    if not isinstance(exp, int) or isinstance(exp, bool):
        raise E.bad_request("json: cannot unmarshal into Go struct field TokenRequestSpec.spec.expirationSeconds "
                            "of type int64")
    problem = None
    if exp < MIN_EXPIRATION:
        problem = "may not specify a duration less than 10 minutes"
    elif exp > MAX_EXPIRATION:
        problem = "may not specify a duration larger than 2^32 seconds"
    if problem:
        raise ApiError(422, "Invalid", f'TokenRequest.authentication.k8s.io "{name}" is invalid: '
                                       f"spec.expirationSeconds: Invalid value: {exp}: {problem}",
                       {"name": name, "group": "authentication.k8s.io", "kind": "TokenRequest",
                        "causes": [{"reason": "FieldValueInvalid", "message": f"Invalid value: {exp}: {problem}",
                                    "field": "spec.expirationSeconds"}]})
    audiences = list(spec.get("audiences") or []) or [ISSUER]
    now = cluster.now()
    iat = int(now.timestamp())
    claims = {"aud": audiences, "exp": iat + exp, "iat": iat, "iss": ISSUER, "jti": str(uuid.uuid4()),
              "kubernetes.io": {"namespace": namespace,
                                "serviceaccount": {"name": name, "uid": sa["metadata"]["uid"]}},
              "nbf": iat, "sub": username(namespace, name)}
    bound = spec.get("boundObjectRef")
    if isinstance(bound, dict) and bound.get("kind") in ("Pod", "Secret", "Node") and bound.get("name"):
        plural = {"Pod": "pods", "Secret": "secrets", "Node": "nodes"}[bound["kind"]]
        obj = cluster.peek("v1", plural, None if plural == "nodes" else namespace, bound["name"])
        if obj is None:
            raise ApiError(404, "NotFound", f'{plural} "{bound["name"]}" not found',
                           {"name": bound["name"], "kind": plural})
        claims["kubernetes.io"][bound["kind"].lower()] = {"name": bound["name"], "uid": obj["metadata"]["uid"]}
    spec.update({"audiences": audiences, "expirationSeconds": exp, "boundObjectRef": bound})
    return {"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"name": name, "namespace": namespace, "creationTimestamp": None},
            "spec": spec,
            "status": {"token": signer(cluster).sign(claims),
                       "expirationTimestamp": rfc3339(now + _dt.timedelta(seconds=exp))}}


def legacy_token(cluster: "Cluster", namespace: str, secret_name: str, sa_name: str, sa_uid: str) -> str:
    """The token the token controller writes into a service-account-token Secret (legacy.go claims)."""
    return signer(cluster).sign({
        "iss": LEGACY_ISSUER,
        "kubernetes.io/serviceaccount/namespace": namespace,
        "kubernetes.io/serviceaccount/secret.name": secret_name,
        "kubernetes.io/serviceaccount/service-account.name": sa_name,
        "kubernetes.io/serviceaccount/service-account.uid": sa_uid,
        "sub": username(namespace, sa_name)})


# ---------------------------------------------------------------------------- validating


def authenticate(cluster: "Cluster", token: str):
    """The ServiceAccount user a token stands for, or None (the token is not valid here)."""
    from .authentication import UserInfo
    if cluster.sa_signer is None or token.count(".") != 2:
        return None
    claims = cluster.sa_signer.verify(token)
    if claims is None:
        return None
    if claims.get("iss") == LEGACY_ISSUER:
        ns = claims.get("kubernetes.io/serviceaccount/namespace", "")
        sa_name = claims.get("kubernetes.io/serviceaccount/service-account.name", "")
        uid = claims.get("kubernetes.io/serviceaccount/service-account.uid", "")
        secret = cluster.peek("v1", "secrets", ns, claims.get("kubernetes.io/serviceaccount/secret.name", ""))
        if secret is None or secret.get("type") != "kubernetes.io/service-account-token":
            return None
        stored = (secret.get("data") or {}).get("token")
        if not stored or base64.b64decode(stored).decode("ascii", "replace") != token:
            return None
    elif claims.get("iss") == ISSUER:
        aud = claims.get("aud")
        aud = [aud] if isinstance(aud, str) else aud or []
        if ISSUER not in aud:
            return None
        now = cluster.now().timestamp()
        if not isinstance(claims.get("exp"), (int, float)) or now > claims["exp"] + LEEWAY:
            return None
        if isinstance(claims.get("nbf"), (int, float)) and now < claims["nbf"] - LEEWAY:
            return None
        private = claims.get("kubernetes.io") or {}
        ns = private.get("namespace", "")
        sa_name = (private.get("serviceaccount") or {}).get("name", "")
        uid = (private.get("serviceaccount") or {}).get("uid", "")
        for kind, plural in (("pod", "pods"), ("secret", "secrets")):
            ref = private.get(kind)
            if ref:
                obj = cluster.peek("v1", plural, ns, ref.get("name", ""))
                if obj is None or obj["metadata"].get("uid") != ref.get("uid"):
                    return None
    else:
        return None
    sa = cluster.peek("v1", "serviceaccounts", ns, sa_name)
    if sa is None or sa["metadata"].get("uid") != uid:
        return None
    return UserInfo(name=username(ns, sa_name), groups=groups(ns), uid=uid, authenticated_by="serviceaccount",
                    extra={})
