"""TrainingMonitor: live curves, progress, controls, errors, LR finder and confusion
matrix for a :class:`~transfer_widgets.FineTuneController`.

A thin view: :class:`~transfer_widgets.monitor.MonitorState` turns the controller's
throttled event stream into what is drawn; this module only puts it on bqplot
marks and ipywidgets (under ``hold_sync``, float32 arrays, long series decimated
with LTTB to at most ``max_points``). Updates arrive on the training thread at
about 10 per second at most; the kernel stays free, so Stop works from a button
or a cell. Several monitors on one controller share its recorders and events,
so they stay in step, and a monitor shown after a run started or finished draws
what happened so far.
"""

from __future__ import annotations

import contextlib
import html
import math
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import bqplot as bq
import ipywidgets as widgets
import numpy as np
import numpy.typing as npt

from ..monitor import MonitorState, RunningEMA, history_to_csv, history_to_dataframe, lttb
from ..monitor.callback import BatchLossRecorder, ValidationConfusion
from ..monitor.format import format_learning_rate, recipe_line
from ..training.events import ACTIVE, Event
from ._bundle import read_static
from .monitor_svg import monitor_html
from .snapshot_guard import SnapshotGuard
from .static_html import StaticFallback

if TYPE_CHECKING:
    import os

    import pandas as pd

    from ..training.controller import FineTuneController

#: Line colours readable on JupyterLab's light and dark backgrounds (mid luminance).
_COLORS = {
    "train": "#4285f4",
    "val": "#f28b30",
    "raw": "#6f9fe0",
    "smooth": "#e2533f",
    "phase": "#9e9e9e",
    "best": "#34a853",
    "accuracy": "#4285f4",
}
#: The LR finder's legend; "suggested" joins it only when there is a suggestion.
_LR_LEGEND = [("loss", _COLORS["raw"], "tw-tm-faint"), ("smoothed", _COLORS["smooth"], "")]
_MARGIN = {"top": 8, "bottom": 34, "left": 56, "right": 14}
_CHART_HEIGHT = "210px"
#: History columns that are bookkeeping, not metrics: no chart of their own.
_NOT_METRICS = frozenset({"run", "run_epoch", "partial", "batches", "steps", "seconds"})
#: Rendering may take at most this share of wall time: after a render that took r
#: seconds the next waits at least r / _RENDER_BUDGET (and _MIN_GAP_S, at most _MAX_GAP_S).
_RENDER_BUDGET = 0.005
_MIN_GAP_S = 0.1
_MAX_GAP_S = 2.0
#: Seconds between two figures joining the page (each one's first draw is costly).
_JOIN_GAP_S = 0.15
#: Parts drawn at once whatever the budget: they change rarely and a person waits on them.
_URGENT = frozenset({"state", "error", "lr_find", "stage"})
_STAGES = {
    "preparing": "preparing the data",
    "caching_features": "caching features",
    "compiling": "compiling the model",
    "first_batch": "first batch (building the graph)",
    "training": "training",
    "validating": "validating",
}
_EMPTY = (
    '<div class="tw-tm-empty">No run yet. Press <b>Train</b> or <b>Fine-tune</b>: the loss of '
    "every batch appears here, then loss and metrics per epoch (train and validation), and for "
    "classification a confusion matrix. <b>Find LR</b> plots loss against learning rate.</div>"
)


#: What a render step calls to put widgets under ``hold_sync`` until the render ends.
_Hold = Callable[..., None]
_T = TypeVar("_T")


def _f32(values: npt.ArrayLike) -> np.ndarray:
    return np.asarray(values, dtype=np.float32)


