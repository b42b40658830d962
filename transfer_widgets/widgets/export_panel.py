"""ExportPanel: a controller's experiment as code, to insert, copy, download or load back.

A thin view over :meth:`FineTuneController.export_code` and
:meth:`FineTuneController.load_config`. The kernel is the single source of truth:
``kind`` (synced both ways) picks the export, ``code`` is that export and ``cell``
the notebook-cell export the "Insert cell below" button hands to the JupyterLab
plugin. Both are recomputed here whenever the experiment changes, as the
controller's event stream tells: a ``config`` event, a ``flags`` event outside a
run, and the end of a run (a fine-tune changes the flags and the phases). The
front end sends one intent, ``load_config`` with a file's text; a refused load is
shown in ``error`` and changes nothing.
"""

from __future__ import annotations

import html
import traceback
from collections.abc import Mapping
from typing import Any

import traitlets

from ..config import TransferConfig
from ..export.live import live_cell
from ..model.freeze_plan import freeze_plan_from_model
from ..training.controller import ControllerBusyError
from ..training.events import ACTIVE, Event, has_event, last_state
from ._bundle import BundledWidget, Controller, is_controller
from .notebook_objects import SAVE_DIR, NotebookObjects, user_namespace
from .protocol import InsertCellMessage, LoadDoneMessage
from .static_html import StaticFallback, code_html

#: kind -> (label, file name for Download)
KINDS = {
    "script": ("Script", "train.py"),
    "cell": ("Notebook cell", "transfer_cell.py"),
    "notebook": ("Notebook", "transfer.ipynb"),
    "json": ("JSON config", "transfer_config.json"),
}
#: Larger "config files" are refused before they are parsed (a config is a few KB).
MAX_CONFIG_CHARS = 5_000_000


