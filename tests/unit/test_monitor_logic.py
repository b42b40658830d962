"""The monitor's pure logic: LTTB, smoothing, throughput / ETA, confusion matrices,
history export and the event-fed state, without any front end."""

import math

import numpy as np
import pytest

from transfer_widgets.monitor import (
    MonitorState,
    Throughput,
    confusion_matrix,
    ema,
    history_to_csv,
    history_to_dataframe,
    lttb,
    per_class_accuracy,
)


def test_lttb_short_series_come_back_whole_as_float32():
    x, y = lttb([1, 2, 3], [4.0, 5.0, 6.0], 10)
    assert x.dtype == np.float32 and y.dtype == np.float32
    assert x.tolist() == [1, 2, 3] and y.tolist() == [4, 5, 6]


def test_lttb_keeps_size_fixed_ends_and_spikes():
    n = 100_000
    x = np.arange(n, dtype=float)
    y = np.sin(x / 1000)
    y[54_321] = 50.0  # one spike must survive decimation
    dx, dy = lttb(x, y, 2000)
    assert len(dx) == len(dy) == 2000
    assert dx[0] == 0 and dx[-1] == n - 1
    assert np.all(np.diff(dx) > 0)
    assert 50.0 in dy


def test_lttb_same_size_at_any_length():
    sizes = {
        len(lttb(np.arange(n), np.random.default_rng(0).normal(size=n), 2000)[0])
        for n in (3000, 20_000, 200_000)
    }
    assert sizes == {2000}


def test_lttb_drops_nan_and_checks_arguments():
    x, y = lttb([0, 1, 2, 3], [1.0, math.nan, 2.0, math.inf], 10)
    assert x.tolist() == [0, 2] and y.tolist() == [1, 2]
    with pytest.raises(ValueError):
        lttb([1, 2], [1], 10)
    with pytest.raises(ValueError):
        lttb([1, 2], [1, 2], 2)


def test_ema_is_debiased_and_skips_nan():
    out = ema([2.0, 2.0, 2.0], 0.9)
    assert np.allclose(out, 2.0)
    out = ema([math.nan, 1.0, math.nan, 3.0], 0.5)
    assert math.isnan(out[0]) and out[1] == 1.0 and out[2] == 1.0
    assert 1.0 < out[3] < 3.0
    assert ema([1.0, 5.0], 0.0).tolist() == [1.0, 5.0]
    with pytest.raises(ValueError):
        ema([1.0], 1.0)


def test_throughput_rate_and_eta():
    t = Throughput(window_s=100)
    assert t.steps_per_s is None and t.eta_s(10) is None
    t.update(0.0, 0)
    t.update(2.0, 100)
    assert t.steps_per_s == pytest.approx(50)
    assert t.eta_s(100) == pytest.approx(2)
    t.update(3.0, 5)  # a new run: the window starts again
    assert t.steps_per_s is None


def test_throughput_window_forgets_old_samples():
    t = Throughput(window_s=1.0)
    t.update(0.0, 0)
    t.update(10.0, 10)  # slow start
    for i in range(1, 11):
        t.update(10.0 + i * 0.1, 10 + i * 100)  # then 1000 steps/s
    assert t.steps_per_s == pytest.approx(1000, rel=0.01)


def test_confusion_matrix_and_per_class_accuracy():
    m = confusion_matrix([0, 0, 1, 1, 2], [0, 1, 1, 1, 0], 4)
    assert m.tolist() == [[1, 1, 0, 0], [0, 2, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]]
    acc = per_class_accuracy(m)
    assert acc[:3].tolist() == [0.5, 1.0, 0.0] and math.isnan(acc[3])


def test_history_csv_and_dataframe(tmp_path):
    history = {"epoch": [0, 1], "phase": ["head", "fine_tune"], "loss": [0.5, 0.25], "val_loss": [None, 0.3]}
    text = history_to_csv(history, tmp_path / "h.csv")
    assert text.splitlines() == ["epoch,phase,loss,val_loss", "0,head,0.5,", "1,fine_tune,0.25,0.3"]
    assert (tmp_path / "h.csv").read_text() == text
    df = history_to_dataframe(history)
    assert list(df.columns) == ["epoch", "phase", "loss", "val_loss"] and len(df) == 2
    assert history_to_csv({}) == "\n"


def ev(type, t, **kw):
    return {"type": type, "time": t, **kw}


