# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Run one of this collection's modules inside the Ansible worker instead of a new Python process.

Why: with ``ansible_connection: local`` every module task starts a new interpreter, unpacks AnsiballZ
and imports ``ansible.module_utils.basic`` and ``cryptography`` again (~0.8 controller CPU-s per task,
see docs/performance.md). Our modules only talk to remote Kubernetes APIs or read controller-side
files, so on the ``local`` connection the worker (already forked per task, with ansible imported) can
run the module's ``run(module)`` itself. Everything a user sees stays as the module path makes it:
the same argument validation and messages, check and diff mode, warnings, ``invocation`` with no_log
values censored, the same ``run_module`` turning errors into ``fail_json``.

Anything the worker cannot reproduce exactly (another connection, ``become``, ``async``, arguments
that do not survive JSON) takes the normal module path. ``MESHPKI_IN_PROCESS=0`` in the controller's
environment, or the variable ``meshpki_in_process: false``, forces the module path everywhere.
"""

from __future__ import annotations

import contextlib
import copy
import gc
import importlib
import json
import os
import sys

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.errors import UnsupportedError
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.utils.vars import merge_hash

try:  # ansible-core 2.19+: how a module's failure is marked as coming from a module ("Module failed: ...")
    from ansible._internal._errors._captured import AnsibleModuleCapturedError
except ImportError:  # older ansible-core has no such marking
    AnsibleModuleCapturedError = None

KILL_SWITCH_ENV = "MESHPKI_IN_PROCESS"
KILL_SWITCH_VAR = "meshpki_in_process"
MODULES_PACKAGE = "ansible_collections.meshpki.istio_ca.plugins.modules."


class ModuleExit(Exception):
    """How the stand-in's exit_json/fail_json leave the module's ``run()``: carries the finished result."""

    def __init__(self, result):
        super().__init__("module exited")
        self.result = result


class InProcessModule:
    """The part of AnsibleModule our modules use, validated the way AnsibleModule validates.

    ``exit_json``/``fail_json`` raise ModuleExit with the result a module process would have printed.
    """

    def __init__(self, name, argument_spec, module_kwargs, args, check_mode=False, diff=False):
        self._name = name
        self.check_mode = check_mode
        self._diff = diff
        self.no_log_values = set()
        self._warnings = []
        self.params = copy.deepcopy(args)
        kwargs = {k: v for k, v in module_kwargs.items() if k != "supports_check_mode"}
        validator = ArgumentSpecValidator(argument_spec, **kwargs)
        outcome = validator.validate(self.params)
        self.params.update(outcome.validated_parameters)
        self.no_log_values.update(outcome._no_log_values)
        # AnsibleModule's ModuleArgumentSpecValidator turns these into warnings with this text.
        for item in outcome._warnings:
            self.warn("Both option {option} and its alias {alias} are set.".format(**item))
        if outcome.error_messages:
            msg = outcome.errors.msg
            if isinstance(outcome.errors[0], UnsupportedError):
                msg = "Unsupported parameters for ({name}) {kind}: {msg}".format(name=name, kind="module", msg=msg)
            self.fail_json(msg=msg)

    def warn(self, warning):
        self._warnings.append(warning)

    def exit_json(self, **kwargs):
        raise ModuleExit(self._formatted(kwargs))

    def fail_json(self, msg, **kwargs):
        kwargs.pop("exception", None)  # tracebacks: none are captured by default on the module path either
        kwargs.update(failed=True, msg=str(msg))
        raise ModuleExit(self._formatted(kwargs))

    def _formatted(self, kwargs):
        """What AnsibleModule._return_formatted and the trip back to the controller make of a result."""
        kwargs.setdefault("invocation", {"module_args": self.params})
        if self._warnings:
            kwargs["warnings"] = list(self._warnings)
        preserved = {k: v for k, v in kwargs.items() if v is None or isinstance(v, bool)}
        kwargs = remove_values(kwargs, self.no_log_values)
        kwargs.update(preserved)
        kwargs = json.loads(json.dumps(kwargs))
        if AnsibleModuleCapturedError is not None:
            AnsibleModuleCapturedError.normalize_result_exception(kwargs)
        kwargs["_ansible_parsed"] = True
        return kwargs


def run_in_process(module_name, task_name, args, check_mode=False, diff=False):
    """Validate ``args`` for our module ``module_name`` and run it; returns the module's result dict."""
    module = importlib.import_module(MODULES_PACKAGE + module_name)
    try:
        stand_in = InProcessModule(task_name, module.argument_spec(), module.MODULE_KWARGS, args,
                                   check_mode=check_mode, diff=diff)
        module.run(stand_in)
    except ModuleExit as done:
        return done.result
    finally:
        _close_k8s_connections()
    raise RuntimeError("module %s returned without exit_json or fail_json" % module_name)


