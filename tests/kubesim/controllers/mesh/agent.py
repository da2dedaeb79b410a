"""One sidecar's istio-agent as far as certificates go (a simulation, not the agent).

Upstream (istio/istio):
- security/pkg/nodeagent/cache/secretcache.go: ``generateNewSecret`` (CSR with ``SECRET_TTL``, the
  response's last element is the root bundle, ``CreatedTime`` now, ``ExpireTime`` the leaf's NotAfter),
  ``rotateTime`` (renew at ``ExpireTime - SECRET_GRACE_PERIOD_RATIO * lifetime``, ±``SECRET_GRACE_PERIOD_RATIO_JITTER``
  from 1.24.0, PR #52102), ``UpdateConfigTrustBundle`` (a changed PCDS bundle replaces the configured trust
  bundle and, from 1.20.0 (#47701, the release-1.20 backport of #47424 for 1.21), drops the workload
  certificate and requests a new one at once), ``mergeConfigTrustBundle`` (ROOTCA = PCDS bundle ∪ the root
  bundle of the last CSR response, deduplicated).
- pkg/istio-agent/xds_proxy.go: the PCDS handler exists only when ``PROXY_CONFIG_XDS_AGENT`` was true when the
  agent started (pilot/cmd/pilot-agent/options/options.go ``enableProxyConfigXdsEnv``, read once).
- pilot/cmd/pilot-agent/options/options.go: ``SECRET_TTL`` 24h, ``SECRET_GRACE_PERIOD_RATIO`` 0.5,
  ``SECRET_GRACE_PERIOD_RATIO_JITTER`` 0.01.
- security/pkg/server/ca/server.go ``CreateCertificate`` and security/pkg/pki/util/generate_cert.go
  ``genCertTemplateFromCSR`` (istiod's side: leaf, every cert of ``cert-chain``, then the whole root bundle;
  KU digitalSignature|keyEncipherment, EKU serverAuth+clientAuth, critical URI SAN, NotBefore 2 minutes back,
  NotAfter clamped to the signing cert where ``leaf_clamped``).
"""

from __future__ import annotations

import datetime as _dt
import random
from typing import List, Optional

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from ... import pki
from ..istiod import pki as ipki

DEFAULT_TTL = 24 * 3600.0  # SECRET_TTL
GRACE_RATIO = 0.5  # SECRET_GRACE_PERIOD_RATIO
GRACE_JITTER = 0.01  # SECRET_GRACE_PERIOD_RATIO_JITTER (1.24.0+)
CLOCK_SKEW = _dt.timedelta(minutes=2)  # ClockSkewGracePeriod
MAX_TTL = 90 * 24 * 3600.0  # MAX_WORKLOAD_CERT_TTL
TRUST_DOMAIN = "cluster.local"


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


class SignError(Exception):
    """istiod refused the CSR (its message)."""


def sign_workload(bundle: ipki.Bundle, version: tuple, identity: str, ttl: float, now: _dt.datetime):
    """istiod's ``CreateCertificate`` for one CSR: (key, [leaf, chain certs...], root bundle bytes).

    The agent's key is ECDSA P-256 here (the real agent's default is RSA 2048 unless
    ``ECC_SIGNATURE_ALGORITHM=ECDSA``): cheaper, and no peer checks the key type."""
    if ttl > MAX_TTL:
        raise SignError(f"requested TTL {ttl}s is greater than the max allowed TTL {MAX_TTL}s")
    not_after = now + _dt.timedelta(seconds=ttl)
    if ipki.leaf_clamped(version):
        if now >= pki.not_after(bundle.cert):
            raise SignError(f"signing certificate has expired at {pki.not_after(bundle.cert)}")
        not_after = min(not_after, pki.not_after(bundle.cert))
    key = pki.generate_key("ECDSA", 256)
    leaf = pki.sign(subject=x509.Name([]), public_key=key.public_key(), not_before_=now - CLOCK_SKEW,
                    not_after_=not_after, is_ca_flag=False, key_usage={"digital_signature", "key_encipherment"},
                    ext_key_usage=[ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH],
                    san=pki.san_extension(uris=[identity]), signer_key=bundle.key, parent=bundle.cert)
    return key, [leaf] + bundle.chain_certs, bundle.root_bytes