def _clock(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "–"
    seconds = round(seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def nice_ticks(lo: float, hi: float, most: int = 6) -> tuple[float, float, list[float], str]:
    """(axis min, axis max, tick values, d3 tick format) for data in [lo, hi]: at most
    ``most`` ticks at 1, 2, 2.5 or 5 times a power of ten, written with as many decimals
    as the step needs (never an exponent for the values a loss or accuracy takes)."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        lo, hi = 0.0, 1.0
    if hi < lo:
        lo, hi = hi, lo
    span = hi - lo
    if span <= max(abs(hi), abs(lo), 1e-12) * 1e-9:  # one value: a small window around it
        pad = abs(hi) * 0.01 or 0.5
        lo, hi, span = lo - pad, hi + pad, 2 * pad
    raw = span / max(1, most - 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw * (1 - 1e-9))
    vmin, vmax = math.floor(lo / step + 1e-9) * step, math.ceil(hi / step - 1e-9) * step
    while round((vmax - vmin) / step) + 1 > most:  # floor/ceil added a step: widen it
        step = next(m * power for m in (2, 2.5, 5, 10, 20, 25, 50) if m * power > step)
        vmin, vmax = math.floor(lo / step + 1e-9) * step, math.ceil(hi / step - 1e-9) * step
    n = round((vmax - vmin) / step)
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    if abs(step / 10.0 ** math.floor(math.log10(step) + 1e-9) - 2.5) < 1e-6:
        decimals += 1
    ticks = [round(vmin + i * step, decimals + 3) for i in range(n + 1)]
    vmin, vmax = ticks[0], ticks[-1]
    if max(abs(vmin), abs(vmax)) >= 1e5:
        fmt = "~s"
    elif decimals > 6:
        fmt = ".1e"
    elif step >= 1 and float(step).is_integer():
        fmt = ",d"
    else:
        fmt = f".{decimals}f"
    return vmin, vmax, ticks, fmt


def _lr(value: float) -> str:
    """A learning rate with its exponent when it has one: ``3.1e-08``, ``0.001``."""
    return format_learning_rate(value)


def _shared(controller: FineTuneController, kind: type[_T], make: Callable[[], _T]) -> _T:
    """The controller's one instance of a recorder callback (``make()`` on first use)."""
    for cb in controller.run_callbacks:
        if type(cb) is kind:
            return cb
    new = make()
    controller.run_callbacks.append(new)
    return new


def _legend_html(title: str, keys: list[tuple[str, str, str]]) -> str:
    """A chart card's head: its title, then a legend of (label, colour, swatch kind)."""
    items = "".join(
        f'<span class="tw-tm-key" style="color:{color}">'
        + (f'<i class="tw-tm-swatch {kind}"></i>' if kind != "text" else "")
        + f'<span class="tw-muted">{html.escape(label)}</span></span>'
        for label, color, kind in keys
    )
    return (
        f'<div class="tw-tm-card-head"><span class="tw-tm-card-title">{html.escape(title)}</span>'
        f'<span class="tw-tm-legend">{items}</span></div>'
    )


class _Chart:
    """One chart card: a head (title and legend, off the data) over a bqplot figure
    with x / y scales, axes and named marks. Colours of axes, ticks and grid come from
    the theme's CSS variables (labextension/src/widgets/training_monitor.css), not
    from properties."""

    def __init__(
        self,
        title: str,
        x_label: str,
        *,
        x_log: bool = False,
        legend: list[tuple[str, str, str]] | None = None,
        height: str = _CHART_HEIGHT,
        margin: dict[str, int] | None = None,
    ) -> None:
        self.title = title
        self.x = bq.LogScale() if x_log else bq.LinearScale()
        self.y = bq.LinearScale()
        self.unit_y = bq.LinearScale(min=0, max=1)  # for vertical marker lines spanning the plot
        self.x_axis = bq.Axis(
            scale=self.x,
            label=x_label,
            label_offset="28px",
            grid_lines="none",
            tick_format=".0e" if x_log else "d",
            num_ticks=None if x_log else 6,
        )
        self.y_axis = bq.Axis(scale=self.y, side="left", grid_lines="solid", num_ticks=5)
        self.figure = bq.Figure(
            marks=[],
            axes=[self.x_axis, self.y_axis],
            fig_margin=dict(margin or _MARGIN),
            padding_x=0.0,
            padding_y=0.0,
            layout=widgets.Layout(width="100%", height=height, min_width="0"),
        )
        self.figure.add_class("tw-tm-figure")
        self.head = widgets.HTML(_legend_html(title, legend or []))
        self.card = widgets.VBox([self.head, self.figure])
        self.card.add_class("tw-tm-card")
        self.marks: dict[str, Any] = {}
        self._x_span: tuple[float, float] | None = None  # the data range fit_x last drew

    def set_title(self, title: str, legend: list[tuple[str, str, str]]) -> None:
        text = _legend_html(title, legend)
        if self.head.value != text:
            self.head.value = text

    def fit_y(self, *series: npt.ArrayLike, live: bool = False) -> None:
        """Scale and ticks for the finite values of ``series`` (nothing drawn: left as is).

        ``live``: a chart redrawn while it grows keeps its range while the values stay
        inside it and fill at least half of it, so most updates move only the lines
        (an axis change redraws and re-measures every tick label in the browser)."""
        finite = [v[np.isfinite(v)] for v in (np.asarray(s, dtype=np.float64).ravel() for s in series)]
        values = [v for v in finite if v.size]
        if not values:
            return
        lo, hi = min(float(v.min()) for v in values), max(float(v.max()) for v in values)
        if live and self.y.min is not None and self.y.max is not None:
            vmin, vmax = float(self.y.min), float(self.y.max)
            if vmin <= lo and hi <= vmax and (hi - lo) >= 0.5 * (vmax - vmin):
                return
        vmin, vmax, ticks, fmt = nice_ticks(lo, hi, 6)
        _set(self.y, min=vmin, max=vmax)
        _set(self.y_axis, tick_values=_f32(ticks), tick_format=fmt)

    def fit_x(self, lo: float, hi: float, *, integer: bool = True, live: bool = False) -> None:
        """Integer x (epochs, steps) from ``lo`` to ``hi`` with at most 6 ticks.

        ``live``: the range runs ahead of the data to the next round tick past
        ``hi`` plus a quarter, and only moves when the data reaches its end."""
        hi = max(hi, lo + 1)
        if live:
            if self._x_span is not None and self._x_span[0] == lo and hi <= self._x_span[1]:
                return
            hi = nice_ticks(lo, lo + (hi - lo) * 1.25, 6)[1]
        self._x_span = (lo, hi)
        _, _, ticks, fmt = nice_ticks(lo, hi, 6)
        if integer:
            ticks = [t for t in ticks if float(t).is_integer() and lo <= t <= hi] or [lo, hi]
            fmt = "~s" if hi >= 1e5 else ",d"
        pad = (hi - lo) * 0.03
        _set(self.x, min=lo - pad, max=hi + pad)
        _set(self.x_axis, tick_values=_f32(ticks), tick_format=fmt)

    def lines(
        self,
        name: str,
        *,
        color: str,
        opacity: float = 1.0,
        markers: bool = False,
        width: float = 2.0,
        vertical: bool = False,
    ) -> bq.Lines:
        mark = bq.Lines(
            x=_f32([]),
            y=_f32([]),
            scales={"x": self.x, "y": self.unit_y if vertical else self.y},
            colors=[color],
            opacities=[opacity],
            stroke_width=width,
            marker="circle" if markers else None,
            marker_size=20,
            line_style="dashed" if vertical else "solid",
        )
        return self._add(name, mark)

    def scatter(
        self, name: str, *, color: str, marker: str = "diamond", fill: bool = True, size: int = 64
    ) -> bq.Scatter:
        mark = bq.Scatter(
            x=_f32([]),
            y=_f32([]),
            scales={"x": self.x, "y": self.y},
            colors=[color],
            marker=marker,
            default_size=size,
            fill=fill,
            stroke=None if fill else color,
            stroke_width=1.5,
        )
        return self._add(name, mark)

    def _add(self, name: str, mark: bq.Mark) -> bq.Mark:
        self.marks[name] = mark
        self.figure.marks = [*self.figure.marks, mark]
        return mark


def _set(widget: Any, **values: Any) -> None:
    """Set traits that differ (equal arrays and numbers send nothing)."""
    for k, v in values.items():
        old = getattr(widget, k)
        if isinstance(v, np.ndarray) or isinstance(old, np.ndarray):
            if old is not None and v is not None and np.array_equal(np.asarray(old), np.asarray(v)):
                continue
        elif old == v:
            continue
        setattr(widget, k, v)


class TrainingMonitor(StaticFallback, widgets.VBox):
    """Live view and controls for a controller's training runs.

    ``TrainingMonitor(controller)``; ``max_points``: most points drawn per series (1,000 by
    default: a series reaches it by step 1,000, so an update costs the same bytes from
    then on, at step 1,000 as at step 100,000);
    ``smoothing``: EMA weight of the smoothed batch-loss line; ``confusion``: add the
    per-epoch validation confusion matrix (classification with validation data).

    Cost: drawing runs on the training thread, so it is budgeted: after a render that
    took ``r`` seconds the next one waits at least ``r / render_budget`` (0.5% of wall
    time by default: a render of a few ms, once or twice a second); state changes,
    errors and the LR finder's result draw at once.
    ``flush()`` draws whatever is pending now.
    """

    def __init__(
        self,
        controller: FineTuneController,
        *,
        max_points: int = 1000,
        smoothing: float = 0.9,
        confusion: bool = True,
        lr_find_steps: int = 100,
        render_budget: float = _RENDER_BUDGET,
        **kwargs: Any,
    ) -> None:
        self.controller = controller
        self.max_points = max_points
        self.render_budget = render_budget
        t = controller.config.training
        self._state = MonitorState(batch_size=t.batch_size, monitor=t.monitor)
        self._recorder = _shared(controller, BatchLossRecorder, BatchLossRecorder)
        if confusion:
            _shared(controller, ValidationConfusion, lambda: ValidationConfusion(controller))
        self._ema = RunningEMA(smoothing)
        self._lr_find_steps = lr_find_steps
        self._lock = threading.RLock()
        self._lr_thread: threading.Thread | None = None
        self._joining: threading.Timer | None = None  # lays out figures held back (one per pass)
        self._pending: set[str] = set()
        self._next_render = 0.0
        self._run_marks = (0, 0)  # batches recorded / announced before this run: "Starting…" until one grows
        self.updates = 0  # renders done (tests and the benchmark read it)
        self.render_seconds = 0.0  # time spent rendering, all renders together
        # Built from labextension/src/widgets/training_monitor.css with the shared theme.
        self._style = widgets.HTML(f"<style>{read_static('training_monitor.css')}</style>")
        self._style.add_class("tw-tm-style")
        self.header = widgets.HTML("")
        self._build_controls()
        self._build_progress()
        self._build_errors()
        self._build_charts()
        self.empty = widgets.HTML(_EMPTY)
        super().__init__(
            children=[
                self._style,
                self.header,
                SnapshotGuard("tw-training-monitor"),  # static pages: the note, and the controls off
                self._controls,
                self._progress,
                self._errors,
                self.empty,
                self._charts_box,
                self._lr_box,
                self._confusion_box,
            ],
            **kwargs,
        )
        self.add_class("tw-widget")
        self.add_class("tw-training-monitor")
        with self._lock:
            self._unsubscribe = controller.events.subscribe(self._on_events)
            replay = list(controller.events.log)
            self._replayed = {id(e) for e in replay}
            self._state.apply(replay)
            self._state.load_history(controller.history, controller.phases)
            self._state.state = controller.state
            if controller.state == "failed" and controller.error and self._state.error is None:
                self._state.set_error(controller.error, controller.error_traceback)
            if controller.state not in ACTIVE:
                self._run_marks = self._batch_counts()
            self._render(set(MonitorState.PARTS))

    # -- building ------------------------------------------------------------------------

    def _button(
        self, text: str, handler: Callable[[], object], tooltip: str, style: str = ""
    ) -> widgets.Button:
        b = widgets.Button(
            description=text, tooltip=tooltip, button_style=style, layout=widgets.Layout(width="auto")
        )
        b.on_click(lambda _: handler())
        return b

    def _build_controls(self) -> None:
        self.train_button = self._button(
            "Train", self.train, "Train for config.training.epochs epochs", "primary"
        )
        self.fine_tune_button = self._button(
            "Fine-tune", self.fine_tune, "Train the head with the base frozen, then unfreeze and fine-tune"
        )
        self.stop_button = self._button("Stop", self.stop, "Stop at the end of the current batch", "danger")
        self.pause_button = self._button("Pause", self.toggle_pause, "Hold training between batches")
        self.lr_find_button = self._button("Find LR", self.find_lr, "Sweep the learning rate and suggest one")
        self.apply_lr_button = self._button(
            "Apply suggested LR",
            self.apply_suggested_lr,
            "Set training.learning_rate to the LR finder's suggestion",
        )
        self._controls = widgets.HBox(
            [
                self.train_button,
                self.fine_tune_button,
                self.stop_button,
                self.pause_button,
                self.lr_find_button,
                self.apply_lr_button,
            ]
        )
        self._controls.add_class("tw-tm-controls")

    def _build_progress(self) -> None:
        self.epoch_bar = widgets.IntProgress(value=0, min=0, max=1, layout=widgets.Layout(width="100%"))
        self.batch_bar = widgets.IntProgress(value=0, min=0, max=1, layout=widgets.Layout(width="100%"))
        self.epoch_text = widgets.Label("Epoch –")
        self.batch_text = widgets.Label("Batch –")
        self.epoch_count = widgets.Label("")
        self.batch_count = widgets.Label("")
        self.status = widgets.Label("Idle")
        self.stats = widgets.Label("")
        self.status.add_class("tw-tm-status")
        self.stats.add_class("tw-tm-stats")
        self._bars = widgets.GridBox(
            [
                self.epoch_text,
                self.epoch_bar,
                self.epoch_count,
                self.batch_text,
                self.batch_bar,
                self.batch_count,
            ]
        )
        self._bars.add_class("tw-tm-progress")
        self.recipe = widgets.HTML("", layout=widgets.Layout(display="none"))  # the run's recipe, muted
        self.recipe.add_class("tw-tm-recipe")
        self._progress = widgets.VBox([self.status, self.recipe, self._bars, self.stats])

    def _build_errors(self) -> None:
        self.error_text = widgets.HTML("")
        self.traceback_button = widgets.ToggleButton(
            description="Show traceback", value=False, layout=widgets.Layout(width="auto", display="none")
        )
        self.traceback_text = widgets.HTML("", layout=widgets.Layout(display="none"))
        self.traceback_button.observe(self._on_traceback_toggle, "value")
        self._errors = widgets.VBox([self.error_text, self.traceback_button, self.traceback_text])

    def _build_charts(self) -> None:
        self.batch_chart = _Chart(
            "Training loss per batch",
            "step",
            legend=[("batch", _COLORS["raw"], "tw-tm-faint"), ("smoothed", _COLORS["smooth"], "")],
        )
        self.batch_chart.lines("raw", color=_COLORS["raw"], opacity=0.55, width=1)
        self.batch_chart.lines("smooth", color=_COLORS["smooth"])
        self.epoch_charts: dict[str, _Chart] = {}
        # Figures join the grid when they have data: none drawn empty, none laid out at 0 x 0.
        self._charts_box = widgets.GridBox([])
        self._charts_box.add_class("tw-tm-charts")
        self.lr_chart = _Chart(
            "Learning-rate finder", "learning rate", x_log=True, legend=_LR_LEGEND, height="240px"
        )
        self.lr_chart.lines("loss", color=_COLORS["raw"], opacity=0.6, width=1)
        self.lr_chart.lines("smooth", color=_COLORS["smooth"])
        self.lr_chart.lines("suggested", color=_COLORS["best"], vertical=True, width=1.5)
        self.lr_text = widgets.Label("")
        self._lr_box = widgets.VBox([], layout=widgets.Layout(display="none"))
        self._cm_row, self._cm_col = bq.OrdinalScale(reverse=True), bq.OrdinalScale()  # class 0 top left
        # From transparent to the accent: the panel's own background shows through, in both themes.
        self._cm_color = bq.ColorScale(colors=["rgba(66,133,244,0.04)", "rgba(66,133,244,0.9)"], min=0)
        self.confusion_map = bq.GridHeatMap(
            color=np.zeros((2, 2), dtype=np.float32),
            row=["0", "1"],
            column=["0", "1"],
            scales={"row": self._cm_row, "column": self._cm_col, "color": self._cm_color},
            display_format=".0f",
            font_style={"font-size": "11px"},
            stroke="transparent",
        )
        self.confusion_figure = bq.Figure(
            marks=[self.confusion_map],
            fig_margin={"top": 8, "bottom": 70, "left": 80, "right": 8},
            axes=[
                bq.Axis(scale=self._cm_col, label="predicted", tick_rotate=-40, label_offset="58px"),
                bq.Axis(scale=self._cm_row, side="left"),
            ],
            layout=widgets.Layout(width="100%", height="340px", min_width="0"),
        )
        self._acc_x = bq.OrdinalScale()
        self.class_accuracy = bq.Bars(
            x=["0"],
            y=_f32([0]),
            scales={"x": self._acc_x, "y": bq.LinearScale(min=0, max=1)},
            colors=[_COLORS["accuracy"]],
            padding=0.25,
        )
        self.class_accuracy_figure = bq.Figure(
            marks=[self.class_accuracy],
            fig_margin={"top": 8, "bottom": 70, "left": 48, "right": 8},
            axes=[
                bq.Axis(scale=self._acc_x, label="class", tick_rotate=-40, label_offset="58px"),
                bq.Axis(
                    scale=self.class_accuracy.scales["y"],
                    side="left",
                    tick_format=".0%",
                    tick_values=_f32([0, 0.25, 0.5, 0.75, 1]),
                    grid_lines="solid",
                ),
            ],
            layout=widgets.Layout(width="100%", height="340px", min_width="0"),
        )
        for fig in (self.confusion_figure, self.class_accuracy_figure):
            fig.add_class("tw-tm-figure")
        cm_card = widgets.VBox(
            [
                widgets.HTML(
                    _legend_html(
                        "Confusion matrix (validation)",
                        [("rows: true class, columns: predicted", "inherit", "text")],
                    )
                ),
                self.confusion_figure,
            ]
        )
        acc_card = widgets.VBox(
            [widgets.HTML(_legend_html("Per-class accuracy (validation)", [])), self.class_accuracy_figure]
        )
        for card in (cm_card, acc_card):
            card.add_class("tw-tm-card")
        self.confusion_text = widgets.Label("")
        self._confusion_grid = widgets.GridBox([cm_card, acc_card])
        self._confusion_grid.add_class("tw-tm-charts")
        self._confusion_grid.add_class("tw-tm-wide")
        self._confusion_box = widgets.VBox([], layout=widgets.Layout(display="none"))

    def _epoch_chart(self, metric: str) -> _Chart:
        chart = self.epoch_charts.get(metric)
        if chart is None:
            chart = _Chart(self._title(metric), "epoch")
            chart.lines("phase", color=_COLORS["phase"], vertical=True, width=1)
            chart.lines("prev_train", color=_COLORS["train"], opacity=0.3, width=1.5)
            chart.lines("prev_val", color=_COLORS["val"], opacity=0.3, width=1.5)
            chart.lines("train", color=_COLORS["train"], markers=True)
            chart.lines("val", color=_COLORS["val"], markers=True)
            chart.scatter("partial", color=_COLORS["train"], marker="circle", fill=False, size=40)
            chart.scatter("best", color=_COLORS["best"])
            self.epoch_charts[metric] = chart
        return chart

    def _on_traceback_toggle(self, _change: dict[str, Any]) -> None:
        with self._lock:  # the training thread may be drawing
            self._render({"error"})

    @staticmethod
    def _title(metric: str) -> str:
        return f"{metric[:1].upper()}{metric[1:].replace('_', ' ')} per epoch"

    # -- events ----------------------------------------------------------------------------

    def _on_events(self, events: list[Event]) -> None:
        with self._lock:
            if self._replayed:
                fresh = [e for e in events if id(e) not in self._replayed]
                if len(fresh) == len(events):
                    self._replayed = set()
                events = fresh
            before = self._state.state
            changed = self._state.apply(events)
            if "state" in changed and self._state.state == "running" and before not in ACTIVE:
                self._run_marks = self._batch_counts()  # a new run: "Starting…" until its first batch
            if "state" in changed and self._state.state in ("finished", "failed"):
                # The epoch series from the controller's own history is complete and final.
                self._state.load_history(self.controller.history, self.controller.phases)
                changed |= {"epoch", "batch"}
            if any(e.get("type") == "stage" for e in events):
                changed |= {"stage", "progress"}
            self._pending |= changed
            if self._pending and (changed & _URGENT or time.monotonic() >= self._next_render):
                self.flush()

    def flush(self) -> None:
        """Draw every change not drawn yet (the budget holds some back while training)."""
        with self._lock:
            pending, self._pending = self._pending, set()
            if not pending:
                return
            start = time.perf_counter()
            self._render(pending)
            took = time.perf_counter() - start
            self.render_seconds += took
            gap = min(_MAX_GAP_S, max(_MIN_GAP_S, took / max(self.render_budget, 1e-6)))
            self._next_render = time.monotonic() + gap

    def _batch_counts(self) -> tuple[int, int]:
        return len(self._recorder.steps), len(self._state.batch_steps)

    # -- drawing -------------------------------------------------------------------------------

    def _render(self, changed: set[str]) -> None:
        with contextlib.ExitStack() as stack:

            def hold(*ws: Any) -> None:
                # Released in reverse: marks, then scales, then the axes that read them.
                for w in ws:
                    stack.enter_context(w.hold_sync())

            if "batch" in changed:
                self._render_batches(hold)
            if "epoch" in changed:
                self._render_epochs(hold)
            if changed & {"progress", "state", "stage", "batch"}:
                self._render_progress(hold)
            if "state" in changed:
                self._render_recipe()
            if changed & {"state", "lr_find"}:
                self._render_controls(hold)
            if "lr_find" in changed:
                self._render_lr_find(hold)
            if "confusion" in changed:
                self._render_confusion(hold)
            if changed & {"error", "state"}:
                self._render_errors(hold)
        # After the held data went out: a figure joins the page with its data, scales and ticks.
        self._render_layout()
        self.updates += 1

    def _render_batches(self, hold: _Hold) -> None:
        raw, smooth = self.batch_chart.marks["raw"], self.batch_chart.marks["smooth"]
        steps, losses = self._batch_series()
        n = min(len(steps), len(losses))
        if n == 0:
            return
        hold(
            raw,
            smooth,
            self.batch_chart.x,
            self.batch_chart.y,
            self.batch_chart.x_axis,
            self.batch_chart.y_axis,
        )
        if len(self._ema.values) > n:
            self._ema = RunningEMA(self._ema.weight)
        self._ema.extend(losses[len(self._ema.values) : n])
        x = np.asarray(steps[:n], dtype=np.float64)
        raw.x, raw.y = lttb(x, losses[:n], self.max_points)
        smooth.x, smooth.y = lttb(x, self._ema.values[:n], self.max_points)
        # While a run grows the axes run ahead of it; once it has ended they fit what it drew.
        live = self._state.state not in ("finished", "failed")
        self.batch_chart.fit_x(float(x[0]), float(x[-1]), live=live)
        # The y range follows the smoothed line and most raw points (a few spikes do not flatten it).
        y = np.asarray(raw.y, dtype=np.float64)
        y = y[np.isfinite(y)]
        hi = float(np.quantile(y, 0.98)) if y.size > 20 else None
        self.batch_chart.fit_y(smooth.y, y[y <= hi] if hi is not None else y, live=live)

    def _batch_series(self) -> tuple[list[int], list[float]]:
        """Every batch's loss (the recorder), or for runs before this monitor existed the
        batches their events carried (coalesced: fewer points, same curve)."""
        if len(self._recorder.steps) >= len(self._state.batch_steps):
            return self._recorder.steps, self._recorder.losses
        return self._state.batch_steps, self._state.batch_loss

    def _render_layout(self) -> None:
        """Which blocks show: the empty state before anything ran, charts once they have data."""
        s = self._state
        charts = []
        if len(self.batch_chart.marks["raw"].x):
            charts.append(self.batch_chart.card)
        charts += [
            c.card for c in self.epoch_charts.values() if len(c.marks["train"].x) or len(c.marks["val"].x)
        ]
        # One figure joins the page per pass: a figure's first draw is the browser's
        # costliest step (tens of ms), two at once make one long task. The rest follow.
        shown = set(self._charts_box.children)
        later = [c for c in charts if c not in shown][1:]
        if later:
            charts = [c for c in charts if c not in later]
            self._join_later()
        # Shown before figures join it: a figure laid out inside a hidden box gets negative sizes.
        _set(self._charts_box.layout, display="" if charts else "none")
        if list(self._charts_box.children) != charts:
            self._charts_box.children = charts
        nothing = not charts and s.lr_find is None and s.confusion is None and s.state not in ACTIVE
        _set(self.empty.layout, display="" if nothing else "none")

    def _join_later(self) -> None:
        """Lay out the charts again shortly, for the figures held back from this pass."""
        if self._joining is not None and self._joining.is_alive():
            return

        def join() -> None:
            with self._lock:
                self._joining = None
                if self.comm is not None:  # not closed meanwhile
                    self._render_layout()

        self._joining = threading.Timer(_JOIN_GAP_S, join)
        self._joining.daemon = True
        self._joining.start()

    def _render_epochs(self, hold: _Hold) -> None:
        s = self._state
        best = s.best_epoch()
        starts = [p["start_epoch"] + 0.5 for p in s.phases if p["start_epoch"] > 0]
        names = [n for n in s.metric_names() if n not in _NOT_METRICS]
        shown = getattr(s, "shown_run", None)
        for metric in sorted(names, key=lambda n: (n != "loss", names.index(n))):
            chart = self._epoch_chart(metric)
            m = chart.marks
            hold(chart.x_axis, chart.y_axis, chart.x, chart.y, *m.values())
            tx, ty = s.epoch_series(metric, run=shown)
            vx, vy = s.epoch_series(f"val_{metric}", run=shown)
            m["train"].x, m["train"].y = lttb(tx, ty, self.max_points)
            m["val"].x, m["val"].y = lttb(vx, vy, self.max_points)
            # Earlier runs: the same axis (global epochs), faint.
            px, py = s.epoch_series(metric)
            qx, qy = s.epoch_series(f"val_{metric}")
            earlier_t, earlier_v = ~np.isin(px, tx), ~np.isin(qx, vx)
            m["prev_train"].x, m["prev_train"].y = lttb(px[earlier_t], py[earlier_t], self.max_points)
            m["prev_val"].x, m["prev_val"].y = lttb(qx[earlier_v], qy[earlier_v], self.max_points)
            legend = [("train", _COLORS["train"], "")]
            if len(vx) or len(qx):
                legend.append(("validation", _COLORS["val"], ""))
            if earlier_t.any() or earlier_v.any():
                legend.append(("earlier runs", _COLORS["phase"], "tw-tm-faint"))
            part = s.partial if s.partial and s.partial.get("run") == shown else None
            value = (part or {}).get("logs", {}).get(metric) if part else None
            if part is not None and value is not None and math.isfinite(value):
                m["partial"].x, m["partial"].y = _f32([part["epoch"] + 1]), _f32([value])
                legend.append(("epoch cut short", _COLORS["train"], "tw-tm-hollow"))
            else:
                m["partial"].x, m["partial"].y = _f32([]), _f32([])
            tx, ty = np.concatenate([px, _f32(m["partial"].x)]), np.concatenate([py, _f32(m["partial"].y)])
            vx, vy = qx, qy
            if best is not None and best[2] in (metric, f"val_{metric}"):
                bx, by = s.epoch_series(best[2])
                on = bx == best[0]
                m["best"].x, m["best"].y = bx[on], by[on]
                legend.append((f"best (epoch {best[0]})", _COLORS["best"], "tw-tm-dot"))
            if starts:
                m["phase"].x = _f32([[b, b] for b in starts])
                m["phase"].y = _f32([[0, 1] for _ in starts])
                legend.append((" → ".join(p["name"] for p in s.phases), _COLORS["phase"], "tw-tm-dashed"))
            xs = np.concatenate([tx, vx])
            if xs.size:
                chart.fit_x(float(xs.min()), float(xs.max()))
                chart.fit_y(ty, vy)
            chart.set_title(self._title(metric), legend)

    def _render_progress(self, hold: _Hold) -> None:
        s = self._state
        hold(self.epoch_bar, self.batch_bar)
        active = s.state in ACTIVE
        stage = getattr(s, "stage", None)
        starting = (
            s.state == "running"
            and self._batch_counts() == self._run_marks
            and stage not in ("training", "validating")
        )
        progress = s.epoch_progress()
        if progress is not None and progress[1]:
            current, total = progress[0], int(progress[1])
            done = s.epochs_done()
            _set(self.epoch_bar, max=total, value=min(done, total))
            self.epoch_text.value = "Epoch"
            self.epoch_count.value = f"{min(current, total)} / {total}"
        if s.steps:
            _set(self.batch_bar, max=s.steps, value=min((s.batch or 0) + 1, s.steps))
            self.batch_text.value = "Batch"
            self.batch_count.value = f"{(s.batch or 0) + 1} / {s.steps}"
        if starting and s.task != "lr_find":
            detail = _STAGES.get(str(stage), "") if stage not in (None, "training") else ""
            self.status.value = "Starting…" + (f" {detail}" if detail else "")
        else:
            state = s.state if s.task != "lr_find" or not active else "finding learning rate"
            parts = [state.capitalize()]
            if s.state == "finished" and s.reason:
                parts[0] = f"Finished ({s.reason})"
            if s.phase:
                parts.append(f"phase {s.phase}")
            if s.learning_rate is not None:
                parts.append(f"lr {_lr(s.learning_rate)}")
            if s.global_step is not None or self._recorder.steps:
                parts.append(f"step {self._recorder.steps[-1] if self._recorder.steps else s.global_step}")
            if active and stage == "validating":
                parts.append("validating")
            self.status.value = " · ".join(parts)
        if starting:
            self.status.add_class("tw-tm-starting")
        else:
            self.status.remove_class("tw-tm-starting")
        now = time.time() if active else None
        rate = s.samples_per_s()
        stats = [f"elapsed {_clock(s.elapsed_s(now))}"] if s.started_at is not None else []
        if active and not starting:
            stats.append(f"ETA {_clock(s.eta_s())}")
        if rate is not None and not starting:
            stats.append(f"{rate:,.0f} samples/s")
        self.stats.value = " · ".join(stats)
        self._render_header(starting)

    def _render_recipe(self) -> None:
        """The current run's recipe (optimizer and its arguments, schedule, class weights, ...)
        in one muted line under the status; nothing for the LR finder or before a run."""
        records = self.controller.run_records
        line = recipe_line(records[-1]) if records and self._state.task in ("fit", "fine_tune") else ""
        text = f'<span class="tw-muted">{html.escape(line)}</span>' if line else ""
        if self.recipe.value != text:
            self.recipe.value = text
            self.recipe.layout.display = None if line else "none"

    def _render_header(self, starting: bool) -> None:
        s = self._state
        if starting:
            badge, key = "Starting", "starting"
        elif s.state in ACTIVE:
            badge = {"running": "Finding LR" if s.task == "lr_find" else "Training"}.get(
                s.state, s.state.capitalize()
            )
            key = s.state
        else:
            badge, key = s.state.capitalize(), s.state
        what = {"fit": "fit", "fine_tune": "fine-tune", "lr_find": "LR finder"}.get(s.task or "", "")
        run = getattr(s, "run", None)
        sub = " · ".join(p for p in (f"run {run}" if run else "", what) if p) or "curves, progress, controls"
        text = (
            '<div class="tw-header"><span class="tw-title">Training monitor</span>'
            f'<span class="tw-muted">{html.escape(sub)}</span>'
            f'<span class="tw-badge" data-state="{key}">{html.escape(badge)}</span></div>'
        )
        if self.header.value != text:
            self.header.value = text

    def _render_controls(self, hold: _Hold) -> None:
        s = self._state
        active = s.state in ACTIVE
        for b in (self.train_button, self.fine_tune_button, self.lr_find_button):
            b.disabled = active
        self.stop_button.disabled = not active or s.state == "stopping"
        self.pause_button.disabled = s.state not in ("running", "paused") or s.task == "lr_find"
        self.pause_button.description = "Resume" if s.state == "paused" else "Pause"
        suggested = (s.lr_find or {}).get("suggested")
        self.apply_lr_button.disabled = active or suggested is None
        self.apply_lr_button.description = (
            f"Apply suggested LR ({_lr(suggested)})" if suggested is not None else "Apply suggested LR"
        )

    def _render_lr_find(self, hold: _Hold) -> None:
        r = self._state.lr_find
        if r is None:
            return
        c = self.lr_chart
        m = c.marks
        hold(c.x_axis, c.y_axis, c.x, c.y, m["loss"], m["smooth"], m["suggested"])
        lrs, losses = (
            np.asarray(r["learning_rates"], dtype=np.float64),
            np.asarray(r["losses"], dtype=np.float64),
        )
        ok = np.isfinite(losses) & (lrs > 0)
        m["loss"].x, m["loss"].y = _f32(lrs[ok]), _f32(losses[ok])
        # The rule's own smoothed loss (up to the first non-finite loss), not a second EMA.
        smooth = np.asarray(r.get("smoothed") or [], dtype=np.float64)
        swept = lrs[: smooth.size]
        okay = np.isfinite(smooth) & (swept > 0)
        m["smooth"].x, m["smooth"].y = _f32(swept[okay]), _f32(smooth[okay])
        if ok.any():
            lo, hi = float(lrs[ok].min()), float(lrs[ok].max())
            decades = range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)
            ticks = [10.0**d for d in decades if lo * 0.999 <= 10.0**d <= hi * 1.001]
            step = max(1, math.ceil(len(ticks) / 6))
            _set(c.x, min=lo, max=hi)
            _set(c.x_axis, tick_values=_f32(ticks[::step]), tick_format=".0e")
            # The start of the sweep and the fall matter; the blow-up at the end is clipped.
            ys = losses[ok]
            c.fit_y(ys[ys <= max(float(ys[0]) * 1.5, float(np.nanmin(ys)))] if ys.size else ys)
        sug = r.get("suggested")
        suggested_key = [("suggested", _COLORS["best"], "tw-tm-dashed")] if sug is not None else []
        c.set_title("Learning-rate finder", _LR_LEGEND + suggested_key)
        if sug is not None:
            m["suggested"].x, m["suggested"].y = _f32([[sug, sug]]), _f32([[0, 1]])
            self.lr_text.value = (
                f"Suggested learning rate: {_lr(sug)} (steepest descent of the smoothed loss)"
            )
        else:
            m["suggested"].x, m["suggested"].y = _f32([]), _f32([])
            self.lr_text.value = "No suggestion: " + (
                str(r.get("message") or "")
                or "the loss never fell. Widen the range or add steps "
                "(controller.lr_find(start, end, steps))."
            )
        # Shown before its figure is added: a bqplot figure drawn while hidden gets negative sizes.
        self._lr_box.layout.display = "flex"
        if not self._lr_box.children:
            self._lr_box.children = [self.lr_text, self.lr_chart.card]

    def _render_confusion(self, hold: _Hold) -> None:
        c = self._state.confusion
        if c is None:
            return
        hold(self.confusion_map, self.class_accuracy)
        names = [str(n) for n in c["class_names"]]
        m = c["matrix"]
        with self.confusion_map.hold_trait_notifications():  # rows, columns and colours change size together
            self.confusion_map.color = _f32(m)
            self.confusion_map.row, self.confusion_map.column = names, names
        self._cm_color.max = float(max(1, m.max()))
        acc = np.nan_to_num(c["per_class_accuracy"], nan=0.0)
        self.class_accuracy.x, self.class_accuracy.y = names, _f32(acc)
        total = int(m.sum())
        self.confusion_text.value = (
            f"Epoch {c['epoch'] + 1}: {int(np.trace(m))} of {total} validation samples "
            f"right ({np.trace(m) / max(1, total):.1%})"
        )
        self._confusion_box.layout.display = "flex"
        if not self._confusion_box.children:
            self._confusion_box.children = [self.confusion_text, self._confusion_grid]

    def _render_errors(self, hold: _Hold) -> None:
        e = self._state.error
        warnings = self._state.warnings[-3:]
        lines = []
        if e is not None:
            label = {
                "nan": "Training stopped (NaN loss)",
                "preflight": "The run could not start",
                "exception": "Training failed",
            }.get(e.get("kind") or "", "Error")
            lines.append(
                f'<div role="alert" class="tw-monitor-error"><b>{html.escape(label)}:</b> '
                f"{html.escape(str(e.get('message')))}</div>"
            )
        lines += [f'<div class="tw-monitor-warning">Warning: {html.escape(w)}</div>' for w in warnings]
        self.error_text.value = "".join(lines)
        tb = (e or {}).get("traceback") or ""  # "" or None: no traceback
        self.traceback_button.layout.display = "" if tb else "none"
        self.traceback_button.description = (
            "Hide traceback" if self.traceback_button.value else "Show traceback"
        )
        show = bool(tb) and self.traceback_button.value
        self.traceback_text.value = f"<pre>{html.escape(tb)}</pre>" if show else ""
        self.traceback_text.layout.display = "" if show else "none"
        self._errors.layout.display = "" if lines or tb else "none"

    # -- intents (buttons; also callable from code) -------------------------------------------------

    def _attempt(self, fn: Callable[..., object], *args: Any, **kwargs: Any) -> bool:
        try:
            fn(*args, **kwargs)
            return True
        except Exception as exc:  # noqa: BLE001 - shown in the monitor, never raised into the button
            import traceback

            kind = "preflight" if type(exc).__name__ in ("ConfigError", "PreflightError") else "exception"
            with self._lock:
                self._state.set_error(f"{type(exc).__name__}: {exc}", traceback.format_exc(), kind)
                self._render({"error"})
            return False

    def train(self) -> None:
        """Start ``controller.fit()`` (config.training.epochs) in the background."""
        self._attempt(self.controller.fit)

    def fine_tune(self) -> None:
        """Start ``controller.fine_tune()`` (head first, then unfreeze) in the background."""
        self._attempt(self.controller.fine_tune)

    def stop(self) -> None:
        self._attempt(self.controller.stop)

    def toggle_pause(self) -> None:
        if self.controller.state == "paused":
            self._attempt(self.controller.resume)
        else:
            self._attempt(self.controller.pause)

    def find_lr(self, **kwargs: Any) -> threading.Thread:
        """Run ``controller.lr_find`` on a background thread (the kernel stays free);
        the plot appears when it ends. Returns the thread (``join()`` it in scripts)."""
        kwargs.setdefault("steps", self._lr_find_steps)

        def work() -> None:
            self._attempt(self.controller.lr_find, **kwargs)

        self._lr_thread = threading.Thread(target=work, name="transfer-widgets-lr-find", daemon=True)
        self._lr_thread.start()
        return self._lr_thread

    def apply_suggested_lr(self) -> float | None:
        """Set ``training.learning_rate`` to the LR finder's suggestion; returns it."""
        suggested = (self._state.lr_find or {}).get("suggested")
        if suggested is None:
            return None
        if self._attempt(self.controller.set, "training.learning_rate", float(suggested)):
            with self._lock:
                self.lr_text.value = f"Learning rate set to {_lr(suggested)} (training.learning_rate)."
            return float(suggested)
        return None

    # -- history -----------------------------------------------------------------------------------

    @property
    def history(self) -> dict[str, list]:
        """The completed epochs as a dict of equal-length lists (a copy of ``controller.history``)."""
        return {k: list(v) for k, v in self.controller.history.items()}

    def to_csv(self, path: str | os.PathLike[str] | None = None) -> str:
        """The history as CSV text; also written to ``path`` when given."""
        return history_to_csv(self.history, path)

    def to_dataframe(self) -> pd.DataFrame:
        """The history as a pandas DataFrame (needs pandas)."""
        return history_to_dataframe(self.history)

    @property
    def state(self) -> MonitorState:
        """What the monitor shows, as plain data."""
        return self._state

    def static_html(self) -> str:
        return monitor_html(self.controller.history, self.controller.state)  # curves as inline SVG

    def static_text(self) -> str:
        return f"TrainingMonitor: {self.controller!r}"

    def close(self) -> None:
        unsubscribe = getattr(self, "_unsubscribe", None)
        if unsubscribe is not None:
            unsubscribe()
        super().close()
