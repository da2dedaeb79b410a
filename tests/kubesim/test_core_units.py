"""Unit tests of kubesim's pure building blocks: patches, selectors, field sets, versions."""

from __future__ import annotations

import pytest

from kubesim.apiserver import ssa
from kubesim.controllers.base import ApiError
from kubesim.apiserver.patch import PatchError, json_patch, merge_patch, strategic_merge_patch
from kubesim.apiserver.selectors import parse_field_selector, parse_label_selector
from kubesim.util import parse_time, version_priority


@pytest.mark.parametrize("target,patch,result", [
    # RFC 7386 appendix A (a selection)
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
])
def test_merge_patch_rfc7386(target, patch, result):
    assert merge_patch(target, patch) == result


def test_merge_patch_does_not_mutate_input():
    doc = {"a": {"b": 1}}
    merge_patch(doc, {"a": {"b": 2}})
    assert doc == {"a": {"b": 1}}


def test_json_patch_ops():
    doc = {"a": {"b": [1, 2]}, "c": "x"}
    out = json_patch(doc, [{"op": "add", "path": "/a/b/-", "value": 3},
                           {"op": "add", "path": "/a/b/0", "value": 0},
                           {"op": "move", "from": "/c", "path": "/d"},
                           {"op": "copy", "from": "/d", "path": "/e~1f"},
                           {"op": "replace", "path": "/a/b/1", "value": 9},
                           {"op": "test", "path": "/d", "value": "x"}])
    assert out == {"a": {"b": [0, 9, 2, 3]}, "d": "x", "e/f": "x"}
    assert doc == {"a": {"b": [1, 2]}, "c": "x"}
    with pytest.raises(PatchError):
        json_patch(doc, [{"op": "remove", "path": "/nope"}])
    with pytest.raises(PatchError):
        json_patch(doc, [{"op": "replace", "path": "/nope", "value": 1}])
    with pytest.raises(ApiError) as ei:
        json_patch(doc, [{"op": "frobnicate", "path": "/a"}])
    assert ei.value.code == 400


def test_strategic_merge_primitive_lists_and_delete_directives():
    doc = {"metadata": {"finalizers": ["a", "b"]}, "spec": {"containers": [{"name": "c", "args": ["x", "y"]}]}}
    out = strategic_merge_patch(doc, {"metadata": {"finalizers": ["c"]}})
    assert out["metadata"]["finalizers"] == ["a", "b", "c"]
    out = strategic_merge_patch(doc, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}})
    assert out["metadata"]["finalizers"] == ["b"]
    # args has no merge strategy: replaced
    out = strategic_merge_patch(doc, {"spec": {"containers": [{"name": "c", "args": ["z"]}]}})
    assert out["spec"]["containers"] == [{"name": "c", "args": ["z"]}]
    out = strategic_merge_patch(doc, {"spec": {"containers": [{"name": "c", "$patch": "delete"}]}})
    assert out["spec"]["containers"] == []
    out = strategic_merge_patch(doc, {"spec": {"$patch": "replace", "x": 1}})
    assert out["spec"] == {"x": 1}
    out = strategic_merge_patch(doc, {"spec": {"containers": [{"$patch": "replace"}, {"name": "n"}]}})
    assert out["spec"]["containers"] == [{"name": "n"}]
    assert doc["metadata"]["finalizers"] == ["a", "b"]