def run_events():
    """Two phases of two epochs, 10 steps each, as the controller emits them."""
    out = [
        ev("state", 0.0, state="running"),
        ev("phase", 0.0, phase="head", start_epoch=0, learning_rate=1e-3),
    ]
    t = 0.0
    for epoch in range(4):
        if epoch == 2:
            out.append(ev("phase", t, phase="fine_tune", start_epoch=2, learning_rate=1e-4))
        for b in range(0, 10, 3):
            t += 0.1
            out.append(
                ev(
                    "batch",
                    t,
                    phase="head",
                    epoch=epoch,
                    batch=b,
                    steps=10,
                    epochs=2 if epoch < 2 else 4,
                    eta_s=1.0,
                    logs={"loss": 2.0 - epoch * 0.3 - b * 0.01, "accuracy": 0.1 * epoch},
                )
            )
        out.append(
            ev(
                "epoch",
                t,
                phase="head" if epoch < 2 else "fine_tune",
                epoch=epoch,
                epochs=4,
                seconds=1,
                logs={
                    "loss": 1.5 - epoch * 0.2,
                    "accuracy": 0.2 * epoch,
                    "val_loss": [1.4, 1.1, 1.2, 1.3][epoch],
                    "val_accuracy": 0.2 * epoch,
                },
            )
        )
    return out


def test_state_builds_series_phases_and_best_epoch():
    s = MonitorState(batch_size=32)
    changed = s.apply(run_events())
    assert {"batch", "epoch", "progress", "state"} <= changed
    assert len(s.batch_steps) == 16 and s.batch_steps == sorted(s.batch_steps)
    assert s.batch_steps[0] == 1 and s.batch_steps[-1] == 3 * 10 + 9 + 1
    x, y = s.epoch_series("val_loss")
    assert x.tolist() == [1, 2, 3, 4] and y.dtype == np.float32
    assert s.metric_names() == ["loss", "accuracy"]
    assert [p["name"] for p in s.phases] == ["head", "fine_tune"]
    assert s.phases[1]["start_epoch"] == 2 and s.learning_rate == 1e-4
    assert s.best_epoch() == (2, pytest.approx(1.1), "val_loss")
    assert s.samples_per_s() == pytest.approx(32 * (40 - 1) / (1.6 - 0.1), rel=1e-6)
    assert s.eta_s() == pytest.approx(0.0)  # at the last step of the last epoch


def test_state_best_epoch_follows_monitor_direction_and_falls_back_to_loss():
    s = MonitorState(monitor="val_accuracy")
    s.apply(run_events())
    assert s.best_epoch()[0] == 4
    s = MonitorState()
    s.apply([ev("epoch", 1.0, epoch=0, logs={"loss": 2.0}), ev("epoch", 2.0, epoch=1, logs={"loss": 1.0})])
    assert s.best_epoch() == (2, 1.0, "loss")
    assert MonitorState().best_epoch() is None


def test_state_eta_and_elapsed_mid_run():
    s = MonitorState(batch_size=1)
    s.apply(
        [
            ev("state", 10.0, state="running"),
            ev("batch", 11.0, epoch=0, batch=0, steps=10, epochs=3, eta_s=9.0, logs={"loss": 1.0}),
            ev("batch", 12.0, epoch=0, batch=4, steps=10, epochs=3, eta_s=5.0, logs={"loss": 1.0}),
        ]
    )
    # 4 steps per second; 5 left in this epoch + 20 in the next two.
    assert s.eta_s() == pytest.approx(25 / 4)
    assert s.elapsed_s() == pytest.approx(2.0)
    assert s.elapsed_s(now=15.0) == pytest.approx(5.0)
    s.apply([ev("state", 13.0, state="finished", reason="stopped")])
    assert s.eta_s() is None and s.elapsed_s(now=99.0) == pytest.approx(3.0) and s.reason == "stopped"


def test_state_error_warning_lr_find_confusion_and_a_new_run_clears_the_error():
    s = MonitorState()
    s.apply(
        [
            ev("state", 0, state="running"),
            ev("error", 1, message="ValueError: bad", traceback="Traceback...", kind="exception"),
            ev("state", 1, state="failed"),
        ]
    )
    assert s.error == {"message": "ValueError: bad", "traceback": "Traceback...", "kind": "exception"}
    assert s.apply([ev("warning", 2, message="careful")]) == {"error"} and s.warnings == ["careful"]
    s.apply([ev("lr_find", 3, learning_rates=[1e-5, 1e-3], losses=[2.0, 1.0], suggested=1e-4)])
    assert s.lr_find["suggested"] == 1e-4
    s.apply([ev("confusion", 4, epoch=0, matrix=[[2, 0], [1, 1]], class_names=["cat", "dog"])])
    assert s.confusion["class_names"] == ["cat", "dog"]
    assert s.confusion["per_class_accuracy"].tolist() == [1.0, 0.5]
    s.apply([ev("state", 5, state="running")])
    assert s.error is None


