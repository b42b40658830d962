"""Feature extraction: run the frozen base once, cache its outputs, train the head on them.

Training a head on cached features skips the base's forward pass every epoch,
which is most of the cost. The cache lives in memory, or on disk (a memory-mapped
``.npy`` file under ``cache_dir``) for data that does not fit. Entries are keyed
by the data and by a fingerprint of the base's weights, so fine-tuning the base
invalidates them instead of serving stale features.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..data.adapters import feature_batches, kind_of

if TYPE_CHECKING:
    import keras

#: ``feature_cache="auto"`` keeps features in memory up to this size, then uses disk.
MEMORY_LIMIT_BYTES = 2 * 1024**3


@dataclass
class CachedFeatures:
    x: np.ndarray  # in memory, or an np.memmap over the disk cache
    y: np.ndarray | None
    on_disk: bool
    path: str | None = None


def _sample(a: np.ndarray, n: int = 4096) -> np.ndarray:
    """About ``n`` elements spread evenly over ``a`` (all of it when smaller)."""
    flat = np.ascontiguousarray(a).reshape(-1)
    return flat[:: max(1, flat.size // n)]


def weights_fingerprint(model: keras.Model) -> str:
    """A checksum over every weight of ``model``, sampled (training moves every
    weight, so a sample of each detects it) to stay cheap on large bases."""
    crc = 0
    for w in model.get_weights():
        crc = zlib.crc32(str(w.shape).encode(), crc)
        crc = zlib.crc32(_sample(w, 1024).tobytes(), crc)
    return f"{crc:08x}"


def data_key(data: Any) -> str:
    """Identifies the data: shape, dtype and a sample of 64K values spread over the
    arrays (hashing all of a large image array costs as much as an epoch of a small
    head); the object for datasets. Call ``FeatureCache.clear()`` after editing
    arrays in place."""
    if kind_of(data) == "arrays":
        x, y = data
        h = hashlib.blake2b(digest_size=12)
        for a in (x, y):
            if a is None:
                continue
            a = np.asarray(a)
            h.update(str((a.shape, a.dtype.str)).encode())
            h.update(_sample(a, 65536).tobytes())
        return h.hexdigest()
    return f"obj{id(data):x}"


class FeatureCache:
    """Cached base outputs for the data sets a controller trains on."""

    def __init__(
        self, where: str = "auto", cache_dir: str | None = None, memory_limit: int = MEMORY_LIMIT_BYTES
    ) -> None:
        self.where = where
        self.cache_dir = cache_dir
        self.memory_limit = memory_limit
        self._entries: dict[str, CachedFeatures] = {}
        self.computed = 0  # passes over data, for tests and the monitor

    def get(
        self,
        feature_model: keras.Model,
        data: Any,
        batch_size: int,
        cancel: Callable[[], None] | None = None,
    ) -> CachedFeatures:
        """The features of ``data`` under ``feature_model``, computed at most once per weights.
        ``cancel`` is called before each batch: it raises to end the computation, which
        then keeps nothing (no entry, no half-written disk file)."""
        key = f"{data_key(data)}-{weights_fingerprint(feature_model)}"
        entry = self._entries.get(key)
        if entry is None:
            entry = self._compute(feature_model, data, batch_size, key, cancel)
            self._entries[key] = entry
        return entry

    def clear(self) -> None:
        for entry in self._entries.values():
            if entry.on_disk and entry.path and os.path.exists(entry.path):
                del entry.x
                os.remove(entry.path)
        self._entries.clear()

    def _use_disk(self, feature_model: keras.Model, data: Any) -> bool:
        if self.where != "auto":
            return self.where == "disk"
        if kind_of(data) != "arrays":
            return False
        per_sample = int(np.prod(feature_model.outputs[0].shape[1:])) * 4
        return per_sample * len(data[0]) > self.memory_limit

    def _compute(
        self,
        feature_model: keras.Model,
        data: Any,
        batch_size: int,
        key: str,
        cancel: Callable[[], None] | None = None,
    ) -> CachedFeatures:
        self.computed += 1
        disk = self._use_disk(feature_model, data)
        path = None
        chunks: list[np.ndarray] = []
        labels: list[np.ndarray] = []
        n = 0
        done = [False]  # a disk file is kept only when every batch was written
        with contextlib.ExitStack() as stack:
            out = None
            if disk:
                folder = self.cache_dir or tempfile.gettempdir()
                os.makedirs(folder, exist_ok=True)
                path = os.path.join(folder, f"tw-features-{key}.f32")
                out = stack.enter_context(open(path, "wb"))
                stack.callback(_remove_unless_complete, path, done)
            for x, y in feature_batches(data, batch_size):
                if cancel is not None:
                    cancel()
                f = np.asarray(feature_model.predict_on_batch(x), dtype=np.float32)
                n += len(f)
                if out is not None:
                    out.write(f.tobytes())
                else:
                    chunks.append(f)
                if y is not None:
                    labels.append(np.asarray(y))
            if path is not None:
                done[0] = True
        shape = tuple(feature_model.outputs[0].shape[1:])
        y_all = np.concatenate(labels) if labels else None
        x_all: np.ndarray
        if path is not None:  # on disk
            x_all = np.memmap(path, dtype=np.float32, mode="r", shape=(n, *shape))
        else:
            x_all = np.concatenate(chunks) if chunks else np.zeros((0, *shape), np.float32)
        return CachedFeatures(x_all, y_all, disk, path)


def _remove_unless_complete(path: str, done: list[bool]) -> None:
    if not done[0] and os.path.exists(path):
        os.remove(path)


def disk_batches(
    entry: CachedFeatures, batch_size: int, shuffle: bool = True, seed: int | None = None
) -> keras.utils.PyDataset:
    """A ``keras.utils.PyDataset`` reading batches from a disk cache, so ``fit``
    never loads the whole memory-mapped file."""
    import keras

    if entry.y is None:  # preflight refuses data without labels before any features are cached
        raise ValueError("disk_batches: the cached features have no labels to train on")
    labels = entry.y  # (entry.x is read through entry: FeatureCache.clear() drops the memmap)

    class _Batches(keras.utils.PyDataset):
        def __init__(self) -> None:
            super().__init__()
            self.rng = np.random.default_rng(seed)
            self.order = np.arange(len(entry.x))
            self.on_epoch_end()

        def __len__(self) -> int:
            return (len(entry.x) + batch_size - 1) // batch_size

        def __getitem__(self, i: int) -> tuple[np.ndarray, np.ndarray]:
            idx = np.sort(self.order[i * batch_size : (i + 1) * batch_size])
            return np.asarray(entry.x[idx]), labels[idx]

        def on_epoch_end(self) -> None:
            if shuffle:
                self.rng.shuffle(self.order)

    return _Batches()
