"""A model as plain data, to check that exported code rebuilds the experiment:
per layer (nested models walked) its class, config, trainable flag and
parameter counts, plus the totals.

Names Keras makes up (``input_layer_3``, counted per process) are left out of
input layers' configs; every other name is part of the experiment.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, TypedDict

import keras

# "class" is a keyword, so this part is written in the functional form.
_LayerRowKeys = TypedDict(
    "_LayerRowKeys",
    {"path": str, "class": str, "trainable": bool, "params": int, "trainable_params": int},
)


class LayerRow(_LayerRowKeys, total=False):
    """One layer or nested model of :func:`describe_model` (path, class name, flag,
    parameter counts); ``config``, for layers only, is its ``get_config()`` as JSON data."""

    config: Any


class ModelDescription(TypedDict):
    name: str
    layers: list[LayerRow]
    params: int
    trainable_params: int


class CompileDescription(TypedDict):
    optimizer: str  # the class name
    learning_rate: float
    loss: Any  # as JSON data
    metrics: Any  # as JSON data


def _size(variables: Iterable[Any]) -> int:
    return int(sum(int(v.numpy().size) for v in variables))


def _plain(value: object) -> Any:
    """Config values as JSON-comparable data (tuples -> lists)."""
    return json.loads(json.dumps(value, default=str))


def describe_model(model: keras.Model) -> ModelDescription:
    """Layers in order with config, flag and parameter counts; total and trainable params."""
    rows: list[LayerRow] = []

    def walk(layer: keras.Layer, prefix: str) -> None:
        path = (
            f"{prefix}{layer.name}" if not isinstance(layer, keras.layers.InputLayer) else f"{prefix}(input)"
        )
        row: LayerRow = {
            "path": path,
            "class": type(layer).__name__,
            "trainable": bool(layer.trainable),
            "params": _size(layer.weights),
            "trainable_params": _size(layer.trainable_weights),
        }
        if isinstance(layer, keras.Model):
            rows.append(row)
            for child in layer.layers:
                walk(child, f"{path}/")
            return
        config = layer.get_config()
        if isinstance(layer, keras.layers.InputLayer):
            config.pop("name", None)
        row["config"] = _plain(config)
        rows.append(row)

    for layer in model.layers:
        walk(layer, "")
    return {
        "name": model.name,
        "layers": rows,
        "params": _size(model.weights),
        "trainable_params": _size(model.trainable_weights),
    }


def describe_compile(model: keras.Model) -> CompileDescription | None:
    """Optimizer class and learning rate, loss and metrics of a compiled model."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return None
    config = model.get_compile_config() or {}
    return {
        "optimizer": type(optimizer).__name__,
        "learning_rate": float(keras.ops.convert_to_numpy(optimizer.learning_rate)),
        "loss": _plain(config.get("loss")),
        "metrics": _plain(config.get("metrics")),
    }
