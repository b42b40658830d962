"""Demo data: the digits as images, few-label splits, and an image folder on disk."""

import os

import numpy as np
import tensorflow as tf

from transfer_widgets import datasets


def test_digits_as_images():
    x, y = datasets.load_digits()
    assert x.shape == (1797, 8, 8, 3) and x.dtype == np.float32 and y.dtype == np.int32
    assert x.min() >= 0 and x.max() == 255 and set(np.unique(y)) == set(range(10))
    x2, y2 = datasets.load_digits(image_size=(16, 16), channels=1, classes=[7, 3])
    assert x2.shape[1:] == (16, 16, 1) and set(np.unique(y2)) == {0, 1}
    assert (y2 == 0).sum() == (datasets.load_digits()[1] == 7).sum()  # relabelled in the order given


def test_few_per_class_split_is_disjoint_and_balanced():
    x, y = datasets.load_digits(classes=[0, 1, 2])
    (_, yf), (_, yr) = datasets.few_per_class(x, y, per_class=4, seed=1)
    assert np.bincount(yf).tolist() == [4, 4, 4]
    assert len(yf) + len(yr) == len(y)


def test_image_folder_for_the_directory_workflow(tmp_path):
    path = datasets.write_image_folder(tmp_path / "imgs", per_class=5, image_size=(12, 12), classes=(4, 9))
    assert sorted(os.listdir(path)) == ["digit_4", "digit_9"]
    files = sorted(os.listdir(os.path.join(path, "digit_9")))
    assert len(files) == 5 and files[0].endswith(".png")
    image = tf.io.decode_png(tf.io.read_file(os.path.join(path, "digit_9", files[0])))
    assert tuple(image.shape) == (12, 12, 3)


def test_digits_on_a_canvas_keep_every_pixel():
    x, _ = datasets.load_digits(classes=[3])
    placed, _ = datasets.load_digits(classes=[3], canvas=20, seed=1)
    assert placed.shape[1:] == (20, 20, 3)
    np.testing.assert_allclose(placed.sum(axis=(1, 2, 3)), x.sum(axis=(1, 2, 3)), rtol=1e-5)


def test_transfer_beats_training_from_scratch_on_few_labels(capsys):
    result = datasets.transfer_demo(per_class=2, draws=2, seed=0)
    out = capsys.readouterr().out
    assert "pretrained on digits 0-4" in out and "from scratch" in out
    assert f"{result['transfer_accuracy']:.1%}" in out and f"{result['scratch_accuracy']:.1%}" in out
    assert result["source_accuracy"] > 0.9
    assert result["transfer_accuracy"] > result["scratch_accuracy"] + 0.05