def _close_k8s_connections():
    """End of the task: close the pooled API connections and delete the kubeconfig loader's temp files.

    A module process does both at exit (``kubernetes.config.kube_config`` registers an ``atexit``
    cleanup of the files it writes for inline credentials); the forked worker ends with ``os._exit``,
    which runs no exit handlers, so without this the client key of every task would stay in /tmp.
    """
    client = sys.modules.get("ansible_collections.meshpki.istio_ca.plugins.module_utils.k8s.client")
    if client is not None:
        client.close_all()


def in_process_enabled(task_vars):
    """False when the kill switch (environment or variable) asks for the module path."""
    env = os.environ.get(KILL_SWITCH_ENV)
    if env is not None and not boolean(env, strict=False):
        return False
    var = (task_vars or {}).get(KILL_SWITCH_VAR)
    return var is None or boolean(var, strict=False)


class InProcessModuleAction(ActionBase):
    """Action plugin for one of our modules: in the worker on the local connection, else the module."""

    MODULE = None  # the module's short name, set by each action plugin
    PRELOAD = ()  # further modules of ours an action runs (a composite action such as ca_state)

    _supports_check_mode = True
    _supports_async = True

    def __init_subclass__(cls, **kwargs):
        """Import the module (and cryptography, our module_utils) when Ansible loads the action plugin.

        The linear and free strategies load every task's action plugin class in the controller's main
        process before they fork the worker for it, so importing here means the import happens once
        per run and every forked worker inherits it, instead of once per task in each worker (about
        a third of an in-process task's CPU; docs/performance-inprocess.md). Failing to import is not
        an error here: the task then reports it the way the module path would.

        Then ``gc.freeze()``: the imported objects (the official kubernetes client alone adds some
        25,000) move to the collector's permanent generation, so a worker's garbage collections do not
        walk them, which would touch, and so copy, every page they live on (Python's ``gc.freeze``
        documentation recommends exactly this before ``fork()`` without ``exec()``). Measured: about
        50 ms of CPU per forked worker (docs/performance.md, "Per-task cost of the connection layer").
        """
        super().__init_subclass__(**kwargs)
        names = ((cls.MODULE,) if cls.MODULE else ()) + tuple(cls.PRELOAD)
        for name in names:
            try:
                importlib.import_module(MODULES_PACKAGE + name)
            except Exception:  # pylint: disable=broad-exception-caught
                pass
        if names:
            gc.freeze()

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        args = self._portable_args()
        if args is None or not self._can_run_here(task_vars):
            return self._run_module_path(result, task_vars)
        with self._task_environment():
            outcome = run_in_process(self.MODULE, self._task.action, args,
                                     check_mode=bool(self._task.check_mode), diff=bool(self._task.diff))
        if not outcome.get("warnings"):
            outcome.pop("warnings", None)
        return merge_hash(result, outcome)

    @contextlib.contextmanager
    def _task_environment(self):
        """The task's ``environment:`` in ``os.environ`` while the module runs, restored afterwards."""
        env = {}
        self._compute_environment_string(env)
        saved = {key: os.environ.get(key) for key in env}
        os.environ.update({key: str(value) for key, value in env.items()})
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    def _can_run_here(self, task_vars):
        """Only where the module would run on this machine as this user, synchronously."""
        return (in_process_enabled(task_vars)
                and getattr(self._connection, "transport", None) == "local"
                and not self._task.async_val
                and not self._play_context.become)

    def _portable_args(self):
        """The task's arguments as the module would receive them (plain JSON values), or None."""
        try:
            return json.loads(json.dumps(dict(self._task.args)))
        except (TypeError, ValueError):
            return None

    def _run_module_path(self, result, task_vars):
        """Exactly what ansible.builtin.normal does."""
        wrap_async = self._task.async_val and not self._connection.has_native_async
        result = merge_hash(result, self._execute_module(task_vars=task_vars, wrap_async=wrap_async))
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result
