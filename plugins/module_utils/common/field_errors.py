# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Kubernetes field errors, printed the way apimachinery prints them.

cert-manager's webhook reports ``field.ErrorList`` entries; a person reading our
pre-flight failure should see the very text the webhook would have returned, e.g.
``spec.renewBefore: Invalid value: 720h0m0s: certificate duration 720h0m0s must be
greater than renewBefore 720h0m0s``. Formatting follows apimachinery
``pkg/util/validation/field/errors.go`` (Error.ErrorBody): strings are Go-quoted,
numbers plain, Stringer values (time.Duration) unquoted via String(); Required,
Forbidden and TooLong omit the value. Also the DNS-subdomain / qualified-name /
label-value messages of ``pkg/util/validation/validation.go`` used for secretName
and secretTemplate.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

INVALID = "Invalid value"
REQUIRED = "Required value"
NOT_SUPPORTED = "Unsupported value"
TOO_LONG = "Too long"
FORBIDDEN = "Forbidden"
DUPLICATE = "Duplicate value"
_NO_VALUE = (REQUIRED, FORBIDDEN, TOO_LONG)


def go_quote(text):
    """Go ``%q`` (strconv.Quote) for the strings that show up in field errors."""
    out = ['"']
    for char in text:
        code = ord(char)
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif char in "\a\b\f\n\r\t\v":
            out.append({"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
                        "\t": "\\t", "\v": "\\v"}[char])
        elif code < 0x20 or code == 0x7f:
            out.append("\\x%02x" % code)
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def json_type_name(value):
    """The JSON type the API server names in a schema type error."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def show(value):
    """The value text of an ``Invalid value: <v>`` (strings quoted, numbers plain, others as JSON)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return go_quote(value)
    if value is None:
        return "null"
    # Go prints structs with %#v, which cannot be reproduced from Python; JSON is the honest stand-in.
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


class FieldError(object):
    """One ``field.Error``: kind (Invalid value, Required value, ...), field path, shown value, detail."""

    def __init__(self, kind, field, shown="", detail=""):
        self.kind = kind
        self.field = field
        self.shown = shown
        self.detail = detail

    def __str__(self):
        body = self.kind if self.kind in _NO_VALUE else "%s: %s" % (self.kind, self.shown)
        if self.detail:
            body += ": " + self.detail
        return "%s: %s" % (self.field, body)

    __repr__ = __str__

    def __eq__(self, other):
        return isinstance(other, FieldError) and str(self) == str(other)

    def __hash__(self):
        return hash(str(self))


def invalid(field, value, detail):
    return FieldError(INVALID, field, show(value), detail)


def invalid_shown(field, shown, detail):
    """Invalid value whose value text is already rendered (e.g. a Go duration ``720h0m0s``)."""
    return FieldError(INVALID, field, shown, detail)


def required(field, detail=""):
    return FieldError(REQUIRED, field, "", detail)


def too_long(field, max_bytes):
    """field.TooLong as apimachinery v0.30+ words it (cert-manager v1.17+); older releases said
    "must have at most N bytes"."""
    return FieldError(TOO_LONG, field, "", "may not be more than %d bytes" % max_bytes)


def forbidden(field, detail):
    return FieldError(FORBIDDEN, field, "", detail)


def duplicate(field, value):
    return FieldError(DUPLICATE, field, show(value), "")


def go_struct(type_name, fields):
    """Go's ``%#v`` of a struct value, which apimachinery prints for a struct BadValue.

    ``fields`` is [(name, kind, value)] in declaration order; kind "strings" ([]string: None is nil),
    "string", "bool" or "pointer" (a nil pointer prints as ``(*T)(nil)``; a set one prints its address,
    which no one can predict, shown here as ``(*T)(0x…)``).
    """
    parts = []
    for name, kind, value in fields:
        if kind == "strings":
            text = "[]string(nil)" if value is None else "[]string{%s}" % ", ".join(go_quote(v) for v in value)
        elif kind == "bool":
            text = "true" if value else "false"
        elif kind == "string":
            text = go_quote(value or "")
        else:
            text = "(*%s)(%s)" % (kind, "nil" if value is None else "0x\u2026")
        parts.append("%s:%s" % (name, text))
    return "%s{%s}" % (type_name, ", ".join(parts))


