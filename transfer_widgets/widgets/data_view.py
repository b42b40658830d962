"""DataView: what the training data holds, before a run: examples per class for
training and validation (with imbalance and missing-class warnings), sample
thumbnails per class, the problems of an image folder, and exact duplicates
between training and validation.

A thin view over :mod:`transfer_widgets.data.overview`. The first render sends
only the counts (a few hundred bytes): thumbnails are asked for by the front end,
a page of one class at a time, when that class scrolls into view, and come back as
PNG bytes in the message's buffers. The folder scan and duplicate search read
every file, so they run in a background thread and fill ``checks`` when done.
"""

from __future__ import annotations

import os
import threading
import traceback
from typing import Any

import numpy as np
import traitlets

from ..data.overview import (
    balance_warnings,
    class_counts,
    duplicates,
    png_bytes,
    scan_folder,
    value_range,
)
from ..data.samples import Samples, folder_root, samples_of
from ..training.events import Event
from ._bundle import BundledWidget, Controller, is_controller
from .protocol import DataChecks, DataSummary, ThumbItem, ThumbsMessage

#: Duplicates and folder problems listed in the view (the counts are always complete).
MAX_LISTED = 50


class DataView(BundledWidget):
    """Show the data a controller trains on: ``DataView(controller)``, or data
    directly: ``DataView((x, y), validation_data=(xv, yv), class_names=[...])``
    (arrays, a labelled ``tf.data.Dataset``, an image folder's dataset, a PyDataset).

    ``page_size`` thumbnails per class are sent at a time. Follows the controller: a
    loaded config with other data shows the new data.
    """

    _bundle = "data_view"

    summary = traitlets.Dict(help="Class names and counts, warnings (DataSummary)").tag(sync=True)
    checks = traitlets.Dict(help="Folder problems and duplicates (DataChecks), filled in the background").tag(
        sync=True
    )
    page_size = traitlets.Int(8, help="Thumbnails per class per page").tag(sync=True)

    def __init__(
        self,
        source: Controller | Any,
        *,
        validation_data: Any = None,
        class_names: list[str] | None = None,
        page_size: int = 8,
        background: bool = True,
        **kwargs: Any,
    ) -> None:
        self.controller = source if is_controller(source) else None
        self._data = None if self.controller is not None else source
        self._validation_arg = validation_data
        self._class_names_arg = class_names
        self._background = background
        self.last_traceback: str | None = None  # of the last failed check, for debugging
        self._splits: dict[str, Samples] = {}
        self._ranges: dict[str, tuple[float, float]] = {}
        self._checks_thread: threading.Thread | None = None
        self._shown: tuple[Any, ...] = ()  # the data and class names shown (see _source_key)
        super().__init__(page_size=page_size, **kwargs)
        self._follow(self.controller, self._events)
        self.on_msg(self._on_front_end_msg)
        self.refresh()

    # -- public API ----------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the data again (after changing it in place) and start the checks."""
        train, val = self._data_args()
        self._shown = self._source_key()
        self._splits = {"train": samples_of(train, "train_data")}
        if val is not None:
            self._splits["validation"] = samples_of(val, "validation_data")
        self._ranges = {}
        names = self._names()
        counts = {split: class_counts(s.labels, len(names)) for split, s in self._splits.items()}
        summary: DataSummary = {
            "classes": names,
            "train": counts["train"],
            "validation": counts.get("validation"),
            "warnings": balance_warnings(names, counts["train"], counts.get("validation")),
            "image_shape": list(self._splits["train"].image_shape),
            "folder": self._folder(),
        }
        self.summary = dict(summary)
        self.checks = dict(
            DataChecks(
                state="checking", problems=[], problem_count=0, duplicates=[], duplicate_count=0, message=""
            )
        )
        if self._background:
            self._checks_thread = threading.Thread(
                target=self._run_checks, name="transfer-widgets-data-checks", daemon=True
            )
            self._checks_thread.start()
        else:
            self._run_checks()

    def wait_for_checks(self, timeout: float | None = None) -> dict[str, Any]:
        """Block until the background checks are done; returns ``checks``."""
        if self._checks_thread is not None:
            self._checks_thread.join(timeout)
        return dict(self.checks)

    def thumbnails(self, split: str, cls: int, page: int = 0) -> tuple[ThumbsMessage, list[bytes]]:
        """One page of ``split``'s examples of class ``cls``: the message the view gets
        and the PNG bytes of each readable image, in order."""
        samples = self._splits.get(split)
        if samples is None:
            raise ValueError(f"split must be one of {', '.join(map(repr, self._splits))}, got {split!r}")
        members = np.flatnonzero(samples.labels == cls)
        start = max(0, int(page)) * self.page_size
        chosen = members[start : start + self.page_size]
        if split not in self._ranges:
            self._ranges[split] = _safe_range(samples)
        items: list[ThumbItem] = []
        buffers: list[bytes] = []
        for i in chosen:
            path = None if samples.paths is None else samples.paths[i]
            try:
                png = png_bytes(samples.images([int(i)])[0], self._ranges[split])
            except Exception as exc:  # noqa: BLE001 - a file that cannot be shown is listed as such
                items.append({"index": int(i), "path": path, "error": _first_line(exc)})
                continue
            items.append({"index": int(i), "path": path, "error": None})
            buffers.append(png)
        message: ThumbsMessage = {
            "type": "thumbs",
            "split": split,
            "cls": int(cls),
            "page": int(page),
            "items": items,
            "total": len(members),
            "has_more": bool(start + self.page_size < len(members)),
        }
        return message, buffers

    # -- internals -------------------------------------------------------------------------

    def _data_args(self) -> tuple[Any, Any]:
        if self.controller is not None:
            ctl: Any = self.controller
            return ctl.train_data, ctl.validation_data
        return self._data, self._validation_arg

    def _names(self) -> list[str]:
        train = self._splits["train"]
        k = int(max((int(s.labels.max()) + 1 for s in self._splits.values() if len(s)), default=0))
        if self.controller is not None:
            spec = self.controller.config.head
            if spec.class_names:
                return list(spec.class_names)
            if spec.task in ("multiclass", "binary"):
                k = max(k, 2 if spec.task == "binary" else int(spec.num_classes or 0))
        if self._class_names_arg is not None:
            return [str(n) for n in self._class_names_arg]
        if train.class_names and len(train.class_names) >= k:
            return list(train.class_names)
        return [str(i) for i in range(k)]

    def _folder(self) -> str | None:
        """The image folder the training data comes from (None for other data)."""
        if self.controller is not None:
            spec = self.controller.config.data
            if spec.source == "directory" and spec.directory:
                return str(spec.directory)
        paths = self._splits["train"].paths
        if not paths:
            return None
        root = folder_root(paths)
        names = self._splits["train"].class_names or []
        return os.path.dirname(root) if len(names) == 1 else root

    def _run_checks(self) -> None:
        try:
            folder = self.summary.get("folder")
            problems = scan_folder(folder) if folder else []
            train, val = self._splits["train"], self._splits.get("validation")
            dupes = duplicates(train, val) if val is not None else []
            self.checks = dict(
                DataChecks(
                    state="done",
                    problems=[{"path": p.path, "problem": p.problem} for p in problems[:MAX_LISTED]],
                    problem_count=len(problems),
                    duplicates=[
                        {
                            "train": d.train,
                            "validation": d.validation,
                            "train_path": d.train_path,
                            "validation_path": d.validation_path,
                        }
                        for d in dupes[:MAX_LISTED]
                    ],
                    duplicate_count=len(dupes),
                    message="",
                )
            )
        except Exception as exc:  # noqa: BLE001 - shown in the view, the kernel lives on
            self.last_traceback = traceback.format_exc()
            self.checks = dict(
                DataChecks(
                    state="failed",
                    problems=[],
                    problem_count=0,
                    duplicates=[],
                    duplicate_count=0,
                    message=_first_line(exc),
                )
            )

    def _events(self, events: list[Event]) -> None:
        """A loaded config may bring other data or class names; other settings change nothing here."""
        if any(e.get("type") in ("config", "reset") for e in events) and self._source_key() != self._shown:
            self.refresh()

    def _source_key(self) -> tuple[Any, ...]:
        train, val = self._data_args()
        names = self.controller.config.head.class_names if self.controller is not None else None
        return id(train), id(val), tuple(names or ())

    def _on_front_end_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict) or content.get("type") != "thumbs":
            return
        try:
            message, buffers = self.thumbnails(
                str(content.get("split")), int(content.get("cls", 0)), int(content.get("page", 0))
            )
        except Exception as exc:  # noqa: BLE001 - answered, never raised into the comm
            self.send({"type": "error", "message": _first_line(exc), "traceback": traceback.format_exc()})
            return
        self.send(dict(message), buffers)


def _safe_range(samples: Samples) -> tuple[float, float]:
    """The data set's value range, from the first images that can be read."""
    try:
        return value_range(samples, 64)
    except Exception:  # noqa: BLE001 - an unreadable file among the first: judge from readable ones
        readable = []
        for i in range(min(64, len(samples))):
            try:
                readable.append(samples.images([i]))
            except Exception:  # noqa: BLE001
                continue
        if not readable:
            return (0.0, 255.0)
        a = np.concatenate(readable)
        return float(a.min()), float(a.max())


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")
