"""cert-manager's cron parser (renewal windows), as cert-manager's webhook uses it: one port, shared with the collection.

The port lives in plugins/module_utils/common/go_cron.py (the module's pre-flight check uses it too); kubesim
re-exports it rather than keep a second copy. Both uses are checked against cert-manager's own validation
table (tests/unit/plugins/module_utils/certificate/test_certificate_validation_table.py), so a bug in the port
shows there against Go's verdicts, not only against each other.
"""

from __future__ import annotations

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.go_cron import *  # noqa: F401,F403  pylint: disable=wildcard-import,unused-wildcard-import
