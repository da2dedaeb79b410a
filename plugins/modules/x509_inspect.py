#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: x509_inspect
short_description: Read and judge X.509 certificates, chains and Istio signing-CA bundles
version_added: 0.1.0
description:
  - Reads every certificate of a PEM bundle (or one DER certificate) from a file, from PEM text, or
    straight from a Kubernetes Secret, and returns the facts of each certificate in order.
  - Analyses the chain (is each certificate signed by the next, does it end at a root or at C(ca.crt),
    does the private key belong to the first certificate) and states every problem as a sentence that
    says what to fix.
  - Checks validity at given times (O(valid_at)) and a minimum remaining lifetime (O(min_remaining)).
  - With O(istio_signing_ca=true), applies the rules istiod enforces on a plugged-in signing CA
    (the C(cacerts) Secret) and returns RV(istio_ready) with reasons, so a bad bundle is caught
    before istiod refuses it or crash-loops on its next restart.
  - Where it overlaps with C(community.crypto.x509_certificate_info) it returns the same fields,
    for every certificate of the bundle rather than only the first. Two fields differ by design,
    see the notes.
  - Never returns a private key or anything that reveals one; only whether it matches.
  - Read-only. The connection options are used only with O(secret); they are accepted with
    every input so that one C(module_defaults) block for the C(meshpki.istio_ca.k8s) group serves
    this module too.
author:
  - meshpki.istio_ca maintainers (@meshpki)
