"""How the views write numbers: learning rates keep their exponent."""

from __future__ import annotations

import math


def format_learning_rate(lr: float | None, digits: int = 3) -> str:
    """A learning rate in a form that keeps its exponent: ``3.05e-08``, ``0.001``,
    ``1e-05``, ``0.0003`` (Python's ``g`` format with ``digits`` significant digits,
    trailing zeros dropped; the head designer's field writes the same in TypeScript,
    ``formatLearningRate`` in ``labextension/src/widgets/shared/format.ts``).

    Fixed-point digits alone turn 3.05e-08 into "0.0000000305" or, cut to a field's
    width, "3.05385550", read as 3.05. None gives "" (no rate yet).
    """
    if lr is None:
        return ""
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 1:
        raise ValueError(f"digits must be a positive integer, got {digits!r}")
    value = float(lr)
    if not math.isfinite(value):
        return str(value)
    return f"{value:.{digits}g}"
