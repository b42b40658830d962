"""The Keras callback that sends a validation confusion matrix at the end of each
epoch (kept out of ``transfer_widgets.monitor``'s pure modules: it needs Keras)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import keras
import numpy as np
from numpy.typing import ArrayLike

from ..model.head import output_probabilities
from .state import confusion_matrix

if TYPE_CHECKING:
    from ..training.controller import FineTuneController

CLASSIFICATION = ("multiclass", "binary")


def validation_sample(data: Any, limit: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Up to ``limit`` validation (x, y) pairs from arrays or a batched dataset."""
    if data is None:
        return None
    if isinstance(data, (tuple, list)) and len(data) >= 2 and hasattr(data[0], "shape"):
        return np.asarray(data[0][:limit]), np.asarray(data[1][:limit])
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    n = 0
    try:
        for batch in data:
            x, y = batch[0], batch[1]
            xs.append(np.asarray(x))
            ys.append(np.asarray(y))
            n += len(xs[-1])
            if n >= limit:
                break
    except TypeError:
        return None
    if not xs:
        return None
    return np.concatenate(xs)[:limit], np.concatenate(ys)[:limit]


def class_indices(values: ArrayLike, task: str) -> np.ndarray:
    """Integer classes from labels or predictions (sparse, one-hot, probabilities)."""
    v = np.asarray(values)
    if v.ndim >= 2 and v.shape[-1] > 1:
        return np.argmax(v, axis=-1).ravel()
    if task == "binary" and np.issubdtype(v.dtype, np.floating):
        return (v.ravel() > 0.5).astype(np.int64)
    return v.ravel().astype(np.int64)


class ValidationConfusion(keras.callbacks.Callback):
    """Emit ``{"type": "confusion", "epoch", "matrix", "class_names"}`` on the
    controller's event stream after each epoch, from at most ``max_samples``
    validation samples predicted by the assembled model. Does nothing for
    regression / multilabel heads or without validation data."""

    def __init__(self, controller: FineTuneController, max_samples: int = 2000) -> None:
        super().__init__()
        self.controller = controller
        self.max_samples = max_samples

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        c = self.controller
        run = c.runs[-1]["run"] if c.runs else None
        if any(p["run"] == run and p["epoch"] == epoch for p in c.partial_epochs):
            return  # an epoch cut short by a stop: the run callback (before this one) kept it apart
        spec = c.config.head
        if spec.task not in CLASSIFICATION:
            return
        sample = validation_sample(c.validation_data, self.max_samples)
        if sample is None:
            return
        x, y = sample
        n = 2 if spec.task == "binary" else int(spec.num_classes or 0)
        if n < 2:
            return
        outputs = c.model.predict(x, batch_size=c.config.training.batch_size, verbose=0)
        pred = output_probabilities(outputs, spec.task, spec.from_logits)
        m = confusion_matrix(class_indices(y, spec.task), class_indices(pred, spec.task), n)
        names = list(spec.class_names) if spec.class_names and len(spec.class_names) == n else None
        c.events.emit("confusion", epoch=epoch, matrix=m.tolist(), class_names=names)


class BatchLossRecorder(keras.callbacks.Callback):
    """Every batch's own training loss, counted in global steps across runs.

    Keras logs the epoch's running mean; the batch's own loss is recovered from it
    (as the LR finder does). Appending two floats per batch costs well under a
    microsecond, so the raw curve is complete whatever the event throttling."""

    def __init__(self) -> None:
        super().__init__()
        self.steps: list[int] = []
        self.losses: list[float] = []
        self._step = 0
        self._prev = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._prev = 0.0

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        mean = (logs or {}).get("loss")
        if mean is None:
            return
        mean = float(mean)
        loss = (batch + 1) * mean - batch * self._prev
        self._prev = mean
        self._step += 1
        self.steps.append(self._step)
        self.losses.append(loss)
