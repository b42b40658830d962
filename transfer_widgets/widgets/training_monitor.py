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
from ..training.events import ACTIVE, Event

if TYPE_CHECKING:
    import os

    import pandas as pd

    from ..training.controller import FineTuneController

_COLORS = {
    "train": "#1f77b4",
    "val": "#ff7f0e",
    "raw": "#4a98d3",
    "smooth": "#d62728",
    "phase": "#7f7f7f",
    "best": "#2ca02c",
}
_MARGIN = {"top": 30, "bottom": 40, "left": 60, "right": 16}


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


def _shared(controller: FineTuneController, kind: type[_T], make: Callable[[], _T]) -> _T:
    """The controller's one instance of a recorder callback (``make()`` on first use)."""
    for cb in controller.run_callbacks:
        if type(cb) is kind:
            return cb
    new = make()
    controller.run_callbacks.append(new)
    return new


class _Chart:
    """One bqplot figure: x / y scales, axes, and named marks."""

    def __init__(
        self, title: str, x_label: str, y_label: str, *, x_log: bool = False, height: str = "240px"
    ) -> None:
        self.x = bq.LogScale() if x_log else bq.LinearScale()
        self.y = bq.LinearScale()
        self.unit_y = bq.LinearScale(min=0, max=1)  # for vertical marker lines spanning the plot
        self.figure = bq.Figure(
            title=title,
            marks=[],
            fig_margin=dict(_MARGIN),
            legend_location="top-right",
            axes=[
                bq.Axis(
                    scale=self.x,
                    label=x_label,
                    grid_lines="none",
                    tick_format=".0e" if x_log else None,
                    num_ticks=None if x_log else 6,
                ),
                bq.Axis(scale=self.y, label=y_label, side="left", grid_lines="dashed"),
            ],
            layout=widgets.Layout(width="100%", height=height, min_width="260px"),
        )
        self.marks: dict[str, Any] = {}

    @property
    def x_axis(self) -> bq.Axis:
        return self.figure.axes[0]

    def lines(
        self,
        name: str,
        *,
        color: str,
        label: str | None = None,
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
            labels=[label] if label else [],
            display_legend=bool(label),
            marker="circle" if markers else None,
            marker_size=24,
            line_style="dashed" if vertical else "solid",
        )
        return self._add(name, mark)

    def scatter(
        self, name: str, *, color: str, label: str | None = None, marker: str = "diamond"
    ) -> bq.Scatter:
        mark = bq.Scatter(
            x=_f32([]),
            y=_f32([]),
            scales={"x": self.x, "y": self.y},
            colors=[color],
            marker=marker,
            default_size=160,
            labels=[label] if label else [],
            display_legend=bool(label),
        )
        return self._add(name, mark)

    def _add(self, name: str, mark: bq.Mark) -> bq.Mark:
        self.marks[name] = mark
        self.figure.marks = [*self.figure.marks, mark]
        return mark