options:
  path:
    description:
      - A file holding one or more PEM certificates, or one DER-encoded certificate.
      - Read on the host the task runs on (with C(ansible_connection=local), the controller).
      - A file that also holds a private key is refused (the key is not echoed); give the key with
        O(private_key_path) instead.
      - Exactly one of O(path), O(content) and O(secret) is required.
    type: path
  content:
    description:
      - PEM text holding one or more certificates, in order (leaf or signing certificate first).
      - Text around the PEM blocks is ignored. A private key in this text is refused.
      - Not logged, so that a key pasted here by mistake does not end up in logs or in the result's
        C(invocation).
    type: str
  secret:
    description:
      - A Kubernetes Secret to read, in the layouts istiod reads from its C(cacerts) mount.
      - If the Secret has C(tls.crt) (the C(kubernetes.io/tls) layout cert-manager writes), C(tls.crt),
        C(ca.crt) and C(tls.key) are read; otherwise Istio's own names C(ca-cert.pem), C(cert-chain.pem),
        C(root-cert.pem) and C(ca-key.pem).
      - The key is parsed only to check that it matches the first certificate and that istiod can parse it;
        it is never returned.
      - Needs C(get) on C(secrets) in that namespace.
    type: dict
    suboptions:
      name:
        description: Name of the Secret.
        type: str
        required: true
      namespace:
        description: Namespace of the Secret.
        type: str
        default: istio-system
  private_key_path:
    description:
      - With O(path) or O(content), a file holding the private key of the first certificate, to check that
        they match (and, with O(istio_signing_ca), that istiod can parse it). PEM or DER, unencrypted.
      - The key is never returned.
    type: path
  private_key_content:
    description:
      - Like O(private_key_path), but the PEM text of the key. Not logged.
    type: str
  valid_at:
    description:
      - Times to check validity at, as a dictionary of names to times, like
        C(community.crypto.x509_certificate_info)'s option of the same name.
      - Each time is relative to now (V(+32w1d2h3m4s), V(-1d); units w, d, h, m, s), an ASN.1 time
        (V(20300101000000Z), V(203001010000Z), or with a V(+hhmm) offset), or ISO 8601
        (V(2030-01-01T00:00:00Z), V(2030-01-01)); times without a zone are UTC.
      - The result RV(valid_at) has the same names, true when every certificate is valid then; each
        certificate also has its own RV(certificates[].valid_at).
    type: dict
  min_remaining:
    description:
      - A Go duration such as V(360h), V(30m) or V(1h30m), the way cert-manager writes C(duration) and
        C(renewBefore). Go durations have no day unit, so V(30d) is refused; write V(720h).
      - RV(min_remaining_ok) is true when every certificate has at least this long left; each one that
        has less is named in RV(chain.problems).
    type: str
  istio_signing_ca:
    description:
      - Also check what istiod requires of a plugged-in signing CA and return RV(istio_ready),
        RV(istio_problems) and RV(istio_warnings).
      - The first certificate must be a CA; it must verify up to the root (C(ca.crt), or the self-signed last
        certificate of a bundle) with every certificate inside its validity window and path length constraints
        kept, the way Go's C(x509.Certificate.Verify) does in istiod; no certificate of that chain may have an
        extended key usage without serverAuth (istiod then fails with C(certificate specifies an incompatible
        key usage)) or without clientAuth (istiod loads it, but Envoy then rejects workload client certificates);
        the key must be RSA or ECDSA P-256/P-384 (Ed25519 is not usable) in a PEM block istiod parses, and must
        match; a Secret must hold C(ca.crt) and the key.
      - A C(cert-chain.pem) that is present but empty is accepted, as istiod accepts it; an intermediate signed
        directly by the root verifies without a chain (Istio's own test C(2 level CA without cert chain file)).
      - Every certificate istiod reads must be readable in full; a part that cannot be read (see
        RV(certificates[].problems)) makes RV(istio_ready) false.
      - The CRL (C(ca-crl.pem) of a Secret in Istio's layout, or O(crl_content)) must contain a CRL signed by
        every certificate of the chain file, as istiod 1.27 and later require (see O(istio_version)).
    type: bool
    default: false
  istio_version:
    description:
      - The Istio version of the istiod that will read the bundle, such as V(1.27) or V(1.27.1) (a leading
        V(v) and a pre-release suffix are accepted). Only rules that changed between versions use it.
      - istiod reads C(ca-crl.pem) from 1.27.0 on (with C(PILOT_ENABLE_CA_CRL), on by default) and then refuses
        a CRL that misses a CA of the chain with C(missing CRL signed by certificates). For an older version such
        a CRL is only a warning in RV(istio_warnings); unset, the bundle is judged as the newest istiod judges it.
    type: str
    version_added: 0.2.0
  crl_content:
    description:
      - With O(path) or O(content), the PEM text of the CRL file istiod would read as C(ca-crl.pem), for the
        check described in O(istio_signing_ca); the chain it is checked against is the bundle.
      - With O(secret) the Secret's own C(ca-crl.pem) key is used (in Istio's file layout; istiod ignores it
        in the C(kubernetes.io/tls) layout, which is reported as a warning), so this option is refused there.
    type: str
    version_added: 0.2.0
extends_documentation_fragment:
  - meshpki.istio_ca.k8s_auth
  - meshpki.istio_ca.attributes
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  check_mode:
    details: Read-only; runs the same in check mode.
notes:
  - RV(certificates[].subject) and RV(certificates[].issuer) are RFC 4514 strings (the certificate's attributes
    last first), where C(community.crypto.x509_certificate_info) returns dictionaries; the ordered attribute lists
    are in RV(certificates[].subject_ordered) and RV(certificates[].issuer_ordered) in the community.crypto form.
    They are not always what istiod logs; RV(certificates[].subject_go) and RV(certificates[].issuer_go) are, in Go's
    C(pkix.Name.String) order and spelling.
  - A certificate that C(openssl x509) can read is never a task failure, even when parts of it are malformed
    (a bad subjectAltName, an empty extendedKeyUsage, duplicate extensions, an unknown key algorithm, ...); its
    readable facts are returned, the facts that cannot be read are null, and each unreadable part is named in
    RV(certificates[].problems).
  - RV(certificates[].not_before) and RV(certificates[].not_after) are ISO 8601 UTC with a C(Z)
    (V(2030-01-01T00:00:00Z)), where community.crypto returns ASN.1 times.
  - Problems found in the certificates do not fail the task; test RV(istio_ready), RV(chain.problems) or
    RV(min_remaining_ok) with C(failed_when) or C(ansible.builtin.assert). Input that cannot be read (empty,
    not PEM or DER, truncated, a key where certificates belong, a Secret that is missing or has no C(tls.crt),
    a key that does not parse) fails the task with one clear message.
  - Requires the C(cryptography) Python library on the host the task runs on.
requirements:
  - cryptography >= 42.0
seealso:
  - module: community.crypto.x509_certificate_info
  - name: Istio plug-in CA certificates
    description: How istiod reads a plugged-in intermediate CA from the cacerts Secret.
    link: https://istio.io/latest/docs/tasks/security/cert-management/plugin-ca-cert/
"""

EXAMPLES = r"""
- name: Check the cacerts Secret of one cluster the way istiod will read it
  meshpki.istio_ca.x509_inspect:
    secret:
      name: cacerts
      namespace: istio-system
    kubeconfig: "{{ k8s_kubeconfig }}"
    context: "{{ k8s_context }}"
    istio_signing_ca: true
    min_remaining: 360h
  register: cacerts

- name: Stop when istiod would refuse it
  ansible.builtin.assert:
    that:
      - cacerts.istio_ready
      - cacerts.min_remaining_ok
    fail_msg: "{{ cacerts.istio_problems + cacerts.chain.problems }}"

- name: Show the intermediate's serial the way istiod logs it, in lowercase hex
  ansible.builtin.debug:
    msg: "{{ cacerts.certificates[0].serial_hex }} expires {{ cacerts.certificates[0].not_after }}"

- name: Inspect a PEM bundle on the controller, with the key for a match check
  meshpki.istio_ca.x509_inspect:
    path: pki/cluster-1/cert-chain.pem
    private_key_path: pki/cluster-1/ca-key.pem
    istio_signing_ca: true
    valid_at:
      next_month: "+4w"
      new_year: "2031-01-01T00:00:00Z"
  register: bundle

- name: Check a bundle and its CRL the way istiod 1.27 will, before writing them to cacerts
  meshpki.istio_ca.x509_inspect:
    path: pki/cluster-1/cert-chain.pem
    crl_content: "{{ lookup('ansible.builtin.file', 'pki/cluster-1/ca-crl.pem') }}"
    istio_signing_ca: true
    istio_version: "1.27"
  register: with_crl

- name: Inspect PEM text, e.g. a certificate fetched by another task
  meshpki.istio_ca.x509_inspect:
    content: "{{ lookup('ansible.builtin.file', 'root-cert.pem') }}"
  register: root

- name: Every cluster must share one root
  ansible.builtin.assert:
    that: cacerts.chain.root_fingerprint_sha256 == root.certificates[0].fingerprint_sha256

- name: One module_defaults block serves kubernetes.core and this collection
  module_defaults:
    group/meshpki.istio_ca.k8s:
      kubeconfig: "{{ k8s_kubeconfig }}"
      context: "{{ k8s_context }}"
  block:
    - name: Read the cacerts Secret
      meshpki.istio_ca.x509_inspect:
        secret:
          name: cacerts
"""

RETURN = r"""
changed:
  description: Always false; the module only reads.
  returned: always
  type: bool
  sample: false
source:
  description: Where the certificates came from.
  returned: success
  type: dict
  contains:
    kind:
      description: V(path), V(content) or V(secret).
      type: str
      returned: success
      sample: secret
    secret:
      description: The Secret read (its key names, never its data); null for path and content.
      type: dict
      returned: success
      sample:
        name: cacerts
        namespace: istio-system
        type: kubernetes.io/tls
        layout: kubernetes.io/tls
        keys: [ca.crt, tls.crt, tls.key]
        resource_version: "4711"
certificates:
  description:
    - One entry per certificate, in input order; for a Secret, those of C(tls.crt) (or C(ca-cert.pem) and
      C(cert-chain.pem)) then those of C(ca.crt) (or C(root-cert.pem)).
  returned: success
  type: list
  elements: dict
  contains:
    index:
      description: Position in RV(certificates), from 0.
      type: int
      returned: success
      sample: 0
    source:
      description: The file, Secret key or V(content) the certificate came from.
      type: str
      returned: success
      sample: tls.crt
    subject:
      description:
        - Subject as an RFC 4514 string (the certificate's attributes in reverse order). Not always what istiod
          logs; see RV(certificates[].subject_go).
      type: str
      returned: success
      sample: CN=Intermediate CA,L=cluster-1,O=Istio
    issuer:
      description: Issuer as an RFC 4514 string.
      type: str
      returned: success
      sample: CN=Root CA,O=Istio
    subject_go:
      description:
        - Subject as Go's C(pkix.Name.String) prints it, which is how istiod's log lines (C(x509 cert - Issuer ...,
          Subject ...)) and its errors (C(missing CRL signed by certificates)) name certificates.
        - Go's order is SERIALNUMBER, CN, OU, O, POSTALCODE, STREET, L, ST, C whatever the certificate's order,
          several values of one type joined with C(+), then other attributes (emailAddress among them) as
          C(<OID>=#<hex DER>).
      type: str
      returned: success
      sample: CN=Intermediate CA,O=Istio,L=cluster-1
      version_added: 0.2.0
    issuer_go:
      description: Issuer in Go's C(pkix.Name.String) form, like RV(certificates[].subject_go).
      type: str
      returned: success
      sample: CN=Root CA,O=Istio
      version_added: 0.2.0
    problems:
      description:
        - The parts of this certificate that cannot be read, one sentence each (a malformed extension, a duplicate
          extension, a public key of an unknown algorithm, a bad time or version); empty when it reads in full.
        - The facts those parts would give are null (for example RV(certificates[].is_ca) when basicConstraints is
          unreadable or duplicated with different values, RV(certificates[].not_after) for a bad time).
      type: list
      elements: str
      returned: success
      sample: ["its subjectAltName extension (2.5.29.17) cannot be read: ..."]
      version_added: 0.2.0
    subject_ordered:
      description: Subject attributes in certificate order, as C([name, value]) pairs (community.crypto form).
      type: list
      elements: list
      returned: success
      sample: [[organizationName, Istio], [localityName, cluster-1], [commonName, Intermediate CA]]
    issuer_ordered:
      description: Issuer attributes in certificate order, as C([name, value]) pairs.
      type: list
      elements: list
      returned: success
      sample: [[organizationName, Istio], [commonName, Root CA]]
    serial_number:
      description: The serial number.
      type: int
      returned: success
      sample: 1234567890123456789
    serial_hex:
      description: "The serial in lowercase hex without colons or padding, as istiod logs it (C(SN: %x))."
      type: str
      returned: success
      sample: 112210f47de98115
    version:
      description: X.509 version (1 or 3; the encoded value plus one for a certificate with an invalid version).
      type: int
      returned: success
      sample: 3
    not_before:
      description: Start of validity, ISO 8601 UTC.
      type: str
      returned: success
      sample: "2026-01-01T00:00:00Z"
    not_after:
      description: End of validity, ISO 8601 UTC; null when it cannot be read (then named in
        RV(certificates[].problems)).
      type: str
      returned: success
      sample: "2026-03-02T00:00:00Z"
    seconds_remaining:
      description: Seconds from now until RV(certificates[].not_after); negative once expired; null when
        RV(certificates[].not_after) is.
      type: int
      returned: success
      sample: 5184000
    expired:
      description: Whether RV(certificates[].not_after) has passed.
      type: bool
      returned: success
      sample: false
    not_yet_valid:
      description: Whether RV(certificates[].not_before) is still in the future.
      type: bool
      returned: success
      sample: false
    valid_at:
      description: For each name in O(valid_at), whether this certificate is valid then.
      type: dict
      returned: success
      sample: {next_month: true}
    is_ca:
      description: Whether basicConstraints says CA:TRUE; null when that is ambiguous (an unreadable or duplicated
        basicConstraints whose values disagree).
      type: bool
      returned: success
      sample: true
    path_length:
      description: The basicConstraints path length constraint, or null when there is none.
      type: int
      returned: success
      sample: 0
    basic_constraints:
      description: basicConstraints as community.crypto lists it, or null without the extension.
      type: list
      elements: str
      returned: success
      sample: ["CA:TRUE", "pathlen:0"]
    basic_constraints_critical:
      description: Whether basicConstraints is critical.
      type: bool
      returned: success
      sample: true
    key_usage:
      description: Key usages with OpenSSL's names (as community.crypto), sorted; null without the extension.
      type: list
      elements: str
      returned: success
      sample: [Certificate Sign, CRL Sign, Digital Signature]
    key_usage_critical:
      description: Whether keyUsage is critical.
      type: bool
      returned: success
      sample: true
    extended_key_usage:
      description: Extended key usages with OpenSSL's names, sorted; null without the extension.
      type: list
      elements: str
      returned: success
      sample: [TLS Web Client Authentication, TLS Web Server Authentication]
    extended_key_usage_critical:
      description: Whether extendedKeyUsage is critical.
      type: bool
      returned: success
      sample: false
    subject_alt_names:
      description: Subject alternative names as C(DNS:...), C(IP:...), C(URI:...), C(email:...) (community.crypto's
        form); empty without the extension.
      type: list
      elements: str
      returned: success
      sample: ["DNS:istiod.istio-system.svc"]
    subject_alt_name_critical:
      description: Whether subjectAltName is critical.
      type: bool
      returned: success
      sample: false
    subject_key_identifier:
      description: Subject key identifier, colon-separated hex, or null.
      type: str
      returned: success
      sample: "a1:b2:c3:d4:e5:f6:07:18:29:3a:4b:5c:6d:7e:8f:90:01:12:23:34"
    authority_key_identifier:
      description: Authority key identifier, colon-separated hex, or null.
      type: str
      returned: success
      sample: "0f:1e:2d:3c:4b:5a:69:78:87:96:a5:b4:c3:d2:e1:f0:01:12:23:34"
    authority_cert_issuer:
      description: The authorityKeyIdentifier's issuer names, or null.
      type: list
      elements: str
      returned: success
      sample: null
    authority_cert_serial_number:
      description: The authorityKeyIdentifier's issuer serial, or null.
      type: int
      returned: success
      sample: null
    ocsp_must_staple:
      description: Whether the TLS feature extension asks for OCSP stapling; null without it.
      type: bool
      returned: success
      sample: null
    ocsp_must_staple_critical:
      description: Whether the TLS feature extension is critical.
      type: bool
      returned: success
      sample: false
    ocsp_uri:
      description: The OCSP responder URI from authorityInfoAccess, or null.
      type: str
      returned: success
      sample: null
    issuer_uri:
      description: The CA issuers URI from authorityInfoAccess, or null.
      type: str
      returned: success
      sample: null
    extensions_by_oid:
      description: Every extension by dotted OID, with C(critical) and C(value) (base64 of its DER).
      type: dict
      returned: success
      sample: {"2.5.29.19": {critical: true, value: "MAYBAf8CAQA="}}
    fingerprint_sha256:
      description: SHA-256 of the certificate's DER, colon-separated lowercase hex.
      type: str
      returned: success
      sample: "5e:8c:...:9a"
    fingerprints:
      description: Fingerprints of the certificate's DER by hash algorithm (sha1, sha224, sha256, sha384, sha512).
      type: dict
      returned: success
      sample: {sha1: "12:34:...", sha256: "5e:8c:..."}
    public_key:
      description: The certificate's public key, PEM (SubjectPublicKeyInfo).
      type: str
      returned: success
      sample: "-----BEGIN PUBLIC KEY-----\n...\n-----END PUBLIC KEY-----\n"
    public_key_type:
      description: V(RSA), V(ECC), V(Ed25519), V(Ed448), V(X25519), V(X448), V(DSA) or V(unknown) (community.crypto's
        names).
      type: str
      returned: success
      sample: ECC
    public_key_size:
      description: Key size in bits.
      type: int
      returned: success
      sample: 256
    public_key_curve:
      description: The elliptic curve for ECC keys (V(secp256r1) is P-256), else null.
      type: str
      returned: success
      sample: secp256r1
    public_key_data:
      description: C(size), and C(exponent) for RSA or C(curve) for ECC.
      type: dict
      returned: success
      sample: {size: 256, curve: secp256r1}
    public_key_fingerprints:
      description: Fingerprints of the public key (SubjectPublicKeyInfo DER) by hash algorithm.
      type: dict
      returned: success
      sample: {sha256: "aa:bb:..."}
    signature_algorithm:
      description: The signature algorithm, OpenSSL's name.
      type: str
      returned: success
      sample: sha256WithRSAEncryption
    self_signed:
      description: Whether the certificate names itself as issuer and its own key verifies its signature.
      type: bool
      returned: success
      sample: false
chain:
  description: The chain formed by the certificates (and C(ca.crt) for a Secret).
  returned: success
  type: dict
  contains:
    length:
      description: Number of certificates looked at.
      type: int
      returned: success
      sample: 2
    signed_by_next:
      description:
        - One entry per certificate of the bundle (C(tls.crt)), not counting C(ca.crt), true when the
          certificate after it (for the last one, a certificate of C(ca.crt)) signed it, null when nothing follows.
      type: list
      elements: bool
      returned: success
      sample: [true]
    in_order:
      description: Whether no entry of RV(chain.signed_by_next) is false.
      type: bool
      returned: success
      sample: true
    ends_at_root:
      description: Whether the chain reaches a self-signed root (in C(ca.crt) or at the end of the bundle).
      type: bool
      returned: success
      sample: true
    root_source:
      description: Where that root came from (V(ca.crt), the file, V(content)), or null.
      type: str
      returned: success
      sample: ca.crt
    root_subject:
      description: The root's subject (RFC 4514), or null.
      type: str
      returned: success
      sample: CN=Root CA,O=Istio
    root_fingerprint_sha256:
      description: The root's SHA-256 fingerprint; compare it across clusters to prove one shared root.
      type: str
      returned: success
      sample: "9f:86:...:08"
    root_in_bundle:
      description: Whether a certificate of C(ca.crt) also appears in C(tls.crt).
      type: bool
      returned: success
      sample: false
    key_matches:
      description: Whether the private key belongs to the first certificate; null when no key was available.
      type: bool
      returned: success
      sample: true
    problems:
      description: What is wrong with the chain or its validity, one sentence each with the fix; empty when none.
      type: list
      elements: str
      returned: success
      sample: ["Certificate 1 in tls.crt (CN=\"Intermediate CA\") expired at 2026-01-01T00:00:00Z (3d ago); renew it"]
valid_at:
  description: For each name in O(valid_at), whether every certificate is valid at that time.
  returned: success
  type: dict
  sample: {next_month: true, new_year: false}
seconds_remaining:
  description: The smallest RV(certificates[].seconds_remaining).
  returned: success
  type: int
  sample: 5184000
expires_first:
  description: The certificate that expires first (C(index), C(subject), C(not_after), C(source)).
  returned: success
  type: dict
  sample: {index: 0, subject: "CN=Intermediate CA,O=Istio", not_after: "2026-03-02T00:00:00Z", source: tls.crt}
min_remaining_ok:
  description: Whether every certificate has at least O(min_remaining) left; null when O(min_remaining) is not set.
  returned: success
  type: bool
  sample: true
min_remaining_seconds:
  description: O(min_remaining) in seconds.
  returned: when O(min_remaining) is set
  type: int
  sample: 1296000
istio_ready:
  description: Whether istiod would accept the bundle as its signing CA (RV(istio_problems) is empty).
  returned: when O(istio_signing_ca=true)
  type: bool
  sample: false
istio_problems:
  description: Why istiod would refuse the bundle or the mesh would break, each with the fix.
  returned: when O(istio_signing_ca=true)
  type: list
  elements: str
  sample:
    - >-
      The first certificate in tls.crt (CN="Intermediate CA") is not a CA (basicConstraints CA:TRUE is missing),
      so istiod refuses to start with 'certificate is not authorized to sign other certificates'; ...
istio_warnings:
  description: Things istiod accepts that still deserve a look (root duplicated in C(tls.crt), key size, a CRL the
    given O(istio_version) does not read yet but 1.27+ would refuse, ...).
  returned: when O(istio_signing_ca=true)
  type: list
  elements: str
  sample: []
"""

import copy

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.meshpki.istio_ca.plugins.module_utils.k8s.args_common import AUTH_ARG_SPEC
from ansible_collections.meshpki.istio_ca.plugins.module_utils.k8s.client import K8sClient
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.module_runner import run_module

try:
    import cryptography  # noqa: F401  pylint: disable=unused-import
    HAS_CRYPTOGRAPHY = True
except ImportError:
    HAS_CRYPTOGRAPHY = False

if HAS_CRYPTOGRAPHY:
    from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.inspect_backend import inspect


def argument_spec():
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(
        path=dict(type="path"),
        content=dict(type="str", no_log=True),  # a key pasted here by mistake must not reach logs
        secret=dict(type="dict", no_log=False, options=dict(
            name=dict(type="str", required=True),
            namespace=dict(type="str", default="istio-system"),
        )),
        private_key_path=dict(type="path", no_log=False),
        private_key_content=dict(type="str", no_log=True),
        valid_at=dict(type="dict"),
        min_remaining=dict(type="str"),
        istio_signing_ca=dict(type="bool", default=False),
        istio_version=dict(type="str"),
        crl_content=dict(type="str"),
    )
    return spec


# Module keywords besides the argument spec; the action plugin validates with the same ones.
MODULE_KWARGS = dict(
    mutually_exclusive=[
        ("path", "content", "secret"),
        ("private_key_path", "private_key_content"),
        ("secret", "private_key_path"),
        ("secret", "private_key_content"),
    ],
    required_one_of=[("path", "content", "secret")],
    supports_check_mode=True,
)


def run(module):
    """Run the module's work on ``module`` (an AnsibleModule, or the action plugin's in-process stand-in)."""
    run_module(module, lambda: inspect(module.params, client_factory=lambda: K8sClient.from_params(module.params)),
               required_libraries=[("cryptography", HAS_CRYPTOGRAPHY)])


def main():
    run(AnsibleModule(argument_spec=argument_spec(), **MODULE_KWARGS))


if __name__ == "__main__":
    main()
