"""Recipe settings of the head and the run: logits output (``head.from_logits``). Each
round-trips through JSON, is refused with its field named when it cannot apply, runs in
the controller and appears in the exported script, which trains the same phases."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from transfer_widgets import FineTuneController, TransferConfig
from transfer_widgets.analysis import Interpretation
from transfer_widgets.config import HeadLayerSpec, HeadSpec
from transfer_widgets.export.describe import describe_model
from transfer_widgets.model.head import default_metrics, output_probabilities
from transfer_widgets.monitor.callback import ValidationConfusion

from .test_export_runs import recorded, same_phases
from .test_reproduction import config, run_script, same_structure, small_base


def test_logits_head_trains_with_a_logits_loss_and_exports(tmp_path):
    keras.utils.clear_session()
    c = config()
    c.head.from_logits = True
    assert TransferConfig.from_json(c.to_json()) == c
    assert c.validate() == []
    ctl = FineTuneController(small_base(), config=c)
    session = recorded(lambda: ctl.fit(1, block=True))
    assert ctl.model.get_layer("head").get_layer("predictions").get_config()["activation"] == "linear"
    assert session[0]["loss"]["class_name"] == "SparseCategoricalCrossentropy"
    assert session[0]["loss"]["config"]["from_logits"] is True
    assert ctl.run_records[-1].loss == {
        "class_name": "SparseCategoricalCrossentropy",
        "config": {"from_logits": True},
    }
    text = ctl.export_code("script")
    assert "loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)" in text
    assert 'layers.Dense(3, name="predictions")' in text  # linear: no softmax in the script
    same_phases(run_script(ctl.export_script(tmp_path / "train.py"))["phases"], session)

    # what the views show are probabilities: softmax of the logits
    x_val = ctl.validation_data[0][:50]
    logits = ctl.model.predict(x_val, verbose=0)
    assert not np.allclose(logits.sum(axis=1), 1.0)
    interp = Interpretation(ctl)
    probs = interp.probabilities()
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert np.allclose(probs[:50], output_probabilities(logits, "multiclass", True), atol=1e-5)
    seen = []
    ctl.events.subscribe(lambda events: seen.extend(e for e in events if e["type"] == "confusion"))
    ValidationConfusion(ctl).on_epoch_end(0)
    ctl.events.flush()
    matrix = np.array(seen[-1]["matrix"])
    assert matrix.sum() == len(ctl.validation_data[0])
    want = np.zeros((3, 3), np.int64)
    predicted = ctl.model.predict(ctl.validation_data[0], verbose=0).argmax(1)
    np.add.at(want, (ctl.validation_data[1], predicted), 1)
    assert (matrix == want).all()


def test_logits_metrics_read_logits_where_they_threshold():
    binary = HeadSpec(task="binary", from_logits=True, metrics=["accuracy", "auc"])
    metrics = default_metrics(binary)
    assert metrics == [
        {"class_name": "BinaryAccuracy", "config": {"name": "accuracy", "threshold": 0.0}},
        {"class_name": "AUC", "config": {"name": "auc", "from_logits": True}},
    ]
    accuracy = keras.metrics.get(metrics[0])
    accuracy.update_state(np.array([[1.0], [0.0], [1.0]]), np.array([[0.3], [-2.0], [-0.1]]))  # logits
    assert float(accuracy.result()) == pytest.approx(2 / 3)
    assert default_metrics(HeadSpec(task="multiclass", from_logits=True)) == ["accuracy"]
    p = output_probabilities(np.array([[0.0], [2.0]]), "binary", True)
    assert p.ravel() == pytest.approx([0.5, 1 / (1 + np.exp(-2.0))])


def test_logits_settings_that_cannot_apply_name_their_field():
    c = TransferConfig()
    c.head.task = "regression"
    c.head.from_logits = True
    assert any(p.startswith("head.from_logits must be False for a regression task") for p in c.validate())
    c = TransferConfig()
    c.head.from_logits = True
    c.head.metrics = ["accuracy", "categorical_crossentropy"]
    c.head.loss_args = {"from_logits": False}
    problems = c.validate()
    assert any(p.startswith("head.metrics[1] needs probabilities") and "'accuracy'" in p for p in problems)
    assert any(p.startswith("head.loss_args must not set from_logits=False") for p in problems)
    c = TransferConfig()
    c.head.from_logits, c.head.loss = True, "mse"
    assert any(p.startswith("head.loss must take from_logits") for p in c.validate())
    c = TransferConfig()
    c.head.from_logits = "yes"
    assert c.validate() == ["head.from_logits must be true or false, got 'yes'"]


def test_mixed_precision_runs_under_its_policy_restores_it_and_exports(tmp_path):
    keras.utils.clear_session()
    c = config()
    c.training.mixed_precision = True
    assert TransferConfig.from_json(c.to_json()) == c
    ctl = FineTuneController(small_base(), config=c)
    seen = {}

    class Policies(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            model = self.model
            seen["global"] = keras.mixed_precision.global_policy().name
            seen["model"] = model.dtype_policy.name
            seen["conv"] = model.get_layer("small_base").get_layer("block_conv").dtype_policy.name
            seen["output"] = model.get_layer("head").get_layer("predictions").dtype_policy.name
            seen["optimizer"] = type(model.optimizer).__name__

        def on_train_end(self, logs=None):
            self.model.predict(ctl.validation_data[0][:16], verbose=0)  # traced under the policy

    session = recorded(lambda: ctl.fit(1, callbacks=[Policies()], block=True))
    assert ctl.state == "finished", ctl.error
    assert seen == {
        "global": "mixed_float16",
        "model": "mixed_float16",
        "conv": "mixed_float16",
        "output": "float32",
        "optimizer": "LossScaleOptimizer",
    }
    # put back after the run: the notebook's policy and the model as built
    assert keras.mixed_precision.global_policy().name == "float32"
    assert {layer.dtype_policy.name for layer in ctl.model._flatten_layers()} == {"float32"}
    assert ctl.run_records[-1].mixed_precision is True
    # predict, traced during the run (on_train_end below), computes in float32 again after it
    x = ctl.validation_data[0][:16]
    plain = keras.models.clone_model(ctl.model)
    plain.set_weights(ctl.model.get_weights())
    assert np.allclose(ctl.model.predict(x, verbose=0), plain.predict(x, verbose=0), atol=1e-6)
    assert np.isfinite(ctl.history["loss"][-1])

    text = ctl.export_code("script")
    assert 'keras.mixed_precision.set_global_policy("mixed_float16")' in text
    assert "def set_mixed_precision(" in text and "    set_mixed_precision(model)" in text
    same_phases(run_script(ctl.export_script(tmp_path / "train.py"))["phases"], session)
    c.training.mixed_precision = "on"
    assert c.validate() == ["training.mixed_precision must be true or false, got 'on'"]


def test_head_kernel_penalties_build_run_and_export(tmp_path):
    keras.utils.clear_session()
    c = config()
    c.head.layers = [
        HeadLayerSpec("global_average_pooling"),
        HeadLayerSpec("dense", units=8, activation="relu", kernel_l2=1e-3),
        HeadLayerSpec("dense", units=8, kernel_l1=1e-4, kernel_l2=1e-3),
    ]
    assert TransferConfig.from_json(c.to_json()) == c
    ctl = FineTuneController(small_base(), config=c)
    head = ctl.head
    assert head.get_layer("head_1_dense").kernel_regularizer.get_config() == {"l2": 1e-3}
    assert type(head.get_layer("head_2_dense").kernel_regularizer).__name__ == "L1L2"
    assert len(ctl.model.losses) == 2  # the penalties are in the training loss
    session = recorded(lambda: ctl.fit(1, block=True))
    text = ctl.export_code("script")
    assert "kernel_regularizer=keras.regularizers.L2(l2=0.001)" in text
    assert "kernel_regularizer=keras.regularizers.L1L2(l1=0.0001, l2=0.001)" in text
    exported = run_script(ctl.export_script(tmp_path / "train.py"))
    same_phases(exported["phases"], session)
    same_structure(exported["model"], describe_model(ctl.model))  # the script's layers carry the penalties


def test_kernel_penalties_that_cannot_apply_name_their_field():
    c = TransferConfig()
    c.head.layers = [
        HeadLayerSpec("global_average_pooling"),
        HeadLayerSpec("dropout", rate=0.2, kernel_l2=0.01),
        HeadLayerSpec("dense", units=4, kernel_l1=-0.5),
        HeadLayerSpec("dense", units=4, kernel_l2="big"),
    ]
    assert c.validate() == [
        "head.layers[1].kernel_l2 applies to dense layers only, not 'dropout'",
        "head.layers[2].kernel_l1 must be a non-negative number or None, got -0.5",
        "head.layers[3].kernel_l2 must be a non-negative number or None, got 'big'",
    ]


def test_export_config_is_a_config_that_runs_the_last_run_again():
    keras.utils.clear_session()
    c = config()
    ctl = FineTuneController(small_base(), config=c)
    assert ctl.export_config() == ctl.config  # before any run: the config as set
    session = recorded(
        lambda: ctl.fine_tune(
            1,
            1,
            unfreeze_from="block_conv",
            lr_mult=0.01,
            keep_bn_frozen=False,
            optimizer=keras.optimizers.SGD(2e-3, momentum=0.9, nesterov=True),
            class_weight={0: 1.0, 1: 2.0, 2: 1.0},
            callbacks=[keras.callbacks.EarlyStopping(monitor="val_loss", patience=2)],
            block=True,
        )
    )
    effective = ctl.export_config()
    t, f = effective.training, effective.training.fine_tune
    assert (t.optimizer, t.optimizer_args, t.learning_rate) == (
        "SGD",
        {"momentum": 0.9, "nesterov": True},
        2e-3,
    )
    assert (f.head_epochs, f.epochs, f.lr_mult) == (1, 1, 0.01)
    assert (f.unfreeze_from, f.keep_bn_frozen) == ("block_conv", False)
    assert t.class_weight == {"0": 1.0, "1": 2.0, "2": 1.0}
    assert t.callbacks == [{"class_name": "EarlyStopping", "config": {"patience": 2}}]
    assert effective.validate() == []
    assert TransferConfig.from_json(effective.to_json()) == effective
    # the JSON export stays the config as set; the run's settings came from method arguments
    assert ctl.export_code("json") == ctl.config.to_json()
    assert ctl.config.training.optimizer == "adam"

    # a fresh controller from the effective config, started without arguments, runs the same phases
    keras.utils.clear_session()
    again = FineTuneController(small_base(), config=TransferConfig.from_json(effective.to_json()))
    same_phases(recorded(lambda: again.fine_tune(block=True)), session)

    ctl.fit(2, learning_rate=0.05, block=True)
    fit = ctl.export_config()
    assert (fit.training.epochs, fit.training.learning_rate, fit.freeze) == (
        2,
        0.05,
        ctl.run_records[-1].phases[0].freeze,
    )
    assert ctl.export_config(run=1).training.fine_tune.lr_mult == 0.01
    with pytest.raises(ValueError, match="known: 1, 2"):
        ctl.export_config(run=7)
