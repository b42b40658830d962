"""The export renders the run that ran: runs started with method arguments (the way
the tutorials start them), their record, and the exported script's phases compared
with it; the script starts from the base as it was before the first run; settings
given as Keras objects reach the config, the run and the code, or are refused."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from transfer_widgets import ConfigError, FineTuneController, TransferConfig

from . import fit_recorder
from .test_reproduction import config, run_script, small_base


@pytest.fixture
def ctl():
    keras.utils.clear_session()
    c = config()
    c.training.epochs = 3
    return FineTuneController(small_base(), config=c)


def recorded(controller_call) -> list[dict]:
    """The fits ``controller_call()`` made, as :mod:`.fit_recorder` records them."""
    phases = fit_recorder.install()
    try:
        controller_call()
    finally:
        fit_recorder.uninstall()
    return list(phases)


def same_phases(script: list[dict], session: list[dict]) -> None:
    """The script's fits are the session's: epochs, what trains, optimizer, rate, callbacks, weights."""
    assert len(script) == len(session)
    for mine, theirs in zip(script, session, strict=True):
        for key in ("epochs", "trainable", "non_trainable", "optimizer", "optimizer_config", "loss"):
            assert mine[key] == theirs[key], key
        assert {str(k): w for k, w in mine["class_weight"].items()} == {
            str(k): w for k, w in theirs["class_weight"].items()
        }  # the script's come back through JSON
        assert mine["callbacks"] == theirs["callbacks"]
        if isinstance(theirs["learning_rate"], dict):
            assert mine["learning_rate"] == theirs["learning_rate"]
        else:
            assert mine["learning_rate"] == pytest.approx(theirs["learning_rate"], rel=1e-6)


def test_fit_arguments_reach_the_script_which_starts_from_the_base_as_loaded(ctl, tmp_path):
    before = [w.copy() for w in ctl.base_model.get_weights()]
    session = recorded(lambda: ctl.fit(1, learning_rate=0.05, block=True))
    record = ctl.run_records[-1]
    assert (record.kind, [(p.name, p.epochs, p.learning_rate) for p in record.phases]) == (
        "fit",
        [("fit", 1, 0.05)],
    )
    assert record.phases[0].freeze.kind == "all_trainable"  # an in-memory base keeps its flags: it trains

    script = ctl.export_script(tmp_path / "train.py")
    text = script.read_text()
    assert "EPOCHS = 1\n" in text and "LEARNING_RATE = 0.05\n" in text
    assert "run 1 of the session (fit)" in " ".join(text.split())
    # the base file is the base before the run; the trained model is saved apart
    saved_base = keras.models.load_model(tmp_path / "train_base.keras", compile=False)
    assert all(np.array_equal(a, b) for a, b in zip(saved_base.get_weights(), before, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(ctl.base_model.get_weights(), before, strict=True))
    trained = keras.models.load_model(tmp_path / "train_trained.keras", compile=False)
    for a, b in zip(trained.get_weights(), ctl.model.get_weights(), strict=True):
        assert np.array_equal(a, b)
    assert 'SESSION_MODEL_PATH = Path(__file__).resolve().with_name("train_trained.keras")' in text
    assert "SESSION_MODEL_PATH" not in text.split("def load_base", 1)[1]  # named, never read

    same_phases(run_script(script)["phases"], session)


def test_fine_tune_arguments_reach_the_script_and_its_phases_agree(ctl, tmp_path):
    session = recorded(
        lambda: ctl.fine_tune(
            1,
            1,
            unfreeze_from="block_conv",
            lr_mult=0.01,
            keep_bn_frozen=False,
            learning_rate=2e-3,
            block=True,
        )
    )
    record = ctl.run_records[-1]
    assert [(p.name, p.epochs) for p in record.phases] == [("head", 1), ("fine_tune", 1)]
    assert [p.learning_rate for p in record.phases] == pytest.approx([2e-3, 2e-5])
    assert record.phases[1].freeze.kind == "boundary"
    assert (record.phases[1].freeze.boundary, record.phases[1].freeze.keep_bn_frozen) == ("block_conv", False)

    text = ctl.export_code("script")
    assert "HEAD_EPOCHS = 1\n" in text and "FINE_TUNE_EPOCHS = 1\n" in text
    assert "HEAD_LEARNING_RATE = 0.002\n" in text and "FINE_TUNE_LEARNING_RATE = 2e-05\n" in text
    assert 'unfreeze_from(base, "block_conv", keep_bn_frozen=False)' in text
    assert "unfreeze_every_layer(base" not in text and "keep_bn_frozen=True)" not in text

    script = ctl.export_script(tmp_path / "train.py")
    exported = run_script(script)["phases"]
    same_phases(exported, session)
    assert session[1]["trainable"] > session[0]["trainable"]  # phase 2 trains the top of the base


def test_export_renders_the_last_run_or_the_one_asked_for(ctl):
    ctl.fit(1, learning_rate=0.01, block=True)
    ctl.fine_tune(1, 1, block=True)
    assert "HEAD_EPOCHS = 1" in ctl.export_code("script")
    first = ctl.export_code("script", run=1)
    assert "LEARNING_RATE = 0.01\n" in first and "HEAD_EPOCHS" not in first
    planned = ctl.export_code("script", two_phase=False)  # the config's plan, not a run
    assert "EPOCHS = 3\n" in planned and "SESSION_MODEL_PATH" not in planned
    with pytest.raises(ValueError, match="known: 1, 2"):
        ctl.export_code("script", run=7)


def test_an_optimizer_object_is_recorded_losslessly_and_exported(ctl, tmp_path):
    ctl.set("training.optimizer", keras.optimizers.SGD(0.01, momentum=0.9, nesterov=True, clipnorm=1.0))
    t = ctl.config.training
    assert (t.optimizer, t.optimizer_args, t.learning_rate) == (
        "SGD",
        {"momentum": 0.9, "nesterov": True, "clipnorm": 1.0},
        0.01,
    )
    again = TransferConfig.from_json(ctl.config.to_json())
    assert again == ctl.config and again.validate() == []

    session = recorded(lambda: ctl.fit(1, block=True))
    assert session[0]["optimizer"] == "SGD"
    assert session[0]["optimizer_config"]["momentum"] == pytest.approx(0.9)
    assert session[0]["optimizer_config"]["nesterov"] is True
    assert session[0]["learning_rate"] == pytest.approx(0.01)
    text = ctl.export_code("script")
    assert "keras.optimizers.SGD(" in text and "momentum=0.9" in text and "nesterov=True" in text
    same_phases(run_script(ctl.export_script(tmp_path / "train.py"))["phases"], session)


def test_a_serialised_optimizer_runs_at_its_own_rate(ctl):
    ctl.set("training.optimizer", {"class_name": "SGD", "config": {"learning_rate": 5.0}})
    assert ctl.config.training.learning_rate == 5.0
    session = recorded(lambda: ctl.fit(1, block=False) or ctl.wait())
    assert session[0]["learning_rate"] == 5.0
    assert ctl.run_records[-1].phases[0].learning_rate == 5.0


def test_an_optimizer_for_one_run_and_its_rate(ctl):
    session = recorded(lambda: ctl.fit(1, optimizer=keras.optimizers.RMSprop(0.002, rho=0.8), block=True))
    assert (session[0]["optimizer"], session[0]["learning_rate"]) == ("RMSprop", pytest.approx(0.002))
    assert ctl.run_records[-1].phases[0].optimizer_args == {"rho": 0.8}
    assert ctl.config.training.optimizer == "adam"  # one run's argument, not a setting
    with pytest.raises(ConfigError, match="give the rate once"):
        ctl.fit(1, optimizer=keras.optimizers.SGD(0.01), learning_rate=0.1)
    with pytest.raises(ConfigError, match=r"training.class_weight\['1'\] must be a non-negative number"):
        ctl.fit(1, class_weight={0: 1.0, 1: "heavy"})
    with pytest.raises(ConfigError, match=r"training\.optimizer_args are not arguments SGD takes"):
        ctl.fit(1, optimizer={"class_name": "SGD", "config": {"momentum": 0.9, "bogus": 1}})
    assert len(ctl.run_records) == 1  # refused before anything ran


def test_objects_the_config_cannot_hold_are_refused_with_how_to_say_them(ctl):
    c = TransferConfig()
    c.training.optimizer = keras.optimizers.SGD(0.01, momentum=0.9)
    (problem,) = c.validate()
    assert problem.startswith("training.optimizer must be a Keras optimizer name, got a SGD")
    assert "FineTuneController.set('training.optimizer', optimizer)" in problem
    c.training.optimizer = "sgd"
    c.training.optimizer_args = {"learning_rate": 5.0}
    assert c.validate() == [
        "training.optimizer_args must not hold learning_rate: set training.learning_rate (and "
        "training.lr_schedule for a schedule), got learning_rate=5.0"
    ]

    class Custom(keras.callbacks.Callback):
        pass

    with pytest.raises(ConfigError, match=r"training.callbacks\[1\] is a Custom.*EarlyStopping"):
        ctl.set("training.callbacks", [keras.callbacks.EarlyStopping(), Custom()])
    assert ctl.config.training.callbacks == []  # nothing changed


def test_schedule_class_weight_and_callbacks_run_and_export(ctl, tmp_path):
    ctl.set(
        "training.lr_schedule",
        keras.optimizers.schedules.CosineDecay(1e-3, decay_steps=40, warmup_steps=5, warmup_target=1e-2),
    )
    ctl.set("training.class_weight", {0: 1.0, 1: 2.0, 2: 0.5})
    ctl.set(
        "training.callbacks",
        [
            keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=2),
            keras.callbacks.ReduceLROnPlateau(factor=0.5, patience=1),
        ],
    )
    t = ctl.config.training
    assert t.learning_rate == 1e-3
    assert t.lr_schedule == {
        "class_name": "CosineDecay",
        "config": {"decay_steps": 40, "alpha": 0.0, "warmup_target": 0.01, "warmup_steps": 5},
    }
    assert t.class_weight == {"0": 1.0, "1": 2.0, "2": 0.5}
    assert [cb["class_name"] for cb in t.callbacks] == ["EarlyStopping", "ReduceLROnPlateau"]
    assert TransferConfig.from_json(ctl.config.to_json()) == ctl.config
    data = json.loads(ctl.config.to_json())
    assert data["training"]["callbacks"][0]["config"] == {"monitor": "val_accuracy", "patience": 2}

    class Custom(keras.callbacks.Callback):
        pass

    session = recorded(lambda: ctl.fit(1, callbacks=[Custom()], block=True))
    assert session[0]["class_weight"] == {0: 1.0, 1: 2.0, 2: 0.5}
    assert session[0]["learning_rate"]["class_name"] == "CosineDecay"
    assert [cb[0] for cb in session[0]["callbacks"]] == ["EarlyStopping", "ReduceLROnPlateau"]
    assert ctl.run_records[-1].unexported_callbacks == ["Custom"]

    text = ctl.export_code("script")
    assert "keras.optimizers.schedules.CosineDecay(" in text
    assert "CLASS_WEIGHT = {0: 1.0, 1: 2.0, 2: 0.5}" in text and "class_weight=CLASS_WEIGHT" in text
    assert 'keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=2)' in text
    assert 'UNEXPORTED_CALLBACKS = ["Custom"]' in text
    same_phases(run_script(ctl.export_script(tmp_path / "train.py"))["phases"], session)


def test_a_loss_with_arguments_runs_and_exports(tmp_path):
    keras.utils.clear_session()
    c = config()
    c.head.loss_args = {"reduction": "sum", "ignore_class": 2}
    assert TransferConfig.from_json(c.to_json()) == c
    ctl = FineTuneController(small_base(), config=c)
    session = recorded(lambda: ctl.fit(1, block=True))
    assert session[0]["loss"]["class_name"] == "SparseCategoricalCrossentropy"
    assert session[0]["loss"]["config"]["reduction"] == "sum"
    text = ctl.export_code("script")
    assert 'loss = keras.losses.SparseCategoricalCrossentropy(reduction="sum", ignore_class=2)' in text
    same_phases(run_script(ctl.export_script(tmp_path / "train.py"))["phases"], session)


def test_bad_recipe_settings_name_their_field():
    c = TransferConfig()
    c.training.lr_schedule = {"class_name": "PiecewiseConstantDecay", "config": {}}
    c.training.class_weight = {0: 1.0}
    c.training.callbacks = [{"class_name": "EarlyStopping", "config": {"patience": 2, "bogus": 1}}]
    problems = c.validate()
    assert any(
        p.startswith("training.lr_schedule.class_name must name a keras.optimizers.schedules")
        for p in problems
    )
    assert any(
        p.startswith("training.class_weight keys must be class indices written as text") for p in problems
    )
    assert any(
        p.startswith("training.callbacks[0].config are not arguments EarlyStopping takes") and "bogus" in p
        for p in problems
    )
