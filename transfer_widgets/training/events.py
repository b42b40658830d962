"""One event stream from the controller to its views (the training monitor).

Batch metrics are coalesced (only the latest batch is kept) and deliveries are
throttled to about ``1 / interval`` per second however short the steps, so a
view never slows training down. Epoch events are queued, never dropped. State,
phase and error events are delivered at once, after anything queued before them.
Subscribers get a list of event dicts per delivery, on the training thread.
"""

from __future__ import annotations

import threading
import time
import traceback
import warnings
from collections import deque
from collections.abc import Callable
from typing import Any

URGENT = frozenset({"state", "phase", "error", "warning", "lr_find", "restored", "reset"})
#: The run states in which the controller is busy: views go read-only, edits are refused.
ACTIVE = ("running", "paused", "stopping")


def last_state(events: list[dict]) -> str | None:
    """The run state the last ``state`` event of a delivery announces (None: none did)."""
    states = [e["state"] for e in events if e.get("type") == "state"]
    return states[-1] if states else None


class EventStream:
    """Throttled, batched delivery of training events to subscribers."""

    def __init__(self, interval: float = 0.1, log_size: int = 5000):
        self.interval = interval
        self.log: deque[dict[str, Any]] = deque(maxlen=log_size)  # every delivered event, for late viewers
        self.deliveries = 0
        self._subscribers: list[Callable[[list[dict]], Any]] = []
        self._queue: list[dict[str, Any]] = []
        self._latest_batch: dict[str, Any] | None = None
        self._last_flush = 0.0
        self._lock = threading.Lock()

    def subscribe(self, fn: Callable[[list[dict]], Any]) -> Callable[[], None]:
        """Call ``fn(events)`` on every delivery; returns a function that unsubscribes."""
        self._subscribers.append(fn)
        return lambda: self._subscribers.remove(fn) if fn in self._subscribers else None

    def due(self) -> bool:
        """True when a batch event would be delivered now (lets callers skip building it)."""
        return time.monotonic() - self._last_flush >= self.interval

    def emit(self, type: str, **payload) -> None:
        event = {"type": type, "time": time.time(), **payload}
        with self._lock:
            if type == "batch":
                self._latest_batch = event
            else:
                self._queue.append(event)
        if type in URGENT or self.due():
            self.flush()

    def flush(self) -> None:
        """Deliver whatever is pending now."""
        with self._lock:
            events = self._queue
            if self._latest_batch is not None:
                # The batch belongs before any epoch-end it preceded; keep time order.
                events = sorted(events + [self._latest_batch], key=lambda e: e["time"])
            self._queue, self._latest_batch = [], None
            self._last_flush = time.monotonic()
            if not events:
                return
            self.log.extend(events)
            self.deliveries += 1
        for fn in list(self._subscribers):
            try:
                fn(events)
            except Exception:  # a broken view must not stop training
                warnings.warn(f"transfer_widgets: an event subscriber raised and was skipped:\n"
                              f"{traceback.format_exc()}", RuntimeWarning, stacklevel=2)
