"""istiod's checks on plugged CA material, with the error texts Go and istio produce.

Upstream: istio pilot/pkg/bootstrap/istio_ca.go (file names, ``detectSigningCABundleAndCRL``, chain
building), security/pkg/pki/util/keycertbundle.go (``UpdateVerifiedKeyCertBundleFromFile``/``Verify``),
security/pkg/pki/ca/ca.go (startup-only IsCA check), ``ParsePemEncodedKey``, Go's ``tls.X509KeyPair``
and ``x509.Certificate.Verify`` rules.
"""

from __future__ import annotations

import datetime as _dt
import threading
from typing import Dict, List, Optional, Tuple

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from ... import pki

DIR = "./etc/cacerts"  # LocalCertDir default
JOINED_DIR = "etc/cacerts"  # what path.Join(LocalCertDir, name) prints

TLS_FILES = {"cert": "tls.crt", "key": "tls.key", "root": "ca.crt", "chain": ["tls.crt", "ca.crt"]}
NATIVE_FILES = {"cert": "ca-cert.pem", "key": "ca-key.pem", "root": "root-cert.pem", "chain": ["cert-chain.pem"]}
CRL_FILE = "ca-crl.pem"  # ca.CACRLFile (security/pkg/pki/ca/ca.go), read from Istio 1.27.0


class BundleError(Exception):
    """Carries istio's error text."""


_SERVING_KEYS: dict = {}
_SERVING_KEYS_LOCK = threading.Lock()


def serving_key(algorithm: str, size: int):
    """The key of istiod's DNS serving cert: one pre-generated key per (algorithm, size) per process.

    That private key never leaves the simulation (no Secret, no TLS listener; only the
    certificate's serial and dates are logged) and nothing compares it across pods, so
    sharing it is invisible to clients while it saves an RSA-2048 generation (~60 ms) per
    istiod start or reload. Keys that clients can see are always generated fresh.
    """
    with _SERVING_KEYS_LOCK:
        key = _SERVING_KEYS.get((algorithm, size))
        if key is None:
            key = _SERVING_KEYS[(algorithm, size)] = pki.generate_key(algorithm, size)
        return key


def file_bundle(files: Dict[str, bytes], version: tuple) -> Tuple[dict, Optional[str]]:
    """detectSigningCABundle: (file names, format log line or None before 1.14.2)."""
    if version >= (1, 14, 2):
        if "tls.crt" in files:
            return TLS_FILES, "Using kubernetes.io/tls secret type for signing ca files"
        return NATIVE_FILES, "Using istiod file format for signing ca files"
    return NATIVE_FILES, None


def crl_file(files: Dict[str, bytes], names: dict, version: tuple, enabled: bool) -> Optional[str]:
    """detectSigningCABundleAndCRL (pilot/pkg/bootstrap/istio_ca.go, 1.27+): with PILOT_ENABLE_CA_CRL (default
    true) and Istio's own file names only (the kubernetes.io/tls branch returns first), ca-crl.pem if it exists."""
    if version < (1, 27, 0) or not enabled or names is TLS_FILES or CRL_FILE not in files:
        return None
    return CRL_FILE


def path(name: str) -> str:
    return f"{JOINED_DIR}/{name}"


def read(files: Dict[str, bytes], name: str) -> bytes:
    if name not in files:
        raise BundleError(f"open {path(name)}: no such file or directory")
    return files[name]


def _first_cert(data: bytes) -> x509.Certificate:
    """util.ParsePemEncodedCertificate: only the first PEM block counts."""
    blocks = pki.pem_blocks(data)
    if not blocks:
        raise BundleError("invalid PEM encoded certificate")
    try:
        return x509.load_der_x509_certificate(blocks[0][1])
    except Exception:  # noqa: BLE001
        raise BundleError("failed to parse X.509 certificate") from None


def _pool(data: bytes) -> List[x509.Certificate]:
    """x509.CertPool.AppendCertsFromPEM: every parseable CERTIFICATE block, the rest ignored."""
    out = []
    for kind, der in pki.pem_blocks(data or b""):
        if kind != "CERTIFICATE":
            continue
        try:
            out.append(x509.load_der_x509_certificate(der))
        except Exception:  # noqa: BLE001
            continue
    return out


