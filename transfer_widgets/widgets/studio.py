"""TransferStudio: the whole fine-tuning workflow as one app around one controller.

A header says what is being trained (the model and its parameter counts), on what
(samples, classes and their balance) and how (fine-tune or feature extraction); a
row of workflow buttons (Train head, Fine-tune, Find LR, Stop, Export) drives the
controller without blocking the kernel; the panels (layer tree, head designer,
training monitor, export) sit in tabs, each the same widget that works on its own,
all bound to ``studio.controller``. Other panels join with :meth:`add_panel`.
"""

from __future__ import annotations

import html
import math
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from ..config import TransferConfig
from ..data.summary import DataSummary, summarize
from ..training.events import ACTIVE, Event, has_event, last_state
from ._bundle import is_controller
from .export_panel import ExportPanel
from .head_designer import HeadDesigner
from .layer_tree import LayerTree
from .snapshot_guard import SnapshotGuard
from .static_html import StaticFallback
from .training_monitor import TrainingMonitor

if TYPE_CHECKING:
    from ..training.controller import FineTuneController

_CSS = (Path(__file__).resolve().parent / "studio.css").read_text(encoding="utf-8")
_MODES = {"fine_tune": "Fine-tune", "feature_extraction": "Feature extraction"}
#: The tab each built-in panel sits in, in order.
TABS = ("Layers", "Head", "Training", "Export")


