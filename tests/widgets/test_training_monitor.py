"""TrainingMonitor on the Python side: simulated controller events and real runs
on tiny models, checked on the bqplot marks and ipywidgets it drives."""

from __future__ import annotations

import time

import keras
import numpy as np
import pytest

from transfer_widgets import FineTuneController, TrainingMonitor, TransferConfig, datasets
from transfer_widgets.monitor.callback import BatchLossRecorder, ValidationConfusion

# A view that raised would only be warned about (training goes on); here it fails the test.
pytestmark = pytest.mark.filterwarnings("error:transfer_widgets. an event subscriber raised:RuntimeWarning")


@pytest.fixture(scope="module")
def digits():
    x, y = datasets.load_digits()
    return x, y


def make_controller(digits, n=320, batch_size=32, class_names=None, **training):
    x, y = digits
    base = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(8, 3, name="conv")], name="tiny")
    c = TransferConfig()
    c.preprocessing.mode = "rescale"
    c.training.batch_size = batch_size
    c.training.seed = 0
    c.head.class_names = class_names
    for k, v in training.items():
        setattr(c.training, k, v)
    return FineTuneController(
        base,
        num_classes=10,
        train_data=(x[:n], y[:n]),
        validation_data=(x[n : n + 160], y[n : n + 160]),
        config=c,
    )


def emit_run(ctl, epochs=3, steps=10, phases=(("head", 0, 1e-3),)):
    ev = ctl.events
    ev.emit("state", state="running")
    starts = {s: (name, lr) for name, s, lr in phases}
    phase = None
    for epoch in range(epochs):
        if epoch in starts:
            phase = starts[epoch][0]
            ev.emit("phase", phase=phase, start_epoch=epoch, learning_rate=starts[epoch][1])
        for b in range(steps):
            ev.emit(
                "batch",
                phase=phase,
                epoch=epoch,
                batch=b,
                steps=steps,
                epochs=epochs,
                eta_s=1.0,
                logs={"loss": 2.0 - 0.1 * epoch},
            )
            ev.flush()
        ev.emit(
            "epoch",
            phase=phase,
            epoch=epoch,
            epochs=epochs,
            seconds=1.0,
            logs={
                "accuracy": 0.3 + 0.1 * epoch,
                "loss": 2.0 - 0.3 * epoch,
                "val_accuracy": [0.2, 0.6, 0.5][epoch % 3],
                "val_loss": [1.9, 1.2, 1.4][epoch % 3],
            },
        )
        ev.flush()


def test_simulated_events_draw_epoch_curves_best_epoch_phases_and_progress(digits):
    ctl = make_controller(digits)
    m = TrainingMonitor(ctl)
    emit_run(ctl, epochs=3, phases=(("head", 0, 1e-3), ("fine_tune", 2, 1e-4)))
    m.flush()  # the render budget may hold the last batches back
    assert list(m.epoch_charts) == ["loss", "accuracy"]  # loss first
    loss = m.epoch_charts["loss"].marks
    assert loss["train"].x.tolist() == [1, 2, 3] and loss["train"].y.dtype == np.float32
    assert loss["val"].y.tolist() == pytest.approx([1.9, 1.2, 1.4])
    assert loss["best"].x.tolist() == [2] and loss["best"].y.tolist() == pytest.approx([1.2])
    assert m.epoch_charts["accuracy"].marks["best"].x.tolist() == []  # val_loss is the monitored key
    assert np.reshape(loss["phase"].x, (-1, 2)).tolist() == [
        [2.5, 2.5]
    ]  # the fine-tune phase starts after epoch 2
    assert "head → fine_tune" in m.epoch_charts["loss"].head.value  # in the legend: titles keep their size
    assert m.epoch_charts["loss"].figure.title == ""
    assert (m.epoch_bar.value, m.epoch_bar.max) == (3, 3)
    assert (m.batch_bar.value, m.batch_bar.max) == (10, 10)
    assert m.status.value.startswith("Running") and "phase fine_tune" in m.status.value
    assert "lr 0.0001" in m.status.value and "ETA" in m.stats.value
    assert m.stop_button.disabled is False and m.train_button.disabled is True
    ctl.events.emit("state", state="paused")
    assert m.pause_button.description == "Resume"
    ctl.events.emit("state", state="finished", reason="stopped")
    assert m.status.value.startswith("Finished (stopped)") and m.stop_button.disabled


