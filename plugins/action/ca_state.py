# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Read one cluster's whole CA state in one task (docs in plugins/modules/ca_state.py).

Why: every Ansible task costs the controller's main process ~40-80 ms per host before it does anything
(docs/performance.md, "Where the time goes"), so the four read-only tasks the preflight, report.yml and the
rotation's status ran per cluster (certificate in check mode, x509_inspect, istiod_reload_check and a
kubernetes.core.k8s_info of the rotation record, a module process of ~1.3 CPU-s) are one task here. The work is
still the modules': on the ``local`` connection each runs in-process (plugin_utils/action/inprocess.py), on any
other connection each is executed as its module, and the ConfigMap / Deployment reads become
``kubernetes.core.k8s_info`` there. Each part's result is what the part's task registered before, with
``failed_when: false``: a part that cannot be read is recorded with its cause, never fails the task.
"""

from __future__ import annotations

import copy

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.utils.vars import merge_hash

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import CollectionError
from ansible_collections.meshpki.istio_ca.plugins.module_utils.k8s.args_common import AUTH_ARG_SPEC
from ansible_collections.meshpki.istio_ca.plugins.module_utils.k8s.client import K8sClient, object_path
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.action.inprocess import (
    InProcessModuleAction, _close_k8s_connections, run_in_process)

COLLECTION = "meshpki.istio_ca."
ISTIOD_SELECTOR = "app=istiod"  # the label istiod's Deployments and pods carry (istio manifests/charts/istio-control)


def argument_spec():
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(
        namespace=dict(type="str", default="istio-system"),
        certificate_name=dict(type="str", default="cacerts"),
        secret_name=dict(type="str", default="cacerts"),
        spec=dict(type="dict", default={}),
        renew=dict(type="str", choices=["true", "false", "auto"], default="false"),
        check_root_policy=dict(type="bool", default=False),
        cluster_resource_namespace=dict(type="str", default="cert-manager"),
        reload_check=dict(type="bool", default=True),
        reload_timeout=dict(type="float"),
        record_name=dict(type="str"),
        istiod_deployments=dict(type="bool", default=False),
    )
    return spec


def _compact(result):
    """A part's result as its own task registered it, without what only a task needs (invocation, parse marks)."""
    result = dict(result)
    for key in ("invocation", "_ansible_parsed", "_ansible_no_log", "warnings", "deprecations"):
        result.pop(key, None)
    return result


class ActionModule(InProcessModuleAction):
    """certificate (check mode) + x509_inspect + istiod_reload_check + record ConfigMap (+ istiod Deployments)."""

    PRELOAD = ("certificate", "x509_inspect", "istiod_reload_check")
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super(InProcessModuleAction, self).run(tmp, task_vars)  # ActionBase.run: no module of its own
        del tmp
        validation = ArgumentSpecValidator(argument_spec()).validate(dict(self._task.args))
        if validation.error_messages:
            return dict(result, failed=True, msg="; ".join(validation.error_messages))
        args = validation.validated_parameters
        auth = {name: args[name] for name in AUTH_ARG_SPEC if args.get(name) is not None}
        self._in_process = self._portable_args() is not None and self._can_run_here(task_vars)
        self._warnings = []
        self._vars = task_vars
        namespace = args["namespace"]

        state = {"certificate": self._module("certificate", dict(
            auth, name=args["certificate_name"], namespace=namespace, spec=args["spec"], merge_live_spec=True,
            renew=args["renew"], check_root_policy=args["check_root_policy"],
            cluster_resource_namespace=args["cluster_resource_namespace"]))}
        state["inspect"] = self._module("x509_inspect", dict(
            auth, secret={"name": args["secret_name"], "namespace": namespace}, istio_signing_ca=True))
        if args["reload_check"] and "certificates" in state["inspect"]:
            reload_args = dict(auth, namespace=namespace, secret_name=args["secret_name"], fail_on_not_reloaded=False)
            if args["reload_timeout"] is not None:
                reload_args["timeout"] = args["reload_timeout"]
            state["reload"] = self._module("istiod_reload_check", reload_args)
        else:
            state["reload"] = {"skipped": True, "changed": False,
                               "skip_reason": "reload_check is false" if not args["reload_check"]
                               else "cacerts could not be read"}
        if args["record_name"]:
            state["record"] = self._objects(auth, "ConfigMap", "v1", "configmaps", namespace, name=args["record_name"])
        if args["istiod_deployments"]:
            state["istiod"] = self._objects(auth, "Deployment", "apps/v1", "deployments", namespace,
                                            selector=ISTIOD_SELECTOR)
        if not self._in_process:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        result.update(state, changed=False)
        if self._warnings:
            result["warnings"] = self._warnings
        return result

    def _module(self, name, module_args):
        """One of our modules, always in check mode (every part is a read), as its task would have run it."""
        if self._in_process:
            with self._task_environment():
                outcome = run_in_process(name, COLLECTION + name, module_args, check_mode=True,
                                         diff=bool(self._task.diff))
        else:
            outcome = self._execute(COLLECTION + name, module_args)
        self._warnings.extend(outcome.get("warnings") or [])
        return _compact(outcome)

    def _objects(self, auth, kind, api_version, plural, namespace, name=None, selector=None):
        """Objects as ``kubernetes.core.k8s_info`` returns them (``resources``), or the failure with its cause."""
        if not self._in_process:
            info_args = dict(auth, kind=kind, api_version=api_version, namespace=namespace)
            if name:
                info_args["name"] = name
            if selector:
                info_args["label_selectors"] = [selector]
            return _compact(self._execute("kubernetes.core.k8s_info", info_args))
        params = ArgumentSpecValidator(copy.deepcopy(AUTH_ARG_SPEC)).validate(auth).validated_parameters
        try:
            with self._task_environment():
                client = K8sClient.from_params(params)
                if name:
                    found = client.get_or_none(object_path(api_version, plural, namespace, name))
                    resources = [found] if found else []
                else:
                    listed = client.get(object_path(api_version, plural, namespace),
                                        query={"labelSelector": selector} if selector else None)
                    resources = [dict(item, apiVersion=api_version, kind=kind) for item in listed.get("items") or []]
        except CollectionError as exc:
            return dict(exc.failure(), failed=True)
        finally:
            _close_k8s_connections()
        return {"changed": False, "api_found": True, "resources": resources}

    def _execute(self, module_name, module_args):
        """The module path, in check mode whatever the task says (ansible.builtin.normal's call otherwise)."""
        check_mode = self._task.check_mode
        self._task.check_mode = True
        try:
            outcome = self._execute_module(module_name=module_name, module_args=module_args, task_vars=self._vars)
        finally:
            self._task.check_mode = check_mode
        return merge_hash({}, outcome)
