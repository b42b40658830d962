"""TransferStudio's Python side: one controller behind every panel, a header that says what
trains on what, workflow buttons that start runs without blocking and say why when they
cannot, and the other ways in (a config, a keras.applications name)."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from transfer_widgets import FineTuneController, TransferStudio
from transfer_widgets.data.summary import summarize
from transfer_widgets.widgets.snapshot_guard import SnapshotGuard
from transfer_widgets.widgets.studio import TABS

from .small_models import backbone, data


def small_studio(**kwargs):
    x, y = data(24)
    studio = TransferStudio(backbone(), train_data=(x, y), validation_data=data(8), num_classes=3, **kwargs)
    studio.controller.set("training.batch_size", 8)
    studio.controller.set("training.epochs", 1)
    return studio


@pytest.fixture
def studio():
    widget = small_studio()
    yield widget
    widget.controller.stop()
    widget.controller.wait()
    widget.close()


def test_every_panel_follows_the_one_controller(studio):
    c = studio.controller
    assert isinstance(c, FineTuneController)
    assert studio.tabs.titles == TABS
    assert list(studio.tabs.children) == [studio.tree, studio.head, studio.monitor, studio.export]
    assert studio.tree.controller is c and studio.head.controller is c
    assert studio.monitor.controller is c and studio.export.controller is c


def test_the_studio_and_its_monitor_each_carry_a_snapshot_guard_for_their_own_root(studio):
    """On a page with no kernel the toolbar and the monitor's controls (plain ipywidgets,
    no snapshot mode of their own) are turned off by a guard that names its composite's
    root class; the static fallbacks say nothing of it."""
    assert studio.guard in studio.children
    assert studio.guard.root == "tw-studio" and "tw-studio" in studio._dom_classes
    monitor = studio.monitor
    guards = [w for w in monitor.children if isinstance(w, SnapshotGuard)]
    assert [g.root for g in guards] == ["tw-training-monitor"]
    assert "tw-training-monitor" in monitor._dom_classes
    for guard in (studio.guard, *guards):
        assert "tw-snapshot-guard" in guard._dom_classes
        assert "tw-snapshot-note" in guard._esm  # the built bundle, which draws the note
    bundle = studio._repr_mimebundle_()
    assert bundle["text/plain"].startswith("TransferStudio: ")
    assert "snapshot" not in bundle["text/html"].lower()


@pytest.mark.parametrize("root", ["", ".tw-studio", "tw-studio tw-other", "a>b", None])
def test_a_guard_takes_one_class_name(root):
    with pytest.raises(ValueError, match="one CSS class name"):
        SnapshotGuard(root)


def test_header_names_the_model_the_data_and_the_mode(studio):
    header = studio.header.value
    assert "backbone + head" in header
    assert f"{studio.controller.model.count_params():,} params" in header
    assert "24 train" in header and "8 validation" in header
    counts = np.bincount(data(24)[1])
    assert f"{counts.min()}–{counts.max()} per class" in header
    assert "Fine-tune" in header and "idle" in header


def test_train_head_freezes_the_base_and_returns_while_it_trains(studio):
    c = studio.controller
    assert any(w.trainable for w in c.base_model.weights)
    assert studio.train_head() is True  # returns at once: the run is on a thread
    assert studio.tabs.selected_index == TABS.index("Training")
    assert not any(layer.trainable for layer in c.base_model.layers)
    assert c.wait(60) == "finished"
    studio.monitor.flush()
    assert len(c.history["loss"]) == 1
    assert not studio.train_head_button.disabled and studio.stop_button.disabled
    assert "finished" in studio.header.value
    assert "21 trainable" in studio.header.value  # the head only: 6 * 3 + 3


def test_buttons_follow_the_run_and_stop_stops_it(studio):
    c = studio.controller
    c.set("training.epochs", 50)
    studio.fine_tune_button.click()
    assert studio.train_head_button.disabled and studio.fine_tune_button.disabled
    assert not studio.stop_button.disabled
    studio.stop_button.click()
    c.wait(60)
    assert c.runs[-1]["reason"] == "stopped" and len(c.history.get("loss", [])) < 50
    assert not studio.fine_tune_button.disabled and studio.stop_button.disabled


def test_a_refused_start_says_why_and_changes_nothing():
    x, _ = data(24)
    studio = TransferStudio(backbone(), train_data=(x, np.full(24, 7)), num_classes=3)
    try:
        flags = [layer.trainable for layer in studio.controller.model.layers]
        assert studio.fine_tune() is False
        assert "Fine-tune did not start" in studio.status.value and "tw-studio-error" in studio.status.value
        assert "num_classes" in studio.status.value
        assert studio.controller.state == "idle"
        assert [layer.trainable for layer in studio.controller.model.layers] == flags
    finally:
        studio.close()


def test_hostile_names_stay_text_in_the_header():
    base = backbone()
    base.name = "<img src=x onerror=alert(1)>"
    studio = TransferStudio(base, train_data=data(), num_classes=3)
    try:
        assert "<img" not in studio.header.value
        assert "&lt;img src=x onerror=alert(1)&gt;" in studio.header.value
    finally:
        studio.close()


def test_export_button_shows_the_fresh_export(studio):
    studio.export_button.click()
    assert studio.tabs.selected_index == TABS.index("Export")
    assert studio.export.code == studio.controller.export_code("script")


def test_takes_a_controller_as_it_is_and_refuses_settings_beside_it():
    c = FineTuneController(backbone(), train_data=data(), num_classes=3)
    studio = TransferStudio(c)
    try:
        assert studio.controller is c
    finally:
        studio.close()
    with pytest.raises(TypeError, match="num_classes"):
        TransferStudio(c, num_classes=4)


def test_from_config_rebuilds_the_experiment(studio):
    studio.controller.set("training.learning_rate", 0.0123)
    again = TransferStudio.from_config(
        studio.controller.config.to_json(), backbone(), train_data=data(), num_classes=3
    )
    try:
        assert again.controller.config.training.learning_rate == 0.0123
        assert again.controller.config.head == studio.controller.config.head
    finally:
        again.close()


def test_from_application_builds_the_named_backbone():
    x, y = data(16)
    x = tf.image.resize(x, (32, 32)).numpy()
    studio = TransferStudio.from_application(
        "MobileNetV2", weights=None, input_shape=(32, 32, 3), train_data=(x, y), num_classes=3
    )
    try:
        base = studio.controller.config.base
        assert (base.source, base.name, base.weights) == ("application", "MobileNetV2", None)
        assert "mobilenetv2" in studio.header.value
    finally:
        studio.close()


def test_more_panels_join_as_tabs(studio):
    import ipywidgets

    extra = ipywidgets.HTML("data")
    studio.add_panel("Data", extra)
    studio.show("Data")
    assert studio.tabs.titles[-1] == "Data" and studio.tabs.selected_index == len(TABS)
    with pytest.raises(ValueError, match="Layers, Head"):
        studio.show("Nope")


def test_close_leaves_the_controller_with_no_listener_of_the_studio():
    studio = small_studio()
    c = studio.controller
    studio.close()
    assert c.events._subscribers == []  # the studio and each of its panels let go


@pytest.mark.parametrize(
    ("data_", "samples", "counts"),
    [
        ((np.zeros((5, 2)), np.array([0, 1, 1, 2, 2])), 5, (1, 2, 2)),
        ((np.zeros((3, 2)), keras.utils.to_categorical([0, 2, 2], 3)), 3, (1, 0, 2)),
        ((np.zeros((3, 2)), np.array([0.5, 0.1, 0.2])), 3, None),
    ],
)
def test_summaries_count_samples_and_classes(data_, samples, counts):
    s = summarize(data_)
    assert (s.samples, s.class_counts) == (samples, counts)


def test_a_pipeline_is_counted_in_batches():
    ds = tf.data.Dataset.from_tensor_slices(data(16)).batch(4)
    s = summarize(ds)
    assert (s.samples, s.batches, s.class_counts, s.balance) == (None, 4, None, None)
