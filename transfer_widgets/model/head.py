"""The head: a :class:`~transfer_widgets.config.HeadSpec` turned into Keras layers.

The output layer, loss and metrics follow from the task, so a user picks
"multiclass, 5 classes" instead of remembering softmax + sparse categorical
cross-entropy. :func:`check_head_fits` says (as :class:`~transfer_widgets.config.Problem`
objects naming their field) whether a head fits the base's output shape,
:func:`head_preview` gives the per-layer output shapes and parameter counts the
head designer shows, and :data:`HEAD_PRESETS` are the ready-made heads it offers.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypedDict

import keras
import numpy as np

from ..config import ConfigError, HeadLayerSpec, HeadSpec, Problem, logit_metric, loss_class

OUTPUT_LAYER_NAME: Final = "predictions"
#: Head layers that reduce a 4-D feature map (batch, h, w, c) to a vector.
GLOBAL_POOLING: Final[tuple[str, ...]] = ("global_average_pooling", "global_max_pooling")
#: The output activation each task uses.
TASK_ACTIVATIONS: Final[dict[str, str]] = {
    "multiclass": "softmax",
    "binary": "sigmoid",
    "multilabel": "sigmoid",
    "regression": "linear",
}
#: The metrics each task compiles with unless the head names its own.
TASK_METRICS: Final[dict[str, tuple[str, ...]]] = {
    "multiclass": ("accuracy",),
    "binary": ("accuracy",),
    "multilabel": ("binary_accuracy",),
    "regression": ("mae",),
}

Shape = tuple[int | None, ...]


def task_units(task: str, num_classes: Any) -> Any:
    """Units of the output layer for ``task`` with ``num_classes`` (as given: not validated)."""
    if task == "binary":
        return 1
    if task == "regression":
        return num_classes or 1
    if num_classes is None:
        raise ConfigError(
            [Problem("head.num_classes", f"must be set for a {task} task (or passed as num_classes=)")]
        )
    return num_classes


def output_units(spec: HeadSpec) -> int:
    """Units of the output layer for the task."""
    units: int = task_units(spec.task, spec.num_classes)
    return units


def output_activation(spec: HeadSpec) -> str:
    """The output layer's activation: the task's, or linear when the head outputs logits."""
    return "linear" if spec.from_logits else TASK_ACTIVATIONS[spec.task]


def output_probabilities(outputs: Any, task: str, from_logits: bool) -> np.ndarray:
    """The head's outputs as probabilities: as they are, or through softmax (multiclass) /
    sigmoid (binary, multilabel) when the head outputs logits."""
    v = np.asarray(outputs, np.float64)
    if not from_logits or task == "regression":
        return v
    if task == "multiclass":
        e = np.exp(v - v.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    return 1.0 / (1.0 + np.exp(-v))


def task_loss(task: str, label_mode: str = "sparse") -> str:
    """The loss a task compiles with; multiclass depends on sparse vs one-hot labels."""
    if task not in TASK_ACTIVATIONS:
        raise KeyError(task)
    if task == "multiclass":
        return "categorical_crossentropy" if label_mode == "one_hot" else "sparse_categorical_crossentropy"
    return "mse" if task == "regression" else "binary_crossentropy"


def default_loss(spec: HeadSpec, label_mode: str = "sparse") -> str | dict[str, Any]:
    """The head's loss, or the task's (:func:`task_loss`) when it names none: a name, or with
    ``loss_args`` (and ``from_logits=True`` for a head that outputs logits) the
    ``{"class_name", "config"}`` of its ``keras.losses`` class."""
    name = spec.loss if spec.loss is not None else task_loss(spec.task, label_mode)
    args = {**spec.loss_args, "from_logits": True} if spec.from_logits else dict(spec.loss_args)
    if not args:
        return name
    cls = loss_class(name)
    if cls is None:  # what TransferConfig.problems() says of it
        raise ConfigError(
            [Problem("head.loss", f"must name a keras.losses class to take head.loss_args, got {name!r}")]
        )
    return {"class_name": cls.__name__, "config": args}


def default_metrics(spec: HeadSpec) -> list[str | dict[str, Any]]:
    """The head's metrics, or the task's (:data:`TASK_METRICS`) when it names none; on a
    head that outputs logits, those that threshold probabilities are set to read logits
    (``{"class_name", "config"}``, the name kept)."""
    names = list(spec.metrics) if spec.metrics is not None else list(TASK_METRICS[spec.task])
    if not spec.from_logits or spec.task == "regression":
        return list(names)
    out: list[str | dict[str, Any]] = []
    for i, name in enumerate(names):
        metric = logit_metric(name, spec.task)
        if metric is None:  # what TransferConfig.problems() says of it
            raise ConfigError([Problem(f"head.metrics[{i}]", f"needs probabilities, got {name!r}")])
        out.append(metric)
    return out


def compile_metrics(metrics: list[str | dict[str, Any]]) -> list[Any]:
    """What ``Model.compile`` takes for :func:`default_metrics`: names as they are, fresh
    metric objects for the ``{"class_name", "config"}`` ones."""
    return [keras.metrics.get(m) if isinstance(m, dict) else m for m in metrics]


def count_weights(weights: Iterable[Any]) -> int:
    """The number of scalars in ``weights`` (Keras variables), without reading their values."""
    return int(sum(math.prod(w.shape) for w in weights))


def kernel_regularizer(spec: HeadLayerSpec) -> keras.regularizers.Regularizer | None:
    """The dense layer's kernel penalty: ``L1``, ``L2`` or ``L1L2`` from its factors, or None."""
    l1, l2 = spec.kernel_l1, spec.kernel_l2
    if l1 is None and l2 is None:
        return None
    if l2 is None:
        return keras.regularizers.L1(l1)
    if l1 is None:
        return keras.regularizers.L2(l2)
    return keras.regularizers.L1L2(l1=l1, l2=l2)


