"""The training monitor's static fallback: each metric's curves per epoch as inline SVG
(train and validation), and the last epoch's values, for pages without a widget manager.
Plain markup with inline attributes; metric names are escaped."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

#: History columns that are bookkeeping, not metrics (as the live monitor has it).
_NOT_METRICS = frozenset({"epoch", "run", "run_epoch", "phase", "partial", "batches", "steps", "seconds"})
_COLORS = {"train": "#4285f4", "val": "#f28b30"}
_W, _H, _PAD = 320, 150, 30


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _finite(values: Sequence[object]) -> list[float]:
    out = []
    for v in values:
        try:
            f = float(v)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
        if math.isfinite(f):
            out.append(f)
    return out


def _chart(metric: str, series: dict[str, list[float]]) -> str:
    values = [v for s in series.values() for v in s]
    lo, hi = min(values), max(values)
    hi = hi if hi > lo else lo + 1.0
    n = max(len(s) for s in series.values())

    def point(i: int, v: float) -> str:
        x = _PAD + (i / max(1, n - 1)) * (_W - _PAD - 8)
        y = 8 + (1 - (v - lo) / (hi - lo)) * (_H - _PAD)
        return f"{x:.1f},{y:.1f}"

    lines = []
    for name, ys in series.items():
        pts = " ".join(point(i, v) for i, v in enumerate(ys))
        lines.append(
            f'<polyline fill="none" stroke="{_COLORS[name]}" stroke-width="2" points="{pts}">'
            f"<title>{_e(name)} {_e(metric)}</title></polyline>"
        )
    axis = (
        f'<line x1="{_PAD}" y1="8" x2="{_PAD}" y2="{_H - _PAD + 8}" stroke="#9e9e9e"/>'
        f'<line x1="{_PAD}" y1="{_H - _PAD + 8}" x2="{_W - 8}" y2="{_H - _PAD + 8}" stroke="#9e9e9e"/>'
        f'<text x="2" y="14" font-size="10" fill="#757575">{hi:.3g}</text>'
        f'<text x="2" y="{_H - _PAD + 8}" font-size="10" fill="#757575">{lo:.3g}</text>'
        f'<text x="{_W - 8}" y="{_H - 4}" font-size="10" fill="#757575" text-anchor="end">epoch {n}</text>'
    )
    legend = " ".join(
        f'<span style="color: {_COLORS[name]}">■ {"validation" if name == "val" else "train"}</span>'
        for name in series
    )
    return (
        f'<figure style="display: inline-block; margin: 4px 12px 4px 0">'
        f'<figcaption style="font-size: 12px"><b>{_e(metric)}</b> per epoch {legend}</figcaption>'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" viewBox="0 0 {_W} {_H}" '
        f'role="img" aria-label="{_e(metric)} per epoch">{axis}{"".join(lines)}</svg></figure>'
    )


def monitor_html(history: dict[str, list], state: str) -> str:
    """Curves per metric and the final values; a sentence when no epoch completed yet."""
    box = "font-family: system-ui, sans-serif; font-size: 13px"
    title = (
        '<div style="margin: 4px 0"><b>Training monitor</b> '
        f'<span style="opacity: 0.7">{_e(state)}</span></div>'
    )
    epochs = len(history.get("loss", []))
    if not epochs:
        empty = "<p>No completed epoch yet.</p>"
        return f'<div class="tw-static tw-static-monitor" style="{box}">{title}{empty}</div>'
    metrics = [k for k in history if k not in _NOT_METRICS and not k.startswith("val_")]
    charts, finals = [], []
    for metric in metrics:
        series = {"train": _finite(history[metric])}
        if f"val_{metric}" in history:
            series["val"] = _finite(history[f"val_{metric}"])
        series = {k: v for k, v in series.items() if v}
        if not series:
            continue
        charts.append(_chart(metric, series))
        for name, ys in series.items():
            label = f"val_{metric}" if name == "val" else metric
            finals.append(f"<tr><td>{_e(label)}</td><td style='text-align: right'>{ys[-1]:.4g}</td></tr>")
    table = f'<table style="border-collapse: collapse"><tbody>{"".join(finals)}</tbody></table>'
    return (
        f'<div class="tw-static tw-static-monitor" style="{box}">{title}{"".join(charts)}'
        f"<div>After {epochs:,} epochs:</div>{table}</div>"
    )
