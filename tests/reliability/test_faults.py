"""Faults injected into runs in this process: BaseException and Exception from a
user callback, a stop at every stage of a run, pause then stop, a controller
dropped or replaced mid-run. After each: the state, the weights (finite and equal
to the good point the run names), the history (complete epochs only) and that the
controller trains again."""

import gc
import threading
import time
import weakref

import pytest

from transfer_widgets import TrainingError

from .faults import STEPS, At, GoodPoints, check_reusable, expected_weights, finite, make, raiser, same


def assert_at_good_point(ctl, points):
    weights = ctl.model.get_weights()
    assert finite(weights)
    assert same(weights, expected_weights(ctl, points)), ctl.runs[-1]["weights"]


def assert_history_complete(ctl):
    """Every history row is a complete epoch; partial ones are apart."""
    epochs = ctl.history.get("epoch", [])
    assert epochs == sorted(set(epochs))
    assert not set(epochs) & {p["epoch"] for p in ctl.partial_epochs}


@pytest.mark.parametrize(
    ("exc", "state", "reason"),
    [
        (KeyboardInterrupt(), "finished", "interrupted"),
        (SystemExit(3), "failed", "failed"),
        (RuntimeError("callback broke"), "failed", "failed"),
        (GeneratorExit(), "failed", "failed"),
    ],
    ids=["KeyboardInterrupt", "SystemExit", "RuntimeError", "GeneratorExit"],
)
def test_a_callback_raising_mid_epoch_rewinds_to_the_last_complete_epoch(exc, state, reason):
    ctl, points = make(), GoodPoints()
    ctl.fit(4, callbacks=[points, At(1, 3, raiser(exc))])  # epoch 2, batch 4
    assert ctl.wait(120) == state
    run = ctl.runs[-1]
    assert run["reason"] == reason and run["weights"] == "end of epoch 1" and run["epochs"] == 1
    assert_at_good_point(ctl, points)
    assert ctl.history["epoch"] == [0]
    assert ctl.phases[-1]["end_epoch"] == 1  # the phase record says where it really ended
    [partial] = ctl.partial_epochs
    assert (partial["epoch"], partial["batches"], partial["steps"]) == (1, 4, STEPS)
    assert_history_complete(ctl)
    if state == "failed":
        assert type(exc).__name__ in ctl.error
    check_reusable(ctl)


def test_a_failure_in_the_first_epoch_rewinds_to_the_start_of_the_run():
    ctl, points = make(), GoodPoints()
    with pytest.raises(TrainingError, match="first epoch"):
        ctl.fit(2, block=True, callbacks=[points, At(0, 2, raiser(ValueError("first epoch")))])
    assert ctl.runs[-1]["weights"] == "start of run 1" and "history" not in ctl.history
    assert_at_good_point(ctl, points)
    check_reusable(ctl)


def stop_at(ctl, stage, phase=None):
    """Stop the run when it announces ``stage`` (of ``phase``), on the thread that announces it."""
    seen = []

    def on_events(events):
        for e in events:
            if e["type"] == "stage" and e["stage"] == stage and phase in (None, e.get("phase")) and not seen:
                seen.append(e)
                ctl.stop()

    ctl.events.subscribe(on_events)
    return seen


@pytest.mark.parametrize("stage", ["preparing", "compiling", "first_batch", "training", "validating"])
def test_a_stop_at_every_stage_of_a_fit(stage):
    ctl, points = make(validation=True), GoodPoints()
    val_batches = []
    points.on_test_batch_end = lambda batch, logs=None: val_batches.append(batch)
    seen = stop_at(ctl, stage)
    ctl.fit(3, callbacks=[points])
    assert ctl.wait(120) == "finished" and seen
    run = ctl.runs[-1]
    assert run["reason"] == "stopped"
    assert_history_complete(ctl)
    if stage == "validating":
        # epoch 1 trained in full; its validation was cut to one batch and is not logged as if whole
        assert ctl.history["epoch"] == [0] and ctl.history.get("val_loss", [None]) == [None]
        assert val_batches == [0]
        assert run["weights"] == "end of epoch 1"
    else:
        assert "epoch" not in ctl.history and run["weights"] == "start of run 1"
        if stage == "training":  # cut after its first batch: kept apart, weights rewound
            assert [(p["epoch"], p["batches"]) for p in ctl.partial_epochs] == [(0, 1)]
            assert val_batches == [0]  # Keras's validation of the cut epoch: one batch, not all
    if points.starts:
        assert_at_good_point(ctl, points)
    check_reusable(ctl)


