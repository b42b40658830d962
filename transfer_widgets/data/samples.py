"""Every example of one data argument in a fixed order, so an analysis can say
"example 17" and show the same image again later.

Arrays are indexed as they are. An image folder loaded by
``keras.utils.image_dataset_from_directory`` (it has ``file_paths`` and
``class_names``) is read from its files, in path order, decoded only when asked
for; its batches come from a parallel ``tf.data`` pipeline. Any other dataset
(a ``tf.data.Dataset`` without paths, a ``PyDataset``) is read once into memory:
its own order may change between passes (shuffling), a held copy cannot.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .adapters import feature_batches, kind_of


@dataclass
class Samples:
    """The examples of one data argument: class labels (an int per example) and
    images by index; ``paths`` for an image folder."""

    labels: np.ndarray
    image_shape: tuple[int, ...]
    paths: list[str] | None = None
    class_names: list[str] | None = None
    _images: np.ndarray | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def array(self) -> np.ndarray | None:
        """All images as one array when they are held in memory (None for an image folder)."""
        return self._images

    def images(self, indices: Sequence[int] | np.ndarray) -> np.ndarray:
        """The images at ``indices`` as float32 (n, h, w, c), as the model receives them."""
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        if idx.size and (idx.min() < 0 or idx.max() >= len(self)):
            raise IndexError(f"sample index out of range 0..{len(self) - 1}: {idx.tolist()}")
        if self._images is not None:
            return np.asarray(self._images[idx], dtype=np.float32)
        assert self.paths is not None
        return (
            np.stack([decode_image(self.paths[i], self.image_shape) for i in idx])
            if idx.size
            else (np.zeros((0, *self.image_shape), np.float32))
        )

    def batches(self, batch_size: int) -> Iterator[np.ndarray]:
        """All images in order, ``batch_size`` at a time."""
        if self._images is not None:
            for start in range(0, len(self), batch_size):
                yield np.asarray(self._images[start : start + batch_size], dtype=np.float32)
            return
        assert self.paths is not None
        for batch in folder_pipeline(self.paths, self.image_shape, batch_size):
            yield batch.numpy()


def decode_image(path: str, image_shape: tuple[int, ...]) -> np.ndarray:
    """One image file decoded and resized (bilinear) the way ``image_dataset_from_directory`` does;
    ValueError naming the file when it cannot be read as an image."""
    import tensorflow as tf

    try:
        return _decode(tf.constant(path), image_shape).numpy()
    except (tf.errors.InvalidArgumentError, tf.errors.NotFoundError) as exc:
        raise ValueError(f"{path} cannot be read as an image ({tf_error_reason(exc)})") from None


def tf_error_reason(exc: Exception) -> str:
    """A TensorFlow error's own words, without its op and device prefixes."""
    text = str(getattr(exc, "message", "") or exc)
    text = re.sub(r"\{\{[^}]*\}\}|\[Op:[^\]]*\]|name:\s*$", "", text).strip()
    return text or type(exc).__name__


def _decode(path: Any, image_shape: tuple[int, ...]) -> Any:
    import tensorflow as tf

    h, w, c = image_shape
    image = tf.image.decode_image(tf.io.read_file(path), channels=c, expand_animations=False)
    image = tf.image.resize(image, (h, w), method="bilinear")
    image.set_shape((h, w, c))
    return tf.cast(image, tf.float32)


def folder_pipeline(paths: Sequence[str], image_shape: tuple[int, ...], batch_size: int) -> Any:
    """A ``tf.data`` pipeline over image files in order: parallel decode, batched, prefetched."""
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices(list(paths))
    ds = ds.map(lambda p: _decode(p, image_shape), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def class_index(y: np.ndarray) -> np.ndarray:
    """Integer class labels from sparse or one-hot labels (a single sigmoid column: 0 / 1)."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return np.argmax(y, axis=1).astype(np.int64)
    y = y.reshape(len(y), -1)[:, 0] if y.ndim > 1 else y
    return np.rint(y).astype(np.int64)


def folder_root(paths: Sequence[str]) -> str:
    """The deepest folder holding every path: the lexicographically first and last
    paths share the leading characters of all of them, so their common path is everyone's."""
    return os.path.commonpath([min(paths), max(paths)])


def _folder_labels(paths: list[str], names: list[str]) -> np.ndarray:
    """Each file's class: the first folder under the data set's root (class folders may nest)."""
    if len(names) == 1:
        return np.zeros(len(paths), np.int64)
    start = len(folder_root(paths)) + 1
    index = {n: i for i, n in enumerate(names)}
    return np.array([index[p[start:].split(os.sep, 1)[0]] for p in paths], np.int64)


def samples_of(data: Any, name: str = "data") -> Samples:
    """A :class:`Samples` over ``data`` (``(x, y)`` arrays, a batched dataset, a PyDataset).

    Raises ValueError naming ``name`` when the data has no labels."""
    kind = kind_of(data)
    if kind == "arrays":
        x, y = data
        if y is None:
            raise ValueError(f"{name} has no labels: the analysis compares predictions with labels")
        x = x if hasattr(x, "shape") else np.asarray(x)
        return Samples(class_index(y), tuple(int(d) for d in x.shape[1:]), _images=x)
    paths = getattr(data, "file_paths", None)
    names = getattr(data, "class_names", None)
    spec = getattr(data, "element_spec", None)
    if kind == "tf.data" and paths and names and isinstance(spec, tuple):
        labels = _folder_labels(list(paths), list(names))
        shape = tuple(int(d) for d in spec[0].shape[1:])
        return Samples(labels, shape, paths=list(paths), class_names=list(names))
    xs, ys = [], []
    for x, y in feature_batches(data, 256):
        if y is None:
            raise ValueError(f"{name} has no labels: the analysis compares predictions with labels")
        xs.append(np.asarray(x, np.float32))
        ys.append(class_index(y))
    if not xs:
        raise ValueError(f"{name} is empty")
    images = np.concatenate(xs)
    return Samples(np.concatenate(ys), tuple(images.shape[1:]), class_names=names, _images=images)
