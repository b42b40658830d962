"""What a run actually ran, as plain data: the effective settings of each phase
(epochs, learning rate and schedule, optimizer with its arguments, the freeze plan
applied, whether the head trained on cached features) and those of the run
(batch size, seed, class weights, callbacks, loss, mixed precision).

The controller writes one :class:`RunRecord` per ``fit`` / ``fine_tune`` call,
whichever way it was started (method arguments, widgets, ``set``), and the
exporter renders one (the last by default), so the exported script's phases are
the ones that ran rather than the config's defaults.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from .config import FreezePlan


@dataclass
class PhaseRecord:
    """One phase as it ran. ``optimizer``: the ``keras.optimizers`` class name;
    ``optimizer_args``: its other constructor arguments; ``lr_schedule``: the complete
    ``{"class_name", "config"}`` of the schedule the optimizer ran with (None: the constant
    ``learning_rate``); ``freeze``: the base's flags once the phase had set them;
    ``features``: the head trained on the frozen base's cached outputs."""

    name: str
    epochs: int
    learning_rate: float
    optimizer: str
    optimizer_args: dict[str, Any] = field(default_factory=dict)
    lr_schedule: dict[str, Any] | None = None
    freeze: FreezePlan | None = None
    features: bool = False
    #: Complete epochs this phase ran (fewer than ``epochs`` after a stop).
    epochs_run: int = 0


@dataclass
class RunRecord:
    """One ``fit`` / ``fine_tune`` call. ``callbacks``: the Keras callbacks it ran that the
    config can write (``{"class_name", "config"}``), from ``training.callbacks`` and the
    call's ``callbacks=``; ``unexported_callbacks``: the class names of the others (custom
    callbacks), which an export names but cannot write; ``loss`` / ``metrics`` as compiled."""

    run: int
    kind: str
    phases: list[PhaseRecord]
    batch_size: int
    seed: int | None
    loss: Any
    metrics: list[Any]
    class_weight: dict[str, float] | None = None
    callbacks: list[dict[str, Any]] = field(default_factory=list)
    unexported_callbacks: list[str] = field(default_factory=list)
    restore_best: bool = False
    monitor: str = "val_loss"
    nan_guard: bool = True
    #: Trained under the ``mixed_float16`` policy (``training.mixed_precision``).
    mixed_precision: bool = False

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def phase_schedule(spec: dict[str, Any] | None, learning_rate: float, scale: float) -> dict[str, Any] | None:
    """The complete schedule a phase runs with: ``training.lr_schedule`` started at the
    phase's ``learning_rate``, its ``warmup_target`` scaled by ``scale`` (the fine-tuning
    phase's ``lr_mult``)."""
    if spec is None:
        return None
    config = {"initial_learning_rate": learning_rate, **spec.get("config", {})}
    if config.get("warmup_target") is not None:
        config["warmup_target"] = config["warmup_target"] * scale
    return {"class_name": spec["class_name"], "config": config}
