# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Fail a play at its start on a misspelled variable of this collection (docs in plugins/modules/check_variables.py).

Why an action plugin: the names to check are the run's variables (extra vars, inventory, play vars), which only
the controller has, and the known names are files of the collection on the controller. Nothing runs on a host.
"""

from __future__ import annotations

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.run_checks import argument_help, known_variables

ARGUMENT_SPEC = {
    "prefixes": {"type": "list", "elements": "str", "default": list(known_variables.OWNED_PREFIXES)},
    "known": {"type": "list", "elements": "str", "default": []},
    "roles": {"type": "list", "elements": "str", "default": []},
}


def _names_of_every_play_host(task_vars):
    """The variable names of this host and of every other host of the play (one task checks the whole fleet)."""
    names = set(task_vars)
    hostvars = task_vars.get("hostvars")
    for host in task_vars.get("ansible_play_hosts_all") or []:
        try:
            names.update(hostvars.raw_get(host))
        except (AttributeError, KeyError, TypeError):  # hostvars without raw_get (older ansible-core)
            names.update(hostvars[host])
    return names


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        validation = ArgumentSpecValidator(ARGUMENT_SPEC).validate(self._task.args)
        if validation.error_messages:
            return dict(result, failed=True, msg="; ".join(validation.error_messages))
        args = validation.validated_parameters

        known = known_variables.known_variables()
        for name in args["known"]:
            known.setdefault(name, "this task's known option")
        names = _names_of_every_play_host(task_vars)
        unknown = known_variables.unknown_variables(names, known, args["prefixes"])
        result.update(changed=False, known_count=len(known),
                      checked=sorted(n for n in names if known_variables.is_owned(n, args["prefixes"])),
                      unknown=[name for name, _close in unknown])
        lines = known_variables.describe(unknown, known)
        lines += self._role_argument_problems(args["roles"], task_vars)
        if lines:
            result.update(failed=True, msg="\n".join(lines + [
                "Nothing has changed. Fix the variables and run again; every variable is listed by "
                "ansible-doc -t role meshpki.istio_ca.<role> and in the playbook's header."]))
        else:
            result["msg"] = "%d variable(s) of meshpki.istio_ca set, all known" % len(result["checked"])
        return result

    def _role_argument_problems(self, roles, task_vars):
        """The roles' argument problems (missing required, wrong choice or type) for the values this host has."""
        root = known_variables.collection_root()
        provided = {}
        for role in roles:
            for name in argument_help.role_options(root, role):
                if name in task_vars:
                    provided[name] = self._templar.template(task_vars[name])
        lines = []
        for role in roles:
            lines += argument_help.check_role_arguments(root, role, provided)
        return lines
