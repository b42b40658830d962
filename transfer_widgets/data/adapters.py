"""Read the data forms users pass, without copying them: ``(x, y)`` arrays, a
batched ``tf.data.Dataset``, a ``keras.utils.PyDataset``, or a :class:`DataSpec`
(an image folder or a demo dataset).

:func:`describe` looks at the data once (the whole label array for arrays, the
first batch otherwise) so preflight can check it against the model before a run.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

import numpy as np

from ..config import ConfigError, DataSpec

#: The in-memory data forms: ``(x, y)`` arrays, a batched ``tf.data.Dataset``, a
#: ``keras.utils.PyDataset``.
DataKind: TypeAlias = Literal["arrays", "tf.data", "pydataset"]


@dataclass
class DataInfo:
    """What preflight needs to know about one data argument."""

    kind: DataKind
    x: Any  # all inputs (arrays) or the first batch
    y: Any  # all labels (arrays) or the first batch; None without labels
    size: int | None  # number of samples when known
    complete: bool  # True when x / y hold all the data (arrays)


def _is_tf_dataset(data: object) -> bool:
    try:
        import tensorflow as tf
    except ImportError:  # pragma: no cover - tensorflow is a dependency
        return False
    return isinstance(data, tf.data.Dataset)


def _is_pydataset(data: object) -> bool:
    import keras

    return isinstance(data, keras.utils.PyDataset)


def kind_of(data: object) -> DataKind:
    """Which in-memory form ``data`` is; TypeError naming the forms for anything else."""
    if isinstance(data, (tuple, list)) and len(data) == 2:
        return "arrays"
    if _is_tf_dataset(data):
        return "tf.data"
    if _is_pydataset(data):
        return "pydataset"
    raise TypeError(
        "Expected (x, y) arrays, a batched tf.data.Dataset or a keras.utils.PyDataset, "
        f"got {type(data).__name__}."
    )


def _split_batch(batch: Any) -> tuple[Any, Any]:
    """``(x, y)`` of a batch; y is None for a batch of inputs only."""
    if isinstance(batch, (tuple, list)):
        return batch[0], (batch[1] if len(batch) > 1 else None)
    return batch, None


def _to_numpy(v: Any) -> np.ndarray:
    return v.numpy() if hasattr(v, "numpy") else np.asarray(v)


def _as_numpy(v: Any) -> np.ndarray | None:
    """``v`` as a numpy array; None (no labels) stays None."""
    return None if v is None else _to_numpy(v)


def describe(data: Any, name: str = "train_data") -> DataInfo:
    """Look at ``data`` without training on it (``name`` is used in messages)."""
    kind = kind_of(data)
    if kind == "arrays":
        x, y = data
        return DataInfo(
            kind,
            np.asarray(x) if not hasattr(x, "shape") else x,
            None if y is None else (np.asarray(y) if not hasattr(y, "shape") else y),
            len(x) if hasattr(x, "__len__") else None,
            True,
        )
    if kind == "tf.data":
        for batch in data.take(1):
            x, y = _split_batch(batch)
            return DataInfo(kind, _as_numpy(x), _as_numpy(y), _cardinality(data), False)
        return DataInfo(kind, None, None, 0, True)
    if len(data) == 0:
        return DataInfo(kind, None, None, 0, True)
    x, y = _split_batch(data[0])
    return DataInfo(kind, _as_numpy(x), _as_numpy(y), None, False)


def _cardinality(ds: Any) -> int | None:
    n = int(ds.cardinality())
    return n if n >= 0 else None  # a count of batches, or unknown / infinite


def feature_batches(data: Any, batch_size: int) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
    """``(x, y)`` numpy batches in order, for running the base once over the data."""
    kind = kind_of(data)
    if kind == "arrays":
        x, y = data
        for start in range(0, len(x), batch_size):
            yield (
                np.asarray(x[start : start + batch_size]),
                (None if y is None else np.asarray(y[start : start + batch_size])),
            )
    elif kind == "tf.data":
        for batch in data:
            x, y = _split_batch(batch)
            yield _to_numpy(x), _as_numpy(y)
    else:
        for i in range(len(data)):
            x, y = _split_batch(data[i])
            yield _to_numpy(x), _as_numpy(y)


def fit_arguments(data: Any, batch_size: int, *, shuffle: bool = True) -> dict[str, Any]:
    """Keyword arguments for ``model.fit`` / ``evaluate`` for one data form."""
    if kind_of(data) == "arrays":
        x, y = data
        return {"x": x, "y": y, "batch_size": batch_size, "shuffle": shuffle}
    return {"x": data, "shuffle": False}  # datasets shuffle themselves; Keras warns otherwise


def from_spec(spec: DataSpec, batch_size: int) -> tuple[Any, Any]:
    """``(train_data, validation_data)`` from a directory or demo :class:`DataSpec`."""
    if spec.source == "directory":
        from .folder import folder_datasets

        if spec.image_size is None:  # what TransferConfig.problems() says of it
            raise ConfigError([f"data.image_size must be (height, width) in pixels, got {spec.image_size!r}"])
        if not spec.directory:
            raise ConfigError([f"data.directory must name the image folder, got {spec.directory!r}"])
        return folder_datasets(
            spec.directory,
            (int(spec.image_size[0]), int(spec.image_size[1])),
            batch_size,
            label_mode=spec.label_mode,
            validation_split=spec.validation_split,
            seed=spec.seed if spec.seed is not None else 0,
        )
    if spec.source == "demo":
        from .datasets import DEMOS

        if spec.demo not in DEMOS:
            raise ConfigError([f"data.demo must be one of {', '.join(map(repr, DEMOS))}, got {spec.demo!r}"])
        x, y = DEMOS[spec.demo](**spec.demo_kwargs)
        if spec.validation_split:
            n_val = round(len(x) * spec.validation_split)
            order = np.random.default_rng(spec.seed).permutation(len(x))
            val, train = order[:n_val], order[n_val:]
            return (x[train], y[train]), (x[val], y[val])
        return (x, y), None
    raise ConfigError(
        [f"data.source {spec.source!r} holds data in memory: pass train_data= to the controller"]
    )
