# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Write one step of a cluster's rotation in one task (docs in plugins/modules/rotation_record.py).

Why: the step was three tasks per cluster, three times per rotation (ansible.builtin.lineinfile delegated to
the controller with ``throttle: 1``, a kubernetes.core.k8s module process of ~1.3 controller CPU-s, and a debug
of its failure). Here the journal line is appended on the controller by the action itself (the action always
runs on the controller; an exclusive ``flock`` replaces the throttle between the clusters of a batch) and the
ConfigMap is written in-process on the ``local`` connection, or by kubernetes.core.k8s on any other connection.
The in-cluster copy stays best effort: a cluster that went down mid-change still gets its step in the journal
and a warning, not a second failure.
"""

from __future__ import annotations

import copy
import fcntl
import json
import os

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import CollectionError
from ansible_collections.meshpki.istio_ca.plugins.module_utils.k8s.args_common import AUTH_ARG_SPEC
from ansible_collections.meshpki.istio_ca.plugins.module_utils.k8s.client import K8sClient, object_path
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.action.inprocess import (
    InProcessModuleAction, _close_k8s_connections)
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.common.plain import plain
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.rotation.journal import rotation_record_configmap

# Server-side apply (one request whether the record exists or not) under the collection's field manager, forced:
# the record is this collection's alone and every step writes all of its keys (journal.rotation_record), so
# the result is what kubernetes.core.k8s's create-or-patch made of it, one request cheaper.
FIELD_MANAGER = "meshpki.istio_ca"


def argument_spec():
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(
        entry=dict(type="dict", required=True),
        namespace=dict(type="str", default="istio-system"),
        journal=dict(type="path", required=True),
    )
    return spec


def append_line(path, line):
    """Append one line to ``path`` (created 0644 with its directory), one writer at a time."""
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, (line + "\n").encode("utf-8"))
    finally:
        os.close(fd)  # closing releases the lock


def write_configmap(client, configmap):
    """Create or update the record ConfigMap."""
    meta = configmap["metadata"]
    return client.apply(object_path("v1", "configmaps", meta["namespace"], meta["name"]), configmap, FIELD_MANAGER,
                        force=True)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True

    _can_run_here = InProcessModuleAction._can_run_here
    _portable_args = InProcessModuleAction._portable_args
    _task_environment = InProcessModuleAction._task_environment

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        validation = ArgumentSpecValidator(argument_spec()).validate(dict(self._task.args))
        if validation.error_messages:
            return dict(result, failed=True, msg="; ".join(validation.error_messages))
        args = validation.validated_parameters
        if self._task.check_mode:
            return dict(result, changed=False, skipped=True, msg="check mode: no step is recorded")
        entry = plain(args["entry"])
        journal = os.path.realpath(args["journal"])
        append_line(journal, json.dumps(entry, sort_keys=True))
        configmap = rotation_record_configmap(entry, args["namespace"])
        auth = {name: args[name] for name in AUTH_ARG_SPEC if args.get(name) is not None}
        error = self._write(auth, configmap, task_vars)
        result.update(changed=error is None, entry=entry, journal=journal, record_written=error is None)
        if error is not None:
            meta = configmap["metadata"]
            result["warnings"] = [
                "the rotation record %s/%s could not be written (%s); the controller's journal %s has the step"
                % (meta["namespace"], meta["name"], str(error)[:300], journal)]
        return result

    def _write(self, auth, configmap, task_vars):
        """None when the ConfigMap was written, else why not."""
        if not (self._portable_args() is not None and self._can_run_here(task_vars)):
            outcome = self._execute_module(module_name="kubernetes.core.k8s",
                                           module_args=dict(auth, state="present", definition=configmap, apply=True,
                                                            server_side_apply={"field_manager": FIELD_MANAGER,
                                                                               "force_conflicts": True}),
                                           task_vars=task_vars)
            self._remove_tmp_path(self._connection._shell.tmpdir)
            return (outcome.get("msg") or "failed") if outcome.get("failed") else None
        params = ArgumentSpecValidator(copy.deepcopy(AUTH_ARG_SPEC)).validate(auth).validated_parameters
        try:
            with self._task_environment():
                write_configmap(K8sClient.from_params(params), configmap)
        except CollectionError as exc:
            return exc
        finally:
            _close_k8s_connections()
        return None
