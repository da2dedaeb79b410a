#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Documentation of the ca_state action (plugins/action/ca_state.py); it composes this collection's modules."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ca_state
short_description: Read one cluster's whole Istio CA state in one task
version_added: 0.1.0
description:
  - One read-only task per cluster for what the C(ca_rotation) preflight, C(report.yml) and the rotation's
    status need, instead of four (every task costs the controller per host before it does anything;
    C(docs/performance.md)).
  - Runs, in check mode whatever the task says, M(meshpki.istio_ca.certificate) with O(spec) merged into the
    live spec (C(merge_live_spec)), M(meshpki.istio_ca.x509_inspect) of the Secret O(secret_name) the way
    istiod loads it, M(meshpki.istio_ca.istiod_reload_check) (never failing) when O(reload_check) is true and
    the Secret could be read, reads the ConfigMap O(record_name) (the record the last rotation left), and lists
    istiod's Deployments (label C(app=istiod)) when O(istiod_deployments) is true.
  - Each part's result is the one the part's own task returns (without C(invocation)); a part that fails is
    recorded with its C(msg) and C(failed=true), the task itself does not fail. Warnings of every part are the
    task's warnings.
  - On the C(local) connection every part runs inside the Ansible worker; on any other connection each part is
    executed as its module (the ConfigMap and Deployment reads as C(kubernetes.core.k8s_info)).
  - Never returns key material (M(meshpki.istio_ca.x509_inspect) checks the key and never returns it).
author:
  - meshpki.istio_ca maintainers (@meshpki)
options:
  namespace:
    description: Namespace of istiod, the Certificate, the Secret and the record.
    type: str
    default: istio-system
  certificate_name:
    description: The cert-manager Certificate that issues the Secret.
    type: str
    default: cacerts
  secret_name:
    description: The Secret istiod mounts at C(/etc/cacerts).
    type: str
    default: cacerts
  spec:
    description: A requested change of the Certificate's spec, validated against the live object (nothing is applied).
    type: dict
    default: {}
  renew:
    description: Passed to M(meshpki.istio_ca.certificate) (would a re-issue be forced).
    type: str
    choices: ["true", "false", "auto"]
    default: "false"
  check_root_policy:
    description: Also check how the root the issuer signs with is made (M(meshpki.istio_ca.certificate)).
    type: bool
    default: false
  cluster_resource_namespace:
    description: cert-manager's cluster resource namespace (where a ClusterIssuer's CA Secret lives).
    type: str
    default: cert-manager
  reload_check:
    description: Look for evidence that istiod signs with the intermediate in the Secret.
    type: bool
    default: true
  reload_timeout:
    description: Seconds M(meshpki.istio_ca.istiod_reload_check) may wait for that evidence.
    type: float
  record_name:
    description: The rotation record ConfigMap to read; omitted, none is read and RV(record) is not returned.
    type: str
  istiod_deployments:
    description: Also list istiod's Deployments (RV(istiod)).
    type: bool
    default: false
extends_documentation_fragment:
  - meshpki.istio_ca.k8s_auth
  - meshpki.istio_ca.attributes
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  check_mode:
    support: full
    details: Always runs its parts in check mode; it changes nothing.
  async:
    support: none
seealso:
  - module: meshpki.istio_ca.certificate
  - module: meshpki.istio_ca.x509_inspect
  - module: meshpki.istio_ca.istiod_reload_check
"""

EXAMPLES = r"""
- name: Read the cluster's CA state, with a requested duration validated against the live Certificate
  meshpki.istio_ca.ca_state:
    kubeconfig: ~/.kube/cluster-1
    spec:
      duration: 720h
    record_name: meshpki-istio-ca-rotation
    reload_timeout: 5
  register: state

- name: Fail unless istiod signs with the intermediate in cacerts
  ansible.builtin.assert:
    that: state.reload.reloaded
"""

RETURN = r"""
certificate:
  description: The result of M(meshpki.istio_ca.certificate) in check mode (C(exists), C(live_spec), C(reissue), ...).
  returned: always
  type: dict
inspect:
  description: The result of M(meshpki.istio_ca.x509_inspect) of the Secret with C(istio_signing_ca=true).
  returned: always
  type: dict
reload:
  description: The result of M(meshpki.istio_ca.istiod_reload_check); C(skipped=true) when not run.
  returned: always
  type: dict
record:
  description:
    - The rotation record ConfigMap as C(kubernetes.core.k8s_info) returns it (C(resources), empty when there is none).
  returned: when O(record_name) is set
  type: dict
istiod:
  description: istiod's Deployments as C(kubernetes.core.k8s_info) returns them (C(resources)).
  returned: when O(istiod_deployments=true)
  type: dict
"""
