"""What a trained classifier gets wrong and why, from a :class:`FineTuneController`,
with no widget needed: :meth:`Interpretation.top_losses`, :meth:`~Interpretation.most_confused`,
:meth:`~Interpretation.confusion_matrix`, :meth:`~Interpretation.gradcam` and
:meth:`~Interpretation.label_issues`.

Predictions always use the weights of the last completed epoch: an
``Interpretation`` keeps a copy of the model's weights when a run starts and at
every epoch's end (a callback in ``controller.run_callbacks``), and while a run is
active, or after one stopped part-way through an epoch, it predicts with a copy of
the model holding them; otherwise with the controller's model itself.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import keras
import numpy as np

from ..data.samples import Samples, samples_of
from ..model.gradcam import GradCAM
from ..model.head import output_probabilities
from ..training.controller import FineTuneController
from ..training.features import weights_fingerprint
from .confident import find_label_issues, rank_label_issues


@dataclass(frozen=True)
class Prediction:
    """One example as the model sees it: ``index`` into the analysed data, its class
    ``label``, the ``predicted`` class with its ``probability``, the example's ``loss``
    (cross-entropy of its label) and its file ``path`` for an image folder."""

    index: int
    label: int
    predicted: int
    probability: float
    loss: float
    path: str | None = None


@dataclass(frozen=True)
class LabelIssue:
    """A training example whose given ``label`` the model doubts: ``suggested`` is the
    class it counts it as, ``margin`` = p(label) - max p(other) (lower: more doubted),
    ``self_confidence`` = p(label), all from out-of-sample predictions; ``flagged``:
    confident learning counts it as another class (False only in a top-k ranking)."""

    index: int
    label: int
    suggested: int
    margin: float
    self_confidence: float
    path: str | None = None
    flagged: bool = True


@dataclass
class _Parts:
    """The assembled model split as the analysis needs it (live, or a copy at a completed epoch)."""

    model: keras.Model
    pre: list[keras.Layer]
    base: keras.Model
    head: keras.Model
    source: str  # which weights: "current" or "epoch N"


class _EpochWeights(keras.callbacks.Callback):
    """Keeps the assembled model's weights as of the last completed epoch (and at a run's start)."""

    def __init__(self, controller: FineTuneController) -> None:
        super().__init__()
        self._controller = controller
        self.weights: list[np.ndarray] | None = None
        self.epochs = 0  # completed epochs when the copy was taken
        self.run: int | None = None  # the run it was taken in

    def _keep(self) -> None:
        ctl = self._controller
        weights = ctl.model.get_weights()
        self.epochs = len(ctl.history.get("epoch", []))
        self.run = ctl.runs[-1]["run"] if ctl.runs else None
        self.weights = weights

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._keep()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._keep()


class Interpretation:
    """The model's predictions on one data set and what they say.

    ``data``: ``"validation"`` (the controller's validation data, its training data
    when it has none), ``"train"``, or ``(x, y)`` arrays / a labelled dataset.
    Multiclass and binary heads only. Results are recomputed when the weights change.
    """

    def __init__(self, controller: FineTuneController, data: Any = "validation") -> None:
        task = controller.config.head.task
        if task not in ("multiclass", "binary"):
            raise ValueError(
                f"Interpretation needs a classifier (head.task 'multiclass' or 'binary'), got {task!r}"
            )
        self.controller = controller
        self._data_arg = data
        self._samples: Samples | None = None
        self._train_samples: Samples | None = None
        self._keeper = _EpochWeights(controller)
        controller.run_callbacks.append(self._keeper)
        self._copy: tuple[int, _Parts] | None = None  # id of the weights copied, the copy
        self._probs: tuple[str, np.ndarray] | None = None  # (weights key, probabilities)
        self._out_of_sample: dict[str, np.ndarray] = {}
        self._gradcam: dict[tuple[int, str | None], GradCAM] = {}

    def forget(self) -> None:
        """Drop what was read and predicted (after the controller's data or model changed)."""
        self._samples = self._train_samples = None
        self._probs = self._copy = None
        self._out_of_sample = {}
        self._gradcam = {}

    def close(self) -> None:
        """Stop keeping epoch weights for this controller."""
        if self._keeper in self.controller.run_callbacks:
            self.controller.run_callbacks.remove(self._keeper)

    # -- data ---------------------------------------------------------------------------

    @property
    def samples(self) -> Samples:
        """The analysed examples (images by index, labels, paths)."""
        if self._samples is None:
            self._samples = samples_of(*self._resolve(self._data_arg))
        return self._samples

    @property
    def train_samples(self) -> Samples:
        """The controller's training examples (what :meth:`label_issues` checks)."""
        if self._train_samples is None:
            self._train_samples = (
                self.samples if self._data_arg == "train" else samples_of(*self._resolve("train"))
            )
        return self._train_samples

    def _resolve(self, data: Any) -> tuple[Any, str]:
        ctl = self.controller
        if isinstance(data, str):
            if data == "validation" and ctl.validation_data is not None:
                return ctl.validation_data, "validation_data"
            if data in ("validation", "train"):
                if ctl.train_data is None:
                    raise ValueError("the controller has no train_data to analyse")
                return ctl.train_data, "train_data"
            raise ValueError(f"data must be 'validation', 'train' or (x, y) / a dataset, got {data!r}")
        return data, "data"

    @property
    def class_names(self) -> list[str]:
        """The class names: the head's ``class_names``, else the folder names, else 0, 1, ..."""
        spec = self.controller.config.head
        if spec.class_names:
            return list(spec.class_names)
        k = 2 if spec.task == "binary" else int(spec.num_classes or 0)
        names = self.samples.class_names
        if names and len(names) == k:
            return list(names)
        return [str(i) for i in range(k)]

    # -- which weights ---------------------------------------------------------------------

    def _parts(self) -> _Parts:
        ctl = self.controller
        keeper = self._keeper
        last = ctl.runs[-1] if ctl.runs else None
        stopped_mid_epoch = (
            last is not None
            and last.get("partial") is not None
            and not ctl.config.training.restore_best
            and keeper.run == last["run"]
        )
        if not ctl.running and not stopped_mid_epoch:
            return _split(ctl, ctl.model, "current")
        weights = keeper.weights
        if weights is None:
            raise RuntimeError(
                "A run is active and this Interpretation was made during it, so it has no copy of a "
                "completed epoch's weights; make it before the run (or wait for the run to end)."
            )
        if self._copy is None or self._copy[0] != id(weights):
            clone = keras.models.clone_model(ctl.model)
            clone.set_weights(weights)
            self._copy = (id(weights), _split(ctl, clone, f"epoch {keeper.epochs}"))
        return self._copy[1]

    @property
    def weights_source(self) -> str:
        """Which weights the results use: ``"current"`` or ``"epoch N"`` (N completed epochs)."""
        return self._parts().source

    # -- predictions ------------------------------------------------------------------------

    def probabilities(self) -> np.ndarray:
        """Class probabilities (n, classes) of every analysed example."""
        parts = self._parts()
        key = f"probs-{id(parts.model)}-{weights_fingerprint(parts.model)}"
        if self._probs is None or self._probs[0] != key:
            spec = self.controller.config.head
            outputs = _predict(parts.model, self.samples, self._batch_size())
            self._probs = (key, _two_columns(output_probabilities(outputs, spec.task, spec.from_logits)))
        return self._probs[1]

    def _batch_size(self) -> int:
        return int(self.controller.config.training.batch_size)

    def predictions(self) -> list[Prediction]:
        """Every analysed example with its prediction and loss, in data order."""
        probs = self.probabilities()
        labels = self.samples.labels
        predicted = probs.argmax(axis=1)
        rows = np.arange(len(labels))
        p_label = np.clip(probs[rows, labels], 1e-7, 1.0)
        losses = -np.log(p_label)
        paths = self.samples.paths
        return [
            Prediction(
                int(i),
                int(labels[i]),
                int(predicted[i]),
                float(probs[i, predicted[i]]),
                float(losses[i]),
                None if paths is None else paths[i],
            )
            for i in rows
        ]

    def top_losses(
        self, k: int | None = 9, true: int | None = None, predicted: int | None = None
    ) -> list[Prediction]:
        """The ``k`` examples with the highest loss (all when None), highest first;
        ``true`` / ``predicted`` keep those with that label / predicted class (a
        confusion-matrix cell when both are given)."""
        rows = self.predictions()
        if true is not None:
            rows = [r for r in rows if r.label == true]
        if predicted is not None:
            rows = [r for r in rows if r.predicted == predicted]
        rows.sort(key=lambda r: (-r.loss, r.index))
        return rows if k is None else rows[:k]

    def confusion_matrix(self) -> np.ndarray:
        """Counts (classes, classes): row = true class, column = predicted class."""
        k = self.probabilities().shape[1]
        m = np.zeros((k, k), np.int64)
        np.add.at(m, (self.samples.labels, self.probabilities().argmax(axis=1)), 1)
        return m

    def most_confused(self, min_count: int = 1) -> list[tuple[int, int, int]]:
        """``(true, predicted, count)`` for every pair of different classes confused at
        least ``min_count`` times, most often first."""
        m = self.confusion_matrix()
        pairs = [
            (int(t), int(p), int(m[t, p]))
            for t, p in zip(*np.nonzero(m), strict=True)
            if t != p and m[t, p] >= min_count
        ]
        pairs.sort(key=lambda x: (-x[2], x[0], x[1]))
        return pairs

    # -- heat maps --------------------------------------------------------------------------

    def gradcam(self, index: int, layer: str | None = None, class_index: int | None = None) -> np.ndarray:
        """Grad-CAM heat map (height, width) in [0, 1] of analysed example ``index``, for
        ``class_index`` (default: the predicted class), on the base's last 4-D feature
        map or on ``layer`` (a layer path or name in the base). Raises
        :class:`~transfer_widgets.model.gradcam.NoFeatureMapError` for a base without one."""
        return self.gradcams([index], layer, None if class_index is None else [class_index])[0]

    def gradcams(
        self, indices: Sequence[int], layer: str | None = None, classes: Sequence[int] | None = None
    ) -> np.ndarray:
        """Heat maps (n, height, width) of several examples at once (see :meth:`gradcam`)."""
        parts = self._parts()
        key = (id(parts.model), layer)
        cam = self._gradcam.get(key)
        if cam is None:
            cam = self._gradcam[key] = GradCAM(parts.pre, parts.base, parts.head, layer)
        images = self.samples.images(indices)
        if classes is None:
            classes = self.probabilities()[np.asarray(indices, np.int64)].argmax(axis=1)
        return cam(images, classes)

    # -- label errors -------------------------------------------------------------------------

    def out_of_sample_probabilities(self, folds: int = 5, epochs: int = 10, seed: int = 0) -> np.ndarray:
        """Cross-validated probabilities (n, classes) of the training examples: the base's
        features are computed once, then for each of ``folds`` folds a fresh copy of the
        head is trained for ``epochs`` epochs on the other folds and predicts this one."""
        if not isinstance(folds, int) or folds < 2:
            raise ValueError(f"folds must be an integer >= 2, got {folds!r}")
        if not isinstance(epochs, int) or epochs < 1:
            raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
        parts = self._parts()
        samples = self.train_samples
        labels = samples.labels
        if len(labels) < folds:
            raise ValueError(f"label_issues needs at least {folds} training examples, got {len(labels)}")
        key = f"oos-{id(parts.model)}-{weights_fingerprint(parts.model)}-{folds}-{epochs}-{seed}"
        if key in self._out_of_sample:
            return self._out_of_sample[key]
        features = _features(parts, samples, self._batch_size())
        spec = self.controller.config.head
        binary = spec.task == "binary"
        k = 2 if binary else int(spec.num_classes or labels.max() + 1)
        probs = np.zeros((len(labels), k), np.float32)
        order = np.random.default_rng(seed).permutation(len(labels))
        lr = float(self.controller.config.training.learning_rate)
        for fold in np.array_split(order, folds):
            keep = np.setdiff1d(order, fold)
            head = keras.models.clone_model(parts.head)  # same architecture, fresh weights
            losses = keras.losses
            loss = losses.BinaryCrossentropy if binary else losses.SparseCategoricalCrossentropy
            head.compile(optimizer=keras.optimizers.Adam(lr), loss=loss(from_logits=spec.from_logits))
            head.fit(features[keep], labels[keep], epochs=epochs, batch_size=self._batch_size(), verbose=0)
            outputs = head.predict(features[fold], batch_size=self._batch_size(), verbose=0)
            probs[fold] = _two_columns(output_probabilities(outputs, spec.task, spec.from_logits))
        self._out_of_sample = {key: probs}
        return probs

    def label_issues(
        self, folds: int = 5, epochs: int = 10, seed: int = 0, k: int | None = None
    ) -> list[LabelIssue]:
        """Training examples whose given label is likely wrong, most doubted first
        (lowest ``p(label) - max p(other)``): confident learning (:mod:`.confident`) on
        :meth:`out_of_sample_probabilities`. ``k=None``: the examples it flags; ``k=N``:
        the N most doubted by the same score, flagged or not (a fixed review budget)."""
        samples = self.train_samples
        if k is not None and (isinstance(k, bool) or not isinstance(k, int) or k < 1):
            raise ValueError(
                f"k must be a positive integer (how many to list) or None for the flagged ones, got {k!r}"
            )
        probs = self.out_of_sample_probabilities(folds, epochs, seed)
        if k is None:
            doubts = find_label_issues(samples.labels, probs)
        else:
            doubts = rank_label_issues(samples.labels, probs, k)
        paths = samples.paths
        return [
            LabelIssue(
                int(i),
                int(samples.labels[i]),
                int(s),
                float(m),
                float(c),
                None if paths is None else paths[i],
                bool(f),
            )
            for i, s, m, c, f in zip(
                doubts.indices,
                doubts.suggested,
                doubts.margin,
                doubts.self_confidence,
                doubts.flagged,
                strict=True,
            )
        ]


def label_issues_csv(issues: Sequence[LabelIssue], class_names: Sequence[str] | None = None) -> str:
    """The issues as CSV text: index, path, label, suggested (names when given), margin,
    self_confidence, flagged (0 / 1)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["index", "path", "label", "suggested", "margin", "self_confidence", "flagged"])
    for issue in issues:
        row = asdict(issue)
        name = (lambda c: class_names[c]) if class_names else (lambda c: c)
        writer.writerow(
            [
                row["index"],
                row["path"] or "",
                name(row["label"]),
                name(row["suggested"]),
                f"{row['margin']:.6f}",
                f"{row['self_confidence']:.6f}",
                int(row["flagged"]),
            ]
        )
    return out.getvalue()


def _split(controller: FineTuneController, model: keras.Model, source: str) -> _Parts:
    """``model`` (the controller's or a clone of it) as pre-layers, base and head."""
    layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    live = [layer for layer in controller.model.layers if type(layer).__name__ != "InputLayer"]
    base_at = next(i for i, layer in enumerate(live) if layer is controller.base_model)
    head_at = next(i for i, layer in enumerate(live) if layer is controller.head)
    return _Parts(model, layers[:base_at], layers[base_at], layers[head_at], source)


def _predict(model: keras.Model, samples: Samples, batch_size: int) -> np.ndarray:
    """The model's outputs (probabilities or logits, as its head gives them)."""
    return np.concatenate([np.asarray(model.predict_on_batch(x)) for x in samples.batches(batch_size)])


def _two_columns(p: np.ndarray) -> np.ndarray:
    """Probabilities (n, classes), a binary head's one column p(1) made [p(0), p(1)]."""
    p = np.asarray(p, np.float32)
    return np.concatenate([1 - p, p], axis=1) if p.shape[1] == 1 else p


def _features(parts: _Parts, samples: Samples, batch_size: int) -> np.ndarray:
    """The base's outputs for every example (the head's inputs), at inference."""
    inputs = keras.Input(samples.image_shape)
    x = inputs
    for layer in parts.pre:
        x = layer(x, training=False)
    extractor = keras.Model(inputs, parts.base(x, training=False))
    return np.concatenate([np.asarray(extractor.predict_on_batch(b)) for b in samples.batches(batch_size)])
