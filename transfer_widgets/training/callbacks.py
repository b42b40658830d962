"""Keras callbacks the controller runs ``fit`` with.

- :class:`RunCallback`: pause / stop between batches, the history of completed
  epochs (an epoch cut short by a stop is kept apart as a partial one), throttled
  batch and epoch events, the run's stage, the run's good point (weights at the
  start and after each complete epoch, put back when an epoch is cut short) and
  the NaN guard (a NaN or inf loss stops the run and puts those weights back).
- :class:`BestWeights`: restores the weights of the best epoch on a monitored metric.
- :class:`LRSweep`: the learning-rate finder's exponential sweep.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from .events import EventStream, Stage
from .run_control import GoodPoint, RunControl


def _floats(logs: dict[str, Any] | None) -> dict[str, float]:
    return {k: float(v) for k, v in (logs or {}).items() if np.ndim(v) == 0}


class RunCallback(keras.callbacks.Callback):
    """Control, history, events and NaN guard for one ``fit`` call (one phase of a run).

    An epoch is *complete* when all its ``steps`` batches ran (with ``steps`` unknown:
    unless a stop was honoured during it). A complete epoch goes to ``record``; one cut
    short by a stop goes to ``record_partial`` instead, and its ``epoch`` event says
    ``partial=True``. ``epoch_complete`` tells later callbacks (:class:`BestWeights`)
    which it was.

    ``good`` (one per run, shared by its phases) holds the weights of the run's start
    and of each complete epoch's end; an epoch cut short (stop, NaN) is rewound to
    it at the end of the fit, so the weights always match the history. A stop also
    cuts the validation Keras runs after a cut epoch (or the one under way) to one
    batch; the ``val_`` values of a cut validation are not logged.
    """

    def __init__(
        self,
        stream: EventStream,
        record: Callable[[int, dict[str, float], str], None],
        *,
        phase: str,
        control: RunControl,
        nan_guard: bool = True,
        run: int = 1,
        run_start: int = 0,
        run_epochs: int | None = None,
        record_partial: Callable[[dict[str, Any]], None] | None = None,
        stage: Callable[[Stage, str | None], None] | None = None,
        good: GoodPoint | None = None,
    ) -> None:
        super().__init__()
        self.stream = stream
        self.record = record  # record(epoch, logs, phase): appends a completed epoch to the history
        self.record_partial = record_partial  # record_partial(info): an epoch cut short
        self.stage = stage  # stage(name, phase): the run's stage changed
        self.phase = phase
        self.control = control
        self.nan_guard = nan_guard
        self.run = run
        self.run_start = run_start  # the global epoch index the run started at
        self.run_epochs = run_epochs
        self.nan: dict[str, Any] | None = None
        self.epoch_complete = True
        self.partial: dict[str, Any] | None = None
        self.good = good if good is not None else GoodPoint("start of the run")
        self._epoch = 0
        self._in_epoch = False  # between on_epoch_begin and on_epoch_end
        self._val_cut = False
        self._epoch_start = 0.0
        self._epoch_paused = 0.0
        self._batches = 0
        self._cut = False
        self._stage: str | None = None
        self._first_epoch: int | None = None
        self._first_end: float | None = None  # when the first batch of this fit ended (it traces)
        self._first_paused = 0.0
        # The last batch done: (wall time, monotonic time, paused seconds then, batch, train_s, logs).
        self._last: tuple[float, float, float, int, float, dict[str, Any] | None] | None = None
        self._sent: tuple[int, int] | None = None  # (epoch, batch) of the last batch event sent

    def _set_stage(self, stage: Stage) -> None:
        if stage != self._stage:
            self._stage = stage
            if self.stage is not None:
                self.stage(stage, self.phase)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.good.capture(self.model)  # the phase starts where the run's good point is

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._epoch = epoch
        self._epoch_start = time.monotonic()
        self._epoch_paused = self.control.paused_s
        self._batches = 0
        self._cut = False
        self._val_cut = False
        self._in_epoch = True
        if self._first_epoch is None:
            self._first_epoch = epoch

    def on_train_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self.good.touch()  # from here on the weights may differ from the good point

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        loss = (logs or {}).get("loss")
        if self.nan_guard and loss is not None and not math.isfinite(float(loss)):
            self.nan = {"epoch": self._epoch, "batch": batch, "loss": float(loss)}
            self.model.stop_training = True
            return
        now = time.monotonic()
        self._batches = batch + 1
        if self._first_end is None:
            self._first_end, self._first_paused = now, self.control.paused_s
        paused = self.control.paused_s
        train_s = self.control.train_s + (now - self._epoch_start) - (paused - self._epoch_paused)
        self._last = (time.time(), now, paused, batch, train_s, logs)
        self._set_stage("training")
        if self.stream.due():
            self._emit_batch()
        self.control.checkpoint(self.model)
        if self.control.stop_requested:
            self._cut = True  # fit ends after this batch: the epoch is over, complete or not

    def on_test_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._set_stage("validating")  # fit's own validation at an epoch's end

    def on_test_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        # Keras validates even an epoch a stop cut short: one batch, then no more.
        if self.control.stop_requested:
            self.model.stop_evaluating = True
            self._val_cut = True

    def _eta(self, now: float, paused: float, batch: int, steps: int | None) -> float | None:
        """Seconds left in the epoch from the time per batch so far, without paused time
        and without the fit's first batch (which traces the graph and can take seconds)."""
        if not steps:
            return None
        if self._epoch == self._first_epoch and self._first_end is not None:
            done, spent = batch, now - self._first_end - (paused - self._first_paused)
        else:
            done, spent = batch + 1, now - self._epoch_start - (paused - self._epoch_paused)
        if done <= 0 or spent <= 0:
            return None
        return spent / done * (steps - batch - 1)

    def _emit_batch(self) -> None:
        if self._last is None:
            return
        wall, now, paused, batch, train_s, logs = self._last
        steps = self.params.get("steps")
        self.stream.emit(
            "batch",
            time=wall,
            phase=self.phase,
            run=self.run,
            epoch=self._epoch,
            run_epoch=self._epoch - self.run_start,
            run_epochs=self.run_epochs,
            batch=batch,
            steps=steps,
            epochs=self.params.get("epochs"),
            eta_s=self._eta(now, paused, batch, steps),
            train_s=train_s,
            logs=_floats(logs),
        )
        self._sent = (self._epoch, batch)

    def _flush_last_batch(self) -> None:
        """Send the last batch done unless it was sent: bars must end on the real position."""
        if self._last is not None and self._sent != (self._epoch, self._last[3]):
            self._emit_batch()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.nan is not None:
            return  # the epoch that went bad is not a completed epoch; its weights are discarded
        steps = self.params.get("steps")
        complete = self._batches >= steps if steps else not self._cut
        self.epoch_complete = complete
        self._flush_last_batch()
        if self._last is not None and self._batches:
            self.control.train_s = self._last[4]  # the epoch's training time, without its validation
        self._in_epoch = False
        values = _floats(logs)
        if self._val_cut:  # a few validation batches: not the epoch's validation
            values = {k: v for k, v in values.items() if not k.startswith("val_")}
        where = {"run": self.run, "phase": self.phase, "epoch": epoch, "run_epoch": epoch - self.run_start}
        if complete:
            self.record(epoch, values, self.phase)
            self.good.capture(self.model, f"end of epoch {epoch + 1}", epoch)
        else:
            self._keep_partial(where, steps, values)
        self.stream.emit(
            "epoch",
            **where,
            run_epochs=self.run_epochs,
            epochs=self.params.get("epochs"),
            seconds=time.monotonic() - self._epoch_start,
            logs=values,
            partial=not complete,
            batches=self._batches,
            steps=steps,
        )
        # A stop asked for during validation ends the fit here, not one batch into the next epoch.
        self.control.checkpoint(self.model)

    def _keep_partial(self, where: dict[str, Any], steps: int | None, values: dict[str, float]) -> None:
        self.partial = {**where, "batches": self._batches, "steps": steps, "logs": values}
        if self.record_partial is not None:
            self.record_partial(self.partial)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self._flush_last_batch()
        self.good.restore()  # an epoch cut short (a stop, a NaN) is rewound
        if self.nan is not None:
            self.nan["restored_from"] = f"the {self.good.label}"

    def position(self) -> str | None:
        """Where the fit is: the phase, epoch and batch under way (for errors that only
        show up in a batch, such as a bad label deep in a dataset)."""
        if not self._in_epoch:
            return None
        if self._stage == "validating":
            return f"phase {self.phase!r}, the validation after epoch {self._epoch + 1} (validation_data)"
        return f"phase {self.phase!r}, epoch {self._epoch + 1}, batch {self._batches + 1} of train_data"

    def epoch_failed(self) -> None:
        """The fit raised: keep the epoch under way (if any batch of it ran) as a
        partial one; the caller puts the good point's weights back."""
        if self._in_epoch and self._batches:
            self._in_epoch = False
            where = {
                "run": self.run,
                "phase": self.phase,
                "epoch": self._epoch,
                "run_epoch": self._epoch - self.run_start,
            }
            logs = self._last[5] if self._last else None
            self._keep_partial(where, self.params.get("steps"), _floats(logs))


