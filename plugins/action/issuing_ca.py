# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""issuing_ca: sign a per-cluster issuing CA with the offline root, on the controller, into the cluster.

An action plugin, never a module: the root key file is read here, on the controller (ansible-vault
files decrypted in memory by the DataLoader), and must never be shipped to a target or into a task
argument; the issuing CA's key is generated in this worker process and goes straight from memory
into the cluster's CA Secret through the Kubernetes API. Options are validated with the same
ArgumentSpecValidator and result formatting as our in-process modules (plugin_utils/action/inprocess.py);
the backend is plugin_utils/issuing_ca/backend.py; documentation is plugins/modules/issuing_ca.py.
"""

from __future__ import annotations

import json

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase
from ansible.utils.vars import merge_hash

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import CollectionError
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.module_runner import run_module
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.action.inprocess import InProcessModule, ModuleExit
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.issuing_ca import backend
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.issuing_ca.spec import ARGUMENT_SPEC

try:
    import cryptography  # noqa: F401  pylint: disable=unused-import
    HAS_CRYPTOGRAPHY = True
except ImportError:  # pragma: no cover
    HAS_CRYPTOGRAPHY = False


class ActionModule(ActionBase):
    """Runs entirely in the controller's worker, whatever the host's connection."""

    _supports_check_mode = True
    _supports_async = False
    TRANSFERS_FILES = False

    def _read_controller_file(self, path):
        """Bytes of a controller file (role/play ``files`` search path), vault-decrypted in memory only."""
        try:
            real = self._find_needle("files", path)
            data, _shown = self._loader._get_file_contents(real)  # pylint: disable=protected-access
        except AnsibleError as exc:
            raise CollectionError("Cannot read %s on the controller: %s" % (path, exc.message))
        return data

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        try:
            args = json.loads(json.dumps(dict(self._task.args)))
        except (TypeError, ValueError):
            return merge_hash(result, {"failed": True, "msg": "issuing_ca: options must be plain values"})
        check_mode, diff = bool(self._task.check_mode), bool(self._task.diff)
        try:
            module = InProcessModule(self._task.action, ARGUMENT_SPEC, {}, args, check_mode=check_mode, diff=diff)

            def work():
                out = backend.ensure(module.params, check_mode, self._read_controller_file)
                if not diff:
                    out.pop("diff", None)
                return out

            run_module(module, work, required_libraries=[("cryptography", HAS_CRYPTOGRAPHY)])
        except ModuleExit as done:
            return merge_hash(result, done.result)
        return merge_hash(result, {"failed": True, "msg": "issuing_ca ended without a result"})
