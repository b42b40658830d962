"""What the exporter needs from a controller, as plain data: the config, and the
layers in front of the base and in the head written as constructor calls.

The layers are read from the model the controller built (class, the arguments
that matter, name), so the exported code builds exactly those layers; nothing
here re-derives them from the config.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import keras

from ..config import TransferConfig
from ..model.freeze import as_tree

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


def layer_call(layer) -> LayerCall:
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


def _simplest(layer, key: str, value):
    """A scalar that the layer's constructor turns into ``value`` (RandomRotation
    stores 0.2 as (-0.2, 0.2)), else ``value`` itself."""
    if not isinstance(value, (tuple, list)) or not value:
        return value
    for candidate in (value[-1], value[0]):
        try:
            if type(layer)(candidate).get_config()[key] == value:
                return candidate
        except Exception:  # noqa: BLE001, S112 - a candidate the constructor refuses is just not it
            continue
    return tuple(value)


def first_layer_path(base, name: str) -> str:
    """The path (below the base) of the first layer of the layer, block or sub-model
    ``name``: what the exported ``unfreeze_from`` takes, where the session also took
    a block's name."""
    tree = as_tree(base)
    root = tree.root.path + "/"
    path = tree.find(name).leaves()[0].path
    return path.removeprefix(root)


def plan_from_controller(controller, *, two_phase: bool | None = None, base_file: str | None = None) -> ExportPlan:
    """Read ``controller``'s config and built layers. ``two_phase=None``: two-phase
    when the controller's last run was ``fine_tune``."""
    config = controller.config.copy()
    model, base, head = controller.model, controller.base_model, controller.head
    pre = [layer for layer in model.layers
           if layer is not base and layer is not head and type(layer).__name__ != "InputLayer"]
    if controller.train_data is not None:
        try:
            controller.preflight()  # settles sparse vs one-hot labels, which picks the loss
        except Exception:  # noqa: BLE001, S110 - export what is known; the run reports data problems
            pass
    if two_phase is None:
        two_phase = any(p.get("name") == "fine_tune" for p in controller.phases)
    fine_tune = config.training.fine_tune
    if fine_tune.unfreeze_from is not None:
        fine_tune.unfreeze_from = first_layer_path(base, fine_tune.unfreeze_from)
    if config.base.source == "model" and base_file is None:
        base_file = "base_model.keras"
    return ExportPlan(
        config=config,
        preprocessing=[layer_call(layer) for layer in pre],
        head=[layer_call(layer) for layer in head.layers],
        label_mode=controller._label_mode,
        two_phase=bool(two_phase),
        base_file=base_file if config.base.source == "model" else None,
    )
