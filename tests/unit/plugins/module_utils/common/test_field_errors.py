# -*- coding: utf-8 -*-
"""apimachinery-style field error texts."""

from __future__ import absolute_import, division, print_function

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import field_errors as fe


def test_value_rendering_follows_error_body():
    assert str(fe.invalid("spec.a", "x\"y", "d")) == 'spec.a: Invalid value: "x\\"y": d'
    assert str(fe.invalid("spec.a", 5, "d")) == "spec.a: Invalid value: 5: d"
    assert str(fe.invalid("spec.a", True, "d")) == "spec.a: Invalid value: true: d"
    assert str(fe.invalid_shown("spec.a", "1h0m0s", "d")) == "spec.a: Invalid value: 1h0m0s: d"
    assert str(fe.required("spec.a")) == "spec.a: Required value"
    assert str(fe.required("spec.a", "must be specified")) == "spec.a: Required value: must be specified"
    assert str(fe.too_long("spec.a", 64)) == "spec.a: Too long: may not be more than 64 bytes"
    assert str(fe.not_supported("spec.a", 1, ("2", "3"))) == 'spec.a: Unsupported value: 1: supported values: "2", "3"'


def test_go_quote_escapes():
    assert fe.go_quote("a\tb\x01") == '"a\\tb\\x01"'
    assert fe.go_quote(u"caf\u00e9") == u'"caf\u00e9"'


def test_aggregate_like_utilerrors():
    a, b = fe.required("x"), fe.required("y")
    assert fe.aggregate([a]) == "x: Required value"
    assert fe.aggregate([a, b, a]) == "[x: Required value, y: Required value]"


def test_qualified_names_and_label_values():
    assert fe.qualified_name("example.com/name") == []
    assert fe.qualified_name("a/b/c")[0].startswith("a qualified name must consist of")
    assert fe.qualified_name("/x") == ["prefix part must be non-empty"]
    assert fe.qualified_name("x" * 64) == ["name part must be no more than 63 characters"]
    assert fe.qualified_name("-x")[0] == (
        "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
        "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
        "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")
    assert fe.label_value("") == []
    assert fe.label_value("v" * 64)[0] == "must be no more than 63 characters"
    assert fe.dns1123_subdomain("a" * 254)[0] == "must be no more than 253 characters"
    assert fe.dns1123_subdomain("ok.example") == []
    assert fe.dns1123_subdomain("trailing\n") != []
