# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""The one exception type of the x509 layer.

Anything x509_inspect cannot read or judge (empty input, garbage, a key where a
certificate belongs, a Secret without tls.crt, ...) raises X509Error. Its str()
is one sentence meant for the person running the playbook; it never contains key
material. run_module() in module_runner turns it into fail_json in one place.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import CollectionError


class X509Error(CollectionError):
    """Input that cannot be read or judged; the message says what to fix."""

    def __init__(self, message, result=None):
        first = message.split(" ", 1)[0]
        if first.isalpha() and first.islower():  # "file x is empty" -> "File x ...", but keep "valid_at.x: ..."
            message = message[:1].upper() + message[1:]
        super(X509Error, self).__init__(message, result)