@pytest.mark.parametrize("where", ["memory", "disk"])
def test_a_stop_during_feature_caching_ends_it_and_keeps_nothing(tmp_path, where):
    def configure(c):
        c.mode, c.feature_cache, c.cache_dir = "feature_extraction", where, str(tmp_path)

    ctl = make(samples=256, configure=configure)
    seen = stop_at(ctl, "caching_features")
    ctl.fit(2)
    assert ctl.wait(120) == "finished" and seen
    assert ctl.runs[-1]["reason"] == "stopped" and "epoch" not in ctl.history
    assert ctl._features._entries == {} and list(tmp_path.iterdir()) == []
    check_reusable(ctl)
    assert ctl._features.computed == 2  # the stopped pass, then the one that finished


def test_a_stop_between_the_phases_of_fine_tune_keeps_the_head_phase():
    ctl, points = make(), GoodPoints()
    seen = stop_at(ctl, "compiling", phase="fine_tune")
    ctl.fine_tune(head_epochs=2, epochs=2, callbacks=[points])
    assert ctl.wait(120) == "finished" and seen
    assert ctl.history["phase"] == ["head", "head"] and ctl.runs[-1]["weights"] == "end of epoch 2"
    assert_at_good_point(ctl, points)
    check_reusable(ctl)


def test_pause_then_stop_keeps_the_cut_epoch_apart():
    ctl, points = make(), GoodPoints()
    ctl.fit(3, callbacks=[points, At(1, 1, lambda: ctl.pause())])
    deadline = time.monotonic() + 60
    while ctl.state != "paused" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert ctl.state == "paused"
    ctl.stop()
    assert ctl.wait(60) == "finished" and ctl.runs[-1]["reason"] == "stopped"
    # paused after batch 2 ends (the controller checks before the test callback pauses), so 3 ran
    assert ctl.history["epoch"] == [0] and ctl.partial_epochs[-1]["batches"] == 3
    assert_at_good_point(ctl, points)
    check_reusable(ctl)


def test_a_stop_with_restore_best_leaves_the_best_epoch_and_says_so():
    ctl, points = make(validation=True, restore_best=True, monitor="val_loss"), GoodPoints()
    ctl.fit(4, callbacks=[points, At(2, 2, ctl.stop)])
    assert ctl.wait(120) == "finished" and ctl.runs[-1]["reason"] == "stopped"
    label = ctl.runs[-1]["weights"]
    best = min(range(2), key=lambda i: ctl.history["val_loss"][i])
    assert label == f"best epoch {best + 1} (val_loss)"
    assert_at_good_point(ctl, points)
    check_reusable(ctl)


def fit_threads():
    return [t for t in threading.enumerate() if t.name == "transfer-widgets-fit" and t.is_alive()]


def test_a_dropped_controller_stops_its_run():
    ctl, points = make(samples=512), GoodPoints()
    started = At(0, 1, lambda: None)
    ctl.fit(200, callbacks=[points, started])
    assert started.fired.wait(60)
    life, model, ref = ctl._life, ctl.model, weakref.ref(ctl)
    del ctl
    gc.collect()
    assert ref() is None  # the training thread did not keep it alive
    assert life.done.wait(60)  # and the run ended at its next batch
    assert life.state == "finished" and life.control.stop_reason == "abandoned"
    assert finite(model.get_weights())
    expected = points.starts[0] if life.good.epoch is None else points.epochs[life.good.epoch]
    assert same(model.get_weights(), expected)


def test_re_running_the_cell_that_made_the_controller_leaves_one_training_thread():
    ctl = make(samples=512)
    started = At(0, 1, lambda: None)
    ctl.fit(200, callbacks=[started])
    assert started.fired.wait(60)
    old = ctl._life
    ctl = make(samples=512)  # the same cell again: the old controller is dropped
    gc.collect()
    ctl.fit(1)
    assert old.done.is_set()  # the new run started only after the old one ended
    assert len(fit_threads()) <= 1
    assert ctl.wait(120) == "finished"
    assert old.control.stop_reason == "abandoned"
