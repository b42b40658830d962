"""The data view, kernel side: counts and warnings on the first render, thumbnails
a page at a time as PNG bytes, image-folder problems and train/validation duplicates."""

from __future__ import annotations

import os

import keras
import numpy as np
import pytest

from transfer_widgets import FineTuneController, TransferConfig
from transfer_widgets.data.datasets import load_digits, small_cnn, write_image_folder
from transfer_widgets.data.overview import balance_warnings, display_image
from transfer_widgets.widgets.data_view import DataView

PNG = b"\x89PNG\r\n\x1a\n"


def _thumbs(view: DataView, split: str, cls: int, page: int = 0) -> tuple[dict, list[bytes]]:
    sent: list[tuple[dict, list[bytes]]] = []
    view.send = lambda msg, buffers=None: sent.append((msg, list(buffers or [])))
    view._on_front_end_msg(view, {"type": "thumbs", "split": split, "cls": cls, "page": page}, [])
    return sent[-1]


def test_digits_counts_warnings_and_lazy_thumbnails() -> None:
    x, y = load_digits(image_size=(16, 16))
    c = TransferConfig()
    c.preprocessing.mode = "none"
    c.head.layers = c.head.layers[:1]
    c.head.class_names = [f"digit {i}" for i in range(10)]
    keep = (y != 3) | (np.arange(len(y)) % 8 == 0)  # few 3s in training: imbalance
    ctl = FineTuneController(
        small_cnn((16, 16, 3)), num_classes=10, train_data=(x[keep][:1200], y[keep][:1200]),
        validation_data=(x[1500:], np.where(y[1500:] == 9, 0, y[1500:])), config=c,
    )  # fmt: skip
    view = DataView(ctl, page_size=6, background=False)
    s = view.summary
    assert s["classes"][0] == "digit 0" and sum(s["train"]) == 1200 and s["image_shape"] == [16, 16, 3]
    assert s["train"][3] < s["train"][1] / 3
    assert any("imbalanced" in w and "'digit 3'" in w for w in s["warnings"])
    assert any("'digit 9' has no validation examples" in w for w in s["warnings"])
    assert len(str(s)) < 2000  # the first render carries counts, no images

    msg, buffers = _thumbs(view, "train", 2)
    assert msg["type"] == "thumbs" and msg["cls"] == 2 and len(msg["items"]) == 6 and msg["has_more"]
    assert len(buffers) == 6 and all(b.startswith(PNG) for b in buffers)
    labels = ctl.train_data[1]
    assert all(labels[item["index"]] == 2 for item in msg["items"])
    msg2, _ = _thumbs(view, "train", 2, page=1)
    assert not {i["index"] for i in msg["items"]} & {i["index"] for i in msg2["items"]}
    assert view.checks["state"] == "done" and view.checks["duplicate_count"] == 0


def test_duplicates_between_train_and_validation() -> None:
    x, y = load_digits(image_size=(8, 8), channels=1)
    view = DataView((x[:100], y[:100]), validation_data=(x[95:140], y[95:140]), background=False)
    checks = view.checks
    assert checks["duplicate_count"] >= 5
    pairs = {(d["train"], d["validation"]) for d in checks["duplicates"]}
    assert {(95 + i, i) for i in range(5)} <= pairs


