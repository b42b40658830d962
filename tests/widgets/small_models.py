"""The small backbone and data the widget tests build controllers from."""

from __future__ import annotations

import keras
import numpy as np


def backbone():
    """A small 4-D feature extractor with BatchNorm: (8, 8, 3) -> (None, 4, 4, 6)."""
    return keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            keras.layers.Conv2D(6, 3, padding="same", name="conv"),
            keras.layers.BatchNormalization(name="bn"),
            keras.layers.MaxPooling2D(name="pool"),
        ],
        name="backbone",
    )


def data(n=16, classes=3):
    rng = np.random.default_rng(0)
    return rng.random((n, 8, 8, 3), dtype="float32"), rng.integers(0, classes, n)
