"""Grad-CAM class-activation maps for an assembled transfer model.

A map says where in the image the evidence for a class sits: the base's last
convolutional feature map (its last layer with a 4-D output: batch, height,
width, channels), each channel weighted by the mean gradient of the class score
(the output layer's logit, before softmax / sigmoid, so a confident prediction
still has gradients), summed, kept where positive, resized to the image and
scaled to [0, 1] (Selvaraju et al., 2017).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from .inspect import ModelTree


class NoFeatureMapError(ValueError):
    """The base (or the layer asked for) has no spatial feature map to explain."""


def feature_map_layers(base: keras.Model) -> list[keras.Layer]:
    """The base's own layers (not inside nested models) whose output is 4-D, in order."""
    out = []
    for layer in base.layers:
        try:
            shape = layer.output.shape
        except (AttributeError, ValueError):
            continue
        if len(shape) == 4:
            out.append(layer)
    return out


def find_feature_layer(base: keras.Model, layer: str | None = None) -> keras.Layer:
    """The layer Grad-CAM reads: ``layer`` (a path or name, as the layer tree names it)
    or, when None, the base's last layer with a 4-D output."""
    if layer is None:
        found = feature_map_layers(base)
        if not found:
            raise NoFeatureMapError(
                f"Grad-CAM needs a convolutional feature map (a layer with a 4-D output: batch, height, "
                f"width, channels) in the base {base.name!r}, and it has none: its output is "
                f"{tuple(base.outputs[0].shape)}. Heat maps work for convolutional bases only."
            )
        return found[-1]
    node = ModelTree(base).find(layer)
    target = node.keras_layer
    if target not in base.layers:
        raise NoFeatureMapError(
            f"Grad-CAM layer {layer!r} is inside a nested model of {base.name!r}; pick one of the "
            f"base's own layers: {', '.join(repr(x.name) for x in feature_map_layers(base)[-5:])}"
        )
    if len(target.output.shape) != 4:
        raise NoFeatureMapError(
            f"Grad-CAM layer {layer!r} outputs {tuple(target.output.shape)}, not a 4-D feature map "
            f"(batch, height, width, channels); try one of: "
            f"{', '.join(repr(x.name) for x in feature_map_layers(base)[-5:]) or '(none in this base)'}"
        )
    return target


class GradCAM:
    """Heat maps for one assembled model: ``pre`` (the layers before the base), the base, the head.

    Built once per model and layer; :meth:`__call__` takes a batch of images."""

    def __init__(
        self, pre: Sequence[keras.Layer], base: keras.Model, head: keras.Model, layer: str | None = None
    ) -> None:
        self.layer = find_feature_layer(base, layer)
        self._pre = list(pre)
        self._head = head
        self._base = keras.Model(base.inputs, [self.layer.output, base.outputs[0]], name="gradcam_base")

    def __call__(self, images: np.ndarray, classes: Sequence[int]) -> np.ndarray:
        """Maps of shape (n, height, width) in [0, 1] for ``images`` (n, h, w, c), one
        per image for the class given for it (all zeros where no evidence is positive)."""
        import tensorflow as tf

        x = tf.convert_to_tensor(np.asarray(images, np.float32))
        for layer in self._pre:
            x = layer(x, training=False)
        with tf.GradientTape() as tape:
            fmap, features = self._base(x, training=False)
            tape.watch(fmap)
            scores = self._scores(features, np.asarray(classes, np.int64))
        grads = tape.gradient(scores, fmap)
        weights = tf.reduce_mean(grads, axis=(1, 2), keepdims=True)
        cam = tf.nn.relu(tf.reduce_sum(weights * fmap, axis=-1))[..., None]
        cam = tf.image.resize(cam, tuple(images.shape[1:3]), method="bilinear")[..., 0].numpy()
        peak = cam.reshape(len(cam), -1).max(axis=1)
        return np.where(peak[:, None, None] > 0, cam / np.maximum(peak, 1e-12)[:, None, None], 0.0).astype(
            np.float32
        )

    def _scores(self, features: Any, classes: np.ndarray) -> Any:
        """Each image's class score: the output layer's pre-activation value."""
        import tensorflow as tf

        h = features
        layers = list(self._head.layers)
        for layer in layers[:-1]:
            h = layer(h, training=False)
        last = layers[-1]
        kernel = getattr(last, "kernel", None)
        if kernel is None:  # not a Dense output: explain the output itself
            z = last(h, training=False)
        else:
            z = tf.matmul(h, kernel)
            if getattr(last, "bias", None) is not None:
                z = z + last.bias
        if z.shape[-1] == 1:  # one sigmoid unit: class 1 is +z, class 0 is -z
            return tf.where(classes == 1, z[:, 0], -z[:, 0])
        return tf.gather(z, classes, axis=1, batch_dims=1)