_SUBJECT_FIELDS = (("Organizations", "organizations"), ("Countries", "countries"),
                   ("OrganizationalUnits", "organizationalUnits"), ("Localities", "localities"),
                   ("Provinces", "provinces"), ("StreetAddresses", "streetAddresses"), ("PostalCodes", "postalCodes"))


def go_x509_subject(subject):
    """``%#v`` of cert-manager's internal X509Subject (internal/apis/certmanager/types_certificate.go)."""
    fields = [(go, "strings", subject.get(key)) for go, key in _SUBJECT_FIELDS]
    fields.append(("SerialNumber", "string", subject.get("serialNumber")))
    return go_struct("certmanager.X509Subject", fields)


def go_name_constraints(constraints):
    """``%#v`` of cert-manager's internal NameConstraints."""
    item = "certmanager.NameConstraintItem"
    return go_struct("certmanager.NameConstraints", [
        ("Critical", "bool", constraints.get("critical")),
        ("Permitted", item, constraints.get("permitted")),
        ("Excluded", item, constraints.get("excluded"))])


def not_supported(field, value, supported):
    detail = ""
    if supported:
        detail = "supported values: " + ", ".join(go_quote(v) for v in supported)
    return FieldError(NOT_SUPPORTED, field, show(value), detail)


def aggregate(errors):
    """utilerrors.NewAggregate(...).Error(): one message, or ``[a, b]`` for several (duplicates dropped)."""
    seen, texts = set(), []
    for err in errors:
        text = str(err)
        if text not in seen:
            seen.add(text)
            texts.append(text)
    if len(texts) == 1:
        return texts[0]
    return "[" + ", ".join(texts) + "]"


# --- apimachinery pkg/util/validation/validation.go messages ---------------------------------------------------------

def _regex_error(msg, fmt, *examples):
    if not examples:
        return "%s (regex used for validation is '%s')" % (msg, fmt)
    text = msg + " (e.g. "
    for i, example in enumerate(examples):
        if i > 0:
            text += " or "
        text += "'" + example + "', "
    return text + "regex used for validation is '" + fmt + "')"


_DNS1123_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN = _DNS1123_LABEL + "(\\." + _DNS1123_LABEL + ")*"
_DNS1123_SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
                          "'-' or '.', and must start and end with an alphanumeric character")
_QNAME = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_QNAME_MSG = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
_LABEL_VALUE = "(" + _QNAME + ")?"
_LABEL_VALUE_MSG = ("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
                    "and must start and end with an alphanumeric character")


def _max_len(n):
    return "must be no more than %d characters" % n


def dns1123_subdomain(value):
    """IsDNS1123Subdomain: list of messages (empty when valid)."""
    errs = []
    if len(value) > 253:
        errs.append(_max_len(253))
    if not re.fullmatch(_DNS1123_SUBDOMAIN, value):
        errs.append(_regex_error(_DNS1123_SUBDOMAIN_MSG, _DNS1123_SUBDOMAIN, "example.com"))
    return errs


def qualified_name(value):
    """IsQualifiedName: label and annotation keys (``prefix/name``)."""
    errs = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs.extend("prefix part " + m for m in dns1123_subdomain(prefix))
    else:
        return [("a qualified name " + _regex_error(_QNAME_MSG, _QNAME, "MyName", "my.name", "123-abc")
                 + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')")]
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > 63:
        errs.append("name part " + _max_len(63))
    if not re.fullmatch(_QNAME, name):
        errs.append("name part " + _regex_error(_QNAME_MSG, _QNAME, "MyName", "my.name", "123-abc"))
    return errs


def label_value(value):
    """IsValidLabelValue."""
    errs = []
    if len(value) > 63:
        errs.append(_max_len(63))
    if not re.fullmatch(_LABEL_VALUE, value):
        errs.append(_regex_error(_LABEL_VALUE_MSG, _LABEL_VALUE, "MyValue", "my_value", "12345"))
    return errs
