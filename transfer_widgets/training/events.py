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
    "stage",
]
RunState = Literal["idle", "running", "paused", "stopping", "finished", "failed"]
#: What a run is doing while nothing else shows it (see the ``stage`` event).
Stage = Literal["preparing", "caching_features", "compiling", "first_batch", "training", "validating"]
#: What started a run.
RunKind = Literal["fit", "fine_tune", "lr_find"]
#: How a run ended (``training/run_control.py`` says which way of ending gives which).
EndReason = Literal["completed", "stopped", "interrupted", "exited", "abandoned", "failed"]

#: Every event type the stream carries; the ones below it are delivered at once.
EVENT_TYPES: tuple[EventType, ...] = get_args(EventType)
URGENT: frozenset[str] = frozenset(EVENT_TYPES) - {"batch", "epoch", "confusion"}
#: Notifications about the controller, not the run: delivered, never kept in the log.
NOT_LOGGED: frozenset[str] = frozenset({"flags", "config"})
#: The stages a run goes through, in order (``training`` / ``validating`` alternate per epoch).
STAGES: tuple[Stage, ...] = get_args(Stage)
#: The run states a controller can be in.
RUN_STATES: tuple[RunState, ...] = get_args(RunState)
#: The run states in which the controller is busy: views go read-only, edits are refused.
ACTIVE: tuple[RunState, ...] = ("running", "paused", "stopping")


class Event(TypedDict, total=False):
    """One event: ``type`` and ``time`` always; the rest depends on the type.

    Runs: every ``fit``, ``fine_tune`` and ``lr_find`` call is a *run*, numbered 1, 2, ...
    per controller (``controller.runs``). ``run`` (that number) is on every ``state``
    event from the run's ``running`` to its ``finished`` / ``failed``, and on every
    ``stage``, ``phase``, ``batch`` and ``epoch`` event. ``epoch`` is Keras's global
    epoch index (0-based, continuing across runs); ``run_epoch`` is the epoch within
    the run (0-based too: display ``run_epoch + 1``) and ``run_epochs`` the epochs the
    run was asked for (all its phases together), so a view shows "Epoch 2 / 5" for a
    run however many epochs ran before it. ``epochs`` stays Keras's ``epochs`` argument
    of the phase's ``fit`` (a global index one past the phase's last epoch).

    - ``state``: ``state`` (a :data:`RunState`), ``run``, and ``reason`` (on ``finished``:
      an :data:`EndReason` or ``lr_find``) / ``message`` (on ``failed``) / ``task``
      (on ``running`` when a run starts: ``fit``, ``fine_tune`` or ``lr_find``);
    - ``stage``: ``stage`` (a :data:`Stage`: ``preparing`` right after the run starts,
      ``caching_features``, ``compiling``, ``first_batch`` (the first step, which traces
      the graph), ``training``, ``validating`` at an epoch's end), ``run``, ``phase``
      (absent for ``preparing``). Delivered at once and kept in the log; the latest is
      also ``controller.stage`` (None between runs);
    - ``phase``: ``phase``, ``run``, ``start_epoch`` (global), ``learning_rate``;
    - ``batch``: ``phase``, ``run``, ``epoch``, ``run_epoch``, ``run_epochs``, ``batch``
      (0-based index of the last batch done), ``steps`` (batches per epoch; None when the
      data's length is unknown), ``epochs``, ``eta_s`` (seconds left in the epoch, paused
      time and the first step's tracing excluded; None until it can be told), ``train_s``
      (seconds the run has spent in training steps up to this batch, paused time and
      validation excluded: the clock to measure throughput with), ``logs``.
      Batch events are coalesced; ``time`` is when that batch ended. The batch an epoch
      (or a stopped run) ended on is always delivered, before its ``epoch`` event, so a
      bar reads the real position (``batch + 1`` of ``steps``);
    - ``epoch``: ``phase``, ``run``, ``epoch``, ``run_epoch``, ``run_epochs``, ``epochs``,
      ``seconds`` (it took), ``logs``, ``partial``, ``batches``, ``steps``. ``partial``
      True: the epoch was cut short (a stop mid-epoch: ``batches`` done of ``steps``;
      with ``steps`` None, an epoch during which a stop was honoured); it is NOT in
      ``controller.history`` (it is in ``controller.partial_epochs``) and its logs cover
      only ``batches`` batches: views leave it out of per-epoch series;
    - ``error``: ``message``, ``traceback``, ``kind`` (``nan`` or ``exception``);
    - ``warning``: ``message``; ``restored``: ``monitor``, ``value``, ``epoch``;
    - ``lr_find``: ``learning_rates``, ``losses``, ``smoothed`` (the EMA the rule judged, up to
      the first non-finite loss), ``suggested`` (a rate inside the sweep,
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
    smoothed: list[float]
    batch_size: int
    monitor: str
    value: float
    matrix: list[list[int]]
    class_names: list[str] | None
    running: bool
    run: int
    run_epoch: int
    run_epochs: int | None
    stage: Stage
    partial: bool
    batches: int
    train_s: float


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
