"""Runs and partial epochs at the source: the controller's history holds complete
epochs only, an epoch cut short by a stop is kept apart, every run has its number,
the bars end on the real position and a run says what it is doing before its first
batch. Tiny models; a callback holds the run at a chosen batch so a stop lands
exactly there."""

import threading
import time

import keras

from tests.unit.test_controller import backbone, config, data
from transfer_widgets import FineTuneController
from transfer_widgets.monitor import MonitorState
from transfer_widgets.training.callbacks import BestWeights

STEPS = 4  # 64 samples, batches of 16


class HoldAt(keras.callbacks.Callback):
    """Holds the run before batch ``batch`` of epoch ``epoch`` (global index) until
    released, so a test can stop it there: the held batch runs, then the run ends."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.at = (epoch, batch)
        self.epoch = None
        self.reached, self.release = threading.Event(), threading.Event()

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            self.reached.set()
            assert self.release.wait(30)


def make(**training):
    ctl = FineTuneController(backbone(), num_classes=3, train_data=data(), config=config(**training))
    events = []
    ctl.events.subscribe(events.extend)
    return ctl, events


def stop_at(ctl, hold, start):
    start(hold)
    assert hold.reached.wait(60)
    ctl.stop()
    hold.release.set()
    assert ctl.wait(60) == "finished"


def of_type(events, kind):
    return [e for e in events if e["type"] == kind]


def test_a_stop_one_batch_into_an_epoch_keeps_it_out_of_the_history():
    ctl, events = make()
    hold = HoldAt(epoch=1, batch=0)
    stop_at(ctl, hold, lambda h: ctl.fit(3, callbacks=[h]))

    assert ctl.history["epoch"] == [0]  # only the complete epoch
    assert ctl.history["run"] == [1] and ctl.history["run_epoch"] == [0]
    assert ctl.phases[-1]["end_epoch"] == 1 and ctl.phases[-1]["run"] == 1
    [partial] = ctl.partial_epochs
    assert partial["run"] == 1 and partial["phase"] == "fit"
    assert (partial["epoch"], partial["run_epoch"], partial["batches"], partial["steps"]) == (1, 1, 1, STEPS)
    assert "loss" in partial["logs"]
    [run] = ctl.runs
    assert (run["run"], run["kind"], run["reason"], run["epochs"]) == (1, "fit", "stopped", 1)
    assert run["partial"] == partial and run["phases"] == ["fit"] and run["ended"] >= run["started"]

    last = of_type(events, "batch")[-1]
    assert (last["epoch"], last["batch"], last["steps"], last["run"]) == (1, 0, STEPS, 1)
    epochs = of_type(events, "epoch")
    assert [e["partial"] for e in epochs] == [False, True]
    assert epochs[-1]["batches"] == 1 and epochs[0]["batches"] == STEPS
    # The last batch event of a complete epoch is its last batch.
    first_epoch_batches = [e for e in of_type(events, "batch") if e["epoch"] == 0]
    assert first_epoch_batches[-1]["batch"] == STEPS - 1
    assert all(
        e.get("run") == 1 for e in events if e["type"] in ("state", "stage", "phase", "batch", "epoch")
    )

    s = MonitorState(batch_size=16)
    s.apply(list(ctl.events.log))
    assert sorted(s.epochs) == [0]  # the partial epoch is not in the per-epoch series
    assert s.partial["batches"] == 1 and s.partial["epoch"] == 1
    assert s.batch == 0 and s.steps == STEPS  # the bar reads 1 / 4, not 4 / 4

    # The next run continues from the complete epochs and is run 2.
    ctl.fit(1, block=True)
    assert ctl.history["epoch"] == [0, 1] and ctl.history["run"] == [1, 2]
    assert ctl.history["run_epoch"] == [0, 0]
    assert [r["reason"] for r in ctl.runs] == ["stopped", "completed"] and ctl.runs[1]["partial"] is None


def test_pause_then_stop_mid_epoch_is_partial_too():
    ctl, _ = make()
    hold = HoldAt(epoch=0, batch=2)
    ctl.fit(2, callbacks=[hold])
    assert hold.reached.wait(60)
    ctl.pause()
    hold.release.set()
    time.sleep(0.5)  # the held batch runs, then the pause holds the run at its end
    ctl.stop()
    assert ctl.wait(60) == "finished"
    assert ctl.history.get("epoch", []) == []
    assert ctl.partial_epochs[0]["batches"] == 3
    assert ctl._control.paused_s > 0.2  # the pause did hold it
    assert ctl.runs[0]["epochs"] == 0 and ctl.runs[0]["reason"] == "stopped"


def test_a_stop_at_the_phase_boundary_keeps_the_complete_epoch_and_runs_no_more():
    ctl, events = make()
    hold = HoldAt(epoch=0, batch=STEPS - 1)  # the head phase's last batch
    stop_at(ctl, hold, lambda h: ctl.fine_tune(head_epochs=1, epochs=2, callbacks=[h]))
    assert ctl.history["epoch"] == [0] and ctl.history["phase"] == ["head"]
    assert ctl.partial_epochs == []
    assert [p["name"] for p in ctl.phases] == ["head"]
    run = ctl.runs[0]
    assert run["kind"] == "fine_tune" and run["phases"] == ["head", "fine_tune"]
    assert run["reason"] == "stopped" and run["epochs"] == 1 and run["planned_epochs"] == 3
    assert of_type(events, "batch")[-1]["batch"] == STEPS - 1
    assert [e["partial"] for e in of_type(events, "epoch")] == [False]


def test_two_runs_count_epochs_and_phases_each():
    ctl, events = make()
    ctl.fit(2, block=True)
    ctl.fine_tune(head_epochs=1, epochs=1, block=True)
    assert [r["run"] for r in ctl.runs] == [1, 2]
    assert [r["kind"] for r in ctl.runs] == ["fit", "fine_tune"]
    assert [r["epochs"] for r in ctl.runs] == [2, 2]
    assert ctl.history["epoch"] == [0, 1, 2, 3]
    assert ctl.history["run"] == [1, 1, 2, 2] and ctl.history["run_epoch"] == [0, 1, 0, 1]
    assert ctl.history["phase"] == ["fit", "fit", "head", "fine_tune"]
    assert [(p["run"], p["name"]) for p in ctl.phases] == [(1, "fit"), (2, "head"), (2, "fine_tune")]
    run2 = [e for e in of_type(events, "batch") if e["run"] == 2]
    assert {e["run_epochs"] for e in run2} == {2} and {e["run_epoch"] for e in run2} == {0, 1}

    s = MonitorState(batch_size=16)
    s.apply(list(ctl.events.log))
    assert s.run == 2 and s.run_numbers() == [1, 2]
    assert [p["name"] for p in s.phases] == ["head", "fine_tune"]  # the chart title does not grow
    assert len(s.all_phases) == 3
    assert s.epoch_progress() == (2, 2) and s.epochs_done() == 2
    assert s.epoch_series("loss", run=1)[0].tolist() == [1, 2]
    assert s.epoch_series("loss", run=2)[0].tolist() == [3, 4]

    late = MonitorState(batch_size=16)  # a monitor made after the runs, from the history alone
    late.load_history(ctl.history, ctl.phases)
    assert late.run == 2 and [p["name"] for p in late.phases] == ["head", "fine_tune"]
    assert "run" not in late.epochs[0]["logs"] and late.epochs[3]["run_epoch"] == 1


def test_restore_best_ignores_a_partial_epoch():
    ctl, events = make(restore_best=True, monitor="loss")
    hold = HoldAt(epoch=2, batch=0)
    stop_at(ctl, hold, lambda h: ctl.fit(4, callbacks=[h]))
    [restored] = of_type(events, "restored")
    assert restored["epoch"] in (0, 1)  # never the cut-short epoch 2
    assert restored["value"] == min(ctl.history["loss"])
    assert ctl.partial_epochs[0]["epoch"] == 2


def test_best_weights_skips_an_epoch_its_run_callback_calls_partial():
    class Run:
        epoch_complete = True

    run = Run()
    best = BestWeights("loss", run=run)
    best.set_model(keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]))
    best.on_epoch_end(0, {"loss": 1.0})
    run.epoch_complete = False
    best.on_epoch_end(1, {"loss": 0.1})
    assert (best.best_epoch, best.best) == (0, 1.0)


def test_stages_come_at_once_and_in_order():
    ctl, events = make()
    hold = HoldAt(epoch=0, batch=0)
    ctl.fit(1, callbacks=[hold])
    stages = of_type(events, "stage")  # delivered before fit() returned, before any model work
    assert stages[0]["stage"] == "preparing" and stages[0]["run"] == 1
    assert ctl.stage in ("preparing", "compiling", "first_batch")
    assert hold.reached.wait(60)
    hold.release.set()
    assert ctl.wait(60) == "finished"
    names = [e["stage"] for e in of_type(events, "stage")]
    assert names[:4] == ["preparing", "compiling", "first_batch", "training"]
    assert ctl.stage is None
    logged = [e["stage"] for e in ctl.events.log if e["type"] == "stage"]
    assert logged == names  # kept for monitors made later
    s = MonitorState()
    log = list(ctl.events.log)
    compiling = next(i for i, e in enumerate(log) if e.get("stage") == "compiling")
    s.apply(log[: compiling + 1])
    assert s.stage == "compiling" and s.run == 1
    s.apply(log[compiling + 1 :])
    assert s.stage is None  # the run ended


def test_validation_is_a_stage_and_not_training_time():
    ctl, events = make()
    ctl.validation_data = data(32, seed=1)
    ctl.fit(2, block=True)
    names = [e["stage"] for e in of_type(events, "stage")]
    assert names == [
        "preparing",
        "compiling",
        "first_batch",
        "training",
        "validating",
        "training",
        "validating",
    ]
    train_s = [e["train_s"] for e in of_type(events, "batch")]
    assert train_s == sorted(train_s) and train_s[0] >= 0


def test_the_first_batch_gives_no_eta_and_later_ones_exclude_it():
    ctl, events = make()
    ctl.fit(1, block=True)
    batches = of_type(events, "batch")
    assert all(e["eta_s"] is None for e in batches if e["batch"] == 0 and e["epoch"] == 0)
    assert all(e["eta_s"] is not None for e in batches if e["batch"] > 0 and e["batch"] < STEPS - 1)


def test_lr_find_is_a_run():
    ctl, events = make()
    ctl.fit(1, block=True)
    ctl.lr_find(steps=4)
    assert [r["kind"] for r in ctl.runs] == ["fit", "lr_find"]
    assert ctl.runs[1]["reason"] == "completed" and ctl.runs[1]["run"] == 2
    states = [
        e for e in of_type(events, "state") if e.get("task") == "lr_find" or e.get("reason") == "lr_find"
    ]
    assert {e["run"] for e in states} == {2}
    assert ctl.history["run"] == [1]  # the sweep adds no epochs


def test_unknown_length_data_an_epoch_is_complete_unless_a_stop_cut_it():
    import tensorflow as tf

    x, y = data()
    unknown = tf.data.Dataset.from_tensor_slices((x, y)).filter(lambda a, b: True).batch(16)
    ctl = FineTuneController(backbone(), num_classes=3, train_data=unknown, config=config())
    hold = HoldAt(epoch=1, batch=1)
    stop_at(ctl, hold, lambda h: ctl.fit(3, callbacks=[h]))
    assert ctl.history["epoch"] == [0]
    [partial] = ctl.partial_epochs
    assert partial["epoch"] == 1 and partial["batches"] == 2 and partial["steps"] is None
