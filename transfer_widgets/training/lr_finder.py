"""The learning-rate finder's one rule: which rate to suggest from a sweep.

Pure: a function of the rates tried and the loss of each step, no Keras. The
controller's ``lr_find`` runs the sweep and hands its record to
:func:`suggest_learning_rate`; the monitor and the README describe this rule.

The rule
--------
The losses are smoothed with the project's one EMA (:class:`RunningEMA`, weight
0.9) up to the first non-finite loss (the sweep diverged there). The suggestion is
the rate at which the smoothed loss falls fastest per decade of learning rate
(the steepest descent in log-lr), searched only where the loss is still falling:
after the EMA's warm-up and before the smoothed minimum. So it is always one of
the rates swept (inside ``[start, end]``) and always at a point where the smoothed
loss goes down.

Guards against noise, and why:

* The slope is taken across a window of ``2h`` steps (``h`` about 4 % of the
  sweep), not between neighbours: a single batch's noise can tilt one step's slope
  more than the real descent does.
* The first ``1 / (1 - weight)`` points (10; at most a quarter of the sweep) are
  the EMA's warm-up: the debiased average rests on a handful of batches there and
  its "falls" are mostly noise (fastai skips the first 10 points for the same
  reason).
* No suggestion when the loss never falls meaningfully: the smoothed loss must
  drop by at least 5 % of its level *and* by more than 6 standard deviations of
  the smoothed noise (the batch noise is estimated robustly from the raw losses'
  second differences, which a smooth trend barely moves, before any blow-up). A
  flat loss (2.303 throughout: the model learns nothing at any of these rates) or
  one that rises from the start (the sweep began too high) then gets
  ``suggested=None`` and a ``message`` saying why and what to try, never a rate
  picked out of noise.

The steepest descent of a smoothed curve, not "a tenth of the rate at the
minimum": the latter is not tied to the sweep (it can lie below its start) and,
on a flat loss, turns noise into a confident-looking suggestion.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .smoothing import RunningEMA

#: The EMA weight of the suggestion (the monitor's smoothed line uses the same).
SMOOTHING = 0.9
#: Fewer finite losses than this and there is nothing to judge a slope on.
MIN_POINTS = 5
#: The smoothed loss must fall by at least this fraction of its level.
MIN_DROP = 0.05
#: ... and by more than this many standard deviations of the smoothed noise.
NOISE_SIGMAS = 6.0


@dataclass
class LRFindResult:
    """What a learning-rate sweep found.

    ``learning_rates`` and ``losses``: each step's rate and its batch's loss (a
    non-finite loss ends the useful part: the sweep diverged there);
    ``suggested``: the suggested rate, one of ``learning_rates``, or None;
    ``smoothed``: the EMA of the losses up to the first non-finite one;
    ``message``: None when there is a suggestion, otherwise why there is none and
    what to try; ``suggested_index``: the suggestion's position in
    ``learning_rates`` (None without one).
    """

    learning_rates: list[float]
    losses: list[float]
    suggested: float | None
    smoothed: list[float] = field(default_factory=list)
    message: str | None = None
    suggested_index: int | None = None


def _lr(v: float) -> str:
    # The same form as monitor.format_learning_rate (which lives a layer above).
    return f"{v:.3g}"


def suggest_learning_rate(
    learning_rates: Sequence[float], losses: Sequence[float], smoothing: float = SMOOTHING
) -> LRFindResult:
    """The suggestion for a sweep (the rule is in this module's docstring).

    ``learning_rates`` must be positive and increasing, one per loss.
    """
    lrs = [float(v) for v in learning_rates]
    raw = [float(v) for v in losses]
    if len(lrs) != len(raw):
        raise ValueError(f"one loss per learning rate: got {len(lrs)} rates and {len(raw)} losses")
    if any(not (v > 0 and math.isfinite(v)) for v in lrs) or any(b <= a for a, b in itertools.pairwise(lrs)):
        raise ValueError("learning rates must be positive, finite and increasing")
    stop = next((i for i, v in enumerate(raw) if not math.isfinite(v)), len(raw))
    running = RunningEMA(smoothing)
    running.extend(raw[:stop])
    smoothed = running.values

    def none(message: str) -> LRFindResult:
        return LRFindResult(lrs, raw, None, smoothed, message)

    if stop < MIN_POINTS:
        if not raw:
            return none("No steps were recorded: check that the training data is not empty, then run again.")
        if stop == 0:
            return none(
                f"The loss was not finite from the first step (at {_lr(lrs[0])}): check the data and "
                "labels (and the loss for the task), or start the sweep lower."
            )
        if stop < len(raw):
            return none(
                f"The loss diverged after {stop} steps (at {_lr(lrs[stop])}): start the sweep lower "
                f"(e.g. start={_lr(lrs[0] / 100)}) or run more steps."
            )
        return none(
            f"Only {stop} steps were recorded; a suggestion needs at least {MIN_POINTS}: run more "
            "steps (e.g. steps=100) or give the sweep more training data."
        )

    s = np.asarray(smoothed)
    x = np.log10(np.asarray(lrs[:stop]))
    lowest = int(np.argmin(s))
    warm = min(round(1 / (1 - smoothing)), stop // 4)
    h = max(1, stop // 25)
    # The batch noise: robust spread (MAD) of the raw losses' second differences, which
    # a smooth trend barely moves, taken where the loss had not yet blown up.
    curvature = np.diff(np.asarray(raw[: max(lowest, stop // 4, MIN_POINTS - 1) + 1]), 2)
    noise = 1.4826 * float(np.median(np.abs(curvature - np.median(curvature)))) / math.sqrt(6)
    smoothed_noise = noise * math.sqrt((1 - smoothing) / (1 + smoothing))

    def meaningful(high: float, low: float) -> bool:
        change = high - low
        return change >= MIN_DROP * max(abs(high), abs(low), 1e-12) and change > NOISE_SIGMAS * smoothed_noise

    swept = f"{_lr(lrs[0])} to {_lr(lrs[stop - 1])}"
    peak = float(np.max(s[warm : lowest + 1])) if lowest >= warm else float(s[lowest])
    if lowest - warm < 2 * h or not meaningful(peak, float(s[lowest])):
        rise = next((i for i in range(lowest, stop) if meaningful(float(s[i]), float(s[lowest]))), None)
        if rise is not None and rise <= stop // 4:
            return none(
                f"The loss rose from the first steps ({swept}): the sweep started too high. "
                f"Start it lower (e.g. start={_lr(lrs[0] / 1000)})."
            )
        rose = f", then rose from {_lr(lrs[rise])}" if rise is not None else ""
        return none(
            f"The loss hardly fell over {swept} (smoothed {float(s[0]):.4g} at first, "
            f"{float(s[lowest]):.4g} at lowest{rose}): no rate in this range trains the model. "
            "Check the data and labels (and that some layers are trainable), or widen the range / "
            "run more steps."
        )

    centres = np.arange(warm + h, lowest - h + 1)
    slopes = (s[centres + h] - s[centres - h]) / (x[centres + h] - x[centres - h])
    best = int(centres[int(np.argmin(slopes))])
    return LRFindResult(lrs, raw, lrs[best], smoothed, None, best)