class TransferStudio(StaticFallback, widgets.VBox):
    """Fine-tune a model in one widget: the layer tree, head designer, training monitor
    and export panel around one :class:`~transfer_widgets.FineTuneController`.

    ``TransferStudio(base_model, train_data=(x, y), validation_data=..., num_classes=10)``
    takes what :class:`FineTuneController` takes (a model, an application name, a
    ``.keras`` path, or a controller); see also :meth:`from_config` and
    :meth:`from_application`. ``studio.controller`` is the engine for code, and
    ``studio.tree`` / ``head`` / ``monitor`` / ``export`` are the panels.
    """

    _unsubscribe: Callable[[], None] | None = None

    def __init__(
        self,
        base_model: Any = None,
        *,
        train_data: Any = None,
        validation_data: Any = None,
        num_classes: int | None = None,
        head: Any = None,
        task: str | None = None,
        config: TransferConfig | None = None,
        mode: str | None = None,
        **kwargs: Any,
    ) -> None:
        given = {
            "train_data": train_data,
            "validation_data": validation_data,
            "num_classes": num_classes,
            "head": head,
            "task": task,
            "config": config,
            "mode": mode,
        }
        if is_controller(base_model):
            extra = sorted(k for k, v in given.items() if v is not None)
            if extra:
                raise TypeError(
                    f"TransferStudio(controller) takes the controller as it is; {', '.join(extra)} "
                    "belong to FineTuneController(...) (or pass them here instead of a controller)"
                )
            self.controller: FineTuneController = base_model
        else:
            from ..training.controller import FineTuneController

            self.controller = FineTuneController(base_model, **given)
        c = self.controller
        self.tree = LayerTree(c)
        self.head = HeadDesigner(c)
        self.monitor = TrainingMonitor(c)
        self.export = ExportPanel(c)
        self.header = widgets.HTML()
        self.header.add_class("tw-studio-header")
        self.status = widgets.HTML()
        self.status.add_class("tw-studio-status")
        self._build_buttons()
        self.tabs = widgets.Tab(children=[self.tree, self.head, self.monitor, self.export], titles=TABS)
        self.tabs.add_class("tw-studio-tabs")
        self._data = self._summaries()
        style = widgets.HTML(f"<style>{_CSS}</style>")
        style.add_class("tw-studio-style")
        self.guard = SnapshotGuard("tw-studio")  # static pages: the note, and the toolbar off
        super().__init__(
            children=[style, self.header, self.guard, self._toolbar, self.status, self.tabs], **kwargs
        )
        self.add_class("tw-studio")
        self._lock = threading.Lock()
        self._unsubscribe = c.events.subscribe(self._on_events)
        self._render(c.running)

    # -- other ways in -------------------------------------------------------------------------

    @classmethod
    def from_config(cls, config: Any, base_model: Any = None, **kwargs: Any) -> TransferStudio:
        """A studio for a saved experiment (a :class:`TransferConfig`, dict, JSON text or
        file; see :meth:`FineTuneController.from_config`). In-memory models and data are
        passed again (``base_model=``, ``train_data=``)."""
        from ..training.controller import FineTuneController

        return cls(FineTuneController.from_config(config, base_model, **kwargs))

    @classmethod
    def from_application(
        cls,
        name: str,
        *,
        weights: str | None = "imagenet",
        input_shape: tuple[int, ...] | None = None,
        config: TransferConfig | None = None,
        **kwargs: Any,
    ) -> TransferStudio:
        """A studio on a ``keras.applications`` backbone (``"MobileNetV2"``) with
        ``weights`` (``"imagenet"``, None for random weights, or a weights file) and
        ``input_shape`` (default: the training images' shape). Other arguments as for
        ``TransferStudio(...)``."""
        cfg = config.copy() if config is not None else TransferConfig()
        cfg.base.source, cfg.base.name, cfg.base.weights = "application", name, weights
        if input_shape is not None:
            cfg.base.input_shape = tuple(input_shape)
        return cls(name, config=cfg, **kwargs)

    # -- static fallback ---------------------------------------------------------------------------

    def static_html(self) -> str:
        """The header and every panel's static rendering, for pages without a widget manager."""
        parts = [header_html(self.controller, *self._data, running=self.controller.running)]
        parts += [p.static_html() for p in self.tabs.children if isinstance(p, StaticFallback)]
        return '<div class="tw-static tw-static-studio">' + "".join(parts) + "</div>"

    def static_text(self) -> str:
        return f"TransferStudio: {self.controller!r}"

    # -- panels -----------------------------------------------------------------------------------

    def add_panel(self, title: str, panel: widgets.Widget) -> None:
        """Add a panel (for instance a data view bound to ``studio.controller``) as a tab."""
        self.tabs.children = (*self.tabs.children, panel)
        self.tabs.set_title(len(self.tabs.children) - 1, title)

    def show(self, title: str) -> None:
        """Bring the tab called ``title`` to the front."""
        titles = list(self.tabs.titles)
        if title not in titles:
            raise ValueError(f"No panel called {title!r}; the panels are {', '.join(titles)}")
        self.tabs.selected_index = titles.index(title)

    # -- workflow (buttons; also callable from code) --------------------------------------------

    def train_head(self) -> bool:
        """Freeze the whole base and train the head (``controller.fit()``) in the background."""

        def start() -> None:
            self.controller.freeze_all()
            self.controller.fit()

        return self._start("Train head", start)

    def fine_tune(self) -> bool:
        """Train the head, then unfreeze and fine-tune (``controller.fine_tune()``), in the background."""
        return self._start("Fine-tune", self.controller.fine_tune)

    def find_lr(self) -> bool:
        """Sweep the learning rate on a background thread; the plot appears in the Training tab."""
        return self._start("Find LR", self.monitor.find_lr)

    def stop(self) -> None:
        """Stop the run at the end of the current batch."""
        self.controller.stop()

    def show_export(self) -> None:
        """Bring the export panel, re-exported from the controller, to the front."""
        self.export.refresh()
        self.show("Export")

    def _start(self, what: str, action: Callable[[], object]) -> bool:
        try:
            action()
        except Exception as exc:  # noqa: BLE001 - shown in the studio, never raised into a button
            self.status.value = (
                f'<span class="tw-studio-error">{html.escape(what)} did not start: '
                f"{html.escape(type(exc).__name__)}: {html.escape(str(exc))}</span>"
            )
            return False
        self.status.value = ""
        self.show("Training")
        return True

    def _build_buttons(self) -> None:
        def button(text: str, action: Callable[[], object], tooltip: str, style: str = "") -> widgets.Button:
            b = widgets.Button(description=text, tooltip=tooltip, button_style=style)
            b.add_class("tw-studio-button")
            b.on_click(lambda _b: action())
            return b

        self.train_head_button = button(
            "Train head", self.train_head, "Freeze the whole base and train the head", "primary"
        )
        self.fine_tune_button = button(
            "Fine-tune", self.fine_tune, "Train the head, then unfreeze the base and fine-tune it"
        )
        self.find_lr_button = button("Find LR", self.find_lr, "Sweep the learning rate and suggest one")
        self.stop_button = button("Stop", self.stop, "Stop at the end of the current batch", "danger")
        self.export_button = button("Export", self.show_export, "The experiment as a script, cell or config")
        self._toolbar = widgets.HBox(
            [
                self.train_head_button,
                self.fine_tune_button,
                self.find_lr_button,
                self.stop_button,
                self.export_button,
            ]
        )
        self._toolbar.add_class("tw-studio-toolbar")

    # -- following the controller ---------------------------------------------------------------

    def _summaries(self) -> tuple[DataSummary | None, DataSummary | None]:
        c = self.controller
        train = summarize(c.train_data) if c.train_data is not None else None
        val = (
            summarize(c.validation_data, "validation_data")
            if c.validation_data is not None and not isinstance(c.validation_data, float)
            else None
        )
        return train, val

    def _on_events(self, events: list[Event]) -> None:
        state = last_state(events)
        if state is None and not has_event(events, "config", "flags", "reset"):
            return  # batches and epochs: the monitor draws them
        if has_event(events, "config", "reset"):
            self._data = self._summaries()  # a loaded config may bring other data
        self._render(state in ACTIVE if state is not None else self.controller.running)

    def _render(self, running: bool) -> None:
        with self._lock:
            self.header.value = header_html(self.controller, *self._data, running=running)
            for b in (self.train_head_button, self.fine_tune_button, self.find_lr_button):
                b.disabled = running
            self.stop_button.disabled = not running

    def close(self) -> None:
        unsubscribe, self._unsubscribe = self._unsubscribe, None
        if unsubscribe is not None:
            unsubscribe()
        tabs = getattr(self, "tabs", None)  # absent after a failed __init__
        for panel in tabs.children if tabs is not None else ():
            panel.close()
        super().close()