class ExportPanel(StaticFallback, BundledWidget):
    """Show a controller's experiment as code (script, notebook cell, notebook, JSON
    config), insert it as a cell below (JupyterLab), copy or download it, and load a
    saved JSON config back into the controller.

    ``ExportPanel(controller, kind="cell")``. The code follows the controller; after
    changing trainable flags with plain Keras (``layer.trainable = ...``) call
    :meth:`refresh`.
    """

    _bundle = "export_panel"

    kind = traitlets.Enum(tuple(KINDS), default_value="script", help="Which export `code` shows").tag(
        sync=True
    )
    code = traitlets.Unicode("", help="The export of kind `code_kind`").tag(sync=True)
    code_kind = traitlets.Unicode(
        "", help="The kind `code` is (it trails `kind` by a round trip to the kernel)"
    ).tag(sync=True)
    cell = traitlets.Unicode("", help='The notebook-cell export: what "Insert cell below" inserts').tag(
        sync=True
    )
    export_error = traitlets.Unicode("", help='Why the export failed ("" when it did not)').tag(sync=True)
    error = traitlets.Unicode("", help='Why the last load was refused ("" when it was not)').tag(sync=True)
    notice = traitlets.Unicode("", help="What the last load did").tag(sync=True)
    running = traitlets.Bool(False, help="The controller trains: loading a config is refused").tag(sync=True)
    live = traitlets.Bool(
        False, help="In a notebook kernel: the cell export uses the notebook's own objects by name"
    ).tag(sync=True)
    insert_note = traitlets.Unicode("", help='What "Insert cell below" inserts, in a sentence').tag(sync=True)
    unnamed = traitlets.List(
        traitlets.Unicode(), help="Objects the notebook has no name for: the live cell waits for them"
    ).tag(sync=True)

    def __init__(
        self,
        controller: Controller,
        *,
        kind: str = "script",
        namespace: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ):
        if not is_controller(controller):
            raise TypeError(f"ExportPanel needs a FineTuneController, got {type(controller).__name__}")
        self.controller = controller
        self.last_traceback: str | None = None  # of the last refused load, for debugging
        namespace = namespace if namespace is not None else user_namespace()
        #: The notebook's objects by name (None outside a notebook kernel: the cell stands alone).
        self.objects = NotebookObjects(namespace) if namespace is not None else None
        super().__init__(kind=kind, running=controller.running, live=self.objects is not None, **kwargs)
        self._follow(controller, self._events)
        self.observe(lambda _change: self.refresh(), names="kind")
        self.on_msg(self._on_front_end_msg)
        self.refresh()

    # -- public API ------------------------------------------------------------------

    @property
    def filename(self) -> str:
        """The file name Download gives the shown code."""
        return KINDS[self.kind][1]

    def static_html(self) -> str:
        """The shown export as highlighted code, for pages without a widget manager."""
        if self.export_error:
            return f"<p>{html.escape(self.export_error)}</p>"
        return code_html(self.code, self.code_kind or self.kind, title=f"Export: {KINDS[self.kind][0]}")

    def static_text(self) -> str:
        return f"ExportPanel ({KINDS[self.kind][0]}, {self.code.count(chr(10)):,} lines)"

    def refresh(self) -> None:
        """Re-export the controller's experiment (after changing it behind its back, or
        after naming an object in the notebook)."""
        unnamed: list[str] = []
        try:
            if self.objects is not None:
                cell, unnamed = self._live_cell()
                code = cell if self.kind == "cell" else self.controller.export_code(self.kind)
            else:
                code = self.controller.export_code(self.kind)
                cell = code if self.kind == "cell" else self.controller.export_code("cell")
        except Exception as exc:  # noqa: BLE001 - shown in the panel, which stays usable
            message = str(exc) or type(exc).__name__
            with self.hold_sync():
                self.code = self.cell = ""
                self.code_kind = self.kind
                self.export_error = f"Cannot export the experiment ({type(exc).__name__}): {message}"
            return
        with self.hold_sync():
            self.code, self.code_kind, self.cell, self.export_error = code, self.kind, cell, ""
            self.unnamed = unnamed
            self.insert_note = self._insert_note(unnamed)

    def save_unnamed(self) -> list[str]:
        """Save the objects the notebook has no name for into ``transfer_objects/`` beside
        the notebook, so the inserted cell can load them; returns the files written."""
        if self.objects is None:
            raise RuntimeError(
                "Only a panel in a notebook kernel inserts cells that use the notebook's objects."
            )
        written = self.objects.save_unnamed(self.controller)
        self.refresh()
        if written:
            self.notice = f"Saved {', '.join(p.name for p in written)} in {SAVE_DIR}/ beside the notebook."
        return [str(p) for p in written]

    def load_config(self, config: Any, name: str | None = None) -> None:
        """Load a saved config (the JSON export's text, a dict or a TransferConfig; text is
        always parsed as JSON, never taken for a kernel-side path) into the controller. A config with
        problems, or a load while the model trains, raises and changes nothing; the panel
        shows why in :attr:`error` (prefixed with ``name``, the file's name, when given)."""
        what = f"{name}: " if name else ""
        try:
            if isinstance(config, str) and len(config) > MAX_CONFIG_CHARS:
                raise ValueError(
                    f"{len(config):,} characters is too large for a config; pick the "
                    "transfer_config.json the JSON export downloads"
                )
            if self.controller.running:
                raise ControllerBusyError(
                    f"Cannot load a config while a run is {self.controller.state}: stop the "
                    "run or wait for it to finish, then load it again."
                )
            if isinstance(config, str):
                config = TransferConfig.from_json(config)
            self.controller.load_config(config)
        except Exception as exc:
            with self.hold_sync():
                self.error = f"{what}{_message(exc)}"
                self.notice = ""
            raise
        with self.hold_sync():
            self.error = ""
            self.notice = f"Loaded {name or 'the config'} into the controller."
        # The code was re-exported already: load_config ends with a "config" event.

    def _live_cell(self) -> tuple[str, list[str]]:
        """The cell that rebuilds the experiment from the notebook's objects ("" while some
        object has no name there), and those objects."""
        assert self.objects is not None
        sources, unnamed = self.objects.sources(self.controller)
        if unnamed:
            return "", unnamed
        config = self.controller.config.copy()
        config.freeze = freeze_plan_from_model(self.controller.base_model)  # the flags as they are now
        return live_cell(config, sources), []

    def _insert_note(self, unnamed: list[str]) -> str:
        if self.objects is None:
            return (
                "Insert cell below adds the Notebook cell export: a standalone cell that loads its "
                "own data and base model (fill in load_data())."
            )
        if unnamed:
            return (
                f"This notebook has no name for {', '.join(unnamed)}: assign it to a variable and "
                f"press Insert cell below again, or save it beside the notebook ({SAVE_DIR}/)."
            )
        return (
            "Insert cell below adds the Notebook cell shown under Notebook cell: it rebuilds this "
            "experiment here from the notebook's own objects."
        )

    # -- controller events -------------------------------------------------------------

    def _events(self, events: list[Event]) -> None:
        state = last_state(events)
        if state is not None:
            self.running = state in ACTIVE
        if self.running:
            return  # a fine-tune unfreezing mid-run: the code is re-exported when the run ends
        if state is not None or has_event(events, "config", "flags"):
            self.refresh()  # a run, a config or flags change what the export writes

    # -- messages from the front end ---------------------------------------------------

    def _on_front_end_msg(self, _widget: object, msg: dict[str, Any], _buffers: object) -> None:
        kind = msg.get("type") if isinstance(msg, dict) else None
        if kind == "load_config":
            text = msg.get("text")
            name = msg.get("name") if isinstance(msg.get("name"), str) else None
            if not isinstance(text, str):
                self.error = "The view sent no file text to load; pick the file again."
                self.send(LoadDoneMessage(type="load_done", ok=False))
                return
            ok = True
            try:
                self.load_config(text, name=name)
            except Exception:  # noqa: BLE001 - shown in `error` by load_config, never raised into the comm
                ok = False
                self.last_traceback = traceback.format_exc()
            self.send(LoadDoneMessage(type="load_done", ok=ok))
        elif kind == "refresh":
            self.refresh()
        elif kind in ("insert", "save_unnamed"):
            try:
                if kind == "save_unnamed":
                    self.save_unnamed()
                else:
                    self.refresh()  # the notebook may have named an object since
            except Exception as exc:  # noqa: BLE001 - shown in the panel, never raised into the comm
                self.error = f"Could not save the objects: {_message(exc)}"
                self.last_traceback = traceback.format_exc()
            self.send(InsertCellMessage(type="insert_cell", code=self.cell))
        else:
            self.error = (
                f"Unknown export panel message type {kind!r}: this view is out of date; re-run the cell."
            )


def _message(exc: BaseException) -> str:
    problems = getattr(exc, "problems", None)
    if problems:  # ConfigError: one line per problem, each naming its field
        return "the config has problems: " + "; ".join(problems)
    return str(exc) or type(exc).__name__
