# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Base of the domain errors of this collection (certificate, x509, istiod checks)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class CollectionError(Exception):
    """A failure with a message a person can act on.

    ``result`` carries partial results worth returning on failure (e.g. the last
    seen conditions on a timeout); it must never hold key material.
    """

    def __init__(self, message, result=None):
        super(CollectionError, self).__init__(message)
        self.message = message
        self.result = result or {}
