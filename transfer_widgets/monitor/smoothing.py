"""Smoothing for noisy per-batch curves."""

from __future__ import annotations

import math

import numpy as np


def ema(values, weight: float = 0.9) -> np.ndarray:
    """Debiased exponential moving average (as TensorBoard draws it): the first
    point is the first value, not pulled towards zero. Non-finite values are
    skipped (the average carries over them)."""
    if not 0 <= weight < 1:
        raise ValueError(f"smoothing weight must be in [0, 1), got {weight!r}")
    out = np.empty(len(values), dtype=np.float64)
    avg, n = 0.0, 0
    for i, v in enumerate(values):
        v = float(v) if v is not None else math.nan
        if math.isfinite(v):
            avg = weight * avg + (1 - weight) * v
            n += 1
        out[i] = avg / (1 - weight ** n) if n else math.nan
    return out


class RunningEMA:
    """The same debiased average, extended point by point as a series grows, so a
    monitor never re-smooths the whole history."""

    def __init__(self, weight: float = 0.9):
        if not 0 <= weight < 1:
            raise ValueError(f"smoothing weight must be in [0, 1), got {weight!r}")
        self.weight = weight
        self._avg = 0.0
        self._n = 0
        self.values: list[float] = []

    def extend(self, values) -> None:
        w, avg, n, out = self.weight, self._avg, self._n, self.values
        for v in values:
            if v is not None and math.isfinite(v):
                avg = w * avg + (1 - w) * v
                n += 1
            out.append(avg / (1 - w ** n) if n else math.nan)
        self._avg, self._n = avg, n
