"""Keras objects to the config's plain data and back: optimizers with their
arguments, learning-rate schedules, callbacks and class weights.

An object is converted without loss or refused with a :class:`ConfigError`
saying how to express it; nothing is dropped on the way. The builders make what
a phase compiles and fits with from the same data the exporter writes out.
"""

from __future__ import annotations

import contextlib
import inspect
import math
from collections.abc import Iterator
from typing import Any

import keras
import numpy as np

from ..config import CALLBACKS, ConfigError, optimizer_class
from ..model.head import OUTPUT_LAYER_NAME
from ..model.precision import set_mixed_precision

#: Optimizer config keys that are not constructor arguments the config records.
_OPTIMIZER_SKIP = ("name", "learning_rate")


def _plain_number(value: Any) -> Any:
    """A float read back from a float32 variable as the short number it was written as."""
    if isinstance(value, (float, np.floating)) and not isinstance(value, bool):
        return float(str(np.float32(value))) if math.isfinite(value) else float(value)
    return value


def optimizer_settings(value: Any) -> tuple[str, dict[str, Any], float | None]:
    """(class name, arguments that differ from the class defaults, learning rate or None)
    for an optimizer name, a ``keras.optimizers`` object or its serialised dict
    (``{"class_name": "SGD", "config": {...}}``)."""
    if isinstance(value, str):
        cls = optimizer_class(value)
        if cls is None:
            raise ConfigError(
                [f"training.optimizer must be a Keras optimizer name (adam, sgd, ...), got {value!r}"]
            )
        return value, {}, None
    if isinstance(value, keras.optimizers.Optimizer):
        value = keras.optimizers.serialize(value)
    if not (isinstance(value, dict) and isinstance(value.get("config", {}), dict)):
        raise ConfigError(
            [
                f"training.optimizer must be a name, a keras.optimizers object or "
                f'{{"class_name": ..., "config": {{...}}}}, got {type(value).__name__}'
            ]
        )
    cls = optimizer_class(value.get("class_name"))
    if cls is None:
        name = value.get("class_name")
        raise ConfigError([f"training.optimizer class_name must name a keras.optimizers class, got {name!r}"])
    config = dict(value.get("config", {}))
    rate = config.get("learning_rate")
    if isinstance(rate, dict):
        raise ConfigError(
            [
                "training.optimizer has a schedule as its learning_rate: set the schedule with "
                "controller.set('training.lr_schedule', schedule) and the optimizer without it"
            ]
        )
    defaults = cls().get_config()
    args = {
        k: _plain_number(v) for k, v in config.items() if k not in _OPTIMIZER_SKIP and defaults.get(k) != v
    }
    return cls.__name__, args, None if rate is None else _plain_number(rate)


def schedule_settings(value: Any) -> tuple[dict[str, Any], float | None]:
    """(``{"class_name", "config"}`` without ``initial_learning_rate``, that rate or None)
    for a ``keras.optimizers.schedules`` object or its serialised dict."""
    if isinstance(value, keras.optimizers.schedules.LearningRateSchedule):
        value = keras.optimizers.schedules.serialize(value)
    if not isinstance(value, dict) or not isinstance(value.get("config", {}), dict):
        raise ConfigError(
            [
                "training.lr_schedule must be a keras.optimizers.schedules object or "
                f'{{"class_name": ..., "config": {{...}}}}, got {type(value).__name__}'
            ]
        )
    config = {k: _plain_number(v) for k, v in value.get("config", {}).items() if k != "name"}
    rate = config.pop("initial_learning_rate", None)
    return {"class_name": value.get("class_name"), "config": config}, rate


