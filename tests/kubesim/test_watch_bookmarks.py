"""Contract: watch bookmarks, seen through the official ``kubernetes`` Python client.

A client waiting with a label selector for an object that appears later sees no event while other
objects change, so the last resourceVersion it knows falls out of the server's event history and
a reconnect from it is ``410 Gone``. Bookmarks (``allowWatchBookmarks=true``) are how a real
kube-apiserver keeps that resourceVersion fresh: behaviour after
staging/src/k8s.io/apiserver/pkg/storage/cacher/cacher.go and cache_watcher.go (see
apiserver/watch.py). The client (kubernetes.watch.Watch.unmarshal_event) stores a bookmark's
resourceVersion as the one it resumes from.
"""

from __future__ import annotations

import json
import random
import time
import uuid

import pytest

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client as k8s, watch as k8s_watch  # noqa: E402
from kubernetes.client.rest import ApiException  # noqa: E402

from kubesim import Fleet  # noqa: E402
from kubesim.apiserver.watch import EVENT_HISTORY, _BookmarkTimer  # noqa: E402

FREQUENCY = 0.5  # seconds between bookmarks in these tests (upstream: a minute)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    f = Fleet(n_clusters=1, workdir=tmp_path_factory.mktemp("kubesim-bookmarks"))
    f["cluster-1"].options["watch_bookmark_frequency"] = FREQUENCY
    f.start()
    yield f
    f.stop()


@pytest.fixture(scope="module")
def api(fleet):
    c = fleet.python_client("cluster-1")
    yield c
    c.close()


@pytest.fixture
def ns(api):
    name = "t-" + uuid.uuid4().hex[:8]
    k8s.CoreV1Api(api).create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=name)))
    return name


def _cm(name, labels=None, data=None):
    return k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name=name, labels=labels), data=data)


def _churn(cluster, ns, count):
    """``count`` writes to an unlabelled ConfigMap: events no selector below matches."""
    obj = cluster.create({"apiVersion": "v1", "kind": "ConfigMap",
                          "metadata": {"name": "churn", "namespace": ns}, "data": {"n": "0"}})
    for i in range(1, count):
        obj["data"]["n"] = str(i)
        obj = cluster.update(obj)


def test_bookmarks_carry_only_kind_api_version_and_resource_version(api, ns):
    core = k8s.CoreV1Api(api)
    core.create_namespaced_config_map(ns, _cm("seen", data={"a": "1"}))
    events = list(k8s_watch.Watch().stream(core.list_namespaced_config_map, ns, allow_watch_bookmarks=True,
                                           field_selector="metadata.name=seen", timeout_seconds=4))
    assert events[0]["type"] == "ADDED" and events[0]["object"].metadata.name == "seen"
    marks = [e["raw_object"] for e in events if e["type"] == "BOOKMARK"]
    # every 0.5 s (plus jitter) until 2 s before the 4 s deadline, then none: 3 or 4 of them
    assert 2 <= len(marks) <= 4, [e["type"] for e in events]
    for m in marks:
        assert m.keys() == {"kind", "apiVersion", "metadata"} and m["metadata"].keys() == {"resourceVersion"}
        assert (m["kind"], m["apiVersion"]) == ("ConfigMap", "v1")
    rvs = [int(m["metadata"]["resourceVersion"]) for m in marks]
    assert rvs == sorted(rvs) and rvs[0] >= int(events[0]["object"].metadata.resource_version)


def test_no_bookmarks_unless_asked(api, ns):
    core = k8s.CoreV1Api(api)
    core.create_namespaced_config_map(ns, _cm("quiet"))
    events = list(k8s_watch.Watch().stream(core.list_namespaced_config_map, ns,
                                           field_selector="metadata.name=quiet", timeout_seconds=2))
    assert [e["type"] for e in events] == ["ADDED"]


