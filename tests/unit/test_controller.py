"""FineTuneController on tiny models: assembly, recompiles, the background run and its states."""

import threading
import time

import keras
import numpy as np
import pytest

from transfer_widgets import (
    ControllerBusyError,
    FineTuneController,
    TrainingError,
    TransferConfig,
    freeze_all,
    freeze_up_to,
    set_trainable,
    unfreeze_all,
)


def backbone(name="backbone"):
    """Conv / BatchNorm / Dense-free backbone with named blocks; no dead ReLUs, so every
    trainable weight gets a gradient."""
    layers = []
    for b in (1, 2):
        layers += [
            keras.layers.Conv2D(4, 3, padding="same", name=f"block_{b}_conv"),
            keras.layers.BatchNormalization(name=f"block_{b}_bn"),
            keras.layers.Activation("tanh", name=f"block_{b}_act"),
        ]
    layers.append(keras.layers.Conv2D(6, 3, padding="same", name="top_conv"))
    return keras.Sequential([keras.Input((8, 8, 3)), *layers], name=name)


def data(n=64, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 255, (n, 8, 8, 3)).astype("float32"), rng.integers(0, classes, n)


def config(**training):
    c = TransferConfig()
    c.preprocessing.mode = "rescale"
    c.training.batch_size = 16
    c.training.seed = 0
    for k, v in training.items():
        setattr(c.training, k, v)
    return c


def controller(base=None, **kwargs):
    kwargs.setdefault("train_data", data())
    kwargs.setdefault("num_classes", 3)
    kwargs.setdefault("config", config())
    return FineTuneController(base if base is not None else backbone(), **kwargs)


def snapshot(model):
    return {v.path: np.array(v.numpy()) for v in model.weights}


def changed(before, model):
    return {v.path for v in model.weights if not np.array_equal(before[v.path], v.numpy())}


def trainable_paths(model):
    return {v.path for v in model.trainable_weights}


def fit_and_check(c, epochs=1):
    before = snapshot(c.model)
    c.fit(epochs, block=True)
    assert changed(before, c.model) == trainable_paths(c.model)


# -- assembly ------------------------------------------------------------------------------


def test_assembled_model_wires_preprocessing_base_in_inference_mode_and_head():
    c = controller()
    names = [layer.name for layer in c.model.layers]
    assert names == ["image", "rescale", "backbone", "head"]
    assert c.base_model.name == "backbone" and c.head.layers[-1].name == "predictions"
    assert c.model.output.shape == (None, 3)
    # BatchNorm statistics stay as they were even with the whole base trainable (training=False).
    unfreeze_all(c.base_model, keep_bn_frozen=False)
    bn = c.base_model.get_layer("block_1_bn")
    mean = np.array(bn.moving_mean.numpy())
    c.fit(1, block=True)
    np.testing.assert_array_equal(bn.moving_mean.numpy(), mean)
    assert not np.array_equal(np.array(bn.gamma.numpy()), np.ones_like(mean))  # but gamma trained


def test_in_memory_base_keeps_its_flags_and_config_reads_them():
    base = backbone()
    freeze_up_to(base, "block_2_conv")
    c = controller(base)
    assert c.config.freeze.kind == "boundary" and c.config.freeze.boundary == "block_2_conv"


# -- recompiling whenever the trainable set changes ---------------------------------------------


def test_weights_change_exactly_where_layers_are_trainable_across_freeze_unfreeze_fit():
    c = controller()
    freeze_all(c.base_model)
    fit_and_check(c)
    assert trainable_paths(c.model) == {v.path for v in c.head.weights if v.trainable}
    # Unfrozen after compile + fit, behind the controller's back: must still train.
    unfreeze_all(c.base_model)
    fit_and_check(c)
    assert "backbone/block_1_conv/kernel" in trainable_paths(c.model)
    assert "backbone/block_1_bn/gamma" not in trainable_paths(c.model)  # BN kept frozen
    freeze_up_to(c.base_model, "block_2_conv", keep_bn_frozen=False)
    fit_and_check(c)
    set_trainable(c.model, "head", False)
    fit_and_check(c)
    assert not any(p.startswith("head/") for p in trainable_paths(c.model))
    c.freeze_all()
    set_trainable(c.model, "head", True)
    fit_and_check(c)
    assert c.compile_count == 5


