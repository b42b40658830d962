"""What a data set holds, before training on it: examples per class (and the
warnings a practitioner checks for), exact duplicates between training and
validation, the problems of an image folder, and thumbnails as PNG bytes.

The data view (:class:`~transfer_widgets.widgets.data_view.DataView`) shows these;
they are plain functions over :class:`~transfer_widgets.data.samples.Samples`.
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .samples import Samples, tf_error_reason

#: How many times more examples the largest class may have than the smallest before a warning.
IMBALANCE_RATIO = 3.0
#: The file endings ``keras.utils.image_dataset_from_directory`` reads.
IMAGE_SUFFIXES = (".bmp", ".gif", ".jpeg", ".jpg", ".png")


def class_counts(labels: np.ndarray, num_classes: int) -> list[int]:
    """Examples per class 0..num_classes-1 (labels outside that range are not counted)."""
    labels = np.asarray(labels, np.int64)
    inside = labels[(labels >= 0) & (labels < num_classes)]
    return [int(c) for c in np.bincount(inside, minlength=num_classes)]


def balance_warnings(
    names: Sequence[str], train: Sequence[int], validation: Sequence[int] | None
) -> list[str]:
    """What a person should know about the class counts: a class with no training
    examples, a largest class more than :data:`IMBALANCE_RATIO` times the smallest,
    classes missing from the validation data."""
    out = []
    empty = [n for n, c in zip(names, train, strict=True) if c == 0]
    if empty:
        out.append(f"No training examples for class {', '.join(map(repr, empty))}.")
    present = [(c, n) for n, c in zip(names, train, strict=True) if c > 0]
    if len(present) > 1:
        (low, low_name), (high, high_name) = min(present), max(present)
        if high > IMBALANCE_RATIO * low:
            out.append(
                f"Classes are imbalanced: {high_name!r} has {high} training examples, {high / low:.1f}x "
                f"the {low} of {low_name!r} (more than {IMBALANCE_RATIO:g}x). Consider class weights, "
                "resampling, or more data for the small classes."
            )
    if validation is not None:
        missing = [n for n, c in zip(names, validation, strict=True) if c == 0]
        if missing:
            out.append(
                f"Class {', '.join(map(repr, missing))} has no validation examples: "
                "its accuracy cannot be measured."
            )
    return out


def content_hashes(samples: Samples) -> list[str]:
    """A hash of each example's content: the file's bytes for an image folder, the
    image's values otherwise (so a copied file and a copied array row both match)."""
    if samples.paths is not None:
        out = []
        for path in samples.paths:
            try:
                with open(path, "rb") as f:
                    out.append(hashlib.blake2b(f.read(), digest_size=16).hexdigest())
            except OSError:
                out.append(f"unreadable:{path}")  # matches nothing else
        return out
    images = samples.array
    assert images is not None  # no paths: held in memory
    return [
        hashlib.blake2b(np.ascontiguousarray(images[i]).tobytes(), digest_size=16).hexdigest()
        for i in range(len(images))
    ]


@dataclass(frozen=True)
class Duplicate:
    """A training example whose content is exactly a validation example's."""

    train: int
    validation: int
    train_path: str | None = None
    validation_path: str | None = None


def duplicates(train: Samples, validation: Samples) -> list[Duplicate]:
    """Every training example that also appears (byte for byte) in the validation data."""
    seen: dict[str, int] = {}
    for i, h in enumerate(content_hashes(validation)):
        seen.setdefault(h, i)
    out = []
    for i, h in enumerate(content_hashes(train)):
        j = seen.get(h)
        if j is not None:
            out.append(
                Duplicate(
                    i,
                    j,
                    None if train.paths is None else train.paths[i],
                    None if validation.paths is None else validation.paths[j],
                )
            )
    return out


@dataclass(frozen=True)
class FolderProblem:
    """A file of an image folder that training would skip, fail on, or read differently."""

    path: str
    problem: str