def test_strategic_merge_ports_keys_depend_on_parent():
    svc = {"spec": {"ports": [{"port": 80, "name": "http"}]}}
    out = strategic_merge_patch(svc, {"spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443}]}})
    assert out["spec"]["ports"] == [{"port": 80, "name": "http", "targetPort": 8080}, {"port": 443}]
    pod = {"spec": {"containers": [{"name": "c", "ports": [{"containerPort": 80}]}]}}
    out = strategic_merge_patch(pod, {"spec": {"containers": [{"name": "c", "ports": [{"containerPort": 81}]}]}})
    assert out["spec"]["containers"][0]["ports"] == [{"containerPort": 80}, {"containerPort": 81}]


@pytest.mark.parametrize("sel,labels,expected", [
    ("a=b", {"a": "b"}, True), ("a==b", {"a": "c"}, False), ("a!=b", {}, True), ("a", {"a": ""}, True),
    ("!a", {"a": "x"}, False), ("a in (x, y)", {"a": "y"}, True), ("a notin (x,y)", {"a": "z"}, True),
    ("a notin (x)", {}, True), ("a=b,c", {"a": "b"}, False), ("app.kubernetes.io/name=web",
                                                              {"app.kubernetes.io/name": "web"}, True),
])
def test_label_selectors(sel, labels, expected):
    assert parse_label_selector(sel)(labels) is expected


def test_selector_errors():
    assert parse_label_selector("") is None and parse_field_selector(None) is None
    for bad in ("a=b,", "a in b", "=x"):
        with pytest.raises(ApiError) as ei:
            parse_label_selector(bad)
        assert ei.value.code == 400
    with pytest.raises(ApiError):
        parse_field_selector("spec.foo=1")
    sel = parse_field_selector("metadata.name=a,status.phase!=Running", allowed=("status.phase",))
    assert sel({"metadata": {"name": "a"}, "status": {"phase": "Pending"}})
    assert not sel({"metadata": {"name": "a"}, "status": {"phase": "Running"}})


def test_fields_v1_round_trip_and_paths():
    obj = {"metadata": {"labels": {"a": "1"}, "name": "x"},
           "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "i",
                                                          "env": [{"name": "E", "value": "v"}]}]}}},
           "data": {}}
    fields = ssa.field_set(obj, ssa.builtin_list_keys, None, False)
    item = ("k", '{"name":"c"}')
    assert ("spec", "template", "spec", "containers", item, "image") in fields
    assert ("spec", "template", "spec", "containers", item) in fields
    assert ("data",) in fields and ("metadata", "name") not in fields
    tree = ssa.to_fields_v1(fields)
    assert tree["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"c"}']["."] == {}
    assert ssa.from_fields_v1(tree) == fields
    assert ssa.path_string(("spec", "template", "spec", "containers", item, "env", ("k", '{"name":"E"}'),
                            "value")) == '.spec.template.spec.containers[name="c"].env[name="E"].value'


def test_crd_list_map_keys():
    schema = {"type": "object", "properties": {"status": {"type": "object", "properties": {"conditions": {
        "type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"],
        "items": {"type": "object"}}}}}}
    keys = ssa.crd_list_keys(schema)
    assert keys(("status", "conditions")) == ["type"]
    assert keys(("spec", "dnsNames")) is None


def test_version_priority_and_time_parsing():
    vs = ["v1alpha1", "v1", "v2beta1", "v1beta2", "v1beta1", "foo"]
    assert sorted(vs, key=version_priority, reverse=True) == ["v1", "v2beta1", "v1beta2", "v1beta1", "v1alpha1",
                                                              "foo"]
    t = parse_time("2024-01-02T03:04:05.123456789Z")
    assert (t.year, t.microsecond, t.utcoffset().total_seconds()) == (2024, 123456, 0)
    assert parse_time("2024-01-02T03:04:05+01:00").hour == 3


def test_table_helpers():
    from kubesim.apiserver.table import human_duration, jsonpath
    assert [human_duration(s) for s in (5, 119, 125, 600, 7200, 8 * 3600 + 60, 3 * 86400 + 3600, 400 * 86400)] == \
        ["5s", "119s", "2m5s", "10m", "120m", "8h", "3d1h", "400d"]
    obj = {"status": {"conditions": [{"type": "Issuing", "status": "False"}, {"type": "Ready", "status": "True",
                                                                               "message": "ok"}]},
           "spec": {"n": 3, "list": [1, 2]}}
    assert jsonpath(obj, '.status.conditions[?(@.type=="Ready")].status') == "True"
    assert jsonpath(obj, ".status.conditions[?(@.type=='Ready')].message") == "ok"
    assert jsonpath(obj, ".spec.n") == 3 and jsonpath(obj, ".spec.list[1]") == 2
    assert jsonpath(obj, ".spec.missing") is None
