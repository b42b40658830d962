"""The kernel-side analysis of a trained classifier: top losses, confusions, Grad-CAM
and likely label errors, used the way a script uses them (no widget)."""

from __future__ import annotations

import csv
import io
import threading

import keras
import numpy as np
import pytest

from transfer_widgets import FineTuneController, TransferConfig
from transfer_widgets.analysis import (
    Interpretation,
    NoFeatureMapError,
    find_label_issues,
    label_issues_csv,
    rank_label_issues,
)
from transfer_widgets.data.datasets import load_digits, small_cnn, write_image_folder
from transfer_widgets.data.samples import samples_of


def _config(lr: float = 3e-3, batch_size: int = 64) -> TransferConfig:
    c = TransferConfig()
    c.preprocessing.mode = "none"  # small_cnn rescales itself
    c.head.layers = c.head.layers[:1]  # global average pooling, then the softmax
    c.training.seed = 0
    c.training.learning_rate = lr
    c.training.batch_size = batch_size
    return c


def _digits_controller(y: np.ndarray, x: np.ndarray, epochs: int) -> FineTuneController:
    ctl = FineTuneController(small_cnn(x.shape[1:]), num_classes=10, train_data=(x, y), config=_config())
    ctl.unfreeze_all()
    ctl.fit(epochs, block=True)
    return ctl


def test_planted_label_noise_is_found() -> None:
    """Flip 10% of the digits' training labels (seed 0): the flipped ones lead the ranking.

    Scored on the full ranking at k = number flipped (``label_issues(k=...)``), where
    precision and recall are the same figure; the flagged set's own precision and
    recall are printed beside it."""
    x, y = load_digits(image_size=(16, 16))
    rng = np.random.default_rng(0)
    n_flip = round(0.1 * len(y))
    flipped = rng.choice(len(y), n_flip, replace=False)
    noisy = y.copy()
    noisy[flipped] = (y[flipped] + rng.integers(1, 10, n_flip)) % 10  # always another class
    ctl = _digits_controller(noisy, x, epochs=8)
    interp = Interpretation(ctl, "train")

    issues = interp.label_issues(folds=5, epochs=20)
    ranked = interp.label_issues(folds=5, epochs=20, k=n_flip)

    truth = set(flipped.tolist())
    top_k = {i.index for i in ranked}
    flagged = {i.index for i in issues}
    precision = len(top_k & truth) / len(ranked)
    recall = len(top_k & truth) / len(truth)
    print(
        f"planted noise: {n_flip} flipped; top-k ranking (k = {len(ranked)}): precision {precision:.3f}, "
        f"recall {recall:.3f}; flagged {len(flagged)}: precision {len(flagged & truth) / len(flagged):.3f}, "
        f"recall {len(flagged & truth) / len(truth):.3f}"
    )
    assert len(ranked) == n_flip and len(flagged) < n_flip  # the ranking reaches past the flagged set
    assert precision >= 0.6 and recall >= 0.6
    margins = [i.margin for i in ranked]
    assert margins == sorted(margins)
    assert {i.index for i in ranked if i.flagged} == top_k & flagged  # one score, both lists
    assert [i.index for i in issues if i.index in top_k] == [i.index for i in ranked if i.flagged]
    flipped_issue = next(i for i in issues if i.index in truth)
    assert flipped_issue.label == noisy[flipped_issue.index]
    assert flipped_issue.suggested != flipped_issue.label


