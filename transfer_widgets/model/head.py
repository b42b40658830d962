"""The head: a :class:`~transfer_widgets.config.HeadSpec` turned into Keras layers.

The output layer, loss and metrics follow from the task, so a user picks
"multiclass, 5 classes" instead of remembering softmax + sparse categorical
cross-entropy. :func:`head_preview` gives the per-layer output shapes and
parameter counts that the head designer shows before anything is built.
"""

from __future__ import annotations

from typing import Any

import keras

from ..config import ConfigError, HeadLayerSpec, HeadSpec

OUTPUT_LAYER_NAME = "predictions"


def output_units(spec: HeadSpec) -> int:
    """Units of the output layer for the task."""
    if spec.task == "binary":
        return 1
    if spec.task == "regression":
        return spec.num_classes or 1
    if spec.num_classes is None:
        raise ConfigError([f"head.num_classes must be set for a {spec.task} task (or passed as num_classes=)"])
    return spec.num_classes


def output_activation(spec: HeadSpec) -> str:
    return {"multiclass": "softmax", "binary": "sigmoid", "multilabel": "sigmoid", "regression": "linear"}[spec.task]


def default_loss(spec: HeadSpec, label_mode: str = "sparse") -> str:
    """The loss for the task; multiclass depends on sparse vs one-hot labels."""
    if spec.loss is not None:
        return spec.loss
    if spec.task == "multiclass":
        return "categorical_crossentropy" if label_mode == "one_hot" else "sparse_categorical_crossentropy"
    return "mse" if spec.task == "regression" else "binary_crossentropy"


def default_metrics(spec: HeadSpec) -> list[str]:
    if spec.metrics is not None:
        return list(spec.metrics)
    return {"multiclass": ["accuracy"], "binary": ["accuracy"], "multilabel": ["binary_accuracy"],
            "regression": ["mae"]}[spec.task]


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
        return keras.layers.Dense(spec.units, activation=spec.activation, name=name)
    if spec.type == "batch_norm":
        return keras.layers.BatchNormalization(name=name)
    raise ConfigError([f"head.layers[{index}].type is not a known head layer, got {spec.type!r}"])


def check_head_fits(spec: HeadSpec, feature_shape: tuple) -> list[str]:
    """Problems fitting the head to the base's output shape (``(None, 7, 7, 1280)``)."""
    problems = []
    rank = len(feature_shape)
    for i, layer in enumerate(spec.layers):
        if layer.type in ("global_average_pooling", "global_max_pooling") and rank != 4:
            problems.append(f"head.layers[{i}].type {layer.type!r} needs a 4-D feature map (batch, h, w, c), "
                            f"but the base outputs {feature_shape}")
            return problems
        if layer.type in ("global_average_pooling", "global_max_pooling", "flatten"):
            rank = 2
        if layer.type == "dense" and rank > 2:
            problems.append(f"head.layers[{i}] (dense) gets a {rank}-D feature map {feature_shape}: add "
                            "global_average_pooling or flatten before it")
            return problems
    if rank > 2:
        problems.append(f"head.layers must reduce the base's output {feature_shape} to a vector: add "
                        "global_average_pooling, global_max_pooling or flatten")
    return problems


def build_head(spec: HeadSpec, feature_shape: tuple, name: str = "head") -> keras.Sequential:
    """A built ``keras.Sequential`` from base features to predictions."""
    problems = check_head_fits(spec, tuple(feature_shape))
    if problems:
        raise ConfigError(problems)
    layers = [_layer(layer, i) for i, layer in enumerate(spec.layers)]
    layers.append(keras.layers.Dense(output_units(spec), activation=output_activation(spec), name=OUTPUT_LAYER_NAME))
    return keras.Sequential([keras.Input(tuple(feature_shape[1:])), *layers], name=name)


def head_preview(spec: HeadSpec, feature_shape: tuple) -> list[dict[str, Any]]:
    """Per head layer: name, type, output shape and parameter count (builds the head)."""
    head = build_head(spec, feature_shape)
    rows = []
    for layer in head.layers:
        rows.append({
            "name": layer.name,
            "type": type(layer).__name__,
            "output_shape": tuple(layer.output.shape),
            "params": int(sum(v.numpy().size for v in layer.weights)),
        })
    return rows
