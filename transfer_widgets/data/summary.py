"""What a data argument holds, in a few numbers a person reads at a glance: how many
samples, and for class labels how many of each (the class balance). Used by the
studio's header; the data itself is never copied or changed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .adapters import describe


@dataclass(frozen=True)
class DataSummary:
    """``samples``: the number of samples, or None when the data does not say (a
    ``tf.data`` pipeline of unknown length); ``batches``: the number of batches when
    that is all that is known; ``class_counts``: samples per class index for integer
    or one-hot labels held in memory, else None."""

    kind: str
    samples: int | None
    batches: int | None
    class_counts: tuple[int, ...] | None

    @property
    def balance(self) -> float | None:
        """Smallest over largest class count (1.0: balanced), None without counts."""
        counts = [c for c in self.class_counts or () if c > 0]
        if not counts:
            return None
        return min(counts) / max(counts)


def summarize(data: Any, name: str = "train_data") -> DataSummary:
    """Count ``data``'s samples and, for labels in memory, its samples per class."""
    info = describe(data, name)
    samples = info.size if info.complete else None
    batches = info.size if info.kind == "tf.data" else None
    counts = _class_counts(info.y) if info.complete and info.y is not None else None
    return DataSummary(info.kind, samples, batches, counts)


def _class_counts(y: Any) -> tuple[int, ...] | None:
    labels = np.asarray(y)
    if labels.ndim == 2 and labels.shape[1] > 1:  # one-hot (or multi-label: a count per label)
        return tuple(int(v) for v in np.rint(labels.sum(axis=0)))
    labels = labels.reshape(-1) if labels.ndim == 2 else labels
    if labels.ndim != 1 or labels.size == 0 or not np.issubdtype(labels.dtype, np.integer):
        return None
    if labels.min() < 0:
        return None
    return tuple(int(v) for v in np.bincount(labels))