def header_html(
    controller: FineTuneController,
    train: DataSummary | None,
    validation: DataSummary | None,
    *,
    running: bool,
) -> str:
    """The studio's header: model, data and mode, every model-supplied string escaped."""
    c = controller
    model, base = c.model, c.base_model
    trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
    total = model.count_params()
    config = c.config
    classes = config.head.num_classes
    mode = _MODES.get(config.mode, config.mode)
    state = c.state
    items = [
        _item("Model", f"{base.name} + head", f"{total:,} params, {trainable:,} trainable"),
        _item("Data", _data_text(train, "train"), _data_text(validation, "validation")),
        _item("Classes", "—" if classes is None else f"{classes:,}", _balance_text(train)),
        _item("Mode", mode, state + (" …" if running else "")),
    ]
    return f'<div class="tw-studio-summary" role="group" aria-label="Experiment">{"".join(items)}</div>'


def _item(label: str, value: str, detail: str) -> str:
    return (
        f'<div class="tw-studio-item"><span class="tw-studio-label">{html.escape(label)}</span>'
        f'<span class="tw-studio-value">{html.escape(value)}</span>'
        f'<span class="tw-studio-detail">{html.escape(detail)}</span></div>'
    )


def _data_text(summary: DataSummary | None, what: str) -> str:
    if summary is None:
        return f"no {what} data" if what == "train" else "no validation data"
    if summary.samples is not None:
        return f"{summary.samples:,} {what}"
    if summary.batches is not None:
        return f"{summary.batches:,} {what} batches"
    return f"{what}: size unknown ({summary.kind})"


def _balance_text(summary: DataSummary | None) -> str:
    if summary is None or summary.class_counts is None or summary.balance is None:
        return "balance unknown"
    counts = [n for n in summary.class_counts if n > 0]
    if summary.balance >= 0.9:
        return f"balanced ({min(counts):,}–{max(counts):,} per class)"
    return f"imbalanced: {min(counts):,}–{max(counts):,} per class"