def test_long_batch_series_are_decimated_so_updates_stay_the_same_size(digits):
    ctl = make_controller(digits)
    m = TrainingMonitor(ctl)  # 1,000 points per series by default
    rec = next(cb for cb in ctl.run_callbacks if isinstance(cb, BatchLossRecorder))
    sizes = {}
    rng = np.random.default_rng(0)
    for n in (1_000, 20_000, 100_000):
        while len(rec.steps) < n:
            rec.steps.append(len(rec.steps) + 1)
            rec.losses.append(float(rng.normal()))
        ctl.events.emit("batch", epoch=0, batch=n - 1, steps=n, epochs=1, logs={"loss": 1.0})
        ctl.events.flush()
        m.flush()
        raw, smooth = m.batch_chart.marks["raw"], m.batch_chart.marks["smooth"]
        assert raw.x.dtype == np.float32 and smooth.y.dtype == np.float32
        assert raw.x[-1] == n
        sizes[n] = raw.x.nbytes + raw.y.nbytes + smooth.x.nbytes + smooth.y.nbytes
    assert sizes[1_000] == sizes[20_000] == sizes[100_000] == 4 * 1_000 * 4


def test_the_live_batch_chart_moves_its_axes_rarely_and_always_covers_the_data(digits):
    """Each axis change redraws and re-measures the tick labels in the browser: while
    a run grows, updates should move the lines, not the axes."""
    ctl = make_controller(digits)
    m = TrainingMonitor(ctl)
    rec = next(cb for cb in ctl.run_callbacks if isinstance(cb, BatchLossRecorder))
    chart = m.batch_chart
    changes = {"x": 0, "y": 0}
    chart.x.observe(lambda _: changes.__setitem__("x", changes["x"] + 1), names="max")
    chart.y.observe(lambda _: changes.__setitem__("y", changes["y"] + 1), names=["min", "max"])
    rng = np.random.default_rng(0)
    updates = 0
    for n in range(20, 3001, 20):  # 150 updates of a slowly falling, noisy loss
        while len(rec.steps) < n:
            step = len(rec.steps) + 1
            rec.steps.append(step)
            rec.losses.append(2.3 * np.exp(-step / 1500) + float(rng.normal(0, 0.05)))
        ctl.events.emit("batch", epoch=0, batch=n - 1, steps=3000, epochs=1, logs={"loss": 1.0})
        ctl.events.flush()
        m.flush()
        updates += 1
        # Never a point outside the axes, whatever was skipped.
        assert chart.x.min <= chart.marks["raw"].x.min() and chart.marks["raw"].x.max() <= chart.x.max
        smooth = chart.marks["smooth"].y
        assert chart.y.min <= smooth.min() and smooth.max() <= chart.y.max
    assert updates == 150
    assert changes["x"] <= 15 and changes["y"] <= 20, changes
    # Once the run has ended, the x axis fits what it drew (no empty stretch on the right).
    rec.steps.extend(range(3001, 3101))
    rec.losses.extend([0.3] * 100)
    ctl.events.emit("batch", epoch=0, batch=3099, steps=3100, epochs=1, logs={"loss": 1.0})
    ctl.events.flush()
    m.flush()
    ahead = chart.x.max
    ctl.events.emit("state", state="finished")
    ctl.events.flush()
    m.flush()
    assert ahead > 3500 and 3100 <= chart.x.max <= 3100 * 1.04, (ahead, chart.x.max)


def test_figures_join_the_page_one_per_pass_and_all_of_them_soon(digits):
    """A figure's first draw is the browser's costliest step: two joining in one update
    made one long task. They join one at a time, and none is left out."""
    ctl = make_controller(digits)
    m = TrainingMonitor(ctl)
    joined = []
    m._charts_box.observe(lambda c: joined.append(len(c["new"]) - len(c["old"])), names="children")
    emit_run(ctl, epochs=1, steps=3)  # the first epoch brings loss and accuracy charts at once
    m.flush()
    deadline = time.monotonic() + 5
    while len(m._charts_box.children) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    titles = [c.children[0].value for c in m._charts_box.children]
    assert len(titles) == 3 and "Loss per epoch" in titles[1] and "Accuracy per epoch" in titles[2]
    assert joined and max(joined) == 1, joined