def _go_time(when: _dt.datetime) -> str:
    return when.astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _validity_error(cert: x509.Certificate, now: _dt.datetime) -> Optional[str]:
    nb, na = pki.not_before(cert), pki.not_after(cert)
    if now < nb:
        return (f"x509: certificate has expired or is not yet valid: current time {_go_time(now)} is before "
                f"{_go_time(nb)}")
    if now > na:
        return (f"x509: certificate has expired or is not yet valid: current time {_go_time(now)} is after "
                f"{_go_time(na)}")
    return None


def _cert_name(cert: x509.Certificate) -> str:
    cn = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    if cn:
        return cn[-1].value
    org = cert.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)
    if org:
        return org[0].value
    return f"serial:{cert.serial_number}"


def _signature_error(child: x509.Certificate, parent: x509.Certificate) -> Optional[str]:
    if not pki.can_sign_certs(parent):
        return "x509: invalid signature: parent certificate cannot sign this kind of certificate"
    if not pki.directly_issued_by(child, parent):
        pub = parent.public_key()
        if isinstance(pub, rsa.RSAPublicKey):
            return "crypto/rsa: verification error"
        if isinstance(pub, ec.EllipticCurvePublicKey):
            return "x509: ECDSA verification failure"
        return "x509: Ed25519 verification failure"
    return None


def _max_path_len(cert: x509.Certificate) -> int:
    try:
        bc = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return 1 << 30
    return (1 << 30) if bc.path_length is None else bc.path_length


def _eku_ok(chain: List[x509.Certificate]) -> bool:
    """Go's checkChainForKeyUsage with the default requested usage (serverAuth)."""
    for cert in chain:
        try:
            ekus = list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
        except x509.ExtensionNotFound:
            continue
        if not ekus or ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE in ekus:
            continue
        ok = {ExtendedKeyUsageOID.SERVER_AUTH, x509.ObjectIdentifier("1.3.6.1.4.1.311.10.3.3"),
              x509.ObjectIdentifier("2.16.840.1.113730.4.1")}
        if not ok.intersection(ekus):
            return False
    return True


def go_verify(leaf: x509.Certificate, intermediates: List[x509.Certificate], roots: List[x509.Certificate],
              now: _dt.datetime) -> Optional[str]:
    """x509.Certificate.Verify with istiod's options; returns Go's error text or None."""
    err = _validity_error(leaf, now)
    if err:
        return err
    root_ders = {c.public_bytes(serialization.Encoding.DER) for c in roots}
    chains: List[List[x509.Certificate]] = []
    hint: List[Optional[Tuple[str, x509.Certificate]]] = [None]

    def build(chain: List[x509.Certificate], depth: int) -> None:
        if depth > 10:
            return
        cur = chain[-1]
        for pool, is_root in ((roots, True), (intermediates, False)):
            for cand in pool:
                if any(cand.public_bytes(serialization.Encoding.DER) == c.public_bytes(serialization.Encoding.DER)
                       for c in chain):
                    continue
                if cand.subject != cur.issuer:
                    continue
                serr = _signature_error(cur, cand)
                if serr:
                    if hint[0] is None:
                        hint[0] = (serr, cand)
                    continue
                verr = _validity_error(cand, now)
                if verr is None and not is_root and not pki.is_ca(cand):
                    verr = "x509: certificate is not authorized to sign other certificates"
                if verr is None and len(chain) - 1 > _max_path_len(cand):
                    verr = "x509: too many intermediates for path length constraint"
                if verr:
                    if hint[0] is None:
                        hint[0] = (verr, cand)
                    continue
                if is_root:
                    chains.append(chain + [cand])
                else:
                    build(chain + [cand], depth + 1)

    if leaf.public_bytes(serialization.Encoding.DER) in root_ders:
        chains.append([leaf])
    else:
        build([leaf], 0)
    if not chains:
        msg = "x509: certificate signed by unknown authority"
        if hint[0] is not None:
            msg += f' (possibly because of "{hint[0][0]}" while trying to verify candidate authority certificate ' \
                   f'"{_cert_name(hint[0][1])}")'
        return msg
    if not any(_eku_ok(c) for c in chains):
        return "x509: certificate specifies an incompatible key usage"
    return None