def _layer(spec: HeadLayerSpec, index: int) -> keras.Layer:
    name = f"head_{index}_{spec.type}"
    if spec.type == "global_average_pooling":
        return keras.layers.GlobalAveragePooling2D(name=name)
    if spec.type == "global_max_pooling":
        return keras.layers.GlobalMaxPooling2D(name=name)
    if spec.type == "flatten":
        return keras.layers.Flatten(name=name)
    if spec.type == "dropout":
        return keras.layers.Dropout(spec.rate, name=name)
    if spec.type == "dense":
        return keras.layers.Dense(
            spec.units, activation=spec.activation, kernel_regularizer=kernel_regularizer(spec), name=name
        )
    if spec.type == "batch_norm":
        return keras.layers.BatchNormalization(name=name)
    raise ConfigError(
        [Problem(f"head.layers[{index}].type", f"is not a known head layer, got {spec.type!r}")]
    )


def check_head_fits(spec: HeadSpec, feature_shape: Sequence[int | None]) -> list[Problem]:
    """Problems fitting the head's layers to the base's output shape (``(None, 7, 7, 1280)``),
    each naming its field (``head.layers[0]``); [] when the head fits."""
    feature_shape = tuple(feature_shape)
    rank = len(feature_shape)
    for i, layer in enumerate(spec.layers):
        if layer.type in GLOBAL_POOLING and rank != 4:
            return [
                Problem(
                    f"head.layers[{i}].type",
                    f"{layer.type!r} needs a 4-D feature map (batch, h, w, c), "
                    f"but the base outputs {feature_shape}",
                )
            ]
        if layer.type in (*GLOBAL_POOLING, "flatten"):
            rank = 2
        if layer.type == "dense" and rank > 2:
            return [
                Problem(
                    f"head.layers[{i}]",
                    f"(dense) gets a {rank}-D feature map {feature_shape}: add "
                    "global_average_pooling or flatten before it",
                )
            ]
    if rank > 2:
        return [
            Problem(
                "head.layers",
                f"must reduce the base's output {feature_shape} to a vector: add "
                "global_average_pooling, global_max_pooling or flatten",
            )
        ]
    return []


def build_head(spec: HeadSpec, feature_shape: Sequence[int | None], name: str = "head") -> keras.Sequential:
    """A built ``keras.Sequential`` from base features to predictions."""
    problems = check_head_fits(spec, feature_shape)
    if problems:
        raise ConfigError(problems)
    layers = [_layer(layer, i) for i, layer in enumerate(spec.layers)]
    layers.append(
        keras.layers.Dense(output_units(spec), activation=output_activation(spec), name=OUTPUT_LAYER_NAME)
    )
    return keras.Sequential([keras.Input(tuple(feature_shape)[1:]), *layers], name=name)


class PreviewRow(TypedDict):
    """One layer of a built head: its name, class, output shape and parameter counts."""

    name: str
    type: str
    output_shape: Shape
    params: int
    trainable: int


def head_preview(spec: HeadSpec, feature_shape: Sequence[int | None]) -> list[PreviewRow]:
    """Per head layer, output layer included: name, type, output shape, parameters and
    trainable parameters (builds the head; raises :class:`ConfigError` if it does not fit)."""
    head = build_head(spec, feature_shape)
    return [
        PreviewRow(
            name=layer.name,
            type=type(layer).__name__,
            output_shape=tuple(layer.output.shape),
            params=count_weights(layer.weights),
            trainable=count_weights(layer.trainable_weights),
        )
        for layer in head.layers
    ]


# -- presets --------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeadPreset:
    """A ready-made head: its layers for a base that outputs a 4-D feature map. On a
    base that already outputs a vector the global pooling layers are left out."""

    name: str
    label: str
    description: str
    layers: tuple[HeadLayerSpec, ...]

    def layers_for(self, feature_shape: Sequence[int | None]) -> list[HeadLayerSpec]:
        """The preset's layers for a base with this output shape (fresh copies)."""
        pooled = len(tuple(feature_shape)) == 4
        return [copy.deepcopy(layer) for layer in self.layers if pooled or layer.type not in GLOBAL_POOLING]


#: The heads the designer offers, by name.
HEAD_PRESETS: Final[dict[str, HeadPreset]] = {
    preset.name: preset
    for preset in (
        HeadPreset(
            "keras_guide",
            "Keras guide",
            "global average pooling, dropout 0.2, output",
            (HeadLayerSpec(type="global_average_pooling"), HeadLayerSpec(type="dropout", rate=0.2)),
        ),
        # Teachable Machine's base ends in pooling; a 4-D feature map needs it here.
        HeadPreset(
            "teachable_machine",
            "Teachable Machine",
            "global average pooling on a feature map, dense 100 relu, output",
            (
                HeadLayerSpec(type="global_average_pooling"),
                HeadLayerSpec(type="dense", units=100, activation="relu"),
            ),
        ),
        HeadPreset(
            "linear_probe",
            "Linear probe",
            "global average pooling, output",
            (HeadLayerSpec(type="global_average_pooling"),),
        ),
    )
}
