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