class BestWeights(keras.callbacks.Callback):
    """Keep the weights of the best epoch on ``monitor`` and put them back at the end."""

    def __init__(
        self, monitor: str = "val_loss", stream: EventStream | None = None, run: RunCallback | None = None
    ) -> None:
        super().__init__()
        self.monitor = monitor
        self.run = run  # when given, epochs it says were cut short are not candidates
        self.stream = stream
        lowered = monitor.lower()
        self.higher_is_better = any(k in lowered for k in ("acc", "auc", "precision", "recall", "f1"))
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.restored = False  # the best epoch's weights were put back
        self._weights: list[np.ndarray] | None = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.run is not None and not self.run.epoch_complete:
            return  # a partial epoch's logs cover a few batches: not comparable
        value = (logs or {}).get(self.monitor)
        if value is None or not math.isfinite(float(value)):
            return
        value = float(value)
        better = self.best is None or (value > self.best if self.higher_is_better else value < self.best)
        if better:
            self.best, self.best_epoch = value, epoch
            self._weights = self.model.get_weights()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self._weights is None:
            if self.stream is not None:
                self.stream.emit(
                    "warning",
                    message=f"restore_best: {self.monitor!r} was never logged "
                    "(is there validation data?); the last weights are kept.",
                )
            return
        self.model.set_weights(self._weights)
        self.restored = True
        if self.stream is not None:
            self.stream.emit("restored", monitor=self.monitor, value=self.best, epoch=self.best_epoch)


