"""What the exporter renders, as plain data.

:class:`ExperimentSnapshot` is what a controller hands the exporter
(``FineTuneController.export_snapshot()``): the config, the label mode its data
has, and the layers it built. :func:`plan_from_snapshot` turns it into an
:class:`ExportPlan`, with the layers in front of the base and in the head written
as constructor calls read from the built layers (class, the arguments that
matter, name), so the exported code builds exactly those layers; nothing here
re-derives them from the config, and nothing here imports the controller.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import keras
import numpy as np

from ..config import FreezePlan, TransferConfig
from ..model.head import default_loss, default_metrics
from ..model.inspect import ModelTree
from ..run_record import PhaseRecord, RunRecord, phase_schedule

#: Per layer class: positional arguments then keyword arguments, by config key,
#: that the exported constructor call passes (the rest are the class defaults).
LAYER_ARGS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Dense": (("units",), ("activation",)),
    "Dropout": (("rate",), ()),
    "GlobalAveragePooling2D": ((), ()),
    "GlobalMaxPooling2D": ((), ()),
    "Flatten": ((), ()),
    "BatchNormalization": ((), ()),
    "RandomFlip": (("mode",), ()),
    "RandomRotation": (("factor",), ()),
    "RandomZoom": (("height_factor",), ()),
    "RandomContrast": (("factor",), ()),
    "Rescaling": (("scale",), ("offset",)),
    "ImagenetPreprocessing": (("mode",), ()),
}


@dataclass
class ExperimentSnapshot:
    """A controller's experiment as the exporter needs it, read without changing it.

    ``config``: a copy, with the freeze plan read from the base's flags;
    ``label_mode``: "sparse" or "one_hot", as the training data has them;
    ``preprocessing_layers`` / ``head_layers``: the layers built in front of the
    base and in the head, in order; ``base_model``: the backbone (saved beside an
    exported script when it lives only in memory); ``runs``: what each fit /
    fine_tune run ran; ``initial_base_weights``: the base's weights before the
    first run (None: no run yet, the base is as loaded); ``trained_model``: the
    model the runs trained (None before any run).
    """

    config: TransferConfig
    label_mode: str
    preprocessing_layers: list[keras.Layer]
    head_layers: list[keras.Layer]
    base_model: keras.Model
    runs: list[RunRecord] = field(default_factory=list)
    initial_base_weights: list[np.ndarray] | None = None
    trained_model: keras.Model | None = None


class SnapshotSource(Protocol):
    """Anything that hands the exporter a snapshot (a ``FineTuneController``)."""

    def export_snapshot(self) -> ExperimentSnapshot: ...


def as_snapshot(source: ExperimentSnapshot | SnapshotSource) -> ExperimentSnapshot:
    """``source`` itself, or the snapshot it hands over."""
    return source if isinstance(source, ExperimentSnapshot) else source.export_snapshot()


@dataclass(frozen=True)
class Construct:
    """A constructor call as an argument value: ``<func>(**kwargs)`` (a layer's
    ``keras.regularizers.L2(l2=0.0001)``)."""

    func: str
    kwargs: dict[str, Any]


@dataclass
class LayerCall:
    """``<cls>(*args, **kwargs, name=name)``; ``package`` is "keras" for
    ``layers.<cls>`` or "transfer_widgets" for the package's own layers."""

    cls: str
    name: str
    args: list[Any] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)
    package: str = "keras"


@dataclass
class ExportPlan:
    """Everything codegen renders. ``run``: the phases and run-wide settings the
    code trains with, either a run's record (``from_run``: True) or the config's
    plan before any run; ``build_freeze``: the freeze plan ``build_model()``
    applies (the first phase's). ``base_file``: the ``.keras`` file an in-memory
    base is saved to; ``trained_file``: the one the session's trained model is
    saved to (never read by the code)."""

    config: TransferConfig
    preprocessing: list[LayerCall]
    head: list[LayerCall]
    run: RunRecord
    build_freeze: FreezePlan
    label_mode: str = "sparse"
    from_run: bool = False
    base_file: str | None = None
    trained_file: str | None = None

    @property
    def two_phase(self) -> bool:
        """Whether the code trains the head first and then fine-tunes."""
        return [p.name for p in self.run.phases] == ["head", "fine_tune"]


