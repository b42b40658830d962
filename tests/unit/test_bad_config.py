"""The bad-input table: wrong configs and data, each rejected before any training,
with a message that names the field or argument at fault."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import pytest

from transfer_widgets import ConfigError, FineTuneController, PreflightError, TransferConfig
from transfer_widgets.config import AugmentationSpec, HeadLayerSpec


def base() -> keras.Model:
    return keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3, name="conv")], name="tiny")


def xy(n: int = 32, classes: int = 3, shape: tuple[int, ...] = (8, 8, 3)) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.uniform(0, 255, (n, *shape)).astype("float32"), rng.integers(0, classes, n)


def cfg(edit: Callable[[TransferConfig], object]) -> Callable[[], TransferConfig]:
    def make() -> TransferConfig:
        c = TransferConfig()
        edit(c)
        return c

    return make


def attr(path: str, value: object) -> Callable[[TransferConfig], None]:
    def edit(c: TransferConfig) -> None:
        obj: Any = c
        *parents, last = path.split(".")
        for p in parents:
            obj = obj[int(p)] if p.isdigit() else getattr(obj, p)
        setattr(obj, last, value)

    return edit


def dense(**kw: Any) -> Callable[[TransferConfig], None]:
    return lambda c: setattr(
        c.head, "layers", [HeadLayerSpec("global_average_pooling"), HeadLayerSpec("dense", **kw)]
    )


# (id, kwargs for the controller besides the base, error type, field named in the message)
CASES = [
    ("negative units", dict(config=cfg(dense(units=-8))), ConfigError, "head.layers[1].units"),
    ("zero units", dict(config=cfg(dense(units=0))), ConfigError, "head.layers[1].units"),
    ("dropout >= 1", dict(config=cfg(attr("head.layers.1.rate", 1.0))), ConfigError, "head.layers[1].rate"),
    (
        "unknown activation",
        dict(config=cfg(dense(units=4, activation="sparkle"))),
        ConfigError,
        "head.layers[1].activation",
    ),
    (
        "unknown head layer",
        dict(config=cfg(attr("head.layers.0.type", "attention"))),
        ConfigError,
        "head.layers[0].type",
    ),
    (
        "unknown optimizer",
        dict(config=cfg(attr("training.optimizer", "adamw2"))),
        ConfigError,
        "training.optimizer",
    ),
    (
        "learning rate 0",
        dict(config=cfg(attr("training.learning_rate", 0.0))),
        ConfigError,
        "training.learning_rate",
    ),
    (
        "negative learning rate",
        dict(config=cfg(attr("training.learning_rate", -1e-3))),
        ConfigError,
        "training.learning_rate",
    ),
    ("batch size 0", dict(config=cfg(attr("training.batch_size", 0))), ConfigError, "training.batch_size"),
    (
        "lr_mult 0",
        dict(config=cfg(attr("training.fine_tune.lr_mult", 0))),
        ConfigError,
        "training.fine_tune.lr_mult",
    ),
    ("unknown task", dict(config=cfg(attr("head.task", "segmentation"))), ConfigError, "head.task"),
    ("one class", dict(num_classes=1), ConfigError, "head.num_classes"),
    ("unknown loss", dict(config=cfg(attr("head.loss", "hinge_loss_2"))), ConfigError, "head.loss"),
    (
        "augmentation with cached features",
        dict(
            mode="feature_extraction",
            config=cfg(attr("preprocessing.augmentation", [AugmentationSpec("random_flip")])),
        ),
        ConfigError,
        "preprocessing.augmentation",
    ),
    (
        "augmentation factor > 1",
        dict(config=cfg(attr("preprocessing.augmentation", [AugmentationSpec("random_zoom", factor=3)]))),
        ConfigError,
        "preprocessing.augmentation[0].factor",
    ),
    ("unknown mode", dict(mode="distill"), ConfigError, "mode"),
    ("dense on a feature map", dict(head=[{"type": "dense", "units": 4}]), ConfigError, "head.layers[0]"),
    ("wrong image shape", dict(train_data=xy(shape=(16, 16, 3))), PreflightError, "train_data.x"),
    ("wrong channel count", dict(train_data=xy(shape=(8, 8, 1))), PreflightError, "train_data.x"),
    ("labels out of range", dict(train_data=(xy()[0], np.arange(32) % 7)), PreflightError, "train_data.y"),
    ("negative labels", dict(train_data=(xy()[0], -np.ones(32, int))), PreflightError, "train_data.y"),
    (
        "one-hot width vs class count",
        dict(train_data=(xy()[0], np.eye(5)[np.arange(32) % 5]), num_classes=3),
        PreflightError,
        "head.num_classes",
    ),
    (
        "empty data",
        dict(train_data=(np.zeros((0, 8, 8, 3), "float32"), np.zeros(0, int))),
        PreflightError,
        "train_data is empty",
    ),
    (
        "x and y lengths differ",
        dict(train_data=(xy()[0], np.zeros(30, int))),
        PreflightError,
        "train_data: x has 32",
    ),
    (
        "text images",
        dict(train_data=(np.full((4, 8, 8, 3), "a"), np.zeros(4, int))),
        PreflightError,
        "train_data.x has dtype",
    ),
    (
        "NaN pixels",
        dict(train_data=(np.full((4, 8, 8, 3), np.nan, "float32"), np.zeros(4, int))),
        PreflightError,
        "train_data.x contains NaN",
    ),
    ("fractional class labels", dict(train_data=(xy()[0], np.full(32, 0.5))), PreflightError, "train_data.y"),
    (
        "binary labels not 0/1",
        dict(task="binary", num_classes=None, train_data=(xy()[0], np.arange(32) % 3)),
        PreflightError,
        "train_data.y: binary labels",
    ),
    (
        "regression target width",
        dict(task="regression", num_classes=2, train_data=(xy()[0], np.zeros((32, 3)))),
        PreflightError,
        "train_data.y has targets",
    ),
    ("validation shape", dict(validation_data=xy(shape=(8, 8, 4))), PreflightError, "validation_data.x"),
    (
        "validation labels",
        dict(validation_data=(xy()[0], np.arange(32) + 3)),
        PreflightError,
        "validation_data.y",
    ),
]


@pytest.mark.parametrize(("kwargs", "error", "field"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_rejected_before_training_naming_the_field(
    kwargs: dict[str, Any], error: type[Exception], field: str
) -> None:
    kwargs = dict(kwargs)
    if "config" in kwargs:
        kwargs["config"] = kwargs["config"]()
    kwargs.setdefault("train_data", xy())
    kwargs.setdefault("num_classes", 3)
    the_base = base()
    before = [np.array(w) for w in the_base.get_weights()]
    with pytest.raises(error) as info:  # noqa: PT012 - from the constructor or from fit, either before training
        controller = FineTuneController(the_base, **kwargs)
        controller.fit(1)
    assert field in str(info.value)
    # Nothing trained: the weights are as they were.
    assert all(np.array_equal(a, b) for a, b in zip(before, the_base.get_weights(), strict=True))


def test_the_table_is_long_enough() -> None:
    assert len(CASES) >= 15


def test_run_arguments_are_checked_before_starting() -> None:
    c = FineTuneController(base(), num_classes=3, train_data=xy())
    with pytest.raises(ConfigError, match="learning_rate must be a positive number"):
        c.fit(1, learning_rate=0)
    with pytest.raises(ConfigError, match="epochs must be a non-negative integer"):
        c.fit(-1)
    from transfer_widgets import UnknownLayerError

    with pytest.raises(UnknownLayerError, match="nope"):
        c.fine_tune(1, 1, unfreeze_from="nope")
    assert c.state == "idle" and c.history == {}