class LRSweep(keras.callbacks.Callback):
    """Raise the learning rate exponentially from ``start`` to ``end`` over ``steps``
    batches, recording each batch's own loss; stop early when the loss explodes.

    "Explodes" is judged on the smoothed loss (debiased EMA, as the suggestion
    uses): single small batches are noisy enough to trip a raw-loss test early."""

    def __init__(self, start: float, end: float, steps: int, control: RunControl | None = None) -> None:
        super().__init__()
        self.start, self.end, self.steps = start, end, steps
        self.control = control
        self.lrs: list[float] = []
        self.losses: list[float] = []
        self._step = 0
        self._prev_mean = 0.0
        self._ema = 0.0
        self._best = math.inf

    def _lr(self, step: int) -> float:
        return self.start * (self.end / self.start) ** (step / max(1, self.steps - 1))

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._prev_mean = 0.0

    def on_train_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self.model.optimizer.learning_rate.assign(self._lr(self._step))

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        mean = float((logs or {}).get("loss", math.nan))
        # Keras logs the epoch's running mean; recover this batch's own loss from it.
        loss = (batch + 1) * mean - batch * self._prev_mean
        self._prev_mean = mean
        self.lrs.append(self._lr(self._step))
        self.losses.append(loss)
        self._step += 1
        exploded = not math.isfinite(loss)
        if not exploded:
            self._ema = 0.9 * self._ema + 0.1 * loss
            smoothed = self._ema / (1 - 0.9**self._step)
            self._best = min(self._best, smoothed)
            exploded = smoothed > 4 * self._best + 1e-12
        if self._step >= self.steps or exploded:
            self.model.stop_training = True
        if self.control is not None:
            self.control.checkpoint(self.model)
