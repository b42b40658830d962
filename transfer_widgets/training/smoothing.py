"""The one exponential moving average: the monitor's smoothed loss lines and the
LR finder's suggestion both use it."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np


class RunningEMA:
    """Debiased exponential moving average (as TensorBoard draws it), extended point
    by point as a series grows, so a monitor never re-smooths the whole history.

    The first point is the first value, not pulled towards zero; non-finite values
    (and None) are skipped: the average carries over them.
    """

    def __init__(self, weight: float = 0.9):
        if not 0 <= weight < 1:
            raise ValueError(f"smoothing weight must be in [0, 1), got {weight!r}")
        self.weight = weight
        self._avg = 0.0
        self._n = 0
        self.values: list[float] = []

    def extend(self, values: Iterable[float | None]) -> None:
        w, avg, n, out = self.weight, self._avg, self._n, self.values
        for v in values:
            if v is not None and math.isfinite(v):
                avg = w * avg + (1 - w) * v
                n += 1
            out.append(avg / (1 - w**n) if n else math.nan)
        self._avg, self._n = avg, n


def ema(values: Iterable[float | None], weight: float = 0.9) -> np.ndarray:
    """The whole series smoothed at once (see :class:`RunningEMA`)."""
    running = RunningEMA(weight)
    running.extend(None if v is None else float(v) for v in values)
    return np.asarray(running.values, dtype=np.float64)
