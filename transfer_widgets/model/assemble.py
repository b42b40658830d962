"""Base + preprocessing + head, assembled the way the Keras transfer-learning guide says.

``inputs -> augmentation -> preprocessing -> base(x, training=False) -> head``:
the base runs in inference mode (BatchNorm statistics stay as pretrained) unless
the config asks otherwise, and the right ``preprocess_input`` is chosen from the
base's applications family, the most common silent mistake.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import keras

from ..config import BaseSpec, ConfigError, PreprocessingSpec
from .inspect import check_model

#: keras.applications families and the ``imagenet_utils`` mode their
#: ``preprocess_input`` uses; None: the model preprocesses inside itself.
PREPROCESS_FAMILIES: dict[str, str | None] = {
    "mobilenet": "tf",
    "mobilenet_v2": "tf",
    "mobilenet_v3": None,
    "resnet": "caffe",
    "resnet_v2": "tf",
    "vgg16": "caffe",
    "vgg19": "caffe",
    "inception_v3": "tf",
    "inception_resnet_v2": "tf",
    "xception": "tf",
    "nasnet": "tf",
    "densenet": "torch",
    "efficientnet": None,
    "efficientnet_v2": None,
    "convnext": None,
    "regnet": None,
}

# Model names (as keras.applications names the model object, or the function name) -> family.
_FAMILY_PATTERNS = [
    (r"mobilenetv3|mobilenet_?v3", "mobilenet_v3"),
    (r"mobilenetv2|mobilenet_?v2", "mobilenet_v2"),
    (r"mobilenet", "mobilenet"),
    (r"inception_?resnet", "inception_resnet_v2"),
    (r"resnet\d+v2|resnet_?v2", "resnet_v2"),
    (r"resnet", "resnet"),
    (r"vgg16", "vgg16"),
    (r"vgg19", "vgg19"),
    (r"inception", "inception_v3"),
    (r"xception", "xception"),
    (r"nasnet", "nasnet"),
    (r"densenet", "densenet"),
    (r"efficientnetv2|efficientnet_?v2", "efficientnet_v2"),
    (r"efficientnet", "efficientnet"),
    (r"convnext", "convnext"),
    (r"regnet", "regnet"),
]


def family_of(name: str | None) -> str | None:
    """The applications family of a model name (``mobilenetv2_1.00_224`` -> ``mobilenet_v2``)."""
    if not name:
        return None
    lowered = name.lower()
    for pattern, family in _FAMILY_PATTERNS:
        if re.search(pattern, lowered):
            return family
    return None


# Exported code carries ImagenetPreprocessing and pin_inference_mode as written here, into
# scripts checked with ruff at its default 88 columns: their text is formatted at 88
# by hand, so the package's 110-column formatter leaves them alone.
# fmt: off
@keras.saving.register_keras_serializable(package="transfer_widgets")
class ImagenetPreprocessing(keras.layers.Layer):
    """``keras.applications.imagenet_utils.preprocess_input`` as a layer, so it is
    part of the saved model and runs inside the graph (``mode``: tf, torch, caffe).

    Exported scripts carry this class under the same registered name, so a model
    saved by the script or in the session loads in either.
    """

    def __init__(self, mode: str = "tf", **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.mode = mode

    def call(self, x: object) -> object:
        x = keras.ops.cast(x, self.compute_dtype)
        return keras.applications.imagenet_utils.preprocess_input(x, mode=self.mode)

    def compute_output_shape(
        self, input_shape: tuple[int | None, ...]
    ) -> tuple[int | None, ...]:
        return input_shape

    def get_config(self) -> dict[str, object]:
        return {**super().get_config(), "mode": self.mode}
# fmt: on


def load_base(spec: BaseSpec, model: Any = None) -> keras.Model:
    """The backbone described by ``spec`` (``model`` when source is 'model')."""
    if spec.source == "model":
        if model is None:
            raise ConfigError(["base.source is 'model' but no model was passed: pass base_model="])
        return check_model(model)
    if spec.source == "file":
        if spec.path is None or not os.path.exists(spec.path):
            raise ConfigError([f"base.path {spec.path!r} does not exist"])
        _check_model_file(spec.path)
        try:
            loaded = keras.models.load_model(spec.path, compile=False)
        except Exception as exc:  # noqa: BLE001 - Keras raises many kinds (and "File not found") for a damaged file
            raise ConfigError(
                [
                    f"base.path {spec.path!r} could not be loaded as a Keras model "
                    f"({type(exc).__name__}: {exc})"
                ]
            ) from None
        return check_model(loaded)
    constructor = getattr(keras.applications, spec.name, None) if spec.name is not None else None
    if constructor is None:
        raise ConfigError([f"base.name must name a keras.applications model, got {spec.name!r}"])
    kwargs = dict(spec.kwargs)
    if spec.input_shape is not None:
        kwargs["input_shape"] = tuple(spec.input_shape)
    return constructor(include_top=False, weights=spec.weights, **kwargs)


def _check_model_file(path: str) -> None:
    """A ``.keras`` file is a zip archive and an ``.h5`` file an HDF5 one: say so for
    anything else (an empty, truncated or renamed file) instead of Keras's "File not found"."""
    if os.path.isdir(path):
        raise ConfigError([f"base.path {path!r} is a folder: pass the path of a .keras or .h5 file"])
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(8)
    formats = {".keras": (b"PK\x03\x04", "a zip archive"), ".h5": (b"\x89HDF\r\n\x1a\n", "an HDF5 file")}
    for suffix, (magic, kind) in formats.items():
        if path.endswith(suffix) and not head.startswith(magic):
            what = "is empty (0 bytes)" if size == 0 else f"is not {kind}, as a {suffix} file must be"
            raise ConfigError(
                [
                    f"base.path {path!r} {what}: it is damaged or not a saved model; "
                    "save it again with model.save()"
                ]
            )


