"""One event stream from the controller to its views: the only channel a view
subscribes to.

It carries run events (state, phase, batch, epoch, ...), ``flags`` after any
change of trainable flags on the controller's model, and ``config`` after the
experiment's settings changed. Batch metrics are coalesced (only the latest
batch is kept) and deliveries are throttled to about ``1 / interval`` per second
however short the steps, so a view never slows training down. Epoch events are
queued, never dropped. Every other event is delivered at once, after anything
queued before it. Subscribers get a list of events per delivery, on the thread
that emitted them.
"""

from __future__ import annotations

import threading
import time
import traceback
import warnings
from collections import deque
from collections.abc import Callable
from typing import Any, Literal, TypedDict, get_args

EventType = Literal[
    "state",
    "phase",
    "batch",
    "epoch",
    "error",
    "warning",
    "lr_find",
    "restored",
    "reset",
    "confusion",
    "flags",
    "config",
]
RunState = Literal["idle", "running", "paused", "stopping", "finished", "failed"]

#: Every event type the stream carries; the ones below it are delivered at once.
EVENT_TYPES: tuple[EventType, ...] = get_args(EventType)
URGENT: frozenset[str] = frozenset(EVENT_TYPES) - {"batch", "epoch", "confusion"}
#: Notifications about the controller, not the run: delivered, never kept in the log.
NOT_LOGGED: frozenset[str] = frozenset({"flags", "config"})
#: The run states a controller can be in.
RUN_STATES: tuple[RunState, ...] = get_args(RunState)
#: The run states in which the controller is busy: views go read-only, edits are refused.
ACTIVE: tuple[RunState, ...] = ("running", "paused", "stopping")


class Event(TypedDict, total=False):
    """One event: ``type`` and ``time`` always; the rest depends on the type.

    - ``state``: ``state`` (a :data:`RunState`), and ``reason`` / ``message`` / ``task``;
    - ``phase``: ``phase``, ``start_epoch``, ``learning_rate``;
    - ``batch``: ``phase``, ``epoch``, ``batch``, ``steps``, ``epochs``, ``eta_s`` (of the
      epoch), ``logs``;
    - ``epoch``: ``phase``, ``epoch``, ``epochs``, ``seconds`` (it took), ``logs``;
    - ``error``: ``message``, ``traceback``, ``kind`` (``nan`` or ``exception``);
    - ``warning``: ``message``; ``restored``: ``monitor``, ``value``, ``epoch``;
    - ``lr_find``: ``learning_rates``, ``losses``, ``suggested`` (a rate inside the sweep,
      or None) and, when ``suggested`` is None, ``message`` (why there is none and what to
      try; read it with ``event.get("message")``); the rule is in :mod:`.lr_finder`;
    - ``reset``: ``batch_size``, ``monitor`` (a new experiment: views start afresh);
    - ``confusion``: ``epoch``, ``matrix``, ``class_names``;
    - ``flags``: ``running`` (trainable flags changed; a view re-reads them);
    - ``config``: nothing more (the config changed; a view re-reads ``controller.config``).
    """

    type: EventType
    time: float
    state: RunState
    reason: str
    task: str
    message: str
    traceback: str | None
    kind: str
    phase: str
    start_epoch: int
    learning_rate: float
    epoch: int
    epochs: int | None
    batch: int
    steps: int | None
    eta_s: float | None
    seconds: float
    logs: dict[str, float]
    learning_rates: list[float]
    losses: list[float]
    suggested: float | None
    batch_size: int
    monitor: str
    value: float
    matrix: list[list[int]]
    class_names: list[str] | None
    running: bool


Subscriber = Callable[[list[Event]], Any]


def last_state(events: list[Event]) -> RunState | None:
    """The run state the last ``state`` event of a delivery announces (None: none did)."""
    states = [e["state"] for e in events if e.get("type") == "state" and "state" in e]
    return states[-1] if states else None


def has_event(events: list[Event], *types: EventType) -> bool:
    """Whether a delivery holds an event of one of ``types``."""
    return any(e.get("type") in types for e in events)


class EventStream:
    """Throttled, batched delivery of training events to subscribers."""

    def __init__(self, interval: float = 0.1, log_size: int = 5000):
        self.interval = interval
        self.log: deque[Event] = deque(maxlen=log_size)  # every delivered run event, for late viewers
        self.deliveries = 0
        self._subscribers: list[Subscriber] = []
        self._queue: list[Event] = []
        self._latest_batch: Event | None = None
        self._last_flush = 0.0
        self._lock = threading.Lock()

    def subscribe(self, fn: Subscriber) -> Callable[[], None]:
        """Call ``fn(events)`` on every delivery; returns a function that unsubscribes."""
        self._subscribers.append(fn)

        def unsubscribe() -> None:
            if fn in self._subscribers:
                self._subscribers.remove(fn)

        return unsubscribe

    def due(self) -> bool:
        """True when a batch event would be delivered now (lets callers skip building it)."""
        return time.monotonic() - self._last_flush >= self.interval

    def emit(self, type: EventType, **payload: Any) -> None:
        event: Event = {"type": type, "time": time.time(), **payload}  # type: ignore[typeddict-item]
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
                events = sorted([*events, self._latest_batch], key=lambda e: e["time"])
            self._queue, self._latest_batch = [], None
            self._last_flush = time.monotonic()
            if not events:
                return
            self.log.extend(e for e in events if e["type"] not in NOT_LOGGED)
            self.deliveries += 1
        for fn in list(self._subscribers):
            try:
                fn(events)
            except Exception:  # noqa: BLE001 - a broken view must not stop training
                warnings.warn(
                    f"transfer_widgets: an event subscriber raised and was skipped:\n"
                    f"{traceback.format_exc()}",
                    RuntimeWarning,
                    stacklevel=2,
                )
