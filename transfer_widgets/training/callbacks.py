"""Keras callbacks the controller runs ``fit`` with.

- :class:`RunCallback`: pause / stop between batches, the history of completed
  epochs, throttled batch and epoch events, and the NaN guard (a NaN or inf loss
  stops the run and puts back the weights of the last good epoch).
- :class:`BestWeights`: restores the weights of the best epoch on a monitored metric.
- :class:`LRSweep`: the learning-rate finder's exponential sweep.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from .events import EventStream


def _floats(logs: dict[str, Any] | None) -> dict[str, float]:
    return {k: float(v) for k, v in (logs or {}).items() if np.ndim(v) == 0}


class RunCallback(keras.callbacks.Callback):
    """Control, history, events and NaN guard for one ``fit`` call."""

    def __init__(
        self,
        stream: EventStream,
        record: Callable[[int, dict[str, float], str], None],
        *,
        phase: str,
        control: RunControl,
        nan_guard: bool = True,
    ) -> None:
        super().__init__()
        self.stream = stream
        self.record = record  # record(epoch, logs, phase): appends a completed epoch to the history
        self.phase = phase
        self.control = control
        self.nan_guard = nan_guard
        self.nan: dict[str, Any] | None = None
        self._good_weights: list[np.ndarray] | None = None
        self._good_epoch: int | None = None
        self._epoch = 0
        self._epoch_start = 0.0

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        if self.nan_guard:
            self._good_weights = self.model.get_weights()

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._epoch = epoch
        self._epoch_start = time.monotonic()

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        loss = (logs or {}).get("loss")
        if self.nan_guard and loss is not None and not math.isfinite(float(loss)):
            self.nan = {"epoch": self._epoch, "batch": batch, "loss": float(loss)}
            self.model.stop_training = True
            return
        if self.stream.due():
            steps = self.params.get("steps")
            elapsed = time.monotonic() - self._epoch_start
            eta = elapsed / (batch + 1) * (steps - batch - 1) if steps else None
            self.stream.emit(
                "batch",
                phase=self.phase,
                epoch=self._epoch,
                batch=batch,
                steps=steps,
                epochs=self.params.get("epochs"),
                eta_s=eta,
                logs=_floats(logs),
            )
        self.control.checkpoint(self.model)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.nan is not None:
            return  # the epoch that went bad is not a completed epoch; its weights are discarded
        values = _floats(logs)
        self.record(epoch, values, self.phase)
        if self.nan_guard:
            self._good_weights = self.model.get_weights()
            self._good_epoch = epoch
        self.stream.emit(
            "epoch",
            phase=self.phase,
            epoch=epoch,
            epochs=self.params.get("epochs"),
            seconds=time.monotonic() - self._epoch_start,
            logs=values,
        )

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self.nan is not None and self._good_weights is not None:
            self.model.set_weights(self._good_weights)
            where = (
                f"the end of epoch {self._good_epoch + 1}"
                if self._good_epoch is not None
                else "the start of this run"
            )
            self.nan["restored_from"] = where


class RunControl:
    """Stop and pause requests from the kernel's thread, honoured between batches."""

    def __init__(self) -> None:
        self.stop_requested = False
        self._running = threading.Event()
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def stop(self) -> None:
        self.stop_requested = True
        self._running.set()

    def checkpoint(self, model: keras.Model) -> None:
        """Called after every batch: block while paused, end the fit when stopped."""
        if not self._running.is_set():
            self._running.wait()
        if self.stop_requested:
            model.stop_training = True


class BestWeights(keras.callbacks.Callback):
    """Keep the weights of the best epoch on ``monitor`` and put them back at the end."""

    def __init__(self, monitor: str = "val_loss", stream: EventStream | None = None) -> None:
        super().__init__()
        self.monitor = monitor
        self.stream = stream
        lowered = monitor.lower()
        self.higher_is_better = any(k in lowered for k in ("acc", "auc", "precision", "recall", "f1"))
        self.best: float | None = None
        self.best_epoch: int | None = None
        self._weights: list[np.ndarray] | None = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
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
