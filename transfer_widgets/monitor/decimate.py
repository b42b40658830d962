"""Largest-Triangle-Three-Buckets decimation: a long series drawn with a fixed
number of points that keeps its peaks, so each plot update costs the same."""

from __future__ import annotations

import numpy as np


def lttb(x, y, n_out: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """At most ``n_out`` points of ``(x, y)`` chosen by LTTB (first and last kept);
    float32 arrays. Series no longer than ``n_out`` come back whole. Non-finite
    y values are dropped first (a NaN loss must not blank the chart)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"lttb needs two 1-D arrays of one length, got {x.shape} and {y.shape}")
    if n_out < 3:
        raise ValueError(f"lttb needs n_out >= 3, got {n_out}")
    keep = np.isfinite(y) & np.isfinite(x)
    if not keep.all():
        x, y = x[keep], y[keep]
    n = len(x)
    if n <= n_out:
        return x.astype(np.float32), y.astype(np.float32)
    # Buckets between the fixed first and last points.
    edges = np.linspace(1, n - 1, n_out - 1).astype(np.int64)
    out = np.empty(n_out, dtype=np.int64)
    out[0], out[-1] = 0, n - 1
    a = 0
    for i in range(n_out - 2):
        lo, hi = edges[i], edges[i + 1]
        # The average of the next bucket (the last point for the last bucket).
        nlo, nhi = edges[i + 1], (edges[i + 2] if i + 2 < len(edges) else n)
        cx, cy = x[nlo:nhi].mean(), y[nlo:nhi].mean()
        bx, by = x[lo:hi], y[lo:hi]
        area = np.abs((x[a] - cx) * (by - y[a]) - (x[a] - bx) * (cy - y[a]))
        a = lo + int(np.argmax(area))
        out[i + 1] = a
    return x[out].astype(np.float32), y[out].astype(np.float32)