def test_image_folder_with_corrupt_file_rgba_and_text_file(tmp_path) -> None:
    import tensorflow as tf

    folder = write_image_folder(tmp_path / "imgs", per_class=6, image_size=(16, 16), classes=(1, 2))
    (tmp_path / "imgs" / "digit_1" / "broken.png").write_bytes(PNG + b"not really a png")
    (tmp_path / "imgs" / "digit_2" / "notes.txt").write_text("a stray file")
    rgba = np.zeros((16, 16, 4), np.uint8)
    rgba[..., 1] = 200
    rgba[..., 3] = 255
    tf.io.write_file(str(tmp_path / "imgs" / "digit_2" / "z_rgba.png"), tf.io.encode_png(rgba))
    big = np.full((24, 20, 3), 128, np.uint8)
    tf.io.write_file(str(tmp_path / "imgs" / "digit_2" / "z_big.png"), tf.io.encode_png(big))
    ds = keras.utils.image_dataset_from_directory(folder, image_size=(16, 16), batch_size=4, seed=0)

    view = DataView(ds, background=False)
    s = view.summary
    assert s["classes"] == ["digit_1", "digit_2"] and s["train"] == [7, 8]
    assert s["folder"] == folder
    problems = {os.path.basename(p["path"]): p["problem"] for p in view.checks["problems"]}
    assert "unreadable" in problems["broken.png"]
    assert "not an image" in problems["notes.txt"]
    assert "RGBA" in problems["z_rgba.png"] and "size 20x24" in problems["z_big.png"]

    msg, buffers = _thumbs(view, "train", 0, page=0)
    assert len(msg["items"]) == 7 and not msg["has_more"]  # digit_1: six digits and the broken file
    bad = [i for i in msg["items"] if i["error"]]
    assert [os.path.basename(i["path"]) for i in bad] == ["broken.png"]
    assert len(buffers) == 6 and all(b.startswith(PNG) for b in buffers)
    msg, buffers = _thumbs(view, "train", 1)
    assert len(buffers) == 8  # the RGBA and the odd-sized image are shown (as RGB, resized)


def test_display_handles_range_and_channels() -> None:
    grey01 = np.linspace(0, 1, 16, dtype=np.float32).reshape(4, 4, 1)
    out = display_image(grey01, (0.0, 1.0))
    assert out.shape == (4, 4, 1) and out.max() == 255 and out.min() == 0
    rgb255 = np.full((2, 2, 3), 200.0, np.float32)
    assert display_image(rgb255, (0.0, 255.0)).max() == 200
    signed = np.array([[[-1.0], [1.0]]], np.float32)
    assert display_image(signed, (-1.0, 1.0)).ravel().tolist() == [0, 255]
    dark = np.full((2, 2, 1), 0.5, np.float32)  # a dark image of a [0, 255] data set stays dark
    assert display_image(dark, (0.0, 255.0)).max() <= 1


def test_balance_warnings_thresholds() -> None:
    assert balance_warnings(["a", "b"], [30, 10], [3, 1]) == []
    (warning,) = balance_warnings(["a", "b"], [31, 10], None)
    assert "'a' has 31" in warning and "3.1x" in warning
    assert balance_warnings(["a", "b"], [5, 0], [1, 1])[0].startswith("No training examples for class 'b'")


def test_bad_split_is_answered_with_an_error() -> None:
    x, y = load_digits(image_size=(8, 8))
    view = DataView((x[:20], y[:20]), background=False)
    msg, buffers = _thumbs(view, "validation", 0)
    assert msg["type"] == "error" and "'train'" in msg["message"] and buffers == []
    with pytest.raises(ValueError, match="split must be one of"):
        view.thumbnails("test", 0)


def test_follows_new_data_not_other_settings() -> None:
    x, y = load_digits(image_size=(16, 16))
    c = TransferConfig()
    c.preprocessing.mode = "none"
    c.head.layers = c.head.layers[:1]
    ctl = FineTuneController(small_cnn((16, 16, 3)), num_classes=10, train_data=(x[:300], y[:300]), config=c)
    view = DataView(ctl, background=False)
    refreshed = []
    original = view.refresh
    view.refresh = lambda: (refreshed.append(1), original())[1]  # type: ignore[method-assign]
    ctl.set("training.learning_rate", 0.01)
    ctl.events.flush()
    assert refreshed == []  # a learning rate does not change the data
    ctl.load_config(ctl.config.to_json(), train_data=(x[:500], y[:500]))
    ctl.events.flush()
    assert refreshed and sum(view.summary["train"]) == 500