class Agent:
    """The certificate state of one workload pod's sidecar."""

    def __init__(self, cluster: str, namespace: str, pod: str, uid: str, service_account: str,
                 proxy_version: tuple, pcds: bool, ttl: float = DEFAULT_TTL):
        self.cluster = cluster
        self.namespace = namespace
        self.pod = pod
        self.uid = uid
        self.identity = f"spiffe://{TRUST_DOMAIN}/ns/{namespace}/sa/{service_account}"
        self.proxy_version = proxy_version
        self.pcds = pcds  # PROXY_CONFIG_XDS_AGENT as the agent read it at start
        self.ttl = float(ttl)
        self.rng = random.Random(f"{cluster}/{namespace}/{pod}")  # seeded rotation jitter
        self.istiod: Optional[str] = None  # the istiod pod this agent's XDS/CA connection goes to
        self.chain: List[x509.Certificate] = []
        self._key = None  # never leaves the simulation
        self.ca_root_bytes = b""  # the root bundle of the last CSR response
        self.config_trust_bundle = b""  # the PCDS bundle (only with self.pcds)
        self.created: Optional[_dt.datetime] = None
        self.issued = 0
        self.last_error = ""

    @property
    def name(self) -> str:
        return f"{self.cluster}/{self.namespace}/{self.pod}"

    @property
    def leaf(self) -> Optional[x509.Certificate]:
        return self.chain[0] if self.chain else None

    @property
    def reissues_on_trust_change(self) -> bool:
        """UpdateConfigTrustBundle drops the workload cert from 1.20.0 (#47701; 1.21.0 on master, #47424)."""
        return self.pcds and self.proxy_version >= (1, 20, 0)

    def trust_anchors(self) -> List[x509.Certificate]:
        """ROOTCA as Envoy gets it: mergeConfigTrustBundle(PCDS bundle, last CSR response's root bundle)."""
        seen, out = set(), []
        for cert in ipki._pool(self.config_trust_bundle) + ipki._pool(self.ca_root_bytes):
            d = der(cert)
            if d not in seen:
                seen.add(d)
                out.append(cert)
        return out

    def install(self, key, chain: List[x509.Certificate], root_bytes: bytes, now: _dt.datetime) -> None:
        self._key, self.chain, self.ca_root_bytes, self.created = key, chain, root_bytes, now
        self.issued += 1
        self.last_error = ""

    def drop(self) -> None:
        self.chain, self._key = [], None

    def rotate_delay(self, now: _dt.datetime) -> float:
        """rotateTime: seconds until the renewal (never negative)."""
        leaf = self.leaf
        if leaf is None or self.created is None:
            return 0.0
        ratio = GRACE_RATIO
        if self.proxy_version >= (1, 24, 0):
            ratio += self.rng.random() * GRACE_JITTER * (1 if self.rng.randrange(2) else -1)
            ratio = min(max(ratio, 0.0), 1.0)
        expire = pki.not_after(leaf)
        lifetime = (expire - self.created).total_seconds()
        return max((expire - _dt.timedelta(seconds=ratio * lifetime) - now).total_seconds(), 0.0)

    def update_config_trust_bundle(self, bundle: bytes) -> bool:
        """UpdateConfigTrustBundle: True when the agent must re-request its workload certificate now."""
        if bundle == self.config_trust_bundle:
            return False  # "skip for same trust bundle"
        self.config_trust_bundle = bundle
        return self.reissues_on_trust_change

    def describe(self) -> dict:
        """What ``istioctl proxy-config secret`` would show, as plain data (no key material)."""
        leaf = self.leaf
        return {"cluster": self.cluster, "namespace": self.namespace, "pod": self.pod, "identity": self.identity,
                "istiod": self.istiod, "proxy_version": ".".join(map(str, self.proxy_version)),
                "proxy_config_xds_agent": self.pcds, "certificates_issued": self.issued,
                "leaf_serial": pki.serial_hex(leaf) if leaf is not None else None,
                "leaf_issuer": pki.go_name_string(leaf.issuer) if leaf is not None else None,
                "leaf_not_after": pki.not_after(leaf).isoformat() if leaf is not None else None,
                "intermediate_serial": pki.serial_hex(self.chain[1]) if len(self.chain) > 1 else None,
                "trust_anchor_fingerprints": [pki.fingerprint(c) for c in self.trust_anchors()],
                "last_error": self.last_error}
