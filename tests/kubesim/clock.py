"""Simulated time and the process-wide scheduler for controller work.

``SimClock`` is wall time plus an offset that only grows (``advance``). Work is
scheduled on simulated time; one scheduler thread serves every cluster in the
process. It sleeps on a condition variable until the earliest due item (no polling),
and is woken when work is added or a clock is advanced. All scheduled work and
resyncs run on that thread, so controller code never runs concurrently with itself.
"""

from __future__ import annotations

import datetime as _dt
import heapq
import itertools
import logging
import threading
import time
from typing import Callable, Optional

log = logging.getLogger("kubesim.scheduler")


class SimClock:
    """Wall clock + offset. ``advance(seconds)`` moves it forward and runs due work."""

    def __init__(self, owner=None):
        self._offset = 0.0
        self._owner = owner
        self._lock = threading.Lock()

    @property
    def offset(self) -> float:
        return self._offset

    def timestamp(self) -> float:
        return time.time() + self._offset

    def now(self) -> _dt.datetime:
        return _dt.datetime.fromtimestamp(self.timestamp(), _dt.timezone.utc)

    def advance(self, seconds: float, wait: bool = True, timeout: float = 60.0) -> None:
        """Move simulated time forward; controllers resync and due work runs.

        With ``wait`` (default) this returns once the work that became due has run.
        """
        if seconds < 0:
            raise ValueError("the simulated clock cannot go backwards")
        with self._lock:
            self._offset += float(seconds)
        if self._owner is not None:
            self._owner._on_clock_advanced(wait=wait, timeout=timeout)


class _Item:
    __slots__ = ("owner", "clock", "sim_due", "fn", "key", "cancelled", "gen", "label")

    def __init__(self, owner, clock, sim_due, fn, key, label):
        self.owner = owner
        self.clock = clock
        self.sim_due = sim_due
        self.fn = fn
        self.key = key
        self.cancelled = False
        self.gen = 0
        self.label = label


class _OwnerState:
    __slots__ = ("items", "keys", "running", "errors")

    def __init__(self):
        self.items = set()
        self.keys = {}
        self.running = 0
        self.errors = []


class Scheduler:
    """One thread runs due work for all owners (clusters) in the process."""

    _instance: Optional["Scheduler"] = None
    _instance_lock = threading.Lock()

    @classmethod
    def get(cls) -> "Scheduler":
        with cls._instance_lock:
            if cls._instance is None:
                cls._instance = Scheduler()
            return cls._instance

    def __init__(self):
        self.cond = threading.Condition()
        self.heap = []
        self.seq = itertools.count()
        self.owners = {}
        self.thread = threading.Thread(target=self._loop, name="kubesim-scheduler", daemon=True)
        self.thread.start()

    # -- bookkeeping (under self.cond)
    def _state(self, owner) -> _OwnerState:
        st = self.owners.get(id(owner))
        if st is None:
            st = self.owners[id(owner)] = _OwnerState()
        return st

    def _push(self, item: _Item) -> None:
        real_due = item.sim_due - item.clock.offset
        heapq.heappush(self.heap, (real_due, next(self.seq), item.gen, item))

    def schedule(self, owner, clock: SimClock, delay: float, fn: Callable[[], None],
                 key: Optional[str] = None, label: str = "") -> None:
        with self.cond:
            st = self._state(owner)
            if key is not None:
                old = st.keys.pop(key, None)
                if old is not None:
                    old.cancelled = True
                    st.items.discard(old)
            item = _Item(owner, clock, clock.timestamp() + max(0.0, float(delay)), fn, key, label)
            st.items.add(item)
            if key is not None:
                st.keys[key] = item
            self._push(item)
            self.cond.notify_all()

    def clock_advanced(self, owner) -> None:
        """Re-queue an owner's items: their real due time moved earlier."""
        with self.cond:
            st = self.owners.get(id(owner))
            if st:
                for item in st.items:
                    item.gen += 1
                    self._push(item)
            self.cond.notify_all()

    def forget(self, owner) -> None:
        with self.cond:
            st = self.owners.pop(id(owner), None)
            if st:
                for item in st.items:
                    item.cancelled = True
            self.cond.notify_all()

    def pending(self, owner) -> int:
        with self.cond:
            st = self.owners.get(id(owner))
            return len(st.items) if st else 0

    def errors(self, owner) -> list:
        with self.cond:
            st = self.owners.get(id(owner))
            return list(st.errors) if st else []

    def settle(self, owner, clock: SimClock, timeout: float, horizon: float = 0.0) -> bool:
        """Wait until ``owner`` has no running work and none due within ``horizon`` simulated seconds
        (simulated time passes with wall time, so work due soon is waited for). False on timeout."""
        if threading.current_thread() is self.thread:
            return False
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                st = self.owners.get(id(owner))
                if st is None:
                    return True
                now = clock.timestamp()
                busy = st.running > 0 or any(i.sim_due <= now + horizon for i in st.items)
                if not busy:
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self.cond.wait(min(remaining, 0.25))

    def _loop(self) -> None:
        while True:
            with self.cond:
                while True:
                    if not self.heap:
                        self.cond.wait()
                        continue
                    real_due, _seq, gen, item = self.heap[0]
                    if item.cancelled or gen != item.gen:
                        heapq.heappop(self.heap)
                        continue
                    wait = item.sim_due - item.clock.timestamp()
                    if wait > 0:
                        self.cond.wait(wait)
                        continue
                    heapq.heappop(self.heap)
                    st = self._state(item.owner)
                    st.items.discard(item)
                    if item.key is not None and st.keys.get(item.key) is item:
                        del st.keys[item.key]
                    st.running += 1
                    break
            try:
                item.fn()
            except Exception as exc:  # a controller bug must not stop the scheduler
                log.exception("kubesim: scheduled work %s failed", item.label or item.key or item.fn)
                with self.cond:
                    st = self._state(item.owner)
                    st.errors.append(f"{item.label or item.key or getattr(item.fn, '__name__', 'work')}: "
                                     f"{type(exc).__name__}: {exc}")
                    del st.errors[:-100]
            finally:
                with self.cond:
                    st = self.owners.get(id(item.owner))
                    if st is not None:
                        st.running -= 1
                    self.cond.notify_all()
