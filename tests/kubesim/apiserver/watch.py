"""List and watch with label and field selectors, from a resourceVersion.

Follows the watch cache (staging/src/k8s.io/apiserver/pkg/storage/cacher/watch_cache.go): a
bounded event history; a resourceVersion older than it is 410 Gone ("too old resource
version"); with a selector, an object that stops matching is seen as DELETED and one that
starts matching as ADDED (cacher.go filterWithAttrsFunction / watchCacheEvent).
"""

from __future__ import annotations

import threading
import time
from typing import Iterator, List, Optional, Tuple

from . import errors as E
from .selectors import parse_field_selector, parse_label_selector

EVENT_HISTORY = 5000


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
              stop: Optional[threading.Event] = None) -> Iterator[Tuple[str, dict]]:
        """Yield (type, stored object) like the watch API; raises 410 ApiError for too-old RVs."""
        lsel, fsel = self._select(rt, ns, label_selector, field_selector)
        deadline = time.monotonic() + (timeout if timeout is not None else 1800.0)
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
                    remaining = deadline - time.monotonic()
                    if remaining <= 0 or (stop is not None and stop.is_set()):
                        return
                    if idle:
                        break
                    idle = not self.changed.wait(min(remaining, 1.0))
                if self.stopped:
                    return
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
