"""The notebook's own names for a controller's objects, for a cell that runs there.

A cell inserted below a widget runs in the same kernel, so it can use the objects the
experiment was built from, by the names the notebook gave them (the IPython user
namespace). An object without a name (``x[:1400]``, a model built inline) can be
saved beside the notebook, and the cell loads the copy. Nothing here is shown in a
view: :class:`~transfer_widgets.widgets.export_panel.ExportPanel` uses it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..export.live import LiveSources, is_name

#: Where saved objects go, relative to the kernel's working directory (the notebook's folder).
SAVE_DIR = "transfer_objects"


def user_namespace() -> dict[str, Any] | None:
    """The IPython kernel's user namespace (``get_ipython().user_ns``), None outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - ipywidgets depends on IPython
        return None
    shell = get_ipython()
    return getattr(shell, "user_ns", None) if shell is not None else None


def name_in(namespace: Mapping[str, Any], obj: object) -> str | None:
    """The notebook's name for ``obj`` (the very object, not an equal one), or None.
    IPython's own history names (``_``, ``_3``, ``Out``) do not count."""
    for name, value in list(namespace.items()):
        if value is obj and is_name(name) and not name.startswith("_"):
            return name
    return None


class NotebookObjects:
    """Expressions for a controller's base model and data in the notebook's namespace,
    the objects that have none, and saving those beside the notebook."""

    def __init__(self, namespace: Mapping[str, Any], folder: str | Path | None = None):
        self.namespace = namespace
        self.folder = Path(folder) if folder is not None else Path.cwd()
        self._saved: dict[int, tuple[object, str]] = {}  # id(obj) -> (obj kept alive, expression)

    def sources(self, controller: Any) -> tuple[LiveSources, list[str]]:
        """What the cell passes ``from_config``, and a description of every object that has
        neither a name nor a saved copy (the cell cannot run while the list is not empty)."""
        missing: list[str] = []
        imports: set[str] = set()
        config = controller.config
        base = None
        if config.base.source == "model":
            base = self._expression(controller.base_model, "the base model", missing, imports)
        data: dict[str, str | None] = {}
        for what, value in (("train", controller.train_data), ("validation", controller.validation_data)):
            if value is None or config.data.source in ("directory", "demo"):
                data[what] = None  # the config loads it, or there is none
            else:
                data[what] = self._data_expression(value, f"{what}_data", missing, imports)
        return LiveSources(base, data["train"], data["validation"], tuple(sorted(imports))), missing

    def save_unnamed(self, controller: Any) -> list[Path]:
        """Save every object without a name into ``SAVE_DIR`` beside the notebook (a base
        model as ``.keras``, arrays as ``.npy``); returns the files written."""
        folder = self.folder / SAVE_DIR
        written: list[Path] = []
        config = controller.config
        if config.base.source == "model" and self._needs_saving(controller.base_model):
            folder.mkdir(exist_ok=True)
            path = folder / f"{_file_stem(controller.base_model.name)}.keras"
            controller.base_model.save(path)
            self._remember(controller.base_model, f"keras.saving.load_model({_rel(path, self.folder)!r})")
            written.append(path)
        for what, value in (("train", controller.train_data), ("validation", controller.validation_data)):
            if value is None or config.data.source in ("directory", "demo") or not self._needs_saving(value):
                continue
            if not (isinstance(value, tuple) and all(_is_array(v) or v is None for v in value)):
                continue  # a pipeline cannot be saved: it has to be given a name
            for part, array in zip(("x", "y", "sample_weight"), value, strict=False):
                if array is None or not self._needs_saving(array):
                    continue
                folder.mkdir(exist_ok=True)
                path = folder / f"{what}_{part}.npy"
                np.save(path, np.asarray(array), allow_pickle=False)
                self._remember(array, f"np.load({_rel(path, self.folder)!r})")
                written.append(path)
        return written

    # -- internals -------------------------------------------------------------------------

    def _needs_saving(self, obj: object) -> bool:
        if name_in(self.namespace, obj) is not None or id(obj) in self._saved:
            return False
        if isinstance(obj, tuple):
            return any(self._needs_saving(v) for v in obj if v is not None)
        return True

    def _remember(self, obj: object, expression: str) -> None:
        self._saved[id(obj)] = (obj, expression)

    def _expression(self, obj: object, what: str, missing: list[str], imports: set[str]) -> str | None:
        name = name_in(self.namespace, obj)
        if name is not None:
            return name
        saved = self._saved.get(id(obj))
        if saved is not None and saved[0] is obj:
            imports.add("import keras" if saved[1].startswith("keras.") else "import numpy as np")
            return saved[1]
        missing.append(what)
        return None

    def _data_expression(self, value: Any, what: str, missing: list[str], imports: set[str]) -> str | None:
        name = name_in(self.namespace, value)
        if name is not None or not isinstance(value, tuple):
            return self._expression(value, what, missing, imports)
        parts = [
            "None" if v is None else self._expression(v, f"{what}[{i}]", missing, imports)
            for i, v in enumerate(value)
        ]
        if any(p is None for p in parts):
            return None
        return "(" + ", ".join(str(p) for p in parts) + ("," if len(parts) == 1 else "") + ")"


def _is_array(value: object) -> bool:
    return isinstance(value, np.ndarray) or (hasattr(value, "shape") and hasattr(value, "dtype"))


def _file_stem(name: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "base_model"
    return stem[:80]


def _rel(path: Path, folder: Path) -> str:
    return path.relative_to(folder).as_posix()