def test_same_trainable_set_keeps_the_optimizer_and_only_sets_the_rate():
    c = controller()
    c.fit(1, block=True)
    optimizer = c.model.optimizer
    c.fit(1, learning_rate=0.01, block=True)
    assert c.model.optimizer is optimizer and c.compile_count == 1
    assert float(optimizer.learning_rate.numpy()) == pytest.approx(0.01)


# -- background run, states, refusing edits -------------------------------------------------


class Gate(keras.callbacks.Callback):
    """Holds training at the end of a batch until released, so tests see a live run."""

    def __init__(self):
        super().__init__()
        self.reached = threading.Event()
        self.release = threading.Event()

    def on_train_batch_end(self, batch, logs=None):
        self.reached.set()
        self.release.wait(30)


def test_fit_returns_at_once_and_edits_are_refused_while_running():
    c = controller()
    saved = c.config.to_json()
    gate = Gate()
    c.fit(3, callbacks=[gate])
    assert gate.reached.wait(30)
    assert c.state == "running" and c.running
    for edit in (
        c.freeze_all,
        c.unfreeze_all,
        lambda: c.freeze_up_to("block_2_conv"),
        lambda: c.set("training.learning_rate", 0.1),
        lambda: c.fit(1),
        c.lr_find,
        lambda: c.evaluate(data()),
        lambda: setattr(c.config.training, "batch_size", 4),
        lambda: setattr(c.config, "mode", "feature_extraction"),
        lambda: c.load_config(saved),
    ):
        with pytest.raises(ControllerBusyError, match="while a run is running"):
            edit()
    assert c.config.training.batch_size == 16
    with pytest.raises(ControllerBusyError, match=r"training\.batch_size"):
        c.config.training.batch_size = 4
    assert c.config.to_json() == c._config.to_json()  # reading still works
    gate.release.set()
    assert c.wait(60) == "finished"
    assert c.stop_reason == "completed" and c.history["epoch"] == [0, 1, 2]
    c.set("training.learning_rate", 0.1)
    assert c.config.training.learning_rate == 0.1


def test_pause_resume_and_stop_between_batches():
    c = controller(train_data=data(256))
    c.config.training.batch_size = 8
    gate = Gate()
    c.fit(50, callbacks=[gate])
    assert gate.reached.wait(30)
    c.pause()
    assert c.state == "paused"
    gate.release.set()
    time.sleep(0.3)
    epochs_while_paused = len(c.history.get("epoch", []))
    time.sleep(0.3)
    assert len(c.history.get("epoch", [])) == epochs_while_paused and c.state == "paused"
    c.resume()
    assert c.state == "running"
    c.stop()
    assert c.state in ("stopping", "finished")
    assert c.wait(60) == "finished" and c.stop_reason == "stopped"
    # Stopped mid-epoch: the cut-short epoch is kept apart, never in the history.
    assert len(c.history.get("epoch", [])) + len(c.partial_epochs) < 50
    assert len(c.partial_epochs) <= 1 and c.runs[-1]["reason"] == "stopped"
    states = [e["state"] for e in c.events.log if e["type"] == "state"]
    assert states == ["running", "paused", "running", "stopping", "finished"]
    c.fit(1, block=True)  # reusable after a stop
    assert c.state == "finished"


# -- faults ------------------------------------------------------------------------------------


