#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)

# Documentation only: issuing_ca is an action plugin (plugins/action/issuing_ca.py) that runs on the
# controller, because the root key it signs with must never leave it.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: issuing_ca
short_description: Sign a per-cluster issuing CA with an offline root on the controller and store it in the cluster
version_added: 0.2.0
description:
  - Reads the offline root (or an offline CA of your PKI) from controller files O(root_cert) and O(root_key)
    (ansible-vault encrypted or not; decrypted in memory, never copied to the target or a temporary file).
  - Keeps the cluster's issuing CA when the Secret O(namespace)/O(secret_name) already holds one signed by that
    root, whose key matches, whose C(ca.crt) is the root byte for byte, and that stays valid for at least
    O(min_remaining). Nothing is written then.
  - Otherwise, when the Secret does not exist (or with O(rotate=true)), generates a new key for this cluster
    only, in the controller's worker process, signs an issuing CA with the root (basicConstraints CA with
    C(pathlen) O(path_length), keyCertSign and cRLSign, the cluster name in C(L), SKI and AKI, lifetime
    O(duration)), and applies the Secret (C(tls.crt) = issuing CA then the chain up to the root,
    C(tls.key), C(ca.crt) = root) with server-side apply. The key goes from memory into the Secret only.
  - cert-manager's CA ClusterIssuer pointing at that Secret then issues and renews C(cacerts) below it,
    with C(tls.crt) = istiod's intermediate + the issuing CA and C(ca.crt) = the root.
  - A Secret that exists but cannot be kept fails with the reasons, before anything changes, unless
    O(rotate=true).
  - With O(rotate=true) the old key is overwritten in place (it leaves the cluster with that write) and is
    kept nowhere; its serial is recorded in the annotation C(meshpki.istio-ca/previous-issuing-ca-serial).
    Re-issuing C(cacerts) and proving istiod's reload is the caller's job (the C(ca_setup) role's
    C(rotate_issuing_ca) entry point does it).
  - Never returns, logs or diffs key material.
options:
  root_cert:
    description:
      - Controller path of the signer's certificate PEM, then its chain up to the self-signed root.
      - Relative paths are searched like the C(file) lookup (role and playbook C(files/)).
    type: str
    required: true
  root_key:
    description: Controller path of the signer's private key PEM (unencrypted PEM inside; the file may be vaulted).
    type: str
    required: true
  cluster_name:
    description: Cluster name, written into the subject (C(L)).
    type: str
    required: true
  common_name:
    description: Common name of the issuing CA.
    type: str
    default: Issuing CA
  organization:
    description: Organization (C(O)) of the issuing CA.
    type: str
    default: Istio
  duration:
    description: Lifetime of a new issuing CA (Go duration, no C(d) unit).
    type: str
    default: 8760h
  min_remaining:
    description:
      - An existing issuing CA is kept only while it stays valid at least this long (Go duration).
      - cert-manager does not cap the C(cacerts) validity at its issuer's, so keep this at least one
        intermediate lifetime.
    type: str
    default: 1440h
  path_length:
    description: basicConstraints C(pathlen) of the issuing CA; 1 allows istiod's intermediate below it.
    type: int
    default: 1
  key_algorithm:
    description: Issuing CA key algorithm.
    type: str
    choices: [RSA, ECDSA]
    default: RSA
  key_size:
    description: RSA bits (2048 and up) or ECDSA curve size (256 or 384).
    type: int
    default: 4096
  secret_name:
    description: The CA ClusterIssuer's Secret.
    type: str
    default: meshpki-istio-issuing-ca
  namespace:
    description: cert-manager's cluster resource namespace, where a ClusterIssuer's Secret lives.
    type: str
    default: cert-manager
  rotate:
    description: Replace the issuing CA with a new key and certificate even when the current one could be kept.
    type: bool
    default: false
  field_manager:
    description: Server-side apply field manager.
    type: str
    default: meshpki-istio-ca
extends_documentation_fragment:
  - meshpki.istio_ca.k8s_auth
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  check_mode:
    support: full
    details: Reads the Secret and reports what a real run would do; generates and writes nothing.
  diff_mode:
    support: full
    details: Public facts of the issuing CA before and after (subject, serial, validity, fingerprints); never keys.
  platform:
    platforms: posix
  action:
    support: full
    details: Runs only on the controller, whatever the host's connection.
  async:
    support: none
  bypass_host_loop:
    support: none
author:
  - meshpki.istio_ca maintainers (@meshpki)
"""

EXAMPLES = r"""
- name: Make sure this cluster has its own issuing CA, signed by the offline root
  meshpki.istio_ca.issuing_ca:
    root_cert: pki/root-cert.pem
    root_key: pki/root-key.pem.vault
    cluster_name: "{{ inventory_hostname }}"
    kubeconfig: "{{ k8s_kubeconfig }}"
    context: "{{ k8s_context }}"
  register: issuing

- name: Rotate this cluster's issuing CA (new key, same root)
  meshpki.istio_ca.issuing_ca:
    root_cert: pki/root-cert.pem
    root_key: pki/root-key.pem.vault
    cluster_name: "{{ inventory_hostname }}"
    rotate: true
"""

RETURN = r"""
outcome:
  description: C(kept), C(created) or C(rotated) (in check mode, what a real run would do).
  type: str
  returned: success
secret:
  description: The Secret, as C(namespace/name).
  type: str
  returned: success
root_fingerprint_sha256:
  description: SHA-256 fingerprint of the root (C(ca.crt)), colon-separated hex.
  type: str
  returned: success
root_public_key_sha256:
  description: SHA-256 of the root's SubjectPublicKeyInfo, colon-separated hex (for M(meshpki.istio_ca.key_exposure)).
  type: str
  returned: success
issuing_ca:
  description: The issuing CA now in the Secret (empty in check mode when a new one would be made).
  type: dict
  returned: success
  contains:
    subject:
      description: RFC 4514 subject.
      type: str
    issuer:
      description: RFC 4514 issuer.
      type: str
    serial_hex:
      description: Serial, lowercase hex.
      type: str
    not_before:
      description: ISO 8601 UTC.
      type: str
    not_after:
      description: ISO 8601 UTC.
      type: str
    path_length:
      description: basicConstraints pathlen.
      type: int
    fingerprint_sha256:
      description: SHA-256 of the certificate.
      type: str
    public_key_sha256:
      description: SHA-256 of its SubjectPublicKeyInfo (what key_exposure matches).
      type: str
    root_fingerprint_sha256:
      description: SHA-256 of the root.
      type: str
previous_issuing_ca:
  description: The issuing CA that was replaced (same keys as RV(issuing_ca)).
  type: dict
  returned: when one was replaced
"""
