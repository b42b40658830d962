"""Run control: a run's life cycle as a small, explicit state machine.

Every way a run can end goes through :func:`exit_of` and returns the controller
to a state from which it can run again, with the model's weights at a *known good
point* (:class:`GoodPoint`: the start of the run or the end of its last complete
epoch) and a reason that says which way it ended:

========================  ==========  ============================================
how the run ended         state       reason
========================  ==========  ============================================
all epochs ran            finished    ``completed``
``stop()``                finished    ``stopped``
Ctrl-C / SIGINT /         finished    ``interrupted``
``KeyboardInterrupt``
interpreter exit          finished    ``exited``
controller dropped        finished    ``abandoned`` (nobody is left to read it)
``Exception``,            failed      ``failed``
``SystemExit``, a NaN
========================  ==========  ============================================

Interrupts: while a run is active a SIGINT handler (chained to the one it
replaces, kept across cells under ipykernel) stops every active run at the next
batch; a blocking wait turns the ``KeyboardInterrupt`` it gets into the same stop
and re-raises once the run has ended. Lifetimes: the training thread holds its
controller only weakly, so a dropped controller is collected and its run stops
(:meth:`Lifecycle.abandon`); at interpreter exit active runs are stopped and
their threads joined, so TensorFlow is never torn down under a running step.
"""

from __future__ import annotations

import atexit
import signal
import sys
import threading
import time
import weakref
from collections.abc import Callable
from types import FrameType
from typing import Any, Literal

import numpy as np

from .events import ACTIVE, EndReason, RunState

#: Why a stop was asked for.
StopReason = Literal["stopped", "interrupted", "exited", "abandoned"]

#: The state machine: which state may follow which. ``finished`` and ``failed`` are
#: as reusable as ``idle``.
TRANSITIONS: dict[RunState, frozenset[RunState]] = {
    "idle": frozenset({"running"}),
    "finished": frozenset({"running"}),
    "failed": frozenset({"running"}),
    "running": frozenset({"paused", "stopping", "finished", "failed"}),
    "paused": frozenset({"running", "stopping", "finished", "failed"}),
    "stopping": frozenset({"finished", "failed"}),
}

#: How long interpreter exit waits for one run to reach the end of its batch.
EXIT_JOIN_S = 60.0


class InvalidTransition(RuntimeError):
    """A state change the state machine does not allow (a bug, never user input)."""


class RunStopped(Exception):
    """Work outside Keras's batch loop (feature caching) ended early by a stop."""


class RunControl:
    """Stop and pause requests, honoured between batches (and between the batches
    feature caching runs)."""

    def __init__(self) -> None:
        self.stop_requested = False
        self.stop_reason: StopReason | None = None
        self.paused_s = 0.0  # seconds spent held by pause() so far
        self.train_s = 0.0  # seconds spent in training steps by the run's completed epochs
        self._running = threading.Event()
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def stop(self, reason: StopReason = "stopped") -> None:
        """Ask the run to end after the current batch; the first reason given is kept."""
        if not self.stop_requested:
            self.stop_reason = reason
        self.stop_requested = True
        self._running.set()

    def checkpoint(self, model: Any) -> None:
        """Called after every batch: block while paused, end the fit when stopped."""
        if not self._running.is_set():
            held = time.monotonic()
            self._running.wait()
            self.paused_s += time.monotonic() - held
        if self.stop_requested:
            model.stop_training = True

    def raise_if_stopped(self) -> None:
        """For loops of their own (feature caching): end them when stopped."""
        self.checkpoint(_NoModel)
        if self.stop_requested:
            raise RunStopped(self.stop_reason or "stopped")


class _NoModel:
    stop_training = False


class GoodPoint:
    """The weights of the last point a run can be put back to: the start of the run,
    the end of a complete epoch, or the best epoch restored. ``dirty`` is set when a
    batch begins, so :meth:`restore` only rewinds weights a batch may have moved."""

    def __init__(self, label: str) -> None:
        self.label = label  # e.g. "start of run 2", "end of epoch 3", "best epoch 2 (val_loss)"
        self.epoch: int | None = None  # the global epoch whose end it is; None: the start of the run
        self.dirty = False
        self._model: Any = None
        self._weights: list[np.ndarray] | None = None

    def capture(self, model: Any, label: str | None = None, epoch: int | None = None) -> None:
        self._model, self._weights = model, model.get_weights()
        if label is not None:
            self.label, self.epoch = label, epoch
        self.dirty = False

    def touch(self) -> None:
        self.dirty = True

    def restore(self) -> bool:
        """Put the weights back if a batch ran since the point; True when it did."""
        if not self.dirty or self._weights is None:
            return False
        self._model.set_weights(self._weights)
        self.dirty = False
        return True


def exit_of(exc: BaseException | None, control: RunControl) -> tuple[RunState, EndReason]:
    """The state and reason a run ends with, from what ended it (None: ``fit`` returned)."""
    if exc is None or isinstance(exc, RunStopped):
        return "finished", control.stop_reason or "completed"
    if isinstance(exc, KeyboardInterrupt):
        return "finished", "interrupted"
    return "failed", "failed"