def _bright_squares(
    n: int = 600, size: int = 32, square: int = 8
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Noise images; class 1 has a white square at a random, recorded place."""
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 60, (n, size, size, 3)).astype(np.float32)
    y = (np.arange(n) % 2).astype(np.int32)
    corner = rng.integers(0, size - square + 1, (n, 2))
    for i in np.flatnonzero(y == 1):
        r, c = corner[i]
        x[i, r : r + square, c : c + square] = 255.0
    return x, y, corner


@pytest.fixture(scope="module")
def squares() -> tuple[FineTuneController, np.ndarray, np.ndarray]:
    x, y, corner = _bright_squares()
    ctl = FineTuneController(
        small_cnn(x.shape[1:]), num_classes=2, train_data=(x, y), config=_config(2e-3, 32)
    )
    ctl.unfreeze_all()
    ctl.fit(4, block=True)
    return ctl, y, corner


def test_gradcam_peaks_on_the_square(squares: tuple[FineTuneController, np.ndarray, np.ndarray]) -> None:
    ctl, y, corner = squares
    interp = Interpretation(ctl, "train")
    assert interp.confusion_matrix().trace() >= 0.95 * len(y)  # it learned the task
    with_square = np.flatnonzero(y == 1)[:100]
    maps = interp.gradcams(with_square, classes=[1] * len(with_square))
    assert maps.shape == (100, 32, 32) and maps.min() >= 0 and maps.max() <= 1
    inside = 0
    for i, heat in zip(with_square, maps, strict=True):
        r, c = np.unravel_index(np.argmax(heat), heat.shape)
        inside += bool(corner[i][0] <= r < corner[i][0] + 8 and corner[i][1] <= c < corner[i][1] + 8)
    print(f"grad-cam peak inside the square: {inside}/{len(with_square)}")
    assert inside >= 0.9 * len(with_square)


def test_gradcam_layer_by_name_and_clear_errors(
    squares: tuple[FineTuneController, np.ndarray, np.ndarray],
) -> None:
    ctl, _, _ = squares
    interp = Interpretation(ctl, "train")
    heat = interp.gradcam(1, layer="block_2_conv")
    assert heat.shape == (32, 32) and heat.max() == pytest.approx(1.0)
    flat = keras.Sequential(
        [keras.Input((8, 8, 3)), keras.layers.Flatten(), keras.layers.Dense(4)], name="flat"
    )
    no_pooling = _config()
    no_pooling.head.layers = []
    vector = FineTuneController(
        flat,
        num_classes=2,
        train_data=(np.zeros((4, 8, 8, 3), np.float32), np.array([0, 1, 0, 1])),
        config=no_pooling,
    )
    flat_interp = Interpretation(vector, "train")
    with pytest.raises(NoFeatureMapError, match=r"convolutional feature map.*'flat'"):
        flat_interp.gradcam(0)
    with pytest.raises(NoFeatureMapError, match=r"'flatten' outputs .*not a 4-D feature map"):
        flat_interp.gradcam(0, layer="flatten")


def test_top_losses_confusion_and_filters() -> None:
    x, y = load_digits(image_size=(16, 16))
    ctl = _digits_controller(y[:600], x[:600], epochs=2)
    ctl.validation_data = (x[600:900], y[600:900])
    interp = Interpretation(ctl)  # the validation data by default
    assert len(interp.samples) == 300
    probs = interp.probabilities()
    np.testing.assert_allclose(probs, ctl.model.predict(x[600:900], verbose=0), rtol=1e-5, atol=1e-6)
    top = interp.top_losses(5)
    assert [r.loss for r in top] == sorted((r.loss for r in top), reverse=True)
    assert top[0].loss == pytest.approx(
        -np.log(max(probs[top[0].index, y[600 + top[0].index]], 1e-7)), rel=1e-5
    )
    m = interp.confusion_matrix()
    assert m.sum() == 300 and m.shape == (10, 10)
    confused = interp.most_confused()
    assert confused and confused[0][2] == max(m[t, p] for t in range(10) for p in range(10) if t != p)
    t, p, count = confused[0]
    cell = interp.top_losses(None, true=t, predicted=p)  # a confusion-matrix cell: exactly those images
    assert len(cell) == count and all(r.label == t and r.predicted == p for r in cell)


def test_predictions_use_the_last_completed_epoch() -> None:
    """While a run is active (here paused mid-epoch) the analysis predicts with the weights the
    model had at the last completed epoch, not those of the running one."""
    x, y = load_digits(image_size=(16, 16))
    x, y = x[:512], y[:512]
    ctl = FineTuneController(
        small_cnn(x.shape[1:]), num_classes=10, train_data=(x, y), config=_config(batch_size=32)
    )
    ctl.unfreeze_all()
    interp = Interpretation(ctl, "train")
    ctl.fit(1, block=True)
    after_epoch_1 = interp.probabilities().copy()
    assert interp.weights_source == "current"

    paused = threading.Event()

    def pause_mid_epoch(batch: int, logs: dict | None = None) -> None:
        if batch == 5 and not paused.is_set():
            ctl.pause()
            paused.set()

    ctl.fit(2, callbacks=[keras.callbacks.LambdaCallback(on_train_batch_end=pause_mid_epoch)])
    try:
        assert paused.wait(60)
        assert interp.weights_source == "epoch 1"
        np.testing.assert_allclose(interp.probabilities(), after_epoch_1, rtol=1e-5, atol=1e-6)
        live = ctl.model.predict_on_batch(x[:64])
        assert not np.allclose(live, after_epoch_1[:64], atol=1e-4)  # the running epoch moved the weights
    finally:
        ctl.resume()
        ctl.wait()
    assert interp.weights_source == "current"
    np.testing.assert_allclose(interp.probabilities(), ctl.model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


def test_confident_learning_on_known_probabilities() -> None:
    labels = np.array([0, 0, 0, 1, 1, 1, 2, 2])
    probs = np.array(
        [
            [0.9, 0.05, 0.05],
            [0.8, 0.1, 0.1],
            [0.1, 0.85, 0.05],  # labelled 0, the model is sure it is a 1
            [0.1, 0.8, 0.1],
            [0.05, 0.9, 0.05],
            [0.4, 0.5, 0.1],  # labelled 1, mildly doubted: below class 0's threshold
            [0.1, 0.1, 0.8],
            [0.3, 0.1, 0.6],  # labelled 2, p0 = 0.3 is below class 0's threshold (0.6)
        ]
    )
    doubts = find_label_issues(labels, probs)
    assert doubts.indices.tolist() == [2]
    assert doubts.suggested.tolist() == [1]
    assert doubts.margin[0] == pytest.approx(0.1 - 0.85)
    assert doubts.thresholds == pytest.approx([0.6, (0.8 + 0.9 + 0.5) / 3, 0.7])
    with pytest.raises(ValueError, match=r"labels must be in 0\.\.2"):
        find_label_issues(np.array([0, 3]), probs[:2])

    ranked = rank_label_issues(labels, probs, k=3)
    assert ranked.indices.tolist() == [2, 5, 7]  # margins -0.75, -0.1, 0.3: beyond the flagged one
    assert ranked.flagged.tolist() == [True, False, False]
    assert ranked.suggested.tolist() == [1, 0, 0]  # unflagged: the most probable other class
    assert rank_label_issues(labels, probs).indices.tolist()[:3] == [2, 5, 7]
    assert len(rank_label_issues(labels, probs).indices) == len(labels)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="k must be a positive integer"):
            rank_label_issues(labels, probs, k=bad)  # type: ignore[arg-type]


def test_label_issue_csv_lists_indices_paths_and_names() -> None:
    from transfer_widgets.analysis import LabelIssue

    text = label_issues_csv(
        [LabelIssue(7, 0, 2, -0.5, 0.2, "/data/cat/x,1.png")], class_names=["cat", "dog", "fox"]
    )
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["index", "path", "label", "suggested", "margin", "self_confidence", "flagged"]
    assert rows[1] == ["7", "/data/cat/x,1.png", "cat", "fox", "-0.500000", "0.200000", "1"]


def test_image_folder_samples_keep_paths_and_labels(tmp_path) -> None:
    folder = write_image_folder(tmp_path / "digits", per_class=4, image_size=(16, 16), classes=(3, 7))
    ds = keras.utils.image_dataset_from_directory(folder, image_size=(16, 16), batch_size=3, seed=1)
    samples = samples_of(ds)
    assert len(samples) == 8 and samples.class_names == ["digit_3", "digit_7"]
    for i, path in enumerate(samples.paths or []):
        assert samples.labels[i] == (0 if "digit_3" in path else 1)
    batches = np.concatenate(list(samples.batches(3)))
    np.testing.assert_allclose(batches[5], samples.images([5])[0])
    with pytest.raises(IndexError, match=r"0\.\.7"):
        samples.images([8])


def test_folder_pipeline_caches_reshuffles_and_keeps_paths(tmp_path) -> None:
    from transfer_widgets.data.folder import folder_datasets

    folder = write_image_folder(tmp_path / "digits", per_class=6, image_size=(12, 12), classes=(0, 1, 2))
    train, val = folder_datasets(folder, (12, 12), 4, validation_split=0.25, seed=3)
    assert len(train.file_paths) + len(val.file_paths) == 18 and train.class_names == [
        "digit_0",
        "digit_1",
        "digit_2",
    ]
    assert not set(train.file_paths) & set(val.file_paths)

    def epoch(ds) -> tuple[np.ndarray, np.ndarray]:
        xs, ys = zip(*((x.numpy(), y.numpy()) for x, y in ds), strict=True)
        return np.concatenate(xs), np.concatenate(ys)

    (x1, y1), (x2, y2) = epoch(train), epoch(train)
    assert x1.shape == (len(train.file_paths), 12, 12, 3)
    assert not np.array_equal(y1, y2) or not np.array_equal(x1, x2)  # reshuffled each epoch
    order = np.lexsort(x1.reshape(len(x1), -1).T)
    order2 = np.lexsort(x2.reshape(len(x2), -1).T)
    np.testing.assert_array_equal(x1[order], x2[order2])  # the same images (from the cache)
    samples = samples_of(train)
    np.testing.assert_array_equal(np.sort(samples.labels), np.sort(y1))
