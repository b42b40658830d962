"""The controller and config additions the head designer uses: apply_head(),
"config" events on controller.events (on_config_change() is deprecated) and
HeadSpec.class_names."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from transfer_widgets import ConfigError, ControllerBusyError, FineTuneController, TransferConfig
from transfer_widgets.config import AugmentationSpec, HeadLayerSpec, HeadSpec
from transfer_widgets.model import freeze
from transfer_widgets.training.events import has_event


def backbone():
    return keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            keras.layers.Conv2D(4, 3, name="conv"),
            keras.layers.BatchNormalization(name="bn"),
        ],
        name="backbone",
    )


def controller():
    rng = np.random.default_rng(0)
    return FineTuneController(
        backbone(), train_data=(rng.random((8, 8, 8, 3), dtype="float32"), rng.integers(0, 3, 8))
    )


def test_apply_head_rebuilds_the_model_on_the_same_base_and_keeps_flags_and_weights():
    c = controller()
    freeze.freeze_all(c.base_model)
    base, weights = c.base_model, [w.copy() for w in c.base_model.get_weights()]
    seen = []

    def on_events(events):
        if has_event(events, "config"):
            seen.append(c.config.head.layers[-1].units)

    unsubscribe = c.events.subscribe(on_events)
    c.apply_head(
        HeadSpec(
            layers=[HeadLayerSpec("global_max_pooling"), HeadLayerSpec("dense", units=5)], num_classes=3
        ),
        augmentation=[AugmentationSpec("random_flip", mode="horizontal")],
    )
    assert seen == [5]
    assert c.base_model is base and c.model.get_layer("backbone") is base
    assert not any(layer.trainable for layer in base.layers)
    for a, b in zip(weights, base.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert [layer.name for layer in c.head.layers] == [
        "head_0_global_max_pooling",
        "head_1_dense",
        "predictions",
    ]
    assert c.model.layers[1].name == "augment_0_random_flip"
    assert c.config.preprocessing.augmentation == [AugmentationSpec("random_flip", mode="horizontal")]
    c.fit(1, block=True)
    assert c.state == "finished" and c.compile_count == 1
    unsubscribe()
    c.set("training.learning_rate", 0.01)
    assert seen == [5]


def test_on_config_change_still_works_and_warns_that_it_is_deprecated():
    c = controller()
    seen = []
    with pytest.warns(DeprecationWarning, match="on_config_change is deprecated"):
        unsubscribe = c.on_config_change(lambda config: seen.append(config.training.learning_rate))
    c.set("training.learning_rate", 0.01)
    assert seen == [0.01]
    unsubscribe()
    c.set("training.learning_rate", 0.02)
    assert seen == [0.01]


def test_apply_head_refuses_a_bad_head_and_changes_nothing():
    c = controller()
    model, before = c.model, c.config.to_json()
    with pytest.raises(ConfigError, match=r"head.layers\[0\].units must be a positive integer"):
        c.apply_head(HeadSpec(layers=[HeadLayerSpec("dense", units=0)], num_classes=3))
    with pytest.raises(ConfigError, match="add global_average_pooling or flatten"):
        c.apply_head(HeadSpec(layers=[HeadLayerSpec("dense", units=4)], num_classes=3))
    assert c.model is model and c.config.to_json() == before


def test_apply_head_is_refused_while_running():
    c = controller()
    c._life.state = "running"
    with pytest.raises(ControllerBusyError, match="change the head"):
        c.apply_head(HeadSpec(num_classes=3))
    c._life.state = "idle"


@pytest.mark.parametrize(
    ("head", "problem"),
    [
        (
            HeadSpec(num_classes=3, class_names=["a", "b"]),
            "head.class_names must have 3 names (one per output), got 2",
        ),
        (HeadSpec(task="binary", class_names=["yes"]), "head.class_names must have 2 names"),
        (
            HeadSpec(task="regression", class_names=["x", "y"]),
            "head.class_names must have 1 name (one per output), got 2",
        ),
        (HeadSpec(num_classes=2, class_names=["a", "a"]), "head.class_names must be unique"),
        (
            HeadSpec(num_classes=2, class_names=["a", " "]),
            "head.class_names must be a list of non-empty names",
        ),
    ],
)
def test_class_names_rules(head, problem):
    problems = TransferConfig(head=head).validate()
    assert any(p.startswith(problem) for p in problems), problems


def test_class_names_round_trip_through_json():
    config = TransferConfig(head=HeadSpec(num_classes=2, class_names=["cat", "dog"]))
    assert config.validate() == []
    assert TransferConfig.from_json(config.to_json()).head.class_names == ["cat", "dog"]
    assert TransferConfig.from_dict({"head": {"num_classes": 2}}).head.class_names is None