class Lifecycle:
    """One controller's run state, its lock, its stop/pause control and its thread.

    It holds no reference to the controller, so the controller can be collected
    while a run is active (:meth:`abandon` is its finalizer)."""

    def __init__(self) -> None:
        self.state: RunState = "idle"
        self.lock = threading.RLock()
        self.control = RunControl()
        self.good = GoodPoint("start of the run")
        self.thread: threading.Thread | None = None
        # Set when the thread's work is over. Waiting on it, not on Thread.join: a
        # KeyboardInterrupt inside join() (Python 3.11) marks a running thread as ended.
        self.done = threading.Event()
        self.done.set()
        self.run: int | None = None  # the number of the active run
        self.name = ""  # the model's name, to say whose run it was

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    def move(self, state: RunState) -> None:
        """Change state as :data:`TRANSITIONS` allows (under the lock)."""
        with self.lock:
            if state != self.state and state not in TRANSITIONS[self.state]:
                raise InvalidTransition(f"run state {self.state!r} cannot become {state!r}")
            self.state = state
            if state in ACTIVE:
                _ACTIVE.add(self)
            else:
                _ACTIVE.discard(self)

    def begin(self, run: int, name: str = "") -> None:
        """A fresh control and good point for run ``run`` (a stop from an earlier run
        must not end this one); first let runs of dropped controllers finish their batch."""
        for other in list(_ACTIVE):
            if other is not self and other.control.stop_reason == "abandoned":
                other.join(EXIT_JOIN_S)
        self.control = RunControl()
        self.good = GoodPoint(f"start of run {run}")
        self.run, self.name = run, name
        install_interrupt_handler()

    def start(self, target: Callable[..., None], *args: Any) -> None:
        """Run ``target(*args)`` on the run's thread; :attr:`done` is set when it returns."""

        def work() -> None:
            try:
                target(*args)
            finally:
                self.done.set()

        self.done.clear()
        self.thread = threading.Thread(target=work, name="transfer-widgets-fit", daemon=True)
        self.thread.start()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the thread's work to end; a Ctrl-C while waiting stops the run,
        waits for it to end, then is raised again."""
        if self.thread is threading.current_thread():
            return
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            _wait(self.done, deadline)
        except KeyboardInterrupt:
            self.control.stop("interrupted")
            _wait(self.done, None if deadline is None else max(deadline, time.monotonic() + EXIT_JOIN_S))
            raise

    def abandon(self) -> None:
        """The controller was collected: stop its run (the thread finishes it)."""
        if self.active:
            self.control.stop("abandoned")


def _wait(done: threading.Event, deadline: float | None) -> None:
    # Short waits, so a pending SIGINT (or _thread.interrupt_main) is handled at once.
    while not done.is_set():
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            return
        done.wait(0.05 if left is None else min(0.05, left))


#: Lifecycles with an active run (what a SIGINT or interpreter exit stops).
_ACTIVE: weakref.WeakSet[Lifecycle] = weakref.WeakSet()


# -- Ctrl-C ------------------------------------------------------------------------------

Handler = Callable[[int, FrameType | None], Any] | int | None


class _Interrupts:
    """The SIGINT handler: stop every active run, then do what the replaced handler did."""

    def __init__(self, previous: Handler) -> None:
        self.previous = previous

    def __call__(self, signum: int, frame: FrameType | None) -> Any:
        for life in list(_ACTIVE):
            life.control.stop("interrupted")
        previous = self.previous
        if callable(previous):
            return previous(signum, frame)
        if previous == signal.SIG_DFL:
            raise KeyboardInterrupt
        return None  # SIG_IGN (ipykernel between cells): the stop was all there was to do


def _chained(current: Handler) -> Handler:
    return current if isinstance(current, _Interrupts) else _Interrupts(current)


def install_interrupt_handler() -> None:
    """Make SIGINT stop active runs, wherever it arrives (main thread only; elsewhere
    a blocking wait still turns Ctrl-C into a stop).

    Under ipykernel the handler a cell runs with is swapped in and out around each
    cell: the kernel's saved handler is chained too (SIGINT between cells, the
    interrupt button while a background run trains), and a ``pre_run_cell`` hook
    chains the one each later cell runs with."""
    if threading.current_thread() is not threading.main_thread():
        return
    signal.signal(signal.SIGINT, _chained(signal.getsignal(signal.SIGINT)))
    kernel, shell = _ipykernel()
    if kernel is not None and hasattr(kernel, "saved_sigint_handler"):
        kernel.saved_sigint_handler = _chained(kernel.saved_sigint_handler)
    if shell is not None and not getattr(shell, "_transfer_widgets_sigint", False):
        shell.events.register("pre_run_cell", _chain_in_cell)
        shell._transfer_widgets_sigint = True


def _chain_in_cell(*_: Any) -> None:
    if _ACTIVE and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _chained(signal.getsignal(signal.SIGINT)))


def _ipykernel() -> tuple[Any, Any]:
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "kernel", None), shell


# -- interpreter exit --------------------------------------------------------------------


def _stop_all_at_exit() -> None:
    """Stop active runs and wait for their threads, so TensorFlow is not torn down
    under a running step (that aborted the process), and say so on stderr."""
    lives = [life for life in list(_ACTIVE) if not life.done.is_set()]
    for life in lives:
        life.control.stop("exited")
    for life in lives:
        _wait(life.done, time.monotonic() + EXIT_JOIN_S)
        print(
            f"transfer_widgets: the interpreter exited during run {life.run} of model {life.name!r}; "
            f"it was stopped with the weights of the {life.good.label}. Call controller.wait() "
            "(or fit(block=True)) before a script ends to let a run finish.",
            file=sys.stderr,
        )


atexit.register(_stop_all_at_exit)