def test_state_load_history_is_idempotent_and_matches_events():
    history = {"epoch": [0, 1], "phase": ["fit", "fit"], "loss": [1.0, 0.5], "val_loss": [None, 0.7]}
    s = MonitorState()
    s.load_history(history, [{"name": "fit", "start_epoch": 0, "end_epoch": 2, "learning_rate": 0.01}])
    s.load_history(history, [{"name": "fit", "start_epoch": 0, "end_epoch": 2, "learning_rate": 0.01}])
    assert s.epoch_series("loss")[1].tolist() == [1.0, 0.5]
    assert s.epoch_series("val_loss")[0].tolist() == [2]
    assert len(s.phases) == 1


def test_batch_steps_keep_increasing_across_runs():
    s = MonitorState()
    s.apply(
        [
            ev("batch", 1, epoch=1, batch=5, steps=10, logs={"loss": 1.0}),
            ev("batch", 2, epoch=0, batch=1, steps=10, logs={"loss": 1.0}),
        ]
    )
    assert s.batch_steps == [16, 17]


def test_running_ema_matches_ema_in_pieces():
    from transfer_widgets.monitor import RunningEMA

    values = [3.0, math.nan, 1.0, 2.0, 5.0]
    r = RunningEMA(0.8)
    r.extend(values[:2])
    r.extend(values[2:])
    assert np.allclose(r.values, ema(values, 0.8), equal_nan=True)


def test_lttb_is_fast_on_long_series():
    import time

    x = np.arange(200_000, dtype=float)
    y = np.random.default_rng(1).normal(size=x.size)
    t = time.perf_counter()
    lttb(x, y, 2000)
    assert time.perf_counter() - t < 0.5  # generous on a shared machine; about 10 ms here


# -- runs, partial epochs, throughput and ETA (issue 11) -----------------------------------------


def epoch_of_batches(out, t, train_s, *, run, epoch, run_epoch, steps=44, step_s=0.125, upto=None):
    """Batch events of one epoch as the controller emits them (every batch here), with the
    training clock ``train_s``; returns the times reached."""
    for b in range(steps if upto is None else upto):
        t += step_s
        train_s += step_s
        out.append(
            ev(
                "batch",
                t,
                run=run,
                phase="fit",
                epoch=epoch,
                run_epoch=run_epoch,
                run_epochs=12,
                batch=b,
                steps=steps,
                epochs=epoch + 12,
                eta_s=None,
                train_s=train_s,
                logs={"loss": 2.0},
            )
        )
    return t, train_s


def test_samples_per_s_after_a_run_stopped_one_batch_into_an_epoch():
    """The "3 samples/s" report: 44 steps of 32 at 8 steps/s, ten seconds of validation
    (and a confusion matrix) at the epoch's end, one batch of the next epoch, stop. On
    wall time the window held only the steps either side of the validation: 1 step in
    10 s. On the training clock the rate is the real one."""
    out = [ev("state", 0.0, state="running", run=1, task="fit")]
    t, train_s = epoch_of_batches(out, 0.0, 0.0, run=1, epoch=0, run_epoch=0)
    out.append(ev("epoch", t + 10, run=1, epoch=0, run_epoch=0, logs={"loss": 2.0}, partial=False))
    t, train_s = epoch_of_batches(out, t + 10, train_s, run=1, epoch=1, run_epoch=1, upto=1)
    out += [
        ev("state", t, state="stopping", run=1),
        ev(
            "epoch", t + 3, run=1, epoch=1, run_epoch=1, logs={"loss": 2.3}, partial=True, batches=1, steps=44
        ),
        ev("state", t + 3, state="finished", run=1, reason="stopped"),
    ]
    s = MonitorState(batch_size=32)
    s.apply(out)
    assert s.samples_per_s() == pytest.approx(256, rel=0.01)
    # Fed wall time (events without the training clock), the same run reads as a standstill.
    wall = MonitorState(batch_size=32)
    wall.apply([{k: v for k, v in e.items() if k != "train_s"} for e in out])
    assert wall.samples_per_s() < 10


def test_eta_holds_still_while_paused_and_after_resume():
    out = [ev("state", 0.0, state="running", run=1)]
    t, train_s = epoch_of_batches(out, 0.0, 0.0, run=1, epoch=0, run_epoch=0, upto=20)
    s = MonitorState(batch_size=32)
    s.apply(out)
    before = s.eta_s()
    # 24 steps left in this epoch + 11 epochs of 44, at 8 steps/s.
    assert before == pytest.approx((24 + 11 * 44) / 8, rel=0.01)
    s.apply([ev("state", t + 0.01, state="paused", run=1)])
    assert s.eta_s() == pytest.approx(before)
    s.apply([ev("state", t + 600, state="running", run=1)])  # ten minutes paused
    more = []
    epoch_of_batches(more, t + 600 - 20 * 0.125, train_s - 20 * 0.125, run=1, epoch=0, run_epoch=0, upto=21)
    s.apply(more[20:])  # the next batch after the resume: 0.125 s more training
    assert s.eta_s() == pytest.approx((23 + 11 * 44) / 8, rel=0.01)
    assert s.run_epoch == 0 and s.epoch_progress() == (1, 12)


