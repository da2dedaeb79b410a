# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Controller-side helper shared by the collection's filter plugins."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def plain(value):
    """Ansible's tagged/unsafe wrappers -> builtin types, so json.dumps, comparisons and renderers behave."""
    if isinstance(value, dict):
        return dict((str(k), plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    return value
