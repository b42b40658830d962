"""A model as plain data, to check that exported code rebuilds the experiment:
per layer (nested models walked) its class, config, trainable flag and
parameter counts, plus the totals.

Names Keras makes up (``input_layer_3``, counted per process) are left out of
input layers' configs; every other name is part of the experiment.
"""

from __future__ import annotations

import json
from typing import Any

import keras


def _size(variables) -> int:
    return int(sum(int(v.numpy().size) for v in variables))


def _plain(value):
    """Config values as JSON-comparable data (tuples -> lists)."""
    return json.loads(json.dumps(value, default=str))


def describe_model(model: keras.Model) -> dict[str, Any]:
    """Layers in order with config, flag and parameter counts; total and trainable params."""
    rows: list[dict[str, Any]] = []

    def walk(layer, prefix: str) -> None:
        path = (
            f"{prefix}{layer.name}" if not isinstance(layer, keras.layers.InputLayer) else f"{prefix}(input)"
        )
        row = {
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


def describe_compile(model: keras.Model) -> dict[str, Any] | None:
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
