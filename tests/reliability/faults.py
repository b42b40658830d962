"""What the fault-injection tests share: a tiny controller, a callback that raises
or signals at a chosen batch, and a record of the weights at every good point so a
test can say the model ended exactly at the one the run names."""

from __future__ import annotations

import math
import os
import signal
import threading

import keras
import numpy as np

from tests.unit.test_controller import backbone, config, data
from transfer_widgets import FineTuneController

BATCH = 16
SAMPLES = 128
STEPS = SAMPLES // BATCH  # batches per epoch


def make(samples=SAMPLES, validation=False, configure=None, **training):
    """A tiny controller on random 8x8 images, 3 classes, batches of 16
    (``configure(config)`` changes the config first)."""
    x, y = data(samples)
    val = data(32, seed=1) if validation else None
    c = config(**training)
    if configure is not None:
        configure(c)
    return FineTuneController(backbone(), num_classes=3, train_data=(x, y), validation_data=val, config=c)


class GoodPoints(keras.callbacks.Callback):
    """The weights at the start of every fit and at the end of every complete epoch
    (it runs after the controller's own callback, so it sees what that one kept)."""

    def __init__(self):
        super().__init__()
        self.starts = []
        self.epochs = {}  # global epoch -> weights at its end

    def on_train_begin(self, logs=None):
        self.starts.append(self.model.get_weights())

    def on_epoch_end(self, epoch, logs=None):
        self.epochs[epoch] = self.model.get_weights()


class At(keras.callbacks.Callback):
    """Calls ``action()`` when batch ``batch`` of global epoch ``epoch`` ends."""

    def __init__(self, epoch, batch, action):
        super().__init__()
        self.at, self.action = (epoch, batch), action
        self.epoch = None
        self.batches_after = 0  # batches that ended after the action
        self.fired = threading.Event()

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.fired.is_set():
            self.batches_after += 1
        if (self.epoch, batch) == self.at and not self.fired.is_set():
            self.fired.set()
            self.action()


def raiser(exc):
    def action():
        raise exc

    return action


def sigint():
    os.kill(os.getpid(), signal.SIGINT)


def expected_weights(ctl, points):
    """The recorded weights of the good point ``ctl.runs[-1]`` names."""
    label = ctl.runs[-1]["weights"]
    if label.startswith("start of run"):
        return points.starts[0]
    if label.startswith("end of epoch "):
        return points.epochs[int(label.rsplit(" ", 1)[1]) - 1]
    if label.startswith("best epoch "):  # "best epoch 2 (val_loss)"
        return points.epochs[int(label.split(" ")[2]) - 1]
    raise AssertionError(f"unexpected good point {label!r}")


def same(a, b):
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def finite(weights):
    return all(np.isfinite(w).all() for w in weights)


def check_reusable(ctl, epochs=1):
    """The controller trains again, edits are accepted, and the history grows by ``epochs``."""
    before = len(ctl.history.get("epoch", []))
    ctl.set("training.learning_rate", 0.002)
    ctl.fit(epochs, block=True)
    assert ctl.state == "finished" and ctl.runs[-1]["reason"] == "completed"
    assert len(ctl.history["epoch"]) == before + epochs
    assert all(math.isfinite(v) for v in ctl.history["loss"])