def test_eta_at_the_first_step_is_unknown_not_from_the_tracing_step():
    """Paused at step 1 after a first step of 17.5 s (the graph's tracing): the old ETA
    extrapolated that step over the epoch (12:33). The kernel now sends no ETA for it."""
    s = MonitorState(batch_size=32)
    s.apply(
        [
            ev("state", 0.0, state="running", run=1),
            ev("stage", 0.0, stage="preparing", run=1),
            ev(
                "batch",
                17.5,
                run=1,
                epoch=0,
                run_epoch=0,
                run_epochs=5,
                batch=0,
                steps=44,
                eta_s=None,
                train_s=17.5,
                logs={"loss": 2.3},
            ),
            ev("state", 17.6, state="paused", run=1),
        ]
    )
    assert s.eta_s() is None


def test_partial_epochs_stay_out_of_the_series_and_the_bar_stays_where_it_stopped():
    out = [ev("state", 0.0, state="running", run=1)]
    t, train_s = epoch_of_batches(out, 0.0, 0.0, run=1, epoch=0, run_epoch=0, steps=4)
    out.append(
        ev("epoch", t, run=1, epoch=0, run_epoch=0, logs={"loss": 1.0}, partial=False, batches=4, steps=4)
    )
    t, train_s = epoch_of_batches(out, t, train_s, run=1, epoch=1, run_epoch=1, steps=4, upto=1)
    out.append(
        ev("epoch", t, run=1, epoch=1, run_epoch=1, logs={"loss": 2.3}, partial=True, batches=1, steps=4)
    )
    s = MonitorState()
    s.apply(out)
    assert s.epoch_series("loss")[0].tolist() == [1]
    assert s.partial == {
        "run": 1,
        "phase": None,
        "epoch": 1,
        "run_epoch": 1,
        "batches": 1,
        "steps": 4,
        "logs": {"loss": 2.3},
    }
    assert (s.batch, s.steps) == (0, 4)
    assert s.best_epoch() == (1, 1.0, "loss")


def test_runs_count_their_own_epochs_and_phases():
    s = MonitorState()
    s.apply(
        [
            ev("state", 0, state="running", run=1, task="fit"),
            ev("phase", 0, phase="fit", run=1, start_epoch=0, learning_rate=1e-3),
            ev("epoch", 1, run=1, phase="fit", epoch=0, run_epoch=0, run_epochs=2, logs={"loss": 1.0}),
            ev("epoch", 2, run=1, phase="fit", epoch=1, run_epoch=1, run_epochs=2, logs={"loss": 0.9}),
            ev("state", 2, state="finished", run=1, reason="completed"),
            ev("state", 3, state="running", run=2, task="fine_tune"),
        ]
    )
    assert s.run == 2 and s.epoch_progress() is None and s.epochs_done() == 0  # nothing yet in run 2
    s.apply(
        [
            ev("phase", 3, phase="head", run=2, start_epoch=2, learning_rate=1e-3),
            ev(
                "batch",
                4,
                run=2,
                phase="head",
                epoch=2,
                run_epoch=0,
                run_epochs=5,
                batch=0,
                steps=10,
                logs={"loss": 0.8},
            ),
        ]
    )
    assert s.epoch_progress() == (1, 5)  # "Epoch 1 / 5", not "3 / 7"
    assert [p["name"] for p in s.phases] == ["head"] and len(s.all_phases) == 2
    assert s.epoch_series("loss", run=1)[0].tolist() == [1, 2]
    assert s.epoch_series("loss", run=2)[0].tolist() == []
    assert s.run_numbers() == [1, 2]


def test_an_lr_find_run_leaves_the_last_training_run_shown():
    s = MonitorState()
    s.apply(
        [
            ev("state", 0, state="running", run=1, task="fit"),
            ev("phase", 0, phase="fit", run=1, start_epoch=0, learning_rate=1e-3),
            ev("epoch", 1, run=1, phase="fit", epoch=0, run_epoch=0, run_epochs=1, logs={"loss": 1.0}),
            ev("state", 1, state="finished", run=1, reason="completed"),
            ev("state", 2, state="running", run=2, task="lr_find"),
            ev("state", 3, state="finished", run=2, reason="lr_find"),
        ]
    )
    assert s.run == 2 and s.shown_run == 1 and [p["name"] for p in s.phases] == ["fit"]
    s.apply([ev("state", 4, state="running", run=3, task="fit"), ev("stage", 4, stage="preparing", run=3)])
    assert s.stage == "preparing" and s.shown_run == 1
    s.apply([ev("phase", 5, phase="fit", run=3, start_epoch=1, learning_rate=1e-3)])
    assert s.shown_run == 3 and s.phases[0]["start_epoch"] == 1