def preprocessing_layers(spec: PreprocessingSpec, base_name: str | None) -> list[keras.Layer]:
    """Augmentation layers (training only, by Keras design) then pixel preprocessing."""
    layers: list[keras.Layer] = []
    for i, aug in enumerate(spec.augmentation):
        name = f"augment_{i}_{aug.type}"
        if aug.type == "random_flip":
            layers.append(keras.layers.RandomFlip(aug.mode or "horizontal", name=name))
        elif aug.type == "random_rotation":
            layers.append(keras.layers.RandomRotation(aug.factor, name=name))
        elif aug.type == "random_zoom":
            layers.append(keras.layers.RandomZoom(aug.factor, name=name))
        elif aug.type == "random_contrast":
            layers.append(keras.layers.RandomContrast(aug.factor, name=name))
    mode = resolve_preprocessing(spec, base_name)
    if mode == "rescale":
        layers.append(keras.layers.Rescaling(spec.scale, offset=spec.offset, name="rescale"))
    elif mode in ("tf", "torch", "caffe"):
        layers.append(ImagenetPreprocessing(mode, name=f"preprocess_{mode}"))
    return layers


def resolve_preprocessing(spec: PreprocessingSpec, base_name: str | None) -> str:
    """What preprocessing ends up in the model: 'tf' / 'torch' / 'caffe', 'rescale' or 'none'."""
    if spec.mode == "rescale":
        return "rescale"
    if spec.mode == "none":
        return "none"
    family = spec.family if spec.mode == "preprocess_input" else family_of(base_name)
    if spec.mode == "preprocess_input" and family not in PREPROCESS_FAMILIES:
        raise ConfigError([f"preprocessing.family must be a known applications family, got {family!r}"])
    if family is None:
        return "none"
    return PREPROCESS_FAMILIES.get(family) or "none"


@dataclass
class Assembly:
    """The assembled model and its parts (they share layers and weights)."""

    model: keras.Model
    base: keras.Model
    head: keras.Sequential
    #: inputs -> preprocessing -> base, what feature extraction caches (None with augmentation)
    features: keras.Model | None


def base_input_shape(base: keras.Model, fallback: Sequence[int] | None = None) -> tuple[int, ...]:
    """The base's input shape without the batch; ``fallback`` where the base accepts any size."""
    shape = tuple(base.inputs[0].shape[1:]) if getattr(base, "inputs", None) else None
    if shape is None or any(d is None for d in shape):
        if fallback is None:
            raise ConfigError(
                [f"base.input_shape must be set: the base {base.name!r} accepts any size ({shape})"]
            )
        shape = tuple(fallback)
    return shape


# fmt: off
def pin_inference_mode(base: keras.Model, pinned: bool = True) -> None:
    """Make ``base(x, training=False)`` stick inside a functional model.

    Measured on Keras 3.15: a functional model passes its own ``training`` value to
    every sub-layer that takes one, overriding the ``training=False`` recorded when
    the base was called, so BatchNorm statistics drift during ``fit`` even though
    the Keras guide's recipe was followed. Removing ``training`` from the base's
    call-context arguments keeps the recorded value; an explicit
    ``base(x, training=True)`` still works. ``pinned=False`` undoes it (a base
    assembled again with ``training.base_training=True``).
    """
    args = getattr(base, "_call_context_args", None)
    if args is None or not getattr(base, "_call_has_training_arg", True):
        return
    if pinned and "training" in args:
        base._call_context_args = {a for a in args if a != "training"}
    elif not pinned and "training" not in args:
        base._call_context_args = {*args, "training"}
# fmt: on


def assemble(
    base: keras.Model,
    head: keras.Sequential,
    preprocessing: list[keras.Layer],
    *,
    input_shape: Sequence[int],
    base_training: bool = False,
    name: str = "transfer_model",
) -> Assembly:
    """Wire ``inputs -> preprocessing -> base -> head`` into one functional model."""
    inputs = keras.Input(tuple(input_shape), name="image")
    x = inputs
    for layer in preprocessing:
        x = layer(x)
    pin_inference_mode(base, pinned=not base_training)
    features = base(x, training=None if base_training else False)
    outputs = head(features)
    model = keras.Model(inputs, outputs, name=name)
    augmented = any(layer.name.startswith("augment_") for layer in preprocessing)
    # Cached features must be what the base sees at inference: no augmentation, BN in inference mode.
    feature_model = (
        None if augmented or base_training else keras.Model(inputs, features, name=f"{name}_features")
    )
    return Assembly(model=model, base=base, head=head, features=feature_model)
