"""How the views write numbers (learning rates keep their exponent) and a run's recipe."""

from __future__ import annotations

import math
import re
from typing import Any

from ..run_record import RunRecord


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


def _number(value: Any) -> str:
    return format_learning_rate(value) if isinstance(value, float) else str(value)


def _words(class_name: str) -> str:
    """``CosineDecay`` -> ``cosine decay``."""
    return re.sub(r"(?<!^)(?=[A-Z])", " ", class_name).lower()


def _arguments(args: dict[str, Any]) -> str:
    """``momentum 0.9, nesterov``: a true flag by its name, other values after theirs."""
    return ", ".join(k if v is True else f"{k} {_number(v)}" for k, v in args.items())


def _schedule(spec: dict[str, Any]) -> str:
    config = {k: v for k, v in spec.get("config", {}).items() if k != "initial_learning_rate"}
    steps = config.pop("warmup_steps", 0)
    target = config.pop("warmup_target", None)
    text = _words(str(spec.get("class_name")))
    if config.get("decay_steps") is not None:
        text += f" over {_number(config.pop('decay_steps'))} steps"
    if config:
        text += f" ({_arguments(config)})"
    if steps:
        text += f" with {_number(steps)}-step warm-up" + (
            f" to {_number(target)}" if target is not None else ""
        )
    return text


def recipe_line(record: RunRecord) -> str:
    """A run's recipe in one line of plain text, as the monitor shows it under its status:
    ``SGD · momentum 0.9, nesterov · cosine decay over 1000 steps with 50-step warm-up to
    0.01 · class weights 0:1.0, 1:3.0``. The optimizer and schedule are the last phase's;
    the parts a run did not use are left out."""
    phase = record.phases[-1] if record.phases else None
    parts = []
    if phase is not None:
        parts.append(phase.optimizer)
        if phase.optimizer_args:
            parts.append(_arguments(phase.optimizer_args))
        if phase.lr_schedule:
            parts.append(_schedule(phase.lr_schedule))
    if record.class_weight:
        parts.append(
            "class weights " + ", ".join(f"{k}:{_number(v)}" for k, v in record.class_weight.items())
        )
    if record.callbacks:
        parts.append(", ".join(str(c.get("class_name")) for c in record.callbacks))
    if isinstance(record.loss, dict) and record.loss.get("config", {}).get("from_logits"):
        parts.append("logits output")
    if record.mixed_precision:
        parts.append("mixed precision")
    return " · ".join(parts)