def layer_call(layer: keras.Layer) -> LayerCall:
    """The constructor call that rebuilds ``layer`` (a class in :data:`LAYER_ARGS`)."""
    cls = type(layer).__name__
    if cls not in LAYER_ARGS:
        raise ValueError(f"cannot export a {cls} layer ({layer.name!r}): not a layer the controller builds")
    positional, keywords = LAYER_ARGS[cls]
    config = layer.get_config()
    package = "keras" if hasattr(keras.layers, cls) else "transfer_widgets"
    args = [_simplest(layer, key, config[key]) for key in positional]
    kwargs = {key: config[key] for key in keywords}
    if cls == "Rescaling" and kwargs.get("offset") == 0.0:
        kwargs.pop("offset")
    if cls == "Dense" and kwargs.get("activation") == "linear":
        kwargs.pop("activation")
    if cls == "Dense" and config.get("kernel_regularizer") is not None:
        penalty = config["kernel_regularizer"]
        kwargs["kernel_regularizer"] = Construct(
            f"keras.regularizers.{penalty['class_name']}", dict(penalty["config"])
        )
    return LayerCall(cls, layer.name, args, kwargs, package)


def _simplest(layer: keras.Layer, key: str, value: Any) -> Any:
    """A scalar that the layer's constructor turns into ``value`` (RandomRotation
    stores 0.2 as (-0.2, 0.2)), else ``value`` itself."""
    if not isinstance(value, (tuple, list)) or not value:
        return value
    for candidate in (value[-1], value[0]):
        try:
            if type(layer)(candidate).get_config()[key] == value:
                return candidate
        except Exception:  # noqa: BLE001 - a candidate the constructor refuses is just not it
            continue
    return tuple(value)


def first_layer_path(base: keras.Model, name: str) -> str:
    """The path (below the base) of the first layer of the layer, block or sub-model
    ``name``: what the exported ``unfreeze_from`` takes, where the session also took
    a block's name."""
    tree = ModelTree(base)
    root = tree.root.path + "/"
    path = tree.find(name).leaves()[0].path
    return path.removeprefix(root)


def plan_from_snapshot(
    source: ExperimentSnapshot | SnapshotSource,
    *,
    two_phase: bool | None = None,
    base_file: str | None = None,
    trained_file: str | None = None,
    run: int | None = None,
) -> ExportPlan:
    """The plan for a snapshot (or for what a controller hands over): the phases of the
    last run (``run``: the run with that number); before any run, or with ``two_phase``
    True / False, the phases the config plans (head then fine-tune, or one fit)."""
    snapshot = as_snapshot(source)
    config = snapshot.config.copy()
    fine_tune = config.training.fine_tune
    if fine_tune.unfreeze_from is not None:
        fine_tune.unfreeze_from = first_layer_path(snapshot.base_model, fine_tune.unfreeze_from)
    if run is not None and two_phase is not None:
        raise ValueError("pass run= (a run's phases) or two_phase= (the config's plan), not both")
    picked = pick_run(snapshot.runs, run) if two_phase is None else None
    record = picked or planned_run(config, snapshot.label_mode, two_phase=bool(two_phase))
    from_run = any(record is r for r in snapshot.runs)
    if from_run:
        record = _with_paths(record, snapshot.base_model)
    first = next((p.freeze for p in record.phases if p.freeze is not None), None)
    if config.base.source == "model" and base_file is None:
        base_file = "base_model.keras"
    if from_run and trained_file is None:
        trained_file = "trained_model.keras"
    return ExportPlan(
        config=config,
        preprocessing=[layer_call(layer) for layer in snapshot.preprocessing_layers],
        head=[layer_call(layer) for layer in snapshot.head_layers],
        run=record,
        build_freeze=first if first is not None else config.freeze,
        label_mode=snapshot.label_mode,
        from_run=from_run,
        base_file=base_file if config.base.source == "model" else None,
        trained_file=trained_file if from_run else None,
    )


def pick_run(runs: list[RunRecord], run: int | None) -> RunRecord | None:
    """The record of run number ``run``, or the last run's when None (None before any run)."""
    if run is None:
        return runs[-1] if runs else None
    found = [r for r in runs if r.run == run]
    if not found:
        known = ", ".join(str(r.run) for r in runs) or "none yet"
        raise ValueError(f"run must be the number of a fit / fine_tune run (known: {known}), got {run!r}")
    return found[0]


