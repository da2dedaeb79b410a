# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""The one exception type of the istiod reload check (module_runner turns it into fail_json)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import CollectionError


class IstiodCheckError(CollectionError):
    """The check could not run, or istiod has not reloaded and the caller asked to fail; ``result`` says why."""
