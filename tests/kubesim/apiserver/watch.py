"""List and watch with label and field selectors, from a resourceVersion.

Follows the watch cache (staging/src/k8s.io/apiserver/pkg/storage/cacher/watch_cache.go): a
bounded event history; a resourceVersion older than it is 410 Gone ("too old resource
version"); with a selector, an object that stops matching is seen as DELETED and one that
starts matching as ADDED (cacher.go filterWithAttrsFunction / watchCacheEvent).

Bookmarks (``allowWatchBookmarks=true``) follow the cacher too: a BOOKMARK event whose object is
only kind, apiVersion and metadata.resourceVersion (cacher.go ``dispatchEvents``: the RV of the
last event the cache processed, set on an empty ``newFunc()`` object), sent to every bookmark
watcher whatever its selectors (cache_watcher.go ``convertToWatchEvent`` lets a Bookmark through
before any filtering) at the time ``cacheWatcher.nextBookmarkTime`` gives: every
``defaultBookmarkFrequency`` (a minute) and once right before the watch deadline (deadline - 2 s),
never after it. Bookmarks leave the cacher on a dispatch timer of ``wait.Jitter(time.Second,
0.25)`` over one-second time buckets (cacher.go ``watcherBookmarkTimeBuckets``), so a bookmark
comes "about" on time: modelled as up to 1.25 ticks late, from a generator seeded per cluster.
The frequency is the cluster option ``watch_bookmark_frequency`` (seconds; default 60); the tick
scales with it (frequency / 60, one second at the default) so that a short test frequency keeps
upstream's proportions.

``sendInitialEvents`` (WatchList, KEP-3157) is refused as the served version (1.29) refuses it:
the WatchList feature gate is alpha and off there (on by default only from 1.32), and
staging/src/k8s.io/apimachinery/pkg/apis/meta/internalversion/validation/validation.go
``validateWatchOptions`` answers 422 Invalid on ``ListOptions.meta.k8s.io``
(:func:`validate_watch_options`).
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from types import SimpleNamespace
from typing import Iterator, List, Mapping, Optional, Tuple

from . import errors as E
from .selectors import parse_field_selector, parse_label_selector

EVENT_HISTORY = 5000
# cacher.go defaultBookmarkFrequency
DEFAULT_BOOKMARK_FREQUENCY = 60.0
# cache_watcher.go nextBookmarkTime: "right before the watcher timeout - for now we simply set it 2s before"
BOOKMARK_BEFORE_DEADLINE = 2.0
# cacher.go dispatchEvents: bookmarkTimer.Reset(wait.Jitter(time.Second, 0.25)), per minute of frequency
BOOKMARK_TICK_JITTER = 0.25
# metav1.ListOptions is validated as kind ListOptions of group meta.k8s.io (handlers/get.go ListResource)
_LIST_OPTIONS = SimpleNamespace(kind="ListOptions", group="meta.k8s.io")
_WATCH_LIST_ENABLED = False  # features.WatchList: alpha (default false) until 1.32; kubesim serves 1.29


def validate_watch_options(query: Mapping[str, Optional[str]]) -> None:
    """Refuse watch options as validation.go ``validateWatchOptions`` does (422, before streaming).

    ``query`` maps ``sendInitialEvents`` and ``resourceVersionMatch`` to their raw values (None when
    absent). Without the WatchList gate a sendInitialEvents watch cannot be served; client-go's
    reflector falls back to list+watch on exactly this error.
    """
    send_initial = query.get("sendInitialEvents")
    match = query.get("resourceVersionMatch") or ""
    causes = []
    if send_initial is not None:
        if match != "NotOlderThan":
            causes.append(E.forbidden_field("resourceVersionMatch",
                                            "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"))
        if not _WATCH_LIST_ENABLED:
            causes.append(E.forbidden_field("sendInitialEvents", "sendInitialEvents is forbidden for watch"
                                            " unless the WatchList feature gate is enabled"))
    if match:
        if send_initial is None:
            causes.append(E.forbidden_field("resourceVersionMatch", "resourceVersionMatch is forbidden for watch"
                                            " unless sendInitialEvents is provided"))
        if match != "NotOlderThan":
            causes.append(("resourceVersionMatch", "FieldValueNotSupported",
                           f'Unsupported value: "{match}": supported values: "NotOlderThan"'))
    if causes:
        raise E.invalid(_LIST_OPTIONS, "", causes)


class _BookmarkTimer:
    """When the next bookmark of one watcher is due (cache_watcher.go ``nextBookmarkTime``), in monotonic time."""

    def __init__(self, frequency: float, deadline: float, rng: random.Random):
        self.frequency = frequency
        self.deadline = deadline
        self.rng = rng
        self.tick = frequency / 60.0
        self.due = self._next(time.monotonic())

    def _next(self, now: float) -> Optional[float]:
        heartbeat = now + self.frequency
        pretimeout = self.deadline - BOOKMARK_BEFORE_DEADLINE
        if pretimeout < heartbeat:
            heartbeat = pretimeout
        if heartbeat < now:
            return None  # too close to the deadline: no more bookmarks
        # the dispatch tick that finds this watcher's bucket expired comes up to 1.25 ticks later
        return heartbeat + self.rng.uniform(0.0, self.tick * (1.0 + BOOKMARK_TICK_JITTER))

    def sent(self) -> None:
        self.due = self._next(time.monotonic())


class ListWatch:
    """Mixin of ``kubesim.Cluster``: list and watch over the store's event history."""

    def _select(self, rt, ns, label_selector, field_selector):
        lsel = parse_label_selector(label_selector)
        fsel = parse_field_selector(field_selector, rt.field_selectors)
        return lsel, fsel

    @staticmethod
    def _matches(obj, lsel, fsel) -> bool:
        if lsel is not None and not lsel((obj.get("metadata") or {}).get("labels") or {}):
            return False
        if fsel is not None and not fsel(obj):
            return False
        return True

    def list_objects(self, rt, ns, label_selector=None, field_selector=None) -> Tuple[List[dict], str]:
        """(stored object references, list resourceVersion). Do not mutate the objects."""
        lsel, fsel = self._select(rt, ns, label_selector, field_selector)
        with self.lock:
            if ns:
                objs = list(self._bucket(rt, ns).values())
            else:
                objs = [o for b in self._objects.get(rt.rid, {}).values() for o in b.values()]
            rv = str(self._rv)
        if ns is None and rt.namespaced:
            objs.sort(key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))
        else:
            objs.sort(key=lambda o: o["metadata"]["name"])
        if lsel or fsel:
            objs = [o for o in objs if self._matches(o, lsel, fsel)]
        return objs, rv

    def watch(self, rt, ns, label_selector=None, field_selector=None, resource_version: Optional[str] = None,
              timeout: Optional[float] = None, send_initial: Optional[bool] = None,
              stop: Optional[threading.Event] = None,
              allow_bookmarks: bool = False) -> Iterator[Tuple[str, dict]]:
        """Yield (type, stored object) like the watch API; raises 410 ApiError for too-old RVs.

        With ``allow_bookmarks`` also ("BOOKMARK", {kind, apiVersion, metadata.resourceVersion}):
        every event up to that resourceVersion has been yielded, so a client may resume from it.
        (None, None) is a heartbeat, not an event.
        """
        lsel, fsel = self._select(rt, ns, label_selector, field_selector)
        deadline = time.monotonic() + (timeout if timeout is not None else 1800.0)
        bookmarks = None
        if allow_bookmarks:
            frequency = float(self.options.get("watch_bookmark_frequency", DEFAULT_BOOKMARK_FREQUENCY))
            # seeded like the controller latencies (fleet seed / cluster), one stream per watch of this cluster
            seed = getattr(self.latency, "seed", self.name)
            n = next(self.__dict__.setdefault("_bookmark_watch_ids", itertools.count(1)))
            bookmarks = _BookmarkTimer(frequency, deadline, random.Random(f"kubesim-bookmarks/{seed}/{n}"))
        rid = rt.rid
        want_ns = ns or ""
        initial = []
        with self.lock:
            if resource_version in (None, "", "0") if send_initial is None else send_initial:
                last = self._rv
                buckets = [self._bucket(rt, ns)] if ns else list(self._objects.get(rid, {}).values())
                initial = [o for b in buckets for o in b.values() if self._matches(o, lsel, fsel)]
                initial.sort(key=lambda o: o["metadata"]["name"])
            else:
                try:
                    last = int(resource_version)
                except ValueError:
                    raise E.bad_request(f"invalid resource version: {resource_version!r}")
                oldest = self._events[0][0] if self._events else self._rv + 1
                if last < oldest - 1 and last < self._rv:
                    raise E.expired(f"too old resource version: {last} ({oldest - 1})")
        for o in initial:
            yield "ADDED", o
        idle = False
        while True:
            batch = []
            bookmark = None
            with self.lock:
                while not self.stopped:
                    if self._events and self._events[-1][0] > last:
                        if self._events[0][0] > last + 1:
                            yield_error = True
                        else:
                            yield_error = False
                        for ev in reversed(self._events):
                            if ev[0] <= last:
                                break
                            batch.append(ev)
                        batch.reverse()
                        last = batch[-1][0]
                        if yield_error:
                            batch = [None]
                        break
                    now = time.monotonic()
                    remaining = deadline - now
                    if remaining <= 0 or (stop is not None and stop.is_set()):
                        return
                    if bookmarks is not None and bookmarks.due is not None and now >= bookmarks.due:
                        # cacher.go: the RV of the last event processed, and every event up to it sent;
                        # a watch from a future RV gets none until the store has reached it
                        if last <= self._rv:
                            bookmark = {"kind": rt.kind, "apiVersion": rt.api_version(),
                                        "metadata": {"resourceVersion": str(last)}}
                        bookmarks.sent()
                        break
                    if idle:
                        break
                    wait = min(remaining, 1.0)
                    if bookmarks is not None and bookmarks.due is not None:
                        wait = max(0.0, min(wait, bookmarks.due - now))
                    idle = not self.changed.wait(wait) and (bookmarks is None or bookmarks.due is None
                                                             or time.monotonic() < bookmarks.due)
                if self.stopped:
                    return
            if bookmark is not None:
                idle = False
                yield "BOOKMARK", bookmark
                continue
            if idle and not batch:
                idle = False
                yield None, None  # a heartbeat: lets the server notice a client that went away
                continue
            idle = False
            for ev in batch:
                if ev is None:
                    raise E.expired("too old resource version: watch fell behind the event history")
                _rv, erid, ens, _name, etype, obj, old = ev
                if erid != rid or (ns and ens != want_ns):
                    continue
                if lsel is None and fsel is None:
                    yield etype, obj
                    continue
                now_match = self._matches(obj, lsel, fsel)
                was_match = old is not None and self._matches(old, lsel, fsel)
                if etype == "DELETED":
                    if was_match or now_match:
                        yield "DELETED", obj
                elif etype == "ADDED":
                    if now_match:
                        yield "ADDED", obj
                elif now_match and was_match:
                    yield "MODIFIED", obj
                elif now_match:
                    yield "ADDED", obj
                elif was_match:
                    yield "DELETED", obj
            if time.monotonic() >= deadline or (stop is not None and stop.is_set()):
                return