def run_config(config: TransferConfig, record: RunRecord) -> TransferConfig:
    """``config`` with the settings ``record`` ran with written in, so that the config
    plans that run: ``fit()`` (a fit run) or ``fine_tune()`` (a fine-tuning run) without
    arguments runs the same phases. The run's epochs, rates (the fine-tuning phase's as
    ``lr_mult``), optimizer and arguments, schedule, class weights, callbacks the config
    can write, batch size, seed, mixed precision and freeze plan (a fit's flags; the
    fine-tuning phase's ``unfreeze_from`` / ``keep_bn_frozen``); the rest (base, head,
    data, ...) is ``config``'s. A phase the run never reached keeps the config's values."""
    c = config.copy()
    t = c.training
    first = record.phases[0]
    t.optimizer, t.optimizer_args, t.learning_rate = (
        first.optimizer,
        dict(first.optimizer_args),
        first.learning_rate,
    )
    if first.lr_schedule is None:
        t.lr_schedule = None
    else:
        args = {k: v for k, v in first.lr_schedule["config"].items() if k != "initial_learning_rate"}
        t.lr_schedule = {"class_name": first.lr_schedule["class_name"], "config": args}
    t.class_weight = None if record.class_weight is None else dict(record.class_weight)
    t.callbacks = copy.deepcopy(record.callbacks)
    t.batch_size, t.seed, t.mixed_precision = record.batch_size, record.seed, record.mixed_precision
    t.restore_best, t.monitor, t.nan_guard = record.restore_best, record.monitor, record.nan_guard
    if record.kind != "fine_tune":
        t.epochs = first.epochs
        if first.freeze is not None:
            c.freeze = replace(first.freeze)
        return c
    head, tune = record.phases
    f = t.fine_tune
    f.head_epochs, f.epochs = head.epochs, tune.epochs
    f.lr_mult = float(f"{tune.learning_rate / head.learning_rate:.12g}")
    if tune.freeze is not None and tune.freeze.kind in ("boundary", "all_trainable"):
        f.unfreeze_from = tune.freeze.boundary if tune.freeze.kind == "boundary" else None
        f.keep_bn_frozen = tune.freeze.keep_bn_frozen
    return c


def planned_run(config: TransferConfig, label_mode: str, *, two_phase: bool) -> RunRecord:
    """The run the config plans, as a record: one fit of ``training.epochs`` with the base's
    current flags, or the head with the base frozen and then ``training.fine_tune``.
    ``config.training.fine_tune.unfreeze_from`` must be a layer path already."""
    t, f = config.training, config.training.fine_tune
    features = config.mode == "feature_extraction"

    def phase(
        name: str, epochs: int, rate: float, freeze: FreezePlan, scale: float, feat: bool
    ) -> PhaseRecord:
        return PhaseRecord(
            name=name,
            epochs=epochs,
            learning_rate=rate,
            optimizer=t.optimizer,
            optimizer_args=dict(t.optimizer_args),
            lr_schedule=phase_schedule(t.lr_schedule, rate, scale),
            freeze=freeze,
            features=feat,
        )

    if two_phase:
        if f.unfreeze_from is None:
            unfrozen = FreezePlan("all_trainable", keep_bn_frozen=f.keep_bn_frozen)
        else:
            unfrozen = FreezePlan("boundary", boundary=f.unfreeze_from, keep_bn_frozen=f.keep_bn_frozen)
        rate = t.learning_rate * f.lr_mult
        phases = [
            phase("head", f.head_epochs, t.learning_rate, FreezePlan("all_frozen"), 1.0, features),
            phase("fine_tune", f.epochs, rate, unfrozen, f.lr_mult, False),
        ]
    else:
        phases = [phase("fit", t.epochs, t.learning_rate, config.freeze, 1.0, features)]
    return RunRecord(
        run=0,
        kind="fine_tune" if two_phase else "fit",
        phases=phases,
        batch_size=t.batch_size,
        seed=t.seed,
        loss=default_loss(config.head, label_mode),
        metrics=default_metrics(config.head),
        class_weight=None if t.class_weight is None else dict(t.class_weight),
        callbacks=list(t.callbacks),
        restore_best=t.restore_best,
        monitor=t.monitor,
        nan_guard=t.nan_guard,
        mixed_precision=t.mixed_precision,
    )


def _with_paths(record: RunRecord, base: keras.Model) -> RunRecord:
    """``record`` with each phase's boundary written as the path the exported helpers take."""
    phases = []
    for p in record.phases:
        freeze = p.freeze
        if freeze is not None and freeze.kind == "boundary" and freeze.boundary is not None:
            freeze = replace(freeze, boundary=first_layer_path(base, freeze.boundary))
        phases.append(replace(p, freeze=freeze))
    return replace(record, phases=phases)


#: The name this had when it took the controller itself; a controller is a snapshot source.
plan_from_controller = plan_from_snapshot
