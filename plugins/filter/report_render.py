# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Filters that render the fleet CA report: ``report_markdown`` and ``report_html``.

Their documentation lives beside this file in ``report_markdown.yml`` and
``report_html.yml`` (one file per filter name, which is how ansible-doc finds the
docs of several filters served by one plugin file). The rendering itself is plain
Python in plugin_utils/report/ (controller-only) so it can be unit-tested without Ansible.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.common.plain import plain as _plain
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import CollectionError
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.report.html import render_html
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.report.markdown import render_markdown


def _render(fn, name, report, now=None, expiring_within=None, title=None):
    try:
        return fn(_plain(report), now=now, expiring_within=expiring_within, title=title)
    except CollectionError as exc:
        raise AnsibleFilterError("%s: %s" % (name, exc))


def report_markdown(report, now=None, expiring_within=None, title=None):
    """report.json content -> report.md text."""
    return _render(render_markdown, "report_markdown", report, now, expiring_within, title)


def report_html(report, now=None, expiring_within=None, title=None):
    """report.json content -> self-contained report.html text."""
    return _render(render_html, "report_html", report, now, expiring_within, title)


class FilterModule(object):
    """Report rendering filters of meshpki.istio_ca."""

    def filters(self):
        return {
            "report_markdown": report_markdown,
            "report_html": report_html,
        }
