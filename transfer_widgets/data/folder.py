"""The input pipeline for an image folder (one sub-folder per class), as fast as a
hand-tuned ``tf.data`` pipeline.

``keras.utils.image_dataset_from_directory`` lists the files, splits training from
validation and decodes in parallel; it does not cache, so every epoch decodes and
resizes every file again. Here the decoded images are cached in memory when they fit
(:data:`CACHE_LIMIT_BYTES`), shuffled each epoch after the cache (a buffer of at
most :data:`SHUFFLE_BUFFER_BYTES`), batched and prefetched. The datasets keep Keras's
``file_paths`` and ``class_names``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Decoded images (float32) up to this size are cached in memory after the first epoch.
CACHE_LIMIT_BYTES = 1 << 30
#: The most memory the per-epoch shuffle buffer of decoded images may take.
SHUFFLE_BUFFER_BYTES = 256 << 20


def folder_datasets(
    directory: str,
    image_size: tuple[int, int],
    batch_size: int,
    *,
    label_mode: str = "int",
    validation_split: float | None = None,
    seed: int = 0,
    cache: bool | None = None,
) -> tuple[Any, Any]:
    """``(train, validation)`` batched datasets over ``directory`` (validation is None
    without ``validation_split``). ``cache``: None caches when the decoded images fit
    in :data:`CACHE_LIMIT_BYTES`."""
    import keras

    common: dict[str, Any] = dict(
        image_size=tuple(image_size), batch_size=None, label_mode=label_mode, seed=seed, shuffle=True
    )
    if validation_split:
        train = keras.utils.image_dataset_from_directory(
            directory, validation_split=validation_split, subset="training", **common
        )
        val = keras.utils.image_dataset_from_directory(
            directory, validation_split=validation_split, subset="validation", **common
        )
        return tuned(train, batch_size, shuffle=True, seed=seed, cache=cache), tuned(
            val, batch_size, shuffle=False, seed=seed, cache=cache
        )
    train = keras.utils.image_dataset_from_directory(directory, **common)
    return tuned(train, batch_size, shuffle=True, seed=seed, cache=cache), None


def tuned(images: Any, batch_size: int, *, shuffle: bool, seed: int = 0, cache: bool | None = None) -> Any:
    """An unbatched ``(image, label)`` dataset of an image folder, cached (when it fits),
    shuffled each epoch (training), batched and prefetched."""
    import tensorflow as tf

    paths = list(getattr(images, "file_paths", []))
    n = len(paths)
    per_image = int(np.prod(images.element_spec[0].shape)) * 4
    if cache is None:
        cache = n * per_image <= CACHE_LIMIT_BYTES
    ds = images.cache() if cache else images
    if shuffle and n > 1:
        buffer = int(min(n, max(batch_size * 8, SHUFFLE_BUFFER_BYTES // max(per_image, 1))))
        ds = ds.shuffle(buffer, seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)
    ds.file_paths = paths
    ds.class_names = list(getattr(images, "class_names", []))
    return ds