def test_errors_show_readable_escaped_message_and_traceback_on_demand(digits):
    ctl = make_controller(digits)
    m = TrainingMonitor(ctl)
    assert m.error_text.value == "" and m.traceback_button.layout.display == "none"
    ctl.events.emit(
        "error",
        message="ValueError: <script>bad</script>",
        traceback="Traceback: line 1 <x>",
        kind="exception",
    )
    assert "Training failed" in m.error_text.value and "&lt;script&gt;" in m.error_text.value
    assert "<script>" not in m.error_text.value
    assert m.traceback_button.layout.display == "" and m.traceback_text.value == ""
    m.traceback_button.value = True
    assert "Traceback: line 1 &lt;x&gt;" in m.traceback_text.value
    assert m.traceback_button.description == "Hide traceback"
    ctl.events.emit("error", message="Loss became nan", traceback=None, kind="nan")
    assert "NaN loss" in m.error_text.value and m.traceback_button.layout.display == "none"
    ctl.events.emit("state", state="running")  # a new run clears the error
    assert m.error_text.value == ""


def test_nan_loss_run_is_shown_as_an_error(digits):
    ctl = make_controller(digits, learning_rate=1e9, nan_guard=True)
    m = TrainingMonitor(ctl)
    m.train_button.click()
    ctl.wait(60)
    if ctl.state == "failed":
        assert "NaN loss" in m.error_text.value or "Training failed" in m.error_text.value
    else:  # the loss did not overflow on this machine; the monitor shows a clean finish
        assert m.status.value.startswith("Finished")


def test_train_button_runs_in_background_and_draws_curves_and_confusion(digits):
    ctl = make_controller(digits, class_names=[f"d{i}" for i in range(10)], epochs=2)
    m = TrainingMonitor(ctl)
    m.train_button.click()
    assert ctl.wait(60) == "finished"
    assert m.status.value.startswith("Finished (completed)")
    assert len(m.batch_chart.marks["raw"].x) == 20  # 320 / 32 per epoch, two epochs: every batch
    assert m.epoch_charts["loss"].marks["val"].x.tolist() == [1, 2]
    assert m.confusion_map.row.tolist() == [f"d{i}" for i in range(10)]
    assert m.confusion_map.color.shape == (10, 10) and m.confusion_map.color.sum() == 160
    assert m.class_accuracy.y.shape == (10,) and m._confusion_box.layout.display == "flex"
    assert m.confusion_text.value.startswith("Epoch 2:")
    assert m.history["epoch"] == [0, 1]
    header = m.to_csv().splitlines()[0].split(",")
    assert header[0] == "epoch" and "phase" in header and "val_loss" in header
    assert list(m.to_dataframe()["epoch"]) == [0, 1]


def test_stop_and_pause_buttons_control_the_run(digits):
    ctl = make_controller(digits, n=960, batch_size=8, epochs=200)
    m = TrainingMonitor(ctl, confusion=False)
    m.train_button.click()
    try:
        deadline = time.monotonic() + 30
        while not m.state.batch_steps and time.monotonic() < deadline:
            time.sleep(0.05)
        m.pause_button.click()
        assert ctl.state == "paused"
        time.sleep(0.3)
        steps = len(m._recorder.steps)
        time.sleep(0.3)
        assert len(m._recorder.steps) == steps  # nothing trains while paused
        assert m.pause_button.description == "Resume"
        m.pause_button.click()
        assert ctl.state == "running"
        m.stop_button.click()
        assert ctl.wait(30) == "finished"
        after = len(m._recorder.steps)
        assert ctl.stop_reason == "stopped" and len(ctl.history.get("epoch", [])) < 200
        assert len(m._recorder.steps) == after
        assert m.status.value.startswith("Finished (stopped)")
    finally:
        ctl.stop()
        ctl.wait(30)


def test_refused_click_shows_the_reason(digits):
    ctl = make_controller(digits)
    m = TrainingMonitor(ctl)
    ctl.train_data = None  # preflight refuses
    m.train_button.click()
    assert "could not start" in m.error_text.value and "train_data is missing" in m.error_text.value