def image_header(path: str) -> tuple[int, int, int]:
    """(height, width, channels) of an image file; ValueError when it cannot be read as one.

    PNG headers are read directly (cheap); other formats are decoded."""
    with open(path, "rb") as f:
        head = f.read(33)
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        if len(head) < 26 or head[12:16] != b"IHDR":
            raise ValueError("PNG header is damaged")
        width, height = struct.unpack(">II", head[16:24])
        channels = {0: 1, 2: 3, 3: 3, 4: 2, 6: 4}.get(head[25])
        if channels is None:
            raise ValueError(f"PNG colour type {head[25]} is not valid")
        return int(height), int(width), channels
    import tensorflow as tf

    try:
        image = tf.image.decode_image(tf.io.read_file(path), expand_animations=False)
    except (tf.errors.InvalidArgumentError, tf.errors.NotFoundError) as exc:
        raise ValueError(tf_error_reason(exc)) from None
    h, w, c = (int(d) for d in image.shape)
    return h, w, c


def scan_folder(root: str) -> list[FolderProblem]:
    """Problems of the image folder ``root`` (one folder per class): files that are not
    images (skipped by training), image files that cannot be read (training fails on
    them), and images whose size or channel count differs from most (resized or
    converted silently). Paths are as found; nothing is changed."""
    problems: list[FolderProblem] = []
    shapes: dict[str, tuple[int, int, int]] = {}
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        if os.path.abspath(folder) == os.path.abspath(root):
            continue  # files beside the class folders belong to no class
        for name in sorted(files):
            path = os.path.join(folder, name)
            if not name.lower().endswith(IMAGE_SUFFIXES):
                problems.append(FolderProblem(path, "not an image file (skipped by training)"))
                continue
            try:
                shapes[path] = image_header(path)
            except (OSError, ValueError) as exc:
                problems.append(FolderProblem(path, f"unreadable image: {exc}"))
    if shapes:
        size = Counter(s[:2] for s in shapes.values()).most_common(1)[0][0]
        channels = Counter(s[2] for s in shapes.values()).most_common(1)[0][0]
        for path, (h, w, c) in shapes.items():
            odd = []
            if (h, w) != size:
                odd.append(f"size {w}x{h} (most are {size[1]}x{size[0]})")
            if c != channels:
                odd.append(f"{_channel_word(c)} (most are {_channel_word(channels)})")
            if odd:
                problems.append(FolderProblem(path, ", ".join(odd)))
    return problems


def _channel_word(c: int) -> str:
    return {1: "greyscale", 2: "greyscale + alpha", 3: "RGB", 4: "RGBA"}.get(c, f"{c} channels")


def value_range(samples: Samples, n: int = 256) -> tuple[float, float]:
    """(min, max) of the first ``n`` images: whether the data is in [0, 1] or [0, 255]
    is a property of the data set, not of one (perhaps dark) image."""
    first = samples.images(np.arange(min(n, len(samples))))
    return (float(np.nanmin(first)), float(np.nanmax(first))) if first.size else (0.0, 255.0)


def display_image(image: np.ndarray, data_range: tuple[float, float] | None = None) -> np.ndarray:
    """``image`` (h, w, c) as uint8 for display. ``data_range`` (the data set's
    :func:`value_range`; the image's own when None) decides: within [0, 1] scaled to
    [0, 255], within [0, 255] kept, anything else (e.g. [-1, 1]) stretched from min..max.
    1 channel stays greyscale, 3 RGB, 4 RGBA; others show their first channel."""
    a = np.asarray(image, np.float32)
    if a.ndim == 2:
        a = a[..., None]
    if a.shape[-1] not in (1, 3, 4):
        a = a[..., :1]
    if data_range is None:
        data_range = (float(np.nanmin(a)), float(np.nanmax(a))) if a.size else (0.0, 0.0)
    lo, hi = data_range
    if lo >= 0 and hi <= 1.0:
        a = a * 255.0
    elif lo < 0 or hi > 255:
        a = (a - lo) * (255.0 / max(hi - lo, 1e-12))
    return np.clip(np.rint(np.nan_to_num(a)), 0, 255).astype(np.uint8)


def png_bytes(image: np.ndarray, data_range: tuple[float, float] | None = None, max_side: int = 96) -> bytes:
    """A PNG of ``image`` for display (:func:`display_image`), shrunk to ``max_side`` pixels at most."""
    import tensorflow as tf

    a = display_image(image, data_range)
    h, w = a.shape[:2]
    if max(h, w) > max_side:
        scale = max_side / max(h, w)
        size = (max(1, round(h * scale)), max(1, round(w * scale)))
        a = np.clip(tf.image.resize(a, size, antialias=True).numpy(), 0, 255).astype(np.uint8)
    return bytes(tf.io.encode_png(a).numpy())
