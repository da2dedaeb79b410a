# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""The variables this collection knows, read from the collection itself, and the typos among a run's variables.

Why: Ansible accepts any variable name, so ``-e ca_rotation_duraton=720h`` is silently ignored and the run
does something else than asked (issue 18). The one source of the known names is what the collection already
declares: every option of every entry point in ``roles/*/meta/argument_specs.yml`` and every variable a
playbook documents in its header (``# Variables:`` then one ``#   name  description`` line per variable).
Nothing here is a hand-written list of names, so a new role option is known as soon as it is declared.
"""

from __future__ import annotations

import difflib
import os
import re

import yaml

# The name spaces this collection owns: a variable with one of these prefixes that nothing declares is a typo.
OWNED_PREFIXES = ("ca_rotation_", "ca_setup_", "cert_manager_", "istio_", "root_rotation_", "report_")

# "#   name   description" directly under "# Variables:" (exactly three spaces; continuation lines have more).
_DOC_VAR = re.compile(r"^#   ([a-z_][a-z0-9_]*)(?:\s|$)")


def collection_root():
    """The collection's directory (plugins/plugin_utils/run_checks/ is three levels below it)."""
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def playbook_documented_variables(text):
    """Names listed in a playbook's ``# Variables:`` header block (the comment lines after it)."""
    names, inside = [], False
    for line in text.splitlines():
        if not line.startswith("#"):
            if inside:
                break
            continue
        if re.match(r"^# Variables\b", line):
            inside = True
            continue
        if inside:
            match = _DOC_VAR.match(line)
            if match:
                names.append(match.group(1))
            elif not line.startswith("#   ") and line.strip("# "):
                break  # a comment paragraph after the block
    return names


def argument_spec_variables(path):
    """Every option name of every entry point of one role's meta/argument_specs.yml."""
    with open(path, encoding="utf-8") as handle:
        specs = (yaml.safe_load(handle) or {}).get("argument_specs") or {}
    names = set()
    for entry in specs.values():
        names.update((entry or {}).get("options") or {})
    return names


_SET_FACT = ("ansible.builtin.set_fact", "set_fact")


def _tasks_of(node):
    """Every task-like mapping in a parsed task or playbook file (blocks, rescue, always and plays included)."""
    if isinstance(node, list):
        for item in node:
            yield from _tasks_of(item)
    elif isinstance(node, dict):
        yield node
        for key in ("block", "rescue", "always", "tasks", "pre_tasks", "post_tasks", "handlers"):
            yield from _tasks_of(node.get(key))


def facts_set_by(path):
    """Names a task file sets for later tasks: its ``register`` names and ``set_fact`` keys.

    Why: they are variables of the hosts afterwards, so a later play of the same run (``import_playbook`` of
    deploy.yml then rotate.yml) sees ``cert_manager_detected_version`` and must not call it a typo.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            parsed = yaml.safe_load(handle)
    except (OSError, yaml.YAMLError):
        return set()
    names = set()
    for task in _tasks_of(parsed):
        if isinstance(task.get("register"), str):
            names.add(task["register"])
        for action in _SET_FACT:
            if isinstance(task.get(action), dict):
                names.update(key for key in task[action] if key != "cacheable")
    return names


def _yaml_files(directory):
    for base, _dirs, files in os.walk(directory):
        for name in sorted(files):
            if name.endswith((".yml", ".yaml")):
                yield os.path.join(base, name)


def known_variables(root=None):
    """``{name: where it is declared}``: role options, documented playbook variables, facts the collection sets."""
    root = root or collection_root()
    known = {}
    roles_dir = os.path.join(root, "roles")
    for role in sorted(os.listdir(roles_dir)) if os.path.isdir(roles_dir) else []:
        spec = os.path.join(roles_dir, role, "meta", "argument_specs.yml")
        if os.path.isfile(spec):
            for name in argument_spec_variables(spec):
                known.setdefault(name, "role %s" % role)
    playbooks_dir = os.path.join(root, "playbooks")
    for playbook in sorted(os.listdir(playbooks_dir)) if os.path.isdir(playbooks_dir) else []:
        if playbook.endswith((".yml", ".yaml")):
            with open(os.path.join(playbooks_dir, playbook), encoding="utf-8") as handle:
                for name in playbook_documented_variables(handle.read()):
                    known.setdefault(name, "playbook %s" % playbook)
    for directory in (roles_dir, playbooks_dir):
        for path in _yaml_files(directory):
            for name in facts_set_by(path):
                known.setdefault(name, "set by %s" % os.path.relpath(path, root))
    return known


def is_owned(name, prefixes=OWNED_PREFIXES):
    """True for a name in one of our name spaces that a user could set.

    ``<prefix>_<name>`` with a double underscore (``report__dir``, ``ca_rotation__x509``) is the roles' and
    playbooks' private convention for their own working variables, never set by a user.
    """
    return name.startswith(tuple(prefixes)) and "__" not in name


def unknown_variables(names, known, prefixes=OWNED_PREFIXES):
    """``[(name, closest known name or None)]`` for each owned name that nothing declares, sorted."""
    candidates = sorted(name for name in known if "__" not in name)  # never suggest a private name
    found = []
    for name in sorted(set(names)):
        if is_owned(name, prefixes) and name not in known:
            close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.8)  # a typo, not a namesake
            found.append((name, close[0] if close else None))
    return found


def describe(unknown, known):
    """One line per unknown variable: the name, the closest known one and where that one is declared."""
    lines = []
    for name, close in unknown:
        if close:
            lines.append("unknown variable %s — did you mean %s? (%s)" % (name, close, known[close]))
        else:
            lines.append("unknown variable %s — no role or playbook of meshpki.istio_ca declares it" % name)
    return lines