def test_find_lr_plots_on_a_log_axis_and_applies_the_suggestion(digits):
    ctl = make_controller(digits)
    m = TrainingMonitor(ctl, lr_find_steps=30)
    assert m._lr_box.layout.display == "none" and m.apply_lr_button.disabled
    m.lr_find_button.click()
    m._lr_thread.join(60)
    assert m._lr_box.layout.display == "flex"
    loss = m.lr_chart.marks["loss"]
    assert len(loss.x) > 2 and loss.x.dtype == np.float32 and type(m.lr_chart.x).__name__ == "LogScale"
    suggested = m.state.lr_find["suggested"]
    if suggested is None:
        assert "No suggestion" in m.lr_text.value and m.apply_lr_button.disabled
        return
    assert np.ravel(m.lr_chart.marks["suggested"].x).tolist() == [pytest.approx(suggested, rel=1e-6)] * 2
    assert not m.apply_lr_button.disabled and "Apply suggested LR (" in m.apply_lr_button.description
    m.apply_lr_button.click()
    assert ctl.config.training.learning_rate == pytest.approx(suggested)
    assert "Learning rate set to" in m.lr_text.value


def test_apply_suggestion_from_simulated_lr_find_event(digits):
    ctl = make_controller(digits)
    m = TrainingMonitor(ctl)
    ctl.events.emit(
        "lr_find",
        learning_rates=[1e-5, 1e-4, 1e-3, 1e-2],
        losses=[2.0, 1.8, 1.0, float("nan")],
        suggested=1e-4,
    )
    assert m.lr_chart.marks["loss"].x.tolist() == pytest.approx([1e-5, 1e-4, 1e-3])
    assert m.apply_suggested_lr() == pytest.approx(1e-4)
    assert ctl.config.training.learning_rate == pytest.approx(1e-4)


def test_late_monitor_shows_what_happened_and_two_monitors_stay_in_step(digits):
    ctl = make_controller(digits, epochs=2)
    first = TrainingMonitor(ctl)
    ctl.fine_tune(head_epochs=1, epochs=1, block=True)
    late = TrainingMonitor(ctl)
    for m in (first, late):
        assert m.epoch_charts["loss"].marks["train"].x.tolist() == [1, 2]
        assert np.reshape(m.epoch_charts["loss"].marks["phase"].x, (-1, 2)).tolist() == [[1.5, 1.5]]
        assert m.status.value.startswith("Finished")
        assert m.confusion_text.value.startswith("Epoch 2:")
    assert late.batch_chart.marks["raw"].x.tolist() == first.batch_chart.marks["raw"].x.tolist()
    ctl.fit(1, block=True)
    loss = late.epoch_charts["loss"]
    assert loss.marks["train"].x.tolist() == [3]  # the current run, drawn clearly
    assert loss.marks["prev_train"].x.tolist() == [1, 2]  # the earlier run, faint
    assert "earlier runs" in loss.head.value and loss.figure.title == ""
    assert first.batch_chart.marks["raw"].y.tolist() == late.batch_chart.marks["raw"].y.tolist()
    assert sum(isinstance(cb, BatchLossRecorder) for cb in ctl.run_callbacks) == 1
    assert sum(isinstance(cb, ValidationConfusion) for cb in ctl.run_callbacks) == 1


def test_close_unsubscribes(digits):
    ctl = make_controller(digits)
    m = TrainingMonitor(ctl)
    before = m.updates
    m.close()
    ctl.events.emit("state", state="running")
    assert m.updates == before


def test_nice_ticks_are_few_round_and_written_without_exponents():
    from transfer_widgets.widgets.training_monitor import nice_ticks

    lo, hi, ticks, fmt = nice_ticks(2.3006, 2.3034)  # the range a user saw as 14 ticks
    assert len(ticks) <= 6 and lo <= 2.3006 and hi >= 2.3034
    assert fmt == ".3f" and ticks == [2.3, 2.301, 2.302, 2.303, 2.304]
    assert nice_ticks(0.0, 1.0)[2] == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert nice_ticks(1, 100)[3] == ",d"
    _, _, ticks, _ = nice_ticks(5.0, 5.0)  # one value: a window around it, never 0-1
    assert min(ticks) <= 5.0 <= max(ticks) and len(ticks) <= 6


def test_before_a_run_the_monitor_says_what_will_appear_and_draws_no_empty_chart(digits):
    m = TrainingMonitor(make_controller(digits))
    assert m.empty.layout.display == "" and "Press" in m.empty.value and "Train" in m.empty.value
    assert m._charts_box.children == () and m._charts_box.layout.display == "none"
    assert "tw-widget" in m._dom_classes and "Training monitor" in m.header.value
    assert "<style>" in m._style.value


