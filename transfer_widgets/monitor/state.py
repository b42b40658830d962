"""What a training monitor shows, built from the controller's event stream.

:class:`MonitorState` is fed the event lists the controller's
:class:`~transfer_widgets.training.events.EventStream` delivers (or its log, for
a monitor displayed after training started) and keeps the series, progress,
phases, best epoch, LR-finder result, confusion matrix and errors. ``apply``
returns which parts changed, so a view redraws only those. No widget code here.

Runs: every ``fit`` / ``fine_tune`` / ``lr_find`` is a run (``run``: 1, 2, ...).
Progress counts epochs within the current run (:meth:`MonitorState.epoch_progress`),
``phases`` are the shown run's (:attr:`MonitorState.shown_run`: the current run, or
the last that trained when the current one is an ``lr_find``), per-epoch series are
tagged by run
(:meth:`MonitorState.epoch_series` with ``run=``), epochs cut short by a stop stay
out of them (the last one is :attr:`MonitorState.partial`), and ``stage`` says what
a run is doing before its first batch is reported.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypedDict

import numpy as np
from numpy.typing import ArrayLike

from ..training.events import ACTIVE, Event, RunState


class PhaseMark(TypedDict):
    """Where a phase of fit starts on the epoch axis (global epochs, 0-based), and its run."""

    name: str
    start_epoch: int
    learning_rate: float | None
    run: int | None


class EpochRecord(TypedDict):
    """One complete epoch's run, epoch within the run (0-based), phase and logged values."""

    phase: str | None
    logs: dict[str, Any]
    run: int | None
    run_epoch: int | None


class Throughput:
    """Steps per second over a sliding window of recent (time, step) samples.

    Feed it a clock that runs only while training steps run (a batch event's
    ``train_s``): on wall time, a window that spans an epoch's validation or a pause
    reads as a near standstill (one step over the ten seconds of validation read as
    "3 samples/s" after a stop one batch into an epoch)."""

    def __init__(self, window_s: float = 5.0) -> None:
        self.window_s = window_s
        self._samples: deque[tuple[float, int]] = deque()

    def reset(self) -> None:
        self._samples.clear()

    def update(self, t: float, step: int) -> None:
        if self._samples and step < self._samples[-1][1]:
            self._samples.clear()  # a new run counted from lower steps
        self._samples.append((t, step))
        while len(self._samples) > 2 and t - self._samples[1][0] >= self.window_s:
            self._samples.popleft()

    @property
    def steps_per_s(self) -> float | None:
        if len(self._samples) < 2:
            return None
        (t0, s0), (t1, s1) = self._samples[0], self._samples[-1]
        return (s1 - s0) / (t1 - t0) if t1 > t0 and s1 > s0 else None

    def eta_s(self, remaining_steps: int) -> float | None:
        rate = self.steps_per_s
        return remaining_steps / rate if rate and remaining_steps >= 0 else None


def confusion_matrix(y_true: ArrayLike, y_pred: ArrayLike, num_classes: int) -> np.ndarray:
    """``m[i, j]`` = how many samples of true class ``i`` were predicted ``j``."""
    y_true = np.asarray(y_true, dtype=np.int64).ravel()
    y_pred = np.asarray(y_pred, dtype=np.int64).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred differ in length: {y_true.shape} vs {y_pred.shape}")
    ok = (y_true >= 0) & (y_true < num_classes) & (y_pred >= 0) & (y_pred < num_classes)
    return np.bincount(y_true[ok] * num_classes + y_pred[ok], minlength=num_classes**2).reshape(
        num_classes, num_classes
    )


def per_class_accuracy(matrix: ArrayLike) -> np.ndarray:
    """Recall of each class (diagonal over row sums); NaN for a class with no samples."""
    m = np.asarray(matrix, dtype=np.float64)
    rows = m.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(rows > 0, np.diag(m) / np.where(rows > 0, rows, 1), np.nan)


def _higher_is_better(name: str) -> bool:
    return any(k in name.lower() for k in ("acc", "auc", "precision", "recall", "f1"))


