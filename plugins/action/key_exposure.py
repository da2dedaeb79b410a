# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Runs the key_exposure module in the worker on the local connection (no new interpreter); see plugin_utils/action/inprocess.py."""

from __future__ import annotations

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.action.inprocess import InProcessModuleAction


class ActionModule(InProcessModuleAction):
    MODULE = "key_exposure"
