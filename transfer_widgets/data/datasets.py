"""Demo data that works offline: scikit-learn's bundled handwritten digits as
images, a writer for a small class-per-folder image directory, and the
transfer-vs-scratch demo.

The digits (1,797 images of 8x8 pixels, 10 classes) ship inside scikit-learn,
a declared dependency, so tutorials and tests need no download.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np


def load_digits(image_size: tuple[int, int] | None = None, channels: int = 3,
                classes: list[int] | tuple[int, ...] | None = None,
                relabel: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The sklearn digits as float32 images in [0, 255], shape (n, h, w, channels),
    with int32 labels.

    ``image_size`` resizes (bilinear) from 8x8; ``classes`` keeps those digits only,
    relabelled 0..k-1 in the order given when ``relabel``.
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
    if channels != 1:
        x = np.repeat(x, channels, axis=-1)
    return np.ascontiguousarray(x, dtype=np.float32), y


DEMOS = {"digits": load_digits}


def few_per_class(x: np.ndarray, y: np.ndarray, per_class: int, seed: int = 0):
    """Split into (a few labelled examples per class, the rest): the few-label setting."""
    rng = np.random.default_rng(seed)
    picked = np.concatenate([rng.permutation(np.flatnonzero(y == c))[:per_class] for c in np.unique(y)])
    rest = np.setdiff1d(np.arange(len(y)), picked)
    return (x[picked], y[picked]), (x[rest], y[rest])


def write_image_folder(path: str | os.PathLike, per_class: int = 20, image_size: tuple[int, int] = (32, 32),
                       classes: list[int] | tuple[int, ...] = (0, 1, 2)) -> str:
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


def small_cnn(input_shape=(16, 16, 3), name: str = "digits_cnn"):
    """The small convolutional backbone the demo pretrains and fine-tunes."""
    import keras
    from keras import layers

    return keras.Sequential([
        keras.Input(input_shape),
        layers.Rescaling(1.0 / 255.0, name="rescale"),
        layers.Conv2D(16, 3, padding="same", activation="relu", name="block_1_conv"),
        layers.Conv2D(32, 3, padding="same", activation="relu", name="block_2_conv"),
        layers.MaxPooling2D(name="block_2_pool"),
        layers.Conv2D(64, 3, padding="same", activation="relu", name="block_3_conv"),
    ], name=name)


def transfer_demo(per_class: int = 5, source_epochs: int = 15, target_epochs: int = 40, seed: int = 0,
                  verbose: bool = True) -> dict[str, Any]:
    """Transfer doing its job, on the digits.

    A backbone is trained on digits 0-4 (the source task), then a new head is
    trained on digits 5-9 with ``per_class`` labels each (the target task) on top of
    it, first frozen and then fine-tuned; the same architecture is trained from
    scratch on the same few labels. Prints and returns both test accuracies.
    """
    import keras

    from ..config import TransferConfig
    from ..model.freeze import unfreeze_all
    from ..training.controller import FineTuneController

    keras.utils.set_random_seed(seed)
    size = (16, 16)
    source = load_digits(image_size=size, classes=[0, 1, 2, 3, 4])
    target = load_digits(image_size=size, classes=[5, 6, 7, 8, 9])
    few, test = few_per_class(*target, per_class=per_class, seed=seed)

    def config(epochs, lr=1e-3):
        c = TransferConfig()
        c.preprocessing.mode = "none"  # the backbone rescales itself
        c.head.layers = [c.head.layers[0]]  # global average pooling
        c.training.learning_rate = lr
        c.training.batch_size = 32
        c.training.epochs = epochs
        c.training.seed = seed
        return c

    pretrain = FineTuneController(small_cnn(size + (3,), "pretrained"), num_classes=5, train_data=source,
                                  config=config(source_epochs))
    unfreeze_all(pretrain.base_model)
    pretrain.fit(block=True)

    transfer = FineTuneController(pretrain.base_model, num_classes=5, train_data=few,
                                  config=config(target_epochs, lr=3e-3))
    transfer.config.training.fine_tune.lr_mult = 0.1
    transfer.fine_tune(head_epochs=target_epochs, epochs=target_epochs // 2, block=True)
    transfer_acc = transfer.evaluate(test)["accuracy"]

    scratch = FineTuneController(small_cnn(size + (3,), "scratch"), num_classes=5, train_data=few,
                                 config=config(target_epochs + target_epochs // 2, lr=3e-3))
    unfreeze_all(scratch.base_model)
    scratch.fit(block=True)
    scratch_acc = scratch.evaluate(test)["accuracy"]
    result = {"labels_per_class": per_class, "transfer_accuracy": float(transfer_acc),
              "scratch_accuracy": float(scratch_acc), "test_images": int(len(test[1]))}
    if verbose:
        print(f"Digits 5-9 with {per_class} labels per class, tested on {result['test_images']} images:")
        print(f"  fine-tuned from a digits 0-4 backbone: {transfer_acc:.1%}")
        print(f"  same architecture from scratch:       {scratch_acc:.1%}")
    return result