def test_starting_shows_at_once_then_running_with_the_first_batch(digits):
    ctl = make_controller(digits)
    m = TrainingMonitor(ctl)
    ctl.events.emit("state", state="running", task="fit", run=1)
    assert m.status.value.startswith("Starting…") and 'data-state="starting"' in m.header.value
    assert m.empty.layout.display == "none"
    ctl.events.emit("stage", stage="compiling", run=1)
    assert m.status.value == "Starting… compiling the model"
    ctl.events.emit("batch", epoch=0, batch=0, steps=10, epochs=1, logs={"loss": 2.0}, run=1)
    ctl.events.flush()
    m.flush()
    assert m.status.value.startswith("Running")


def test_renders_are_budgeted_while_state_changes_draw_at_once(digits):
    ctl = make_controller(digits)
    m = TrainingMonitor(ctl, render_budget=0.0001)  # every render buys a long wait
    ctl.events.emit("state", state="running")
    before = m.updates
    for b in range(50):
        ctl.events.emit("batch", epoch=0, batch=b, steps=50, epochs=1, logs={"loss": 1.0})
        ctl.events.flush()
    assert m.updates - before <= 2  # held back by the budget
    ctl.events.emit("state", state="finished", reason="completed")  # drawn at once, with what was held
    assert m.status.value.startswith("Finished (completed)") and m.batch_bar.value == 50
    assert m.render_seconds > 0


def test_the_panel_ships_the_shared_theme_and_only_theme_colours(digits):
    """The monitor's stylesheet imports the shared panel theme (one source for the
    variables, frame, title row and badge) and the built bundle carries it."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    source = (root / "labextension/src/widgets/training_monitor.css").read_text()
    assert "@import './shared/theme.css';" in source
    theme = (root / "labextension/src/widgets/shared/theme.css").read_text()
    shared = re.findall(r"(--tw-[\w-]+):\s*[^;]+;", theme)
    assert shared and not any(f"{k}:" in source for k in shared)  # defined once, in the theme
    shipped = TrainingMonitor(make_controller(digits))._style.value
    assert all(f"{k}:" in shipped for k in shared) and ".tw-tm-charts" in shipped
    colours = re.findall(r"#[0-9a-fA-F]{3,6}\b", re.sub(r"var\([^()]*\)", "", source))
    assert colours == []  # every colour is a --jp-* variable (with its fallback inside var())


def test_the_lr_chart_draws_the_smoothed_loss_the_suggestion_was_judged_on(digits):
    ctl = make_controller(digits)
    m = TrainingMonitor(ctl)
    result = ctl.lr_find(start=1e-4, end=1.0, steps=30)
    drawn = m.lr_chart.marks["smooth"]
    assert drawn.y.tolist() == pytest.approx(result.smoothed, rel=1e-6)  # float32 on the wire
    # After a diverged (non-finite) step the rule stops smoothing; so does the drawn line.
    ctl.events.emit(
        "lr_find",
        learning_rates=[1e-5, 1e-4, 1e-3, 1e-2, 1e-1],
        losses=[2.0, 1.8, 1.0, float("nan"), 3.0],
        smoothed=[2.0, 1.9, 1.5],
        suggested=1e-4,
    )
    assert drawn.x.tolist() == pytest.approx([1e-5, 1e-4, 1e-3])
    assert drawn.y.tolist() == pytest.approx([2.0, 1.9, 1.5])


def test_the_runs_recipe_shows_muted_under_the_status_and_escaped(digits):
    ctl = make_controller(digits, n=64, epochs=1)
    m = TrainingMonitor(ctl)
    assert m.recipe.value == "" and m.recipe.layout.display == "none"  # no run yet
    ctl.fit(
        1,
        optimizer=keras.optimizers.SGD(0.01, momentum=0.9, nesterov=True),
        class_weight={0: 2.0},
        block=True,
    )
    m.flush()
    assert m.recipe.layout.display is None
    assert m.recipe.value == (
        '<span class="tw-muted">SGD · momentum 0.9, nesterov · class weights 0:2</span>'
    )
    ctl.run_records[-1].phases[-1].optimizer = "<img src=x onerror=alert(1)>"
    m._render_recipe()
    assert "<img" not in m.recipe.value and "&lt;img src=x" in m.recipe.value