def parse_pem_key(data: bytes):
    """util.ParsePemEncodedKey: EC PRIVATE KEY, RSA PRIVATE KEY (PKCS#1) or PRIVATE KEY (PKCS#8)."""
    blocks = pki.pem_blocks(data or b"")
    if not blocks:
        raise BundleError("invalid PEM-encoded key")
    kind, der = blocks[0]
    names = {"EC PRIVATE KEY": "ECDSA", "RSA PRIVATE KEY": "RSA", "PRIVATE KEY": "PKCS8"}
    if kind not in names:
        raise BundleError(f"unsupported PEM block type for a private key: {kind}")
    try:
        return pki.parse_private_key(pki.pem_encode(kind, der))
    except pki.PKIError as exc:
        raise BundleError(f"failed to parse the {names[kind]} private key: {exc}") from None


def _crl_signed_by(crl: x509.CertificateRevocationList, parent: x509.Certificate) -> bool:
    """Go's RevocationList.CheckSignatureFrom: the parent must be a CA (a v3 certificate needs basicConstraints),
    with cRLSign when it has a keyUsage, and its key must verify the CRL's signature."""
    try:
        if not parent.extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
            return False
    except x509.ExtensionNotFound:
        if parent.version == x509.Version.v3:
            return False
    try:
        if not parent.extensions.get_extension_for_class(x509.KeyUsage).value.crl_sign:
            return False
    except x509.ExtensionNotFound:
        pass
    try:
        return crl.is_signature_valid(parent.public_key())
    except Exception:  # noqa: BLE001 - unsupported key types cannot have signed it
        return False


def crl_error(chain_bytes: bytes, crl_bytes: bytes) -> Optional[str]:
    """util.Verify's CRL step (security/pkg/pki/util/keycertbundle.go, 1.27+), only when the CRL is not empty:
    every certificate of the chain files (each PEM block, whatever its type) needs a CRL it signed."""
    if not crl_bytes:
        return None
    signers: Dict[str, x509.Certificate] = {}
    for _kind, der in pki.pem_blocks(chain_bytes or b""):
        try:
            cert = x509.load_der_x509_certificate(der)
        except Exception:  # noqa: BLE001
            return "failed to parse cert chain: x509: malformed certificate"
        signers[pki.go_name_string(cert.subject)] = cert  # keyed by Subject.String(), as upstream
    crls = []
    for _kind, der in pki.pem_blocks(crl_bytes):
        try:
            crls.append(x509.load_der_x509_crl(der))
        except Exception:  # noqa: BLE001
            return "failed to parse CRL PEM: x509: malformed crl"
    missing = dict(signers)
    for crl in crls:
        for subject, cert in list(missing.items()):
            if _crl_signed_by(crl, cert):
                del missing[subject]
        if not missing:
            break
    if missing:
        # Go ranges over a map, so its order varies between runs; the simulation keeps chain order.
        return "missing CRL signed by certificates: [" + " ".join(missing) + "]"
    return None


def verify(cert_bytes: bytes, key_bytes: bytes, chain_bytes: bytes, root_bytes: bytes, now: _dt.datetime,
           crl_bytes: bytes = b""):
    """util.Verify: chain, then key parse, then key/cert match, then (1.27+) the CRL. Returns (signing cert, key)."""
    try:
        cert = _first_cert(cert_bytes)
    except BundleError as exc:
        raise BundleError(f"failed to parse cert PEM: {exc}") from None
    err = go_verify(cert, _pool(chain_bytes), _pool(root_bytes), now)
    if err:
        raise BundleError(f"cannot verify the cert with the provided root chain and cert pool with error: {err}")
    try:
        key = parse_pem_key(key_bytes)
    except BundleError as exc:
        raise BundleError(f"failed to parse private key PEM: {exc}") from None
    if not pki.public_keys_equal(cert.public_key(), key.public_key()):
        raise BundleError("the cert does not match the key: tls: private key does not match public key")
    err = crl_error(chain_bytes, crl_bytes)
    if err:
        raise BundleError(err)
    return cert, key


