#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Documentation of the rotation_record action (plugins/action/rotation_record.py); it runs on the controller."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: rotation_record
short_description: Record one step of a cluster's rotation in the controller's journal and in the cluster
version_added: 0.1.0
description:
  - Appends O(entry) as one JSON line (keys sorted) to O(journal) on the controller, creating the file (0644) and
    its directory; the clusters of a batch take turns through an exclusive file lock.
  - Then writes it into the cluster's rotation record, the ConfigMap C(meshpki-istio-ca-rotation) in O(namespace)
    (no key material; the next run's preflight and C(report.yml) read it) with one server-side apply (field
    manager C(meshpki.istio_ca), forced, since the record is the collection's alone and every step writes all of its
    keys).
  - The in-cluster copy is best effort; when it cannot be written the task warns and names the journal, which has
    the step, instead of failing (a cluster that went down mid-change still gets its failure recorded).
  - On the C(local) connection the ConfigMap is written from the Ansible worker; on any other connection by
    C(kubernetes.core.k8s).
  - In check mode nothing is written.
  - O(entry) is made by the C(meshpki.istio_ca.rotation_record) filter; the C(ca_rotation) role uses this in its
    C(record_step.yml).
author:
  - meshpki.istio_ca maintainers (@meshpki)
options:
  entry:
    description: The step, a C(meshpki.istio_ca.rotation_record) filter result.
    type: dict
    required: true
  namespace:
    description: Namespace of the record ConfigMap.
    type: str
    default: istio-system
  journal:
    description: The run's journal file on the controller.
    type: path
    required: true
extends_documentation_fragment:
  - meshpki.istio_ca.k8s_auth
  - meshpki.istio_ca.attributes
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  check_mode:
    support: full
    details: Writes nothing in check mode.
  async:
    support: none
"""

EXAMPLES = r"""
- name: Record that the change was applied
  meshpki.istio_ca.rotation_record:
    entry: "{{ 'applied' | meshpki.istio_ca.rotation_record(plan, plan.run, inventory_hostname) }}"
    namespace: istio-system
    journal: "rotation-journal/{{ plan.run }}.jsonl"
"""

RETURN = r"""
entry:
  description: The step as written (every value a string).
  returned: unless in check mode
  type: dict
journal:
  description: The journal file the step was appended to.
  returned: unless in check mode
  type: str
record_written:
  description: Whether the in-cluster record was written (a warning says why not).
  returned: unless in check mode
  type: bool
"""
