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

from dataclasses import dataclass, field
from typing import Any, Protocol

import keras

from ..config import TransferConfig
from ..model.inspect import ModelTree

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
    exported script when it lives only in memory); ``phase_names``: the phases
    run so far ("fit", "head", "fine_tune").
    """

    config: TransferConfig
    label_mode: str
    preprocessing_layers: list[keras.Layer]
    head_layers: list[keras.Layer]
    base_model: keras.Model
    phase_names: list[str] = field(default_factory=list)


class SnapshotSource(Protocol):
    """Anything that hands the exporter a snapshot (a ``FineTuneController``)."""

    def export_snapshot(self) -> ExperimentSnapshot: ...


def as_snapshot(source: ExperimentSnapshot | SnapshotSource) -> ExperimentSnapshot:
    """``source`` itself, or the snapshot it hands over."""
    return source if isinstance(source, ExperimentSnapshot) else source.export_snapshot()


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
    """Everything codegen renders. ``two_phase``: fit as head-then-fine-tune
    (``training.fine_tune``) rather than one ``fit`` of ``training.epochs``.
    ``base_file``: the ``.keras`` file an in-memory base is saved to."""

    config: TransferConfig
    preprocessing: list[LayerCall]
    head: list[LayerCall]
    label_mode: str = "sparse"
    two_phase: bool = False
    base_file: str | None = None


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
) -> ExportPlan:
    """The plan for a snapshot (or for what a controller hands over). ``two_phase=None``:
    two-phase when the last phase run was ``fine_tune``."""
    snapshot = as_snapshot(source)
    config = snapshot.config.copy()
    if two_phase is None:
        two_phase = "fine_tune" in snapshot.phase_names
    fine_tune = config.training.fine_tune
    if fine_tune.unfreeze_from is not None:
        fine_tune.unfreeze_from = first_layer_path(snapshot.base_model, fine_tune.unfreeze_from)
    if config.base.source == "model" and base_file is None:
        base_file = "base_model.keras"
    return ExportPlan(
        config=config,
        preprocessing=[layer_call(layer) for layer in snapshot.preprocessing_layers],
        head=[layer_call(layer) for layer in snapshot.head_layers],
        label_mode=snapshot.label_mode,
        two_phase=bool(two_phase),
        base_file=base_file if config.base.source == "model" else None,
    )


#: The name this had when it took the controller itself; a controller is a snapshot source.
plan_from_controller = plan_from_snapshot