class MonitorState:
    """Everything the monitor draws, updated from controller events."""

    PARTS = ("batch", "epoch", "progress", "state", "lr_find", "confusion", "error")

    def __init__(self, batch_size: int | None = None, monitor: str = "val_loss") -> None:
        self.batch_size = batch_size
        self.monitor = monitor
        self.state: RunState = "idle"
        self.task: str | None = None
        self.reason: str | None = None
        self.phase: str | None = None
        self.learning_rate: float | None = None
        self.run: int | None = None  # the current (or last) run's number
        self.stage: str | None = None  # the run's stage (``preparing``...); None between runs
        self.run_phases: dict[int | None, list[PhaseMark]] = {}
        self.run_epoch: int | None = None  # the epoch within the run, 0-based
        self.run_epochs: int | None = None  # the epochs the run was asked for
        self.partial: dict[str, Any] | None = None  # the last epoch cut short (not in ``epochs``)
        self.batch_steps: list[int] = []
        self.batch_loss: list[float] = []
        self.epochs: dict[int, EpochRecord] = {}
        self.epoch: int | None = None
        self.total_epochs: int | None = None
        self.batch: int | None = None
        self.steps: int | None = None
        self.epoch_eta_s: float | None = None
        self.started_at: float | None = None
        self.last_time: float | None = None
        self.ended_at: float | None = None
        self.throughput = Throughput()
        self.lr_find: dict[str, Any] | None = None  # {"learning_rates", "losses", "suggested"}
        # {"epoch", "matrix", "class_names", "per_class_accuracy"}
        self.confusion: dict[str, Any] | None = None
        self.error: dict[str, Any] | None = None  # {"message", "traceback", "kind"}
        self.warnings: list[str] = []
        self.restored: dict[str, Any] | None = None  # {"monitor", "value", "epoch"}

    # -- feeding ---------------------------------------------------------------------

    def apply(self, events: Iterable[Event]) -> set[str]:
        """Take one delivery (a list of event dicts); return the parts that changed."""
        changed: set[str] = set()
        for e in events:
            handler = getattr(self, f"_on_{e.get('type')}", None)
            if handler is not None:
                changed |= handler(e)
            if "time" in e:
                self.last_time = e["time"]
        return changed

    def load_history(
        self, history: Mapping[str, Sequence[Any]], phases: Iterable[Mapping[str, Any]] | None = None
    ) -> set[str]:
        """Fill the epoch series from ``controller.history`` (complete even when the
        event log has wrapped); idempotent, keyed by epoch number."""
        epochs = history.get("epoch", [])
        none = [None] * len(epochs)
        keys = ("epoch", "phase", "run", "run_epoch")
        for i, epoch in enumerate(epochs):
            logs = {k: v[i] for k, v in history.items() if k not in keys and v[i] is not None}
            self.epochs[int(epoch)] = {
                "phase": history.get("phase", none)[i],
                "logs": logs,
                "run": history.get("run", none)[i],
                "run_epoch": history.get("run_epoch", none)[i],
            }
        for p in phases or []:
            self._add_phase(p["name"], p["start_epoch"], p.get("learning_rate"), p.get("run"))
        runs = [r for r in [*self.run_phases, *(e["run"] for e in self.epochs.values())] if r is not None]
        if runs and (self.run is None or max(runs) > self.run):
            self.run = max(runs)
        return {"epoch"}

    def _add_phase(self, name: str, start_epoch: int, learning_rate: float | None, run: int | None) -> None:
        marks = [p for p in self.run_phases.get(run, []) if p["start_epoch"] != start_epoch]
        marks.append({"name": name, "start_epoch": start_epoch, "learning_rate": learning_rate, "run": run})
        self.run_phases[run] = sorted(marks, key=lambda p: p["start_epoch"])

    @property
    def shown_run(self) -> int | None:
        """The run per-epoch charts draw clearly (earlier ones faint): the current run, or
        when it has no phase (an ``lr_find``, or a run still preparing) the last that had one."""
        if self.run in self.run_phases:
            return self.run
        trained = [r for r in self.run_phases if r is not None]
        return max(trained) if trained else self.run

    @property
    def phases(self) -> list[PhaseMark]:
        """The shown run's phases (a new run starts a new list: titles do not grow)."""
        return self.run_phases.get(self.shown_run, [])

    @property
    def all_phases(self) -> list[PhaseMark]:
        """Every run's phases, in epoch order."""
        return sorted(
            (p for marks in self.run_phases.values() for p in marks), key=lambda p: p["start_epoch"]
        )

    def _on_reset(self, e: Event) -> set[str]:
        """The controller loaded another experiment: start over."""
        MonitorState.__init__(self, e.get("batch_size", self.batch_size), e.get("monitor", self.monitor))
        return set(self.PARTS)

    def _on_state(self, e: Event) -> set[str]:
        state = e["state"]
        new_run = e.get("run") is not None and e.get("run") != self.run
        if state == "running" and (new_run or self.state not in ("paused", "stopping", "running")):
            self.task = e.get("task")
            self.run = e.get("run", self.run)
            self.started_at, self.ended_at = e.get("time"), None
            self.error = None
            self.reason = None
            self.stage = None
            self.throughput.reset()
            self.epoch = self.batch = self.steps = self.epoch_eta_s = None
            self.run_epoch = self.run_epochs = self.total_epochs = None
        if state in ("finished", "failed"):
            self.ended_at = e.get("time")
            self.reason = e.get("reason")
            self.stage = None
        self.state = state
        return {"state", "progress"}

    def _on_stage(self, e: Event) -> set[str]:
        self.stage = e.get("stage")
        if e.get("run") is not None:
            self.run = e["run"]
        return {"state", "progress"}

    def _on_phase(self, e: Event) -> set[str]:
        self.phase = e["phase"]
        self.learning_rate = e.get("learning_rate")
        run = e.get("run", self.run)
        self.run = run
        self._add_phase(e["phase"], e["start_epoch"], e.get("learning_rate"), run)
        return {"epoch", "progress"}

    def _step(self, epoch: int, batch: int, steps: int | None) -> int:
        return epoch * steps + batch + 1 if steps else batch + 1

    def _on_batch(self, e: Event) -> set[str]:
        self.epoch, self.batch, self.steps = e["epoch"], e["batch"], e.get("steps")
        self.total_epochs = e.get("epochs")
        self.epoch_eta_s = e.get("eta_s")
        self.phase = e.get("phase", self.phase)
        self.run = e.get("run", self.run)
        self.run_epoch, self.run_epochs = e.get("run_epoch"), e.get("run_epochs")
        step = self._step(e["epoch"], e["batch"], self.steps)
        self.throughput.update(e.get("train_s", e["time"]), step)
        loss = e.get("logs", {}).get("loss")
        if loss is not None:
            if self.batch_steps and step <= self.batch_steps[-1]:
                # A new run restarted the step count below what is drawn: keep the x axis increasing.
                step = self.batch_steps[-1] + 1
            self.batch_steps.append(step)
            self.batch_loss.append(float(loss))
        return {"batch", "progress"}

    def _on_epoch(self, e: Event) -> set[str]:
        self.epoch, self.total_epochs = e["epoch"], e.get("epochs", self.total_epochs)
        self.run = e.get("run", self.run)
        self.run_epoch, self.run_epochs = (
            e.get("run_epoch", self.run_epoch),
            e.get("run_epochs", self.run_epochs),
        )
        if e.get("partial"):
            # Cut short by a stop: not an epoch of the series; the bar stays where it stopped.
            self.partial = {
                k: e.get(k) for k in ("run", "phase", "epoch", "run_epoch", "batches", "steps", "logs")
            }
            if e.get("batches"):
                self.batch = int(e["batches"]) - 1
            return {"epoch", "progress"}
        self.epochs[int(e["epoch"])] = {
            "phase": e.get("phase"),
            "logs": dict(e.get("logs", {})),
            "run": e.get("run"),
            "run_epoch": e.get("run_epoch"),
        }
        if self.steps:
            self.batch = self.steps - 1
        return {"epoch", "progress"}

    def _on_error(self, e: Event) -> set[str]:
        self.error = {"message": e.get("message"), "traceback": e.get("traceback"), "kind": e.get("kind")}
        return {"error"}

    def _on_warning(self, e: Event) -> set[str]:
        self.warnings.append(e.get("message") or "")
        return {"error"}

    def _on_restored(self, e: Event) -> set[str]:
        self.restored = {k: e.get(k) for k in ("monitor", "value", "epoch")}
        return {"epoch"}

    def _on_lr_find(self, e: Event) -> set[str]:
        self.lr_find = {
            "learning_rates": list(e["learning_rates"]),
            "losses": list(e["losses"]),
            "smoothed": list(e.get("smoothed", [])),  # the curve the suggestion was judged on
            "suggested": e.get("suggested"),
            "message": e.get("message"),  # why there is no suggestion, and what to try
        }
        return {"lr_find"}

    def _on_confusion(self, e: Event) -> set[str]:
        m = np.asarray(e["matrix"], dtype=np.int64)
        names = e.get("class_names") or [str(i) for i in range(len(m))]
        self.confusion = {
            "epoch": e.get("epoch"),
            "matrix": m,
            "class_names": list(names),
            "per_class_accuracy": per_class_accuracy(m),
        }
        return {"confusion"}

    # -- reading ---------------------------------------------------------------------

    def set_error(self, message: str, traceback: str | None = None, kind: str = "exception") -> None:
        """Record an error that did not come through the stream (a refused click)."""
        self.error = {"message": message, "traceback": traceback, "kind": kind}

    def metric_names(self) -> list[str]:
        """Metric base names in first-seen order (``loss``, ``accuracy``...; ``val_`` folded in)."""
        names: list[str] = []
        for row in self.epoch_rows():
            for k in row["logs"]:
                base = k.removeprefix("val_")
                if base not in names and base not in ("learning_rate", "lr"):
                    names.append(base)
        return names

    def epoch_rows(self) -> list[dict[str, Any]]:
        return [{"epoch": k, **self.epochs[k]} for k in sorted(self.epochs)]

    def epoch_series(self, key: str, run: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(epoch numbers counted from 1, values) of one logged key, gaps left out; float32.

        Complete epochs only. ``run``: only that run's epochs (x stays the global epoch
        number, so runs follow each other on one axis); None: every run."""
        xs, ys = [], []
        for row in self.epoch_rows():
            if run is not None and row.get("run") != run:
                continue
            v = row["logs"].get(key)
            if v is not None and math.isfinite(v):
                xs.append(row["epoch"] + 1)
                ys.append(v)
        return np.asarray(xs, dtype=np.float32), np.asarray(ys, dtype=np.float32)

    def best_epoch(self) -> tuple[int, float, str] | None:
        """(epoch counted from 1, value, key) of the best epoch on the monitored key
        (``val_loss`` by default, ``loss`` when there is no validation)."""
        for key in (self.monitor, "val_loss", "loss"):
            xs, ys = self.epoch_series(key)
            if len(ys):
                i = int(np.argmax(ys) if _higher_is_better(key) else np.argmin(ys))
                return int(xs[i]), float(ys[i]), key
        return None

    @property
    def global_step(self) -> int | None:
        return self.batch_steps[-1] if self.batch_steps else None

    def samples_per_s(self) -> float | None:
        rate = self.throughput.steps_per_s
        return rate * self.batch_size if rate is not None and self.batch_size else None

    def run_numbers(self) -> list[int]:
        """The runs that have complete epochs (or phases), in order."""
        found = {r for r in self.run_phases if r is not None}
        found |= {rec["run"] for rec in self.epochs.values() if rec.get("run") is not None}  # type: ignore[misc]
        return sorted(found)

    def epoch_progress(self) -> tuple[int, int | None] | None:
        """(the epoch in progress counted from 1 within the current run, the run's epochs)
        for "Epoch 2 / 5"; None before a run reports an epoch. Falls back to Keras's
        global count when events carry no run fields."""
        if self.run_epoch is not None:
            return self.run_epoch + 1, self.run_epochs
        if self.epoch is not None:
            return self.epoch + 1, self.total_epochs
        return None

    def epochs_done(self) -> int:
        """Complete epochs of the current run (for the epoch bar)."""
        if self.run is None:
            return len(self.epochs)
        return sum(1 for rec in self.epochs.values() if rec.get("run") == self.run)

    def eta_s(self) -> float | None:
        """Seconds of training left in the run: the epoch in progress plus the epochs
        after it (all its phases), at the rate measured on training time (pauses and
        validation excluded): a paused run's ETA holds still."""
        if self.state not in ACTIVE or self.epoch is None or not self.steps:
            return None
        remaining = self.steps - (self.batch or 0) - 1
        if self.run_epoch is not None and self.run_epochs is not None:
            remaining += max(0, self.run_epochs - self.run_epoch - 1) * self.steps
        elif self.total_epochs is not None:
            remaining += max(0, self.total_epochs - self.epoch - 1) * self.steps
        eta = self.throughput.eta_s(remaining)
        return eta if eta is not None else self.epoch_eta_s

    def elapsed_s(self, now: float | None = None) -> float | None:
        if self.started_at is None:
            return None
        end = self.ended_at if self.ended_at is not None else (now if now is not None else self.last_time)
        return max(0.0, (end or self.started_at) - self.started_at)
