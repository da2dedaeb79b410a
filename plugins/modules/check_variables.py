#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Documentation of the check_variables action (plugins/action/check_variables.py); it runs on the controller only."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: check_variables
short_description: Fail at the start of a play on a misspelled variable of this collection
version_added: 0.1.0
description:
  - Ansible accepts any variable name, so a typo such as C(-e ca_rotation_duraton=720h) is silently ignored and
    the run does something else than asked. This action fails instead, before anything runs, naming the closest
    known variable (C(unknown variable ca_rotation_duraton — did you mean ca_rotation_duration?)).
  - Checks every variable of every host of the play (extra vars, inventory and play vars) whose name starts with
    one of O(prefixes), except the roles' private C(<prefix>_<name>) working variables.
  - The known names are read from the installed collection, so there is no list to keep up to date; every
    option of every entry point in C(roles/*/meta/argument_specs.yml), and every variable a playbook documents
    in its header (a C(# Variables:) line, then one C(#   name  description) line per variable).
  - Runs on the controller only. Use it with C(run_once=true) as the first task of a play; it checks all the
    play's hosts at once, and a failure of a C(run_once) task fails every host of the play.
  - The playbooks C(deploy.yml), C(rotate.yml), C(report.yml) and C(restore.yml) run it first.
author:
  - meshpki.istio_ca maintainers (@meshpki)
options:
  prefixes:
    description: Variable name prefixes this collection owns.
    type: list
    elements: str
    default: [ca_rotation_, ca_setup_, cert_manager_, istio_, root_rotation_, report_]
  roles:
    description:
      - Roles of this collection (C(cert_manager), C(ca_setup), C(istio), C(ca_rotation)) the play runs, whose
        C(main) arguments are validated here with the values set for the host the task runs on, the same
        way Ansible validates them when the role starts.
      - Each problem is one line, the argument, what is wrong, what it accepts and an example, instead of
        Ansible's dump of the whole argument spec.
    type: list
    elements: str
    default: []
  known:
    description: Further names to accept, for a playbook of your own that adds variables with these prefixes.
    type: list
    elements: str
    default: []
attributes:
  check_mode:
    support: full
    description: Reads variables only; runs the same in check mode.
  diff_mode:
    support: none
    description: Nothing to diff.
notes:
  - The known names come from this collection's files on the controller, so the check follows the installed
    version of the collection.
"""

EXAMPLES = r"""
- name: Fail on a misspelled meshpki.istio_ca variable before anything runs
  meshpki.istio_ca.check_variables:
  run_once: true

- name: The same, and check the arguments of the roles the play runs
  meshpki.istio_ca.check_variables:
    roles: [cert_manager, ca_setup, istio]
  run_once: true

- name: The same, in a playbook of your own that adds a variable with a collection prefix
  meshpki.istio_ca.check_variables:
    known: [report_owner_email]
  run_once: true
"""

RETURN = r"""
checked:
  description: The collection-prefixed variables set for the play's hosts.
  returned: always
  type: list
  elements: str
  sample: [ca_rotation_duration, report_dir]
unknown:
  description: The ones no role or playbook declares (the task fails when this is not empty).
  returned: always
  type: list
  elements: str
  sample: [ca_rotation_duraton]
known_count:
  description: How many variable names the collection declares.
  returned: always
  type: int
  sample: 120
"""