class Bundle:
    """A verified KeyCertBundle held in istiod's memory."""

    def __init__(self, cert, key, chain_bytes: bytes, root_bytes: bytes, crl_bytes: bytes = b""):
        self.cert = cert
        self.key = key
        self.chain_bytes = chain_bytes
        self.root_bytes = root_bytes
        self.crl_bytes = crl_bytes

    @property
    def chain_certs(self) -> List[x509.Certificate]:
        return _pool(self.chain_bytes)

    @property
    def root_certs(self) -> List[x509.Certificate]:
        return _pool(self.root_bytes)


def load_bundle(files: Dict[str, bytes], names: dict, now: _dt.datetime, crl: Optional[str] = None,
                previous_crl: bytes = b"") -> Bundle:
    """UpdateVerifiedKeyCertBundleFromFile / NewVerifiedKeyCertBundleFromFile (read, then Verify).

    ``crl`` is the CRL file name detected for this pod (crl_file). setAllFromPem keeps the previous CRL
    when the new one is empty, hence ``previous_crl``."""
    cert_bytes = read(files, names["cert"])
    key_bytes = read(files, names["key"])
    chain = b"".join(read(files, n) for n in names["chain"])
    root = read(files, names["root"])
    crl_bytes = read(files, crl) if crl else b""
    cert, key = verify(cert_bytes, key_bytes, chain, root, now, crl_bytes)
    return Bundle(cert, key, chain, root, crl_bytes or previous_crl)


def _raw_cert_set(data: bytes) -> set:
    """pemToRawCertSet (pilot/pkg/bootstrap/istio_ca.go): the DER bytes of every ``CERTIFICATE`` PEM block,
    not parsed as X.509; other block types are ignored."""
    return {der for kind, der in pki.pem_blocks(data or b"") if kind == "CERTIFICATE"}


def set_rule(version: tuple) -> bool:
    """Whether handleEvent compares root bundles as sets of DER certificates (``pemBundleHasSubsetRelation``).

    Upstream: PR #59909 on master (1.31.0-alpha.0) and its release-1.30 backport #59953 (commit 39e9530e463),
    first in 1.30.0-beta.0, so every 1.30 release (1.30.0-alpha.* still had bytes.Contains; kubesim's version
    tuple ignores pre-release tags and counts them as 1.30.0). 1.20–1.29 compare raw bytes."""
    return version >= (1, 30, 0)


def roots_subset(old: bytes, new: bytes, version: tuple) -> bool:
    """ISTIO_MULTIROOT_MESH's rule in handleEvent (pilot/pkg/bootstrap/istio_ca.go) once the bundles differ.

    1.20–1.29: ``bytes.Contains(current, new) || bytes.Contains(new, current)`` — the raw PEM bytes, so order,
    whitespace and re-encoding count. 1.30+: ``pemBundleHasSubsetRelation`` — one set of DER certificates a
    superset of the other, order-free, and false when either bundle holds no CERTIFICATE block."""
    if set_rule(version):
        a, b = _raw_cert_set(old), _raw_cert_set(new)
        if not a or not b:
            return False
        return a <= b or b <= a
    return old in new or new in old


def leaf_clamped(version: tuple) -> bool:
    """Whether istiod clamps an issued leaf's NotAfter to the signing certificate's NotAfter and refuses to sign
    with an expired one (genCertTemplateFromCSR, security/pkg/pki/util/generate_cert.go, PR #59766 on master for
    1.31, backported as #59956 (1.28.7), #59957 (1.29.3), #59958 (1.30.0-beta.0))."""
    major_minor = version[:2]
    if major_minor == (1, 28):
        return version >= (1, 28, 7)
    if major_minor == (1, 29):
        return version >= (1, 29, 3)
    return version >= (1, 30, 0)
