"""controller.run_callbacks and the validation confusion-matrix callback the monitor adds."""

import keras
import numpy as np

from transfer_widgets import FineTuneController, TransferConfig
from transfer_widgets.monitor.callback import ValidationConfusion, class_indices, validation_sample


def tiny_controller(validation=True, class_names=None):
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (48, 8, 8, 3)).astype("float32")
    y = rng.integers(0, 3, 48)
    base = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3, name="conv")], name="b")
    c = TransferConfig()
    c.preprocessing.mode = "rescale"
    c.training.batch_size = 16
    c.training.seed = 0
    c.head.class_names = class_names
    return FineTuneController(
        base,
        num_classes=3,
        train_data=(x, y),
        validation_data=(x[:20], y[:20]) if validation else None,
        config=c,
    )


def test_run_callbacks_take_part_in_every_fit():
    ctl = tiny_controller()
    seen = []

    class Count(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(epoch)

    ctl.run_callbacks.append(Count())
    ctl.fit(2, block=True)
    ctl.fine_tune(head_epochs=1, epochs=1, block=True)
    assert seen == [0, 1, 2, 3]


def test_validation_confusion_emits_a_matrix_per_epoch_with_class_names():
    ctl = tiny_controller(class_names=["a", "b", "c"])
    got = []
    ctl.events.subscribe(lambda events: got.extend(e for e in events if e["type"] == "confusion"))
    ctl.run_callbacks.append(ValidationConfusion(ctl))
    ctl.fit(2, block=True)
    assert [e["epoch"] for e in got] == [0, 1]
    m = np.asarray(got[-1]["matrix"])
    assert m.shape == (3, 3) and m.sum() == 20
    assert got[-1]["class_names"] == ["a", "b", "c"]
    pred = ctl.predict(ctl.validation_data[0]).argmax(-1)
    assert np.trace(m) == int((pred == ctl.validation_data[1]).sum())


def test_validation_confusion_is_silent_without_validation_data():
    ctl = tiny_controller(validation=False)
    got = []
    ctl.events.subscribe(lambda events: got.extend(e for e in events if e["type"] == "confusion"))
    ctl.run_callbacks.append(ValidationConfusion(ctl))
    ctl.fit(1, block=True)
    assert got == [] and ctl.state == "finished"


def test_helpers_read_labels_and_datasets():
    assert class_indices(np.eye(3)[[2, 0]], "multiclass").tolist() == [2, 0]
    assert class_indices(np.array([[0.2], [0.9]]), "binary").tolist() == [0, 1]
    assert class_indices(np.array([1, 0]), "binary").tolist() == [1, 0]
    import tensorflow as tf

    x, y = np.zeros((10, 2)), np.arange(10)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(4)
    sx, sy = validation_sample(ds, 6)
    assert sx.shape == (6, 2) and sy.tolist() == [0, 1, 2, 3, 4, 5]
    assert validation_sample(None, 5) is None
    assert validation_sample((x, y), 3)[1].tolist() == [0, 1, 2]


def test_batch_loss_recorder_recovers_each_batch_loss_across_runs():
    from transfer_widgets.monitor.callback import BatchLossRecorder

    rec = BatchLossRecorder()
    means = {0: [4.0, 3.0, 2.0], 1: [1.0, 2.0]}  # running means of losses 4,2,0 then 1,3
    for epoch, ms in means.items():
        rec.on_epoch_begin(epoch)
        for b, m in enumerate(ms):
            rec.on_train_batch_end(b, {"loss": m})
    rec.on_train_batch_end(0, {})
    assert rec.steps == [1, 2, 3, 4, 5]
    assert rec.losses == [4.0, 2.0, 0.0, 1.0, 3.0]
    ctl = tiny_controller()
    ctl.run_callbacks.append(rec)
    ctl.fit(1, block=True)
    assert rec.steps[-1] == 5 + 3  # 48 samples / batch 16


def test_lr_find_after_a_stopped_run_sweeps_all_its_steps():
    # The monitor's Find LR after its Stop: the earlier run's stop request must not
    # end the sweep at its first step.
    ctl = tiny_controller()
    ctl.fit(50)
    ctl.stop()
    assert ctl.wait(30) == "finished" and ctl.stop_reason == "stopped"
    result = ctl.lr_find(1e-5, 1e-2, steps=6)
    assert len(result.losses) == 6


def test_validation_confusion_skips_an_epoch_cut_short_by_a_stop():
    from .test_runs import HoldAt, stop_at

    ctl = tiny_controller()
    got = []
    ctl.events.subscribe(lambda events: got.extend(e for e in events if e["type"] == "confusion"))
    ctl.run_callbacks.append(ValidationConfusion(ctl))
    stop_at(ctl, HoldAt(epoch=1, batch=0), lambda hold: ctl.fit(3, callbacks=[hold]))
    assert [p["epoch"] for p in ctl.partial_epochs] == [1]
    assert [e["epoch"] for e in got] == [0]  # none for the one-batch epoch 1
