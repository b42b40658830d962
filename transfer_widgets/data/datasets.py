"""Demo data that works offline: scikit-learn's bundled handwritten digits as
images (optionally at random places on a larger canvas), a writer for a small
class-per-folder image directory, and the small backbone the demo experiment
(``transfer_widgets.training.demo``) pretrains.

The digits (1,797 images of 8x8 pixels, 10 classes) ship inside scikit-learn,
a declared dependency, so tutorials and tests need no download.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import keras


# Exported code carries place_randomly and load_digits as written here, into scripts
# checked with ruff at its default 88 columns: their text is formatted at 88 by hand,
# so the package's 110-column formatter leaves them alone.
# fmt: off
def load_digits(
    image_size: tuple[int, int] | None = None,
    channels: int = 3,
    classes: list[int] | tuple[int, ...] | None = None,
    relabel: bool = True,
    canvas: int | None = None,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """The sklearn digits as float32 images in [0, 255], shape (n, h, w, channels),
    with int32 labels.

    ``image_size`` resizes (bilinear) from 8x8; ``classes`` keeps those digits only,
    relabelled 0..k-1 in the order given when ``relabel``; ``canvas`` pastes each
    digit at a random place (drawn with ``seed``) on a black ``canvas x canvas``
    image, a task where position-invariant features (what a pretrained
    backbone brings) matter.
    """
    from sklearn.datasets import load_digits as sk_load_digits

    bunch = sk_load_digits()
    x = (bunch.images.astype(np.float32) * (255.0 / 16.0))[..., None]
    y = bunch.target.astype(np.int32)
    if classes is not None:
        keep = np.isin(y, classes)
        x, y = x[keep], y[keep]
        if relabel:
            mapping = {c: i for i, c in enumerate(classes)}
            y = np.array([mapping[v] for v in y], dtype=np.int32)
    if image_size is not None and tuple(image_size) != (8, 8):
        import tensorflow as tf

        x = tf.image.resize(x, tuple(image_size), method="bilinear").numpy()
    if canvas is not None:
        x = place_randomly(x, canvas, seed)
    if channels != 1:
        x = np.repeat(x, channels, axis=-1)
    return np.ascontiguousarray(x, dtype=np.float32), y


def place_randomly(x: np.ndarray, canvas: int, seed: int) -> np.ndarray:
    """Each image pasted at a random place on a black canvas x canvas image."""
    n, h, w, c = x.shape
    if canvas < max(h, w):
        raise ValueError(
            f"canvas must be at least the image size ({max(h, w)}), got {canvas}"
        )
    rng = np.random.default_rng(seed)
    top, left = rng.integers(0, canvas - h + 1, n), rng.integers(0, canvas - w + 1, n)
    out = np.zeros((n, canvas, canvas, c), np.float32)
    for i in range(n):
        out[i, top[i] : top[i] + h, left[i] : left[i] + w] = x[i]
    return out
# fmt: on


#: Every demo of ``config.DEMO_NAMES``, by name (a test keeps the two equal).
DEMOS = {"digits": load_digits}
#: Per demo, the functions an exported script copies (helpers first) to load it.
DEMO_SOURCES = {"digits": (place_randomly, load_digits)}


def few_per_class(
    x: np.ndarray, y: np.ndarray, per_class: int, seed: int = 0
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Split into (a few labelled examples per class, the rest): the few-label setting."""
    rng = np.random.default_rng(seed)
    picked = np.concatenate([rng.permutation(np.flatnonzero(y == c))[:per_class] for c in np.unique(y)])
    rest = np.setdiff1d(np.arange(len(y)), picked)
    return (x[picked], y[picked]), (x[rest], y[rest])


def write_image_folder(
    path: str | os.PathLike,
    per_class: int = 20,
    image_size: tuple[int, int] = (32, 32),
    classes: list[int] | tuple[int, ...] = (0, 1, 2),
) -> str:
    """Write digits as PNG files under ``path/<class name>/`` for
    ``image_dataset_from_directory`` (the directory workflow). Returns ``path``."""
    import tensorflow as tf

    x, y = load_digits(image_size=image_size, channels=3, classes=list(classes), relabel=False)
    os.makedirs(path, exist_ok=True)
    for c in classes:
        folder = os.path.join(path, f"digit_{c}")
        os.makedirs(folder, exist_ok=True)
        for i, image in enumerate(x[y == c][:per_class]):
            png = tf.io.encode_png(np.clip(np.round(image), 0, 255).astype(np.uint8))
            tf.io.write_file(os.path.join(folder, f"{i:04d}.png"), png)
    return str(path)


def small_cnn(input_shape: tuple[int, ...] = (20, 20, 3), name: str = "digits_cnn") -> keras.Sequential:
    """The small convolutional backbone the demo pretrains and fine-tunes."""
    import keras
    from keras import layers

    return keras.Sequential(
        [
            keras.Input(input_shape),
            layers.Rescaling(1.0 / 255.0, name="rescale"),
            layers.Conv2D(16, 3, padding="same", activation="relu", name="block_1_conv"),
            layers.Conv2D(32, 3, padding="same", activation="relu", name="block_2_conv"),
            layers.MaxPooling2D(name="block_2_pool"),
            layers.Conv2D(64, 3, padding="same", activation="relu", name="block_3_conv"),
            layers.MaxPooling2D(name="block_3_pool"),
            layers.Conv2D(64, 3, padding="same", activation="relu", name="block_4_conv"),
        ],
        name=name,
    )