def build_optimizer(
    name: str, args: dict[str, Any], learning_rate: float, schedule: dict[str, Any] | None
) -> keras.optimizers.Optimizer:
    """A fresh optimizer: class ``name`` with ``args``, at ``learning_rate`` or on ``schedule``."""
    cls = optimizer_class(name)
    if cls is None:  # what TransferConfig.problems() says of it
        raise ConfigError([f"training.optimizer must be a Keras optimizer name, got {name!r}"])
    rate: Any = learning_rate
    if schedule is not None:
        rate = getattr(keras.optimizers.schedules, schedule["class_name"])(**schedule["config"])
    return cls(learning_rate=rate, **args)


def callback_settings(callback: Any) -> dict[str, Any] | None:
    """``{"class_name", "config"}`` that rebuilds ``callback`` exactly (one of
    :data:`~transfer_widgets.config.CALLBACKS`, its constructor arguments read back and
    checked by building it again), or None when it is not one the config can write."""
    name = type(callback).__name__
    if name not in CALLBACKS or type(callback) is not getattr(keras.callbacks, name):
        return None
    params = inspect.signature(type(callback).__init__).parameters
    config = {
        p: getattr(callback, p)
        for p in params
        if p not in ("self", "kwargs") and params[p].kind is not inspect.Parameter.VAR_KEYWORD
    }
    config = {
        p: v
        for p, v in config.items()
        if params[p].default is inspect.Parameter.empty or v != params[p].default
    }
    again = type(callback)(**config)
    same = all(getattr(again, p) == getattr(callback, p) for p in config) and all(
        getattr(again, p, None) == getattr(callback, p, None) for p in params if p not in ("self", "kwargs")
    )
    return {"class_name": name, "config": config} if same else None


def callbacks_settings(callbacks: Any) -> list[dict[str, Any]]:
    """The config form of a list of callbacks; one the config cannot write is refused."""
    if not isinstance(callbacks, (list, tuple)):
        raise ConfigError([f"training.callbacks must be a list, got {type(callbacks).__name__}"])
    out = []
    for i, callback in enumerate(callbacks):
        # the config form as it is (the config check reads it), an object converted
        spec = callback if isinstance(callback, dict) else callback_settings(callback)
        if spec is None:
            raise ConfigError(
                [
                    f"training.callbacks[{i}] is a {type(callback).__name__}, which the config cannot "
                    f"write: use one of {', '.join(CALLBACKS)}, or pass it to fit(callbacks=[...]) for "
                    "one run (the export then names it but cannot write it)"
                ]
            )
        out.append(spec)
    return out


def build_callbacks(specs: list[dict[str, Any]]) -> list[keras.callbacks.Callback]:
    """Fresh callbacks from their config form (a callback keeps state between fits)."""
    return [getattr(keras.callbacks, s["class_name"])(**s.get("config", {})) for s in specs]


def class_weight_setting(value: Any) -> dict[str, float] | None:
    """Class weights as the config keeps them: keys the class indices as text."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ConfigError([f"training.class_weight must be a dict of class index -> weight, got {value!r}"])
    return {str(k): float(v) if isinstance(v, (int, float, np.number)) else v for k, v in value.items()}


def fit_class_weight(value: dict[str, float] | None) -> dict[int, float] | None:
    """Class weights as ``Model.fit`` takes them."""
    return None if value is None else {int(k): float(v) for k, v in value.items()}


@contextlib.contextmanager
def mixed_precision(model: keras.Model, on: bool) -> Iterator[None]:
    """With ``on``: the ``mixed_float16`` policy, globally and on every layer of ``model``
    (its output layer in float32), for what runs inside; the policies it had are put back
    after, so the model saved or exported later is as it was built."""
    if not on:
        yield
        return
    layers = [model, *model._flatten_layers(include_self=False)]
    saved = [(layer, layer.dtype_policy) for layer in layers]
    before = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("mixed_float16")
    set_mixed_precision(model, OUTPUT_LAYER_NAME)
    try:
        yield
    finally:
        for layer, policy in saved:
            layer.dtype_policy = policy
        keras.mixed_precision.set_global_policy(before)
        # functions traced under the policy would go on computing in float16: trace them again
        model.train_function = model.test_function = model.predict_function = None
