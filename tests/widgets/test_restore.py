"""Loading a saved config into a controller (``controller.load_config``) restores
the experiment in place, and every widget bound to the controller shows it: the
layer tree follows the rebuilt model, the head designer shows the loaded head,
the monitor starts over. A bad config changes nothing anywhere."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from transfer_widgets import (
    ConfigError,
    FineTuneController,
    HeadDesigner,
    LayerTree,
    TrainingMonitor,
    TransferConfig,
)
from transfer_widgets.config import HeadLayerSpec
from transfer_widgets.export.describe import describe_model

from .front_end import FrontEnd


def backbone():
    return keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            keras.layers.Conv2D(6, 3, padding="same", name="conv_a"),
            keras.layers.BatchNormalization(name="bn_a"),
            keras.layers.Conv2D(8, 3, padding="same", name="conv_b"),
            keras.layers.BatchNormalization(name="bn_b"),
        ],
        name="backbone",
    )


def data(n=16, classes=3):
    rng = np.random.default_rng(0)
    return rng.random((n, 8, 8, 3), dtype="float32"), rng.integers(0, classes, n)


def saved_experiment(base) -> str:
    """Another experiment on the same base, saved as JSON the way export_code("json") does."""
    c = TransferConfig()
    c.head.layers = [
        HeadLayerSpec("global_max_pooling"),
        HeadLayerSpec("dense", units=12, activation="relu"),
        HeadLayerSpec("dropout", rate=0.25),
    ]
    c.training.learning_rate = 3e-4
    c.training.batch_size = 4
    other = FineTuneController(base, train_data=data(), config=c)
    other.freeze_up_to("conv_b")
    return other.export_code("json"), other


@pytest.fixture
def bound():
    """A controller with a run behind it and every widget bound to it."""
    base = backbone()
    ctl = FineTuneController(base, train_data=data(), validation_data=data(8))
    ctl.fit(1, block=True)
    widgets = {"tree": LayerTree(ctl), "designer": HeadDesigner(ctl), "monitor": TrainingMonitor(ctl)}
    for w in (widgets["tree"], widgets["designer"]):
        FrontEnd(w)
    yield ctl, widgets
    for w in widgets.values():
        w.close()


def tree_names(tree) -> list[str]:
    return list(tree.tree["columns"]["name"])


def test_loading_a_config_restores_the_experiment_and_every_bound_widget(bound):
    ctl, w = bound
    text, other = saved_experiment(ctl.base_model)
    assert w["monitor"].history["epoch"] == [0]

    ctl.load_config(text)

    assert ctl.config.to_json() == TransferConfig.from_json(text).to_json()
    assert describe_model(ctl.model) == describe_model(other.model)
    assert ctl.config.freeze.kind == "boundary" and ctl.config.freeze.boundary == "conv_b"
    # The layer tree shows the rebuilt model, with the loaded flags and counts.
    tree = w["tree"]
    assert tree.model is ctl.model
    assert "head_1_dense" in tree_names(tree)
    assert tree.summary["trainable"] == sum(int(np.prod(v.shape)) for v in ctl.model.trainable_weights)
    # The head designer shows the loaded head and previews it on the new model.
    designer = w["designer"]
    assert designer.head_spec == ctl.config.head
    assert [r["type"] for r in designer.state["layers"]] == ["global_max_pooling", "dense", "dropout"]
    assert designer.state["model_totals"]["total"] == ctl.model.count_params()
    # The monitor starts over: the old run belonged to the old experiment.
    assert w["monitor"].history.get("epoch", []) == [] and ctl.history == {}
    # The restored experiment trains, and the views follow it.
    ctl.fit(1, block=True)
    assert w["monitor"].history["epoch"] == [0]
    assert not tree.disabled and not designer.disabled


def test_a_bad_config_names_the_field_and_changes_nothing(bound):
    ctl, w = bound
    before = (ctl.config.to_json(), ctl.model, describe_model(ctl.model), dict(ctl.history))
    tree_before, designer_before = dict(w["tree"].tree), w["designer"].state
    data_dict = ctl.config.to_dict()
    data_dict["head"]["layers"] = [{"type": "global_average_pooling"}, {"type": "dense", "units": -3}]
    with pytest.raises(ConfigError, match=r"head\.layers\[1\]\.units"):
        ctl.load_config(data_dict)
    broken = ctl.config.to_dict()
    broken["freeze"] = {"kind": "boundary", "boundary": "no_such_layer"}
    with pytest.raises(ConfigError, match="freeze"):
        ctl.load_config(broken)
    assert (ctl.config.to_json(), ctl.model, describe_model(ctl.model), dict(ctl.history)) == before
    assert dict(w["tree"].tree) == tree_before and w["designer"].state == designer_before
    assert w["monitor"].history["epoch"] == [0]


def test_a_layer_tree_on_a_controller_follows_a_new_head():
    ctl = FineTuneController(backbone(), train_data=data())
    tree = LayerTree(ctl)
    FrontEnd(tree)
    head = ctl.config.head
    head.layers = [HeadLayerSpec("flatten"), HeadLayerSpec("dense", units=5)]
    ctl.apply_head(head)
    assert tree.model is ctl.model and "head_0_flatten" in tree_names(tree)
    tree.close()


def test_loading_the_same_experiment_keeps_the_trained_model_and_history(bound):
    """Back to a saved state of this experiment: flags and settings return; the trained
    weights and the run history stay (nothing the user had is lost)."""
    ctl, w = bound
    saved = ctl.export_code("json")
    model, weights = ctl.model, [v.numpy().copy() for v in ctl.model.weights]
    ctl.unfreeze_all()
    ctl.set("training.learning_rate", 0.5)

    ctl.load_config(saved)

    assert ctl.model is model and w["tree"].model is model
    assert all((a == v.numpy()).all() for a, v in zip(weights, model.weights, strict=True))
    assert ctl.config.to_json() == saved
    assert ctl.history["epoch"] == [0] and w["monitor"].history["epoch"] == [0]
    assert w["tree"].summary["trainable"] == sum(int(np.prod(v.shape)) for v in ctl.model.trainable_weights)
