# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Fleet progress on screen: which batch of how many, each cluster as it finishes a step, one line per cluster at the end.

Why: with the default callback a long step on many clusters shows one banner and then nothing until the
slowest cluster is done, and the end shows only counters (issue 18). This callback is the default one with a
different per-host line; everything else, the PLAY RECAP included, is the default callback's.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: fleet
type: stdout
short_description: Fleet progress of the meshpki.istio_ca playbooks, on top of the default output
version_added: 0.1.0
author:
  - meshpki.istio_ca maintainers (@meshpki)
description:
  - The default callback (P(ansible.builtin.default#callback) options apply) with, for a fleet of clusters
    (one inventory host each), three additions.
  - "At every play start, and for every C(serial) batch: which batch of how many and its clusters, for example
    C(batch 2 of 5, 4 of 13 clusters: cluster-2, cluster-3, cluster-4, cluster-5)."
  - One line per cluster as it finishes a step, with its result, the step, how many clusters of the batch are done
    and the seconds since the step started. Failures, debug messages and warnings are shown exactly as the default
    callback shows them.
  - Before the PLAY RECAP (kept as is), one line per cluster with its final state (C(ok), C(changed), C(FAILED)
    at which step and why, C(UNREACHABLE)). A refused API request (401/403) is shown there as the API server's
    sentence (verb, resource, namespace, user) with the C(docs/rbac/) file of the playbook's roles, also where a
    C(kubernetes.core) task embedded it as JSON.
  - With C(-v) or more, the default callback's task banners and per-host lines are shown as well.
  - Enable it with C(stdout_callback = meshpki.istio_ca.fleet) in C(ansible.cfg) (this repository's
    C(ansible.cfg) does) or C(ANSIBLE_STDOUT_CALLBACK=meshpki.istio_ca.fleet).
extends_documentation_fragment:
  - ansible.builtin.default_callback
  - ansible.builtin.result_format_callback
requirements:
  - set as stdout callback in configuration
"""

import time

from ansible import constants as C
from ansible.playbook.task_include import TaskInclude
from ansible.plugins.callback.default import CallbackModule as DefaultCallback
from ansible.utils.helpers import pct_to_int

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import forbidden
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.run_checks import argument_help

_SHOWN_AS_DEFAULT = ("debug", "ansible.builtin.debug", "ansible.legacy.debug")


def serial_batch_sizes(serial, total):
    """The batch sizes Ansible makes of ``total`` hosts for a play's ``serial`` (PlaybookExecutor._get_serialized_batches)."""
    serial = list(serial or []) or [-1]
    sizes, left, index = [], total, 0
    while left > 0:
        size = pct_to_int(serial[index], total)
        if size <= 0:
            sizes.append(left)
            break
        sizes.append(min(size, left))
        left -= sizes[-1]
        index = min(index + 1, len(serial) - 1)
    return sizes


class CallbackModule(DefaultCallback):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "meshpki.istio_ca.fleet"

    def __init__(self):
        super().__init__()
        self._batch_key, self._batch_index, self._batch_size = None, 0, 0
        self._step, self._step_started, self._step_done = None, 0.0, 0
        self._state = {}  # host -> {"status", "step", "msg", "changed"}

    # ---- batches -------------------------------------------------------------------------------------------
    def v2_playbook_on_play_start(self, play):
        super().v2_playbook_on_play_start(play)
        try:
            inventory = play.get_variable_manager()._inventory
            batch = [h.name for h in inventory.get_hosts(play.hosts, order=play.order)]
            every = inventory.get_hosts(play.hosts, order=play.order, ignore_restrictions=True)
        except (AttributeError, TypeError):  # no inventory to look at: just the default banner
            return
        key = (play.get_name(), tuple(play.hosts))
        self._batch_index = self._batch_index + 1 if key == self._batch_key else 1
        self._batch_key, self._batch_size = key, len(batch)
        sizes = serial_batch_sizes(play.serial, len(every))
        shown = ", ".join(batch[:8]) + (", ..." if len(batch) > 8 else "")
        self._display.display("batch %d of %d, %d of %d clusters: %s" % (
            self._batch_index, max(len(sizes), self._batch_index), len(batch), len(every), shown),
            color=C.COLOR_HIGHLIGHT)

    # ---- steps ---------------------------------------------------------------------------------------------
    def _task_start(self, task, prefix=None):
        self._step, self._step_started, self._step_done = task.get_name().strip(), time.monotonic(), 0
        if self._display.verbosity:
            super()._task_start(task, prefix)
        elif prefix is not None:
            self._task_type_cache[task._uuid] = prefix

    def v2_playbook_on_include(self, included_file):
        if self._display.verbosity:
            super().v2_playbook_on_include(included_file)

    def _record(self, result, status, msg=""):
        host = result.host.get_name()
        state = self._state.setdefault(host, {"status": "ok", "step": "", "msg": "", "changed": 0})
        state["step"] = result.task.get_name().strip()
        if status == "changed":
            state["changed"] += 1
        if status in ("ok", "changed") and state["status"] == "failed":
            state.update(status="ok", msg="")  # the failure was rescued; the host went on
        if status in ("failed", "unreachable"):
            state.update(status=status, msg=msg)

    def _progress(self, result, status, color):
        self._step_done += 1
        of = "" if result.task.run_once or not self._batch_size else "%d/%d, " % (self._step_done, self._batch_size)
        self._display.display("%-8s %-20s %s   (%s%.1fs)" % (
            status, self.host_label(result), result.task.get_name().strip(), of,
            time.monotonic() - self._step_started), color=color)

    def v2_runner_on_ok(self, result):
        changed = bool(result.result.get("changed"))
        self._record(result, "changed" if changed else "ok")
        if self._display.verbosity or result.task.action in _SHOWN_AS_DEFAULT:
            super().v2_runner_on_ok(result)
            return
        if isinstance(result.task, TaskInclude):
            return
        self._handle_warnings_and_exception(result)
        self._progress(result, "changed" if changed else "ok", C.COLOR_CHANGED if changed else C.COLOR_OK)

    def v2_playbook_on_start(self, playbook):
        self._playbook = getattr(playbook, "_file_name", None)
        super().v2_playbook_on_start(playbook)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        if not ignore_errors:
            self._record(result, "failed", self.failure_line(result.result.get("msg", "")))
        if self._display.verbosity or not self._argument_failure(result):
            super().v2_runner_on_failed(result, ignore_errors)

    def failure_line(self, msg):
        """The final line's reason: the message's first line, a 401/403 as the API's sentence (not
        kubernetes.core's escaped Status JSON) with the docs/rbac file of this playbook's roles."""
        text = forbidden.for_playbook(str(msg or "").strip(), getattr(self, "_playbook", None))
        return text.splitlines()[:1]

    def _argument_failure(self, result):
        """A role's argument validation failed: one line per argument instead of the whole argument spec."""
        data, errors = result.result.get("argument_spec_data"), result.result.get("argument_errors")
        if not isinstance(data, dict) or not errors:
            return False
        if self._last_task_banner != result.task._uuid:
            self._print_task_banner(result.task)
        lines = argument_help.explain_errors(errors, data, "role %s" % result.task._role.get_name()
                                             if getattr(result.task, "_role", None) else "")
        self._display.display("fatal: [%s]: invalid role arguments (-v shows the whole argument spec)\n  %s" % (
            self.host_label(result), "\n  ".join(lines)), color=C.COLOR_ERROR)
        self._state[result.host.get_name()]["msg"] = lines[:1]
        return True

    def v2_runner_on_unreachable(self, result):
        self._record(result, "unreachable", str(result.result.get("msg", "")).strip().splitlines()[:1])
        super().v2_runner_on_unreachable(result)

    def v2_runner_on_skipped(self, result):
        if self._display.verbosity:
            super().v2_runner_on_skipped(result)

    def v2_runner_item_on_ok(self, result):
        if self._display.verbosity:
            super().v2_runner_item_on_ok(result)

    def v2_runner_item_on_skipped(self, result):
        if self._display.verbosity:
            super().v2_runner_item_on_skipped(result)

    # ---- end -----------------------------------------------------------------------------------------------
    def v2_playbook_on_stats(self, stats):
        if self._state:
            self._display.banner("FLEET STATE")
            width = max(len(host) for host in self._state)
            for host in sorted(self._state):
                state = self._state[host]
                if state["status"] in ("failed", "unreachable"):
                    line = "%s at %r: %s" % (state["status"].upper(), state["step"], " ".join(state["msg"]))
                    color = C.COLOR_ERROR if state["status"] == "failed" else C.COLOR_UNREACHABLE
                elif state["changed"]:
                    line, color = "changed (%d step(s)), last step %r" % (state["changed"], state["step"]), C.COLOR_CHANGED
                else:
                    line, color = "ok, no change, last step %r" % state["step"], C.COLOR_OK
                self._display.display("%s  %s" % (host.ljust(width), line), color=color)
        super().v2_playbook_on_stats(stats)
