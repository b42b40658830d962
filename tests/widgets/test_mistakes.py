"""The mistakes panel, kernel side: nothing before an epoch, then the confusion matrix,
gallery pages for a cell, heat maps and label issues as the view asks for them."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from transfer_widgets import FineTuneController, TransferConfig
from transfer_widgets.data.datasets import load_digits, small_cnn
from transfer_widgets.data.overview import display_image
from transfer_widgets.widgets.mistakes import HEAT_OPACITY, PAGE_SIZE, Mistakes, blend_heat

PNG = b"\x89PNG\r\n\x1a\n"


def _ask(panel: Mistakes, **msg) -> tuple[dict, list[bytes]]:
    sent: list[tuple[dict, list[bytes]]] = []
    panel.send = lambda m, buffers=None: sent.append((m, list(buffers or [])))
    panel._on_front_end_msg(panel, msg, [])
    return sent[-1]


@pytest.fixture(scope="module")
def trained() -> tuple[FineTuneController, Mistakes]:
    x, y = load_digits(image_size=(16, 16))
    c = TransferConfig()
    c.preprocessing.mode = "none"
    c.head.layers = c.head.layers[:1]
    c.training.seed = 0
    c.training.learning_rate = 3e-3
    c.head.class_names = [f"d{i}" for i in range(10)]
    ctl = FineTuneController(
        small_cnn((16, 16, 3)), num_classes=10, train_data=(x[:900], y[:900]),
        validation_data=(x[900:1300], y[900:1300]), config=c,
    )  # fmt: skip
    ctl.unfreeze_all()
    panel = Mistakes(ctl)
    assert panel.state["confusion"] == [] and "Train for an epoch" in panel.state["message"]
    ctl.fit(2, block=True)
    ctl.events.flush()
    return ctl, panel


def test_state_after_training_and_a_confusion_cell(trained) -> None:
    _, panel = trained
    s = panel.state
    m = np.array(s["confusion"])
    assert m.shape == (10, 10) and m.sum() == 400 == s["total"] and s["weights"] == "current"
    assert s["classes"][3] == "d3" and s["errors"] == 400 - np.trace(m)
    pair = s["most_confused"][0]
    msg, buffers = _ask(panel, type="gallery", true=pair["true"], predicted=pair["predicted"], page=0)
    assert msg["total"] == pair["count"] == m[pair["true"], pair["predicted"]]
    assert all(i["label"] == pair["true"] and i["predicted"] == pair["predicted"] for i in msg["items"])
    assert len(buffers) == len(msg["items"]) and all(b.startswith(PNG) for b in buffers)


def test_gallery_pages_by_loss(trained) -> None:
    _, panel = trained
    first, buffers = _ask(panel, type="gallery", true=None, predicted=None, page=0)
    second, _ = _ask(panel, type="gallery", true=None, predicted=None, page=1)
    assert len(first["items"]) == PAGE_SIZE == len(buffers) and first["has_more"] and first["total"] == 400
    losses = [i["loss"] for i in first["items"] + second["items"]]
    assert losses == sorted(losses, reverse=True)


def test_heatmap_and_label_issues(trained) -> None:
    _, panel = trained
    msg, buffers = _ask(panel, type="heatmap", index=3)
    assert msg == {"type": "heatmap", "index": 3, "error": None} and buffers[0].startswith(PNG)
    msg, buffers = _ask(panel, type="heatmap", index=10_000)
    assert msg["type"] == "heatmap" and "out of range" in msg["error"] and buffers == []
    msg, buffers = _ask(panel, type="label_issues")
    assert msg["type"] == "label_issues" and msg["examples"] == 900
    assert len(buffers) == len(msg["items"]) <= msg["count"]
    rows = list(csv.reader(io.StringIO(msg["csv"])))
    assert rows[0][:4] == ["index", "path", "label", "suggested"] and len(rows) == msg["count"] + 1


def test_heat_map_is_drawn_over_the_image_and_gradcam_stays_raw(trained) -> None:
    """Each pixel changes at most as much as its heat allows; the hottest is tinted red;
    :meth:`Interpretation.gradcam` keeps returning the raw map in [0, 1]."""
    import tensorflow as tf

    _, panel = trained
    heat = panel.interpretation.gradcam(3)
    assert heat.shape == (16, 16) and np.issubdtype(heat.dtype, np.floating)
    assert heat.min() >= 0.0 and heat.max() == pytest.approx(1.0)
    _, buffers = _ask(panel, type="heatmap", index=3)
    blended = tf.io.decode_png(buffers[0]).numpy().astype(int)
    plain = display_image(panel.interpretation.samples.images([3])[0], panel._data_range()).astype(int)
    plain = np.repeat(plain, 3, axis=-1) if plain.shape[-1] == 1 else plain
    change = np.abs(blended - plain).max(axis=-1)
    assert np.all(change <= 255 * HEAT_OPACITY * heat**2 + 1)  # no heat, no change: the image shows
    red, green, blue = blended[np.unravel_index(np.argmax(heat), heat.shape)]
    assert red > green and red > blue  # the plain image is grey: red marks where the model looked
    np.testing.assert_array_equal(panel.interpretation.gradcam(3), heat)


def test_blend_heat_fades_with_the_heat() -> None:
    grey = np.full((2, 2, 1), 100, np.uint8)
    heat = np.array([[0.0, 0.25], [0.5, 1.0]])
    out = blend_heat(grey, heat)
    assert out.shape == (2, 2, 3) and out.dtype == np.uint8
    out = out.astype(int)
    assert out[0, 0].tolist() == [100, 100, 100]
    change = [np.abs(out[i, j] - 100).sum() for i, j in [(0, 1), (1, 0), (1, 1)]]
    assert change == sorted(change) and change[0] > 0
    assert out[1, 1, 0] > 180 and out[1, 1, 2] < 100  # hot: red over the grey, still not opaque
    assert out[1, 1, 0] < 255 * HEAT_OPACITY + 100 * (1 - HEAT_OPACITY) + 1


def test_needs_a_controller() -> None:
    with pytest.raises(TypeError, match="needs a FineTuneController"):
        Mistakes(object())  # type: ignore[arg-type]


def test_close_stops_keeping_epoch_weights(trained) -> None:
    ctl, _ = trained
    panel = Mistakes(ctl)
    assert panel.interpretation._keeper in ctl.run_callbacks
    panel.close()
    assert panel.interpretation._keeper not in ctl.run_callbacks


def test_a_monitor_cell_click_selects_the_cell(trained) -> None:
    from transfer_widgets.widgets.training_monitor import TrainingMonitor

    ctl, panel = trained
    monitor = TrainingMonitor(ctl)
    panel.follow_monitor(monitor)
    monitor.confusion_map._handle_custom_msgs(
        None, {"event": "element_click", "data": {"rowNum": 3, "columnNum": 8}}
    )
    assert panel.cell == [3, 8]
    with pytest.raises(ValueError, match="TrainingMonitor made with confusion=True"):
        panel.follow_monitor(object())
    monitor.close()