def test_resume_from_bookmark_after_history_moved_on(fleet, api, ns):
    """The waiting client's last event falls out of the history: resuming from it is 410 Gone,
    resuming from the bookmark sees the object created meanwhile, and nothing twice."""
    core = k8s.CoreV1Api(api)
    cluster = fleet["cluster-1"]
    sel = "app=waited"
    core.create_namespaced_config_map(ns, _cm("first", labels={"app": "waited"}))
    w = k8s_watch.Watch()
    first_rv = None
    for ev in w.stream(core.list_namespaced_config_map, ns, label_selector=sel, allow_watch_bookmarks=True,
                       timeout_seconds=60):
        if ev["type"] == "ADDED":
            first_rv = ev["object"].metadata.resource_version
            _churn(cluster, ns, EVENT_HISTORY + 10)  # the history no longer reaches first_rv
            target = int(cluster.resource_version)
        elif ev["type"] == "BOOKMARK" and first_rv and int(ev["raw_object"]["metadata"]["resourceVersion"]) >= target:
            w.stop()
        else:
            assert ev["type"] == "BOOKMARK", ev["type"]
    assert first_rv is not None and int(w.resource_version) >= target

    core.create_namespaced_config_map(ns, _cm("second", labels={"app": "waited"}))
    with pytest.raises(ApiException) as gone:
        list(k8s_watch.Watch().stream(core.list_namespaced_config_map, ns, label_selector=sel,
                                      resource_version=first_rv, timeout_seconds=2))
    assert gone.value.status == 410 and "too old resource version" in gone.value.reason

    resumed = [(e["type"], e["object"].metadata.name) for e in
               k8s_watch.Watch().stream(core.list_namespaced_config_map, ns, label_selector=sel,
                                        resource_version=w.resource_version, timeout_seconds=2)]
    assert resumed == [("ADDED", "second")]


def test_label_selector_filters_events_not_bookmarks(fleet, api, ns):
    core = k8s.CoreV1Api(api)
    cluster = fleet["cluster-1"]
    w = k8s_watch.Watch()
    seen, marks, target = [], [], None
    rv = core.list_namespaced_config_map(ns).metadata.resource_version
    for ev in w.stream(core.list_namespaced_config_map, ns, label_selector="app=wanted", resource_version=rv,
                       allow_watch_bookmarks=True, timeout_seconds=20):
        if target is None:
            core.create_namespaced_config_map(ns, _cm("other", labels={"app": "other"}))
            core.create_namespaced_config_map(ns, _cm("wanted", labels={"app": "wanted"}))
            _churn(cluster, ns, 5)
            target = int(cluster.resource_version)
        if ev["type"] == "BOOKMARK":
            marks.append(int(ev["raw_object"]["metadata"]["resourceVersion"]))
            if marks[-1] >= target:
                w.stop()
        else:
            seen.append((ev["type"], ev["object"].metadata.name))
    assert seen == [("ADDED", "wanted")]
    assert marks and marks[-1] >= target  # the bookmark moved past writes the selector filtered out


def test_send_initial_events_refused_as_served_version_does(api, ns):
    core = k8s.CoreV1Api(api)
    with pytest.raises(ApiException) as refused:
        core.list_namespaced_config_map(ns, watch=True, send_initial_events=True,
                                        resource_version_match="NotOlderThan", allow_watch_bookmarks=True,
                                        _preload_content=False)
    body = json.loads(refused.value.body)
    assert refused.value.status == 422 and body["reason"] == "Invalid"
    assert body["message"] == ('ListOptions.meta.k8s.io "" is invalid: sendInitialEvents: Forbidden: '
                               "sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled")
    assert body["details"]["group"] == "meta.k8s.io" and body["details"]["kind"] == "ListOptions"

    with pytest.raises(ApiException) as no_initial:
        core.list_namespaced_config_map(ns, watch=True, resource_version_match="NotOlderThan",
                                        _preload_content=False)
    assert no_initial.value.status == 422
    assert json.loads(no_initial.value.body)["details"]["causes"] == [
        {"reason": "FieldValueForbidden", "field": "resourceVersionMatch",
         "message": "Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided"}]


def test_bookmark_times_are_jittered_seeded_and_stop_before_deadline():
    """cache_watcher.go nextBookmarkTime over cacher.go's jittered one-second dispatch tick."""
    def dues(seed, n=20):
        t = _BookmarkTimer(60.0, time.monotonic() + 3600.0, random.Random(seed))
        out = []
        for _ in range(n):
            base = time.monotonic()
            out.append(t.due - base)
            t.sent()
        return out

    a, b, c = dues("s1"), dues("s1"), dues("s2")
    assert all(60.0 <= d <= 60.0 + 1.25 + 0.1 for d in a)
    assert len({round(d, 3) for d in a}) > 1  # jittered
    assert all(abs(x - y) < 0.01 for x, y in zip(a, b))  # replayable from its seed
    assert any(abs(x - y) > 0.01 for x, y in zip(a, c))

    near = _BookmarkTimer(60.0, time.monotonic() + 10.0, random.Random(0))
    assert near.due - time.monotonic() <= 8.0 + 1.25  # right before the deadline, not a minute on
    past = _BookmarkTimer(60.0, time.monotonic() + 1.0, random.Random(0))
    assert past.due is None  # under 2 s left: no bookmark at all