class TrainingMonitor(widgets.VBox):
    """Live view and controls for a controller's training runs.

    ``TrainingMonitor(controller)``; ``max_points``: most points drawn per series (1,000 by
    default: a series reaches it by step 1,000, so an update costs the same bytes from
    then on, at step 1,000 as at step 100,000);
    ``smoothing``: EMA weight of the smoothed batch-loss line; ``confusion``: add the
    per-epoch validation confusion matrix (classification with validation data).
    """

    def __init__(
        self,
        controller: FineTuneController,
        *,
        max_points: int = 1000,
        smoothing: float = 0.9,
        confusion: bool = True,
        lr_find_steps: int = 100,
        **kwargs: Any,
    ) -> None:
        self.controller = controller
        self.max_points = max_points
        t = controller.config.training
        self._state = MonitorState(batch_size=t.batch_size, monitor=t.monitor)
        self._recorder = _shared(controller, BatchLossRecorder, BatchLossRecorder)
        if confusion:
            _shared(controller, ValidationConfusion, lambda: ValidationConfusion(controller))
        self._ema = RunningEMA(smoothing)
        self._lr_find_steps = lr_find_steps
        self._lock = threading.RLock()
        self._lr_thread: threading.Thread | None = None
        self.updates = 0  # renders done (tests and the benchmark read it)
        self._build_controls()
        self._build_progress()
        self._build_errors()
        self._build_charts()
        super().__init__(
            children=[
                self._controls,
                self._progress,
                self._errors,
                self._charts_box,
                self._lr_box,
                self._confusion_box,
            ],
            **kwargs,
        )
        self.add_class("tw-training-monitor")
        self.layout.width = "100%"
        with self._lock:
            self._unsubscribe = controller.events.subscribe(self._on_events)
            replay = list(controller.events.log)
            self._replayed = {id(e) for e in replay}
            self._state.apply(replay)
            self._state.load_history(controller.history, controller.phases)
            self._state.state = controller.state
            if controller.state == "failed" and controller.error and self._state.error is None:
                self._state.set_error(controller.error, controller.error_traceback)
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
            ],
            layout=widgets.Layout(flex_flow="row wrap"),
        )

    def _build_progress(self) -> None:
        self.epoch_bar = widgets.IntProgress(
            value=0, min=0, max=1, description="Epoch", layout=widgets.Layout(width="48%")
        )
        self.batch_bar = widgets.IntProgress(
            value=0, min=0, max=1, description="Batch", layout=widgets.Layout(width="48%")
        )
        self.epoch_text = widgets.Label("")
        self.batch_text = widgets.Label("")
        self.status = widgets.Label("Idle")
        self.stats = widgets.Label("")
        self._progress = widgets.VBox(
            [
                widgets.HBox([self.epoch_bar, self.epoch_text]),
                widgets.HBox([self.batch_bar, self.batch_text]),
                self.status,
                self.stats,
            ]
        )

    def _build_errors(self) -> None:
        self.error_text = widgets.HTML("")
        self.traceback_button = widgets.ToggleButton(
            description="Show traceback", value=False, layout=widgets.Layout(width="auto", display="none")
        )
        self.traceback_text = widgets.HTML("", layout=widgets.Layout(display="none"))
        self.traceback_button.observe(self._on_traceback_toggle, "value")
        self._errors = widgets.VBox([self.error_text, self.traceback_button, self.traceback_text])

    def _build_charts(self) -> None:
        self.batch_chart = _Chart("Training loss per batch", "step", "loss")
        self.batch_chart.lines("raw", color=_COLORS["raw"], label="batch", opacity=0.45, width=1)
        self.batch_chart.lines("smooth", color=_COLORS["smooth"], label="smoothed")
        self.epoch_charts: dict[str, _Chart] = {}
        self._charts_box = widgets.GridBox(
            [self.batch_chart.figure],
            layout=widgets.Layout(
                grid_template_columns="repeat(auto-fill, minmax(320px, 1fr))", width="100%"
            ),
        )
        self.lr_chart = _Chart("Learning-rate finder", "learning rate", "loss", x_log=True)
        self.lr_chart.lines("loss", color=_COLORS["train"], label="loss")
        self.lr_chart.lines("smooth", color=_COLORS["smooth"], label="smoothed")
        self.lr_chart.lines("suggested", color=_COLORS["best"], vertical=True)
        self.lr_text = widgets.Label("")
        self._lr_box = widgets.VBox([], layout=widgets.Layout(display="none"))
        self._cm_row, self._cm_col = bq.OrdinalScale(reverse=True), bq.OrdinalScale()  # class 0 top left
        self._cm_color = bq.ColorScale(scheme="Blues", min=0)
        self.confusion_map = bq.GridHeatMap(
            color=np.zeros((2, 2), dtype=np.float32),
            row=["0", "1"],
            column=["0", "1"],
            scales={"row": self._cm_row, "column": self._cm_col, "color": self._cm_color},
            display_format=".0f",
            font_style={"font-size": "12px"},
        )
        self.confusion_figure = bq.Figure(
            title="Confusion matrix (validation)",
            marks=[self.confusion_map],
            fig_margin=dict(_MARGIN, left=100, bottom=80),
            axes=[
                bq.Axis(scale=self._cm_col, label="predicted", tick_rotate=-40, label_offset="50px"),
                bq.Axis(scale=self._cm_row, label="true", side="left", label_offset="75px"),
            ],
            layout=widgets.Layout(width="100%", height="360px", min_width="260px"),
        )
        self._acc_x = bq.OrdinalScale()
        self.class_accuracy = bq.Bars(
            x=["0"],
            y=_f32([0]),
            scales={"x": self._acc_x, "y": bq.LinearScale(min=0, max=1)},
            colors=[_COLORS["train"]],
        )
        self.class_accuracy_figure = bq.Figure(
            title="Per-class accuracy (validation)",
            marks=[self.class_accuracy],
            fig_margin=dict(_MARGIN, left=70, bottom=80),
            axes=[
                bq.Axis(scale=self._acc_x, label="class", tick_rotate=-40, label_offset="50px"),
                bq.Axis(
                    scale=self.class_accuracy.scales["y"], label="accuracy", side="left", tick_format=".0%"
                ),
            ],
            layout=widgets.Layout(width="100%", height="360px", min_width="260px"),
        )
        self.confusion_text = widgets.Label("")
        self._confusion_grid = widgets.GridBox(
            [self.confusion_figure, self.class_accuracy_figure],
            layout=widgets.Layout(
                grid_template_columns="repeat(auto-fill, minmax(320px, 1fr))", width="100%"
            ),
        )
        self._confusion_box = widgets.VBox([], layout=widgets.Layout(display="none"))

    def _epoch_chart(self, metric: str) -> _Chart:
        chart = self.epoch_charts.get(metric)
        if chart is None:
            chart = _Chart(self._title(metric), "epoch", metric)
            chart.lines("phase", color=_COLORS["phase"], vertical=True, width=1)
            chart.lines("train", color=_COLORS["train"], label="train", markers=True)
            chart.lines("val", color=_COLORS["val"], label="validation", markers=True)
            chart.scatter("best", color=_COLORS["best"], label="best epoch")
            self.epoch_charts[metric] = chart
            self._charts_box.children = [*self._charts_box.children, chart.figure]
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
            changed = self._state.apply(events)
            if "state" in changed and self._state.state in ("finished", "failed"):
                # The epoch series from the controller's own history is complete and final.
                self._state.load_history(self.controller.history, self.controller.phases)
                changed |= {"epoch", "batch"}
            if changed:
                self._render(changed)

    # -- drawing -------------------------------------------------------------------------------

    def _render(self, changed: set[str]) -> None:
        marks = []
        with contextlib.ExitStack() as stack:

            def hold(*ws: Any) -> None:
                for w in ws:
                    stack.enter_context(w.hold_sync())
                    marks.append(w)

            if "batch" in changed:
                raw, smooth = self.batch_chart.marks["raw"], self.batch_chart.marks["smooth"]
                hold(raw, smooth)
                steps, losses = self._recorder.steps, self._recorder.losses
                n = min(len(steps), len(losses))
                if len(self._ema.values) > n:
                    self._ema = RunningEMA(self._ema.weight)
                self._ema.extend(losses[len(self._ema.values) : n])
                x = np.asarray(steps[:n], dtype=np.float64)
                raw.x, raw.y = lttb(x, losses[:n], self.max_points)
                smooth.x, smooth.y = lttb(x, self._ema.values[:n], self.max_points)
            if "epoch" in changed:
                self._render_epochs(hold)
            if changed & {"progress", "state"}:
                self._render_progress(hold)
            if changed & {"state", "lr_find"}:
                self._render_controls(hold)
            if "lr_find" in changed:
                self._render_lr_find(hold)
            if "confusion" in changed:
                self._render_confusion(hold)
            if changed & {"error", "state"}:
                self._render_errors(hold)
        self.updates += 1

    def _render_epochs(self, hold: _Hold) -> None:
        s = self._state
        best = s.best_epoch()
        starts = [p["start_epoch"] + 0.5 for p in s.phases if p["start_epoch"] > 0]
        names = s.metric_names()
        for metric in sorted(names, key=lambda n: (n != "loss", names.index(n))):
            chart = self._epoch_chart(metric)
            m = chart.marks
            hold(m["train"], m["val"], m["best"], m["phase"])
            m["train"].x, m["train"].y = lttb(*s.epoch_series(metric), self.max_points)
            m["val"].x, m["val"].y = lttb(*s.epoch_series(f"val_{metric}"), self.max_points)
            if best is not None:
                bx, by = s.epoch_series(
                    metric if best[2] == metric else f"val_{metric}" if best[2] == f"val_{metric}" else ""
                )
                on = bx == best[0]
                m["best"].x, m["best"].y = bx[on], by[on]
            if starts:
                m["phase"].x = _f32([[b, b] for b in starts])
                m["phase"].y = _f32([[0, 1] for _ in starts])
            n = len(s.epochs)
            chart.x_axis.tick_values = _f32(sorted(e + 1 for e in s.epochs)) if 0 < n <= 12 else None
            chart.x_axis.tick_format = "d"
            chart.figure.title = self._title(metric) + (
                f" · phases: {' → '.join(p['name'] for p in s.phases)}" if len(s.phases) > 1 else ""
            )

    def _render_progress(self, hold: _Hold) -> None:
        s = self._state
        hold(self.epoch_bar, self.batch_bar)
        if s.total_epochs:
            done = sum(1 for e in s.epochs if e < s.total_epochs)
            self.epoch_bar.max = s.total_epochs
            self.epoch_bar.value = min(done, s.total_epochs)
            current = min((s.epoch or 0) + 1, s.total_epochs)
            self.epoch_text.value = f"{current} / {s.total_epochs}"
        if s.steps:
            self.batch_bar.max = s.steps
            self.batch_bar.value = min((s.batch or 0) + 1, s.steps)
            self.batch_text.value = f"{(s.batch or 0) + 1} / {s.steps}"
        state = s.state if s.task != "lr_find" or s.state not in ACTIVE else "finding learning rate"
        parts = [state.capitalize()]
        if s.state in ("finished",) and s.reason:
            parts[0] = f"Finished ({s.reason})"
        if s.phase:
            parts.append(f"phase {s.phase}")
        if s.learning_rate is not None:
            parts.append(f"lr {s.learning_rate:.3g}")
        if s.global_step is not None or self._recorder.steps:
            parts.append(f"step {self._recorder.steps[-1] if self._recorder.steps else s.global_step}")
        self.status.value = " · ".join(parts)
        now = time.time() if s.state in ACTIVE else None
        rate = s.samples_per_s()
        stats = [f"elapsed {_clock(s.elapsed_s(now))}"]
        if s.state in ACTIVE:
            stats.append(f"ETA {_clock(s.eta_s())}")
        if rate is not None:
            stats.append(f"{rate:,.0f} samples/s")
        self.stats.value = " · ".join(stats)

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
            f"Apply suggested LR ({suggested:.2g})" if suggested is not None else "Apply suggested LR"
        )

    def _render_lr_find(self, hold: _Hold) -> None:
        r = self._state.lr_find
        if r is None:
            return
        m = self.lr_chart.marks
        hold(m["loss"], m["smooth"], m["suggested"])
        lrs, losses = (
            np.asarray(r["learning_rates"], dtype=np.float64),
            np.asarray(r["losses"], dtype=np.float64),
        )
        ok = np.isfinite(losses)
        m["loss"].x, m["loss"].y = _f32(lrs[ok]), _f32(losses[ok])
        from ..monitor import ema

        smooth = ema(losses, 0.9)
        okay = np.isfinite(smooth)
        m["smooth"].x, m["smooth"].y = _f32(lrs[okay]), _f32(smooth[okay])
        sug = r.get("suggested")
        if sug is not None:
            m["suggested"].x, m["suggested"].y = _f32([[sug, sug]]), _f32([[0, 1]])
            self.lr_text.value = f"Suggested learning rate: {sug:.3g} (steepest descent of the smoothed loss)"
        else:
            m["suggested"].x, m["suggested"].y = _f32([]), _f32([])
            self.lr_text.value = (
                "No suggestion: the loss never fell. Widen the range or add steps "
                "(controller.lr_find(start, end, steps))."
            )
        # Shown before its figure is added: a bqplot figure drawn while hidden gets negative sizes.
        self._lr_box.layout.display = "flex"
        if not self._lr_box.children:
            self._lr_box.children = [self.lr_text, self.lr_chart.figure]

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
                self.lr_text.value = f"Learning rate set to {suggested:.3g} (training.learning_rate)."
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

    def close(self) -> None:
        unsubscribe = getattr(self, "_unsubscribe", None)
        if unsubscribe is not None:
            unsubscribe()
        super().close()
