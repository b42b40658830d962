"""Check the data against the model before a run starts.

TensorFlow reports a wrong input shape or an out-of-range label as a long
traceback from deep inside a graph, often after the first batch. These checks
run first and say which argument is wrong, what was expected, and what to do.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..data.adapters import DataInfo


class PreflightError(ValueError):
    """Data that does not fit the model or the task; the message names the argument."""


def _fmt(shape: Iterable[int | None]) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def check_data(
    info: DataInfo,
    name: str,
    *,
    input_shape: tuple[int | None, ...],
    task: str,
    num_classes: int | None,
    labels: str = "auto",
) -> str | None:
    """Raise :class:`PreflightError` for data that cannot train this model.

    Returns the label mode found for a multiclass task (``sparse`` or ``one_hot``).
    ``input_shape`` is the model's per-sample input shape (no batch dimension).
    """
    x, y = info.x, info.y
    if info.size == 0 or x is None or (hasattr(x, "shape") and x.shape[0] == 0):
        raise PreflightError(f"{name} is empty (0 samples): pass at least one labelled batch.")
    if not hasattr(x, "dtype") or not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
        dtype = getattr(x, "dtype", type(x).__name__)
        raise PreflightError(f"{name}.x has dtype {dtype}; images must be numbers (uint8 or float32 arrays).")
    sample_shape = tuple(x.shape[1:])
    if len(sample_shape) != len(input_shape) or any(
        want is not None and got != want for got, want in zip(sample_shape, input_shape, strict=True)
    ):
        raise PreflightError(
            f"{name}.x has samples of shape {_fmt(sample_shape)} but the model takes {_fmt(input_shape)} "
            "(height, width, channels): resize the images or set base.input_shape to match."
        )
    if info.complete and np.issubdtype(x.dtype, np.floating) and not np.isfinite(x).all():
        raise PreflightError(f"{name}.x contains NaN or inf values: clean or impute them before training.")
    if y is None:
        raise PreflightError(f"{name}.y is missing: pass (x, y) with one label per sample.")
    if not hasattr(y, "dtype") or not (np.issubdtype(y.dtype, np.number) or y.dtype == bool):
        raise PreflightError(
            f"{name}.y has dtype {getattr(y, 'dtype', type(y).__name__)}; labels must be numbers."
        )
    if len(y) != len(x):
        what = "samples" if info.complete else "samples in the first batch"
        raise PreflightError(f"{name}: x has {len(x)} {what} but y has {len(y)}; pass one label per image.")
    if y.size and not np.isfinite(y).all():
        raise PreflightError(f"{name}.y contains NaN or inf values.")
    return _check_labels(np.asarray(y), name, task, num_classes, labels)


def _check_labels(y: np.ndarray, name: str, task: str, num_classes: int | None, labels: str) -> str | None:
    per_sample = y.shape[1:]
    if task == "multiclass":
        if y.ndim == 1 or per_sample == (1,):
            if labels == "one_hot":
                raise PreflightError(
                    f"head.labels is 'one_hot' but {name}.y holds class indices (shape "
                    f"{_fmt(y.shape)}): set head.labels to 'sparse' or 'auto'."
                )
            if y.size and not np.array_equal(y, np.round(y)):
                raise PreflightError(
                    f"{name}.y: multiclass labels must be class indices (integers), "
                    f"got {y.flat[np.flatnonzero(y != np.round(y))[0]]!r}."
                )
            low, high = (int(y.min()), int(y.max())) if y.size else (0, 0)
            if num_classes is None:
                if low < 0:
                    raise PreflightError(
                        f"{name}.y has labels {low}..{high}: class indices must be 0 or more. "
                        "Remap the labels."
                    )
            elif low < 0 or high >= num_classes:
                raise PreflightError(
                    f"{name}.y has labels {low}..{high} but head.num_classes is {num_classes}: labels "
                    f"must be in [0, {num_classes - 1}]. Set num_classes to the number of classes, or "
                    "remap the labels."
                )
            return "sparse"
        if y.ndim == 2:
            if labels == "sparse":
                raise PreflightError(
                    f"head.labels is 'sparse' but {name}.y is one-hot (shape {_fmt(y.shape)})."
                )
            if num_classes is not None and y.shape[1] != num_classes:
                raise PreflightError(
                    f"{name}.y is one-hot with {y.shape[1]} columns but head.num_classes is "
                    f"{num_classes}: they must match."
                )
            if y.size and (((y != 0) & (y != 1)).any() or not np.allclose(y.sum(axis=1), 1)):
                raise PreflightError(
                    f"{name}.y has 2-D labels that are not one-hot rows (one 1 per row); for "
                    "several labels per image use task='multilabel'."
                )
            return "one_hot"
        raise PreflightError(
            f"{name}.y has shape {_fmt(y.shape)}; multiclass labels are class indices (n,) or "
            "one-hot rows (n, num_classes)."
        )
    if task == "binary":
        if not (y.ndim == 1 or per_sample == (1,)):
            raise PreflightError(
                f"{name}.y has shape {_fmt(y.shape)}; binary labels are one 0/1 value per sample "
                "(n,) or (n, 1). For several classes use task='multiclass'."
            )
        bad = y[(y != 0) & (y != 1)]
        if bad.size:
            raise PreflightError(
                f"{name}.y: binary labels must be 0 or 1, got {bad.flat[0]!r}. "
                "For more classes use task='multiclass'."
            )
        return None
    if task == "multilabel":
        if y.ndim != 2 or (num_classes is not None and y.shape[1] != num_classes):
            raise PreflightError(
                f"{name}.y has shape {_fmt(y.shape)} but a multilabel head with "
                f"head.num_classes={num_classes} needs (n, {num_classes}) rows of 0/1."
            )
        if ((y != 0) & (y != 1)).any():
            raise PreflightError(f"{name}.y: multilabel targets must be 0 or 1.")
        return None
    outputs = num_classes or 1
    if per_sample not in ((outputs,),) and not (outputs == 1 and per_sample == ()):
        raise PreflightError(
            f"{name}.y has targets of shape {_fmt(per_sample)} per sample but the regression "
            f"head has {outputs} output(s) (head.num_classes): they must match."
        )
    return None


#: Losses that fit each task's output (None: the task's own loss, always fine). A
#: name outside every list (a custom or less common loss) is left to Keras.
_LOSSES = {
    "multiclass": {
        "sparse": ("sparse_categorical_crossentropy", "sparse_categorical_focal_crossentropy"),
        "one_hot": ("categorical_crossentropy", "categorical_focal_crossentropy", "kl_divergence", "kld"),
    },
    "binary": ("binary_crossentropy", "binary_focal_crossentropy", "hinge", "squared_hinge", "mse"),
    "multilabel": ("binary_crossentropy", "binary_focal_crossentropy", "hinge", "squared_hinge"),
    "regression": ("mse", "mae", "mape", "msle", "huber", "log_cosh", "mean_squared_error",
                   "mean_absolute_error", "mean_absolute_percentage_error", "mean_squared_logarithmic_error"),
}  # fmt: skip
_KNOWN_LOSSES = {
    name for v in _LOSSES.values() for names in (v.values() if isinstance(v, dict) else [v]) for name in names
}
#: Metrics that need one probability per class (or one output) and fail on a softmax with index labels.
_BINARY_METRICS = ("auc", "precision", "recall", "binary_accuracy", "binary_crossentropy")
_CLASS_METRICS = ("categorical_accuracy", "sparse_categorical_accuracy", "top_k_categorical_accuracy",
                  "sparse_top_k_categorical_accuracy")  # fmt: skip


def check_loss_and_metrics(task: str, loss: str | None, metrics: list[str] | None, label_mode: str) -> None:
    """Raise :class:`PreflightError` for a loss or metric that does not fit the task and the
    labels (Keras reports them only once the first batch fails, as shape errors)."""
    if loss is not None and loss in _KNOWN_LOSSES:
        allowed = _LOSSES[task]
        fits = (
            allowed[label_mode if label_mode in allowed else "sparse"]
            if isinstance(allowed, dict)
            else allowed
        )
        if loss not in fits:
            labels = f" with {label_mode} labels" if isinstance(allowed, dict) else ""
            raise PreflightError(
                f"head.loss {loss!r} does not fit a {task} head{labels}: use one of "
                f"{', '.join(map(repr, fits))}, or leave head.loss as None for the task's own loss."
            )
    for metric in metrics or ():
        bad = (task == "multiclass" and metric in _BINARY_METRICS) or (
            task in ("binary", "multilabel", "regression") and metric in _CLASS_METRICS
        )
        if bad:
            raise PreflightError(
                f"head.metrics: {metric!r} does not fit a {task} head (its output and labels have another "
                "shape): leave head.metrics as None for the task's own metrics, or pick one for this task."
            )