class BadAt(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise ValueError("user callback broke")


def test_exception_in_a_user_callback_fails_the_run_and_the_controller_stays_usable():
    c = controller()
    c.fit(3, callbacks=[BadAt(1)])
    assert c.wait(60) == "failed"
    assert "ValueError: user callback broke" in c.error
    assert "Traceback" in c.error_traceback
    errors = [e for e in c.events.log if e["type"] == "error"]
    assert errors and errors[-1]["message"] == c.error
    assert len(c.history["epoch"]) >= 1
    with pytest.raises(TrainingError, match="user callback broke"):
        c.fit(2, callbacks=[BadAt(len(c.history["epoch"]))], block=True)
    fit_and_check(c)
    assert c.state == "finished"


class GoesBad(keras.utils.PyDataset):
    """Clean batches until ``bad`` is set (by a callback at the end of epoch 1), then NaN inputs."""

    def __init__(self, x, y):
        super().__init__()
        self.x, self.y, self.bad = x, y, False

    def __len__(self):
        return 4

    def __getitem__(self, i):
        xb = np.array(self.x[i * 16 : (i + 1) * 16])
        if self.bad:
            xb[0, 0, 0, 0] = np.nan
        return xb, self.y[i * 16 : (i + 1) * 16]


def test_nan_loss_stops_and_restores_the_last_good_weights():
    x, y = data()
    bad_data = GoesBad(x, y)
    c = controller(train_data=bad_data)
    good = {}

    class Keep(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            good[epoch] = snapshot(self.model)
            bad_data.bad = True

    c.fit(3, callbacks=[Keep()])
    assert c.wait(60) == "failed"
    assert "Loss became nan at epoch 2" in c.error and "end of epoch 1" in c.error
    assert c.history["epoch"] == [0]
    assert c.runs[-1]["reason"] == "failed" and c.runs[-1]["epochs"] == 1 and c.partial_epochs == []
    assert changed(good[0], c.model) == set()
    assert [e["kind"] for e in c.events.log if e["type"] == "error"] == ["nan"]
    c.train_data = (x, y)  # fixed data: the same controller trains again
    fit_and_check(c)


def test_restore_best_weights_on_the_monitored_metric():
    x, y = data(96)
    c = controller(
        train_data=(x[:64], y[:64]),
        validation_data=(x[64:], y[64:]),
        config=config(restore_best=True, monitor="val_loss", learning_rate=0.05),
    )
    seen = {}

    class Keep(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen[epoch] = snapshot(self.model)

    c.fit(6, callbacks=[Keep()], block=True)
    best = int(np.argmin(c.history["val_loss"]))
    assert changed(seen[best], c.model) == set()
    restored = [e for e in c.events.log if e["type"] == "restored"]
    assert restored and restored[0]["epoch"] == best


# -- events -----------------------------------------------------------------------------------


def test_events_are_throttled_and_batched_however_short_the_steps():
    c = controller(train_data=data(512))
    c.config.training.batch_size = 1
    deliveries = []
    c.events.subscribe(deliveries.append)
    start = time.monotonic()
    c.fit(3, block=True)
    elapsed = time.monotonic() - start
    events = [e for batch in deliveries for e in batch]
    batches = [e for e in events if e["type"] == "batch"]
    urgent = [batch for batch in deliveries if any(e["type"] in ("state", "phase") for e in batch)]
    assert len(batches) < 3 * 512 / 10  # coalesced: far fewer than the 1,536 steps
    # At most one throttled delivery per interval, plus the immediate state / phase ones.
    assert len(deliveries) - len(urgent) <= elapsed / c.events.interval + 1
    assert [e["epoch"] for e in events if e["type"] == "epoch"] == [0, 1, 2]  # epochs never dropped
    assert all(set(e) >= {"epoch", "batch", "steps", "logs", "eta_s"} for e in batches)
    assert [e["type"] for e in events][-1] == "state"


# -- two-phase fine-tuning ---------------------------------------------------------------------


def test_fine_tune_trains_the_head_then_unfreezes_at_a_lower_rate():
    c = controller(config=config(learning_rate=0.01))
    unfreeze_all(c.base_model)  # phase 1 must freeze it anyway
    base_before = snapshot(c.base_model)
    seen = {}

    class Keep(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen[epoch] = snapshot(c.base_model)

    c.fine_tune(
        head_epochs=2, epochs=2, unfreeze_from="block_2_conv", lr_mult=0.1, callbacks=[Keep()], block=True
    )
    assert c.history["phase"] == ["head", "head", "fine_tune", "fine_tune"]
    assert [(p["name"], p["start_epoch"], p["end_epoch"]) for p in c.phases] == [
        ("head", 0, 2),
        ("fine_tune", 2, 4),
    ]
    assert c.phases[1]["learning_rate"] == pytest.approx(0.001)
    assert float(c.model.optimizer.learning_rate.numpy()) == pytest.approx(0.001)
    assert all(np.array_equal(seen[1][k], base_before[k]) for k in base_before)  # base untouched in phase 1
    moved = {p.split("/")[1] for p in changed(seen[1], c.base_model)}
    # block_1 is below the boundary; block_2_bn's γ / β train (the default, as in the Keras guide)
    assert moved == {"block_2_conv", "block_2_bn", "top_conv"}
    assert [e["phase"] for e in c.events.log if e["type"] == "phase"] == ["head", "fine_tune"]


def test_lr_find_leaves_the_model_exactly_as_it_was():
    x, y = data(128)
    c = controller(train_data=(x, y))
    c.fit(1, block=True)
    before = snapshot(c.model)
    optimizer = c.model.optimizer
    slots = [np.array(v.numpy()) for v in optimizer.variables]
    result = c.lr_find(start=1e-5, end=10, steps=30)
    assert changed(before, c.model) == set()
    assert c.model.optimizer is optimizer
    assert all(np.array_equal(a, v.numpy()) for a, v in zip(slots, optimizer.variables, strict=True))
    assert 2 <= len(result.losses) <= 30 and len(result.learning_rates) == len(result.losses)
    assert result.learning_rates == sorted(result.learning_rates) and result.learning_rates[
        0
    ] == pytest.approx(1e-5)
    assert result.suggested is None or 1e-5 <= result.suggested <= 10
    assert c.compile_count == 1  # the next fit needs no recompile
    with pytest.raises(ValueError, match="start < end"):
        c.lr_find(start=1, end=0.1)


# -- tasks and label forms -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("task", "num_classes", "labels", "loss", "units"),
    [
        ("multiclass", 3, lambda n: np.arange(n) % 3, "sparse_categorical_crossentropy", 3),
        ("multiclass", 3, lambda n: np.eye(3)[np.arange(n) % 3], "categorical_crossentropy", 3),
        ("binary", None, lambda n: np.arange(n) % 2, "binary_crossentropy", 1),
        (
            "multilabel",
            4,
            lambda n: (np.arange(n * 4).reshape(n, 4) % 3 == 0).astype("float32"),
            "binary_crossentropy",
            4,
        ),
        ("regression", 2, lambda n: np.linspace(0, 1, n * 2).reshape(n, 2), "mse", 2),
    ],
    ids=["sparse", "one-hot", "binary", "multilabel", "regression"],
)
def test_loss_and_output_follow_the_task_and_label_form(task, num_classes, labels, loss, units):
    x = data(32)[0]
    c = FineTuneController(
        backbone(), task=task, num_classes=num_classes, train_data=(x, labels(32)), config=config()
    )
    c.fit(1, block=True)
    assert c.state == "finished"
    assert c.model.output.shape == (None, units)
    assert c.model.loss == loss


def test_base_training_true_lets_batchnorm_statistics_update():
    base = backbone()
    controller(base)  # pins the base's training=False
    c = controller(base, config=config(base_training=True))
    unfreeze_all(c.base_model, keep_bn_frozen=False)
    bn = c.base_model.get_layer("block_1_bn")
    mean = np.array(bn.moving_mean.numpy())
    c.fit(1, block=True)
    assert not np.array_equal(bn.moving_mean.numpy(), mean)


def test_lr_suggestion_follows_the_one_rule():
    # The rule and its cases are in test_lr_finder.py; the controller only delegates to it.
    from transfer_widgets.training.controller import _suggest
    from transfer_widgets.training.lr_finder import suggest_learning_rate

    lrs = [10 ** (-7 + 8 * i / 99) for i in range(100)]
    losses = [2.3 + 0.05 * (-1) ** i for i in range(70)]
    losses += [2.3 - 0.1 * i for i in range(1, 16)] + [0.8 + 2.0 * i for i in range(15)]
    assert _suggest(lrs, losses) == suggest_learning_rate(lrs, losses)
    assert lrs[0] <= _suggest(lrs, losses).suggested <= lrs[-1]
    assert _suggest(lrs, [2.0 + 0.01 * i for i in range(100)]).suggested is None  # never fell
