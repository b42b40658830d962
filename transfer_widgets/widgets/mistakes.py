"""Mistakes: what the trained model gets wrong, as a panel: the confusion matrix
(click a cell for exactly those images), the most-confused class pairs, the
top-loss gallery (filter by true / predicted class) with a Grad-CAM heat map
toggled per image, and likely label errors with a CSV export.

A thin view over :class:`~transfer_widgets.analysis.Interpretation`, made when the
panel is, so it keeps the weights of every completed epoch: during a run the panel
shows the last completed epoch, never a running one. The ``state`` trait carries
the small things (matrix, pairs); images come as PNG bytes in message buffers, a
page at a time, when the view asks.
"""

from __future__ import annotations

import traceback
from typing import Any

import numpy as np
import traitlets

from ..analysis import Interpretation, label_issues_csv
from ..data.overview import display_image, png_bytes, value_range
from ..training.events import ACTIVE, Event, has_event, last_state
from ._bundle import BundledWidget, Controller, is_controller
from .protocol import GalleryItem, GalleryMessage, HeatmapMessage, IssueItem, IssuesMessage, MistakesState

#: Images per gallery page.
PAGE_SIZE = 12
#: Label issues sent with thumbnails (the CSV has all of them).
ISSUES_SHOWN = 48


class Mistakes(BundledWidget):
    """The model's mistakes on the controller's validation data (its training data
    when it has none): ``Mistakes(controller)``; ``data="train"`` or ``(x, y)`` to
    analyse other data. Make it before training to follow runs as they happen."""

    _bundle = "mistakes"

    state = traitlets.Dict(help="Confusion matrix, most-confused pairs, status (MistakesState)").tag(
        sync=True
    )
    cell: traitlets.List[int] = traitlets.List(
        traitlets.Int(),
        [],
        help="[true, predicted]: a confusion-matrix cell to show (set by show_cell; [] for none)",
    ).tag(sync=True)

    def __init__(self, controller: Controller, *, data: Any = "validation", **kwargs: Any) -> None:
        if not is_controller(controller):
            raise TypeError(f"Mistakes needs a FineTuneController, got {type(controller).__name__}")
        self.controller = controller
        self.interpretation = Interpretation(controller, data)  # type: ignore[arg-type]
        self.last_traceback: str | None = None
        self._range: tuple[float, float] | None = None
        super().__init__(**kwargs)
        self._follow(controller, self._events)
        self.on_msg(self._on_front_end_msg)
        self.refresh()

    # -- public API ----------------------------------------------------------------------

    def refresh(self) -> None:
        """Predict again with the weights of the last completed epoch and show the results."""
        interp = self.interpretation
        names = interp.class_names
        base: MistakesState = {
            "classes": names,
            "running": self.controller.running,
            "weights": "",
            "confusion": [],
            "most_confused": [],
            "total": 0,
            "errors": 0,
            "message": "",
        }
        if not self._has_epoch():
            base["message"] = "Train for an epoch: the mistakes are those of a trained model."
            self.state = dict(base)
            return
        try:
            m = interp.confusion_matrix()
            base["weights"] = interp.weights_source
            base["confusion"] = m.tolist()
            base["most_confused"] = [
                {"true": t, "predicted": p, "count": c} for t, p, c in interp.most_confused()
            ]
            base["total"] = int(m.sum())
            base["errors"] = int(m.sum() - np.trace(m))
        except Exception as exc:  # noqa: BLE001 - shown in the panel, the kernel lives on
            self.last_traceback = traceback.format_exc()
            base["message"] = _first_line(exc)
        self.state = dict(base)

    def show_cell(self, true: int, predicted: int) -> None:
        """Show the images of one confusion-matrix cell in the gallery (what a click on a
        cell of this panel, or of a followed training monitor, does)."""
        self.cell = [int(true), int(predicted)]

    def follow_monitor(self, monitor: Any) -> None:
        """Clicking a cell of ``monitor``'s confusion matrix (a :class:`TrainingMonitor` on the
        same validation data) shows that cell's images here."""
        heat_map = getattr(monitor, "confusion_map", None)
        if heat_map is None:
            raise ValueError("follow_monitor needs a TrainingMonitor made with confusion=True")

        def clicked(_mark: Any, event: dict[str, Any]) -> None:
            data = event.get("data") or {}
            if "rowNum" in data and "columnNum" in data:
                self.show_cell(int(data["rowNum"]), int(data["columnNum"]))

        heat_map.on_element_click(clicked)

    def gallery(
        self, true: int | None = None, predicted: int | None = None, page: int = 0
    ) -> tuple[GalleryMessage, list[bytes]]:
        """One page of the top-loss gallery (highest loss first), filtered to a true and / or
        predicted class (both: one confusion-matrix cell); the message and its PNGs."""
        rows = self.interpretation.top_losses(None, true=true, predicted=predicted)
        start = max(0, page) * PAGE_SIZE
        shown = rows[start : start + PAGE_SIZE]
        images = self.interpretation.samples.images([r.index for r in shown])
        items: list[GalleryItem] = [
            {
                "index": r.index,
                "label": r.label,
                "predicted": r.predicted,
                "probability": r.probability,
                "loss": r.loss,
                "path": r.path,
            }
            for r in shown
        ]
        message: GalleryMessage = {
            "type": "gallery",
            "true": true,
            "predicted": predicted,
            "page": page,
            "items": items,
            "total": len(rows),
            "has_more": start + PAGE_SIZE < len(rows),
        }
        return message, [png_bytes(image, self._data_range()) for image in images]

    def heatmap_png(self, index: int, layer: str | None = None) -> bytes:
        """Example ``index`` with its Grad-CAM heat map (for the predicted class) blended over it."""
        image = self.interpretation.samples.images([index])[0]
        heat = self.interpretation.gradcam(index, layer)
        return png_bytes(blend_heat(display_image(image, self._data_range()), heat), (0.0, 255.0))

    def label_issues(self) -> tuple[IssuesMessage, list[bytes]]:
        """Likely label errors of the training data, the first :data:`ISSUES_SHOWN` with thumbnails."""
        interp = self.interpretation
        issues = interp.label_issues()
        shown = issues[:ISSUES_SHOWN]
        samples = interp.train_samples
        images = samples.images([i.index for i in shown])
        train_range = value_range(samples, 64)
        items: list[IssueItem] = [
            {"index": i.index, "label": i.label, "suggested": i.suggested, "margin": i.margin, "path": i.path}
            for i in shown
        ]
        message: IssuesMessage = {
            "type": "label_issues",
            "items": items,
            "count": len(issues),
            "examples": len(samples),
            "csv": label_issues_csv(issues, interp.class_names),
        }
        return message, [png_bytes(image, train_range) for image in images]

    def close(self) -> None:
        interpretation = getattr(self, "interpretation", None)
        if interpretation is not None:  # also after a failed __init__
            interpretation.close()
        super().close()

    # -- internals -------------------------------------------------------------------------

    def _has_epoch(self) -> bool:
        return bool(self.controller.history.get("epoch")) if hasattr(self.controller, "history") else False

    def _data_range(self) -> tuple[float, float]:
        if self._range is None:
            self._range = value_range(self.interpretation.samples, 64)
        return self._range

    def _events(self, events: list[Event]) -> None:
        state = last_state(events)
        if has_event(events, "config", "reset"):
            self.interpretation.forget()  # a loaded config may bring another model or data
            self._range = None
            self.refresh()
        elif state is not None and state not in ACTIVE:
            self.refresh()
        elif state is not None:
            self.state = {**self.state, "running": True}

    def _on_front_end_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        try:
            if kind == "refresh":
                self.refresh()
            elif kind == "gallery":
                message, buffers = self.gallery(
                    _class_or_none(content.get("true")),
                    _class_or_none(content.get("predicted")),
                    int(content.get("page", 0)),
                )
                self.send(dict(message), buffers)
            elif kind == "heatmap":
                self._send_heatmap(int(content.get("index", -1)))
            elif kind == "label_issues":
                message2, buffers = self.label_issues()
                self.send(dict(message2), buffers)
        except Exception as exc:  # noqa: BLE001 - answered, never raised into the comm
            self.last_traceback = traceback.format_exc()
            self.send({"type": "error", "message": _first_line(exc), "traceback": self.last_traceback})

    def _send_heatmap(self, index: int) -> None:
        """The blended heat map of one example, or why there is none (shown on that image)."""
        try:
            png = self.heatmap_png(index)
        except Exception as exc:  # noqa: BLE001 - e.g. a base without a feature map: said on the image
            self.last_traceback = traceback.format_exc()
            failed: HeatmapMessage = {"type": "heatmap", "index": index, "error": _first_line(exc)}
            self.send(dict(failed))
            return
        done: HeatmapMessage = {"type": "heatmap", "index": index, "error": None}
        self.send(dict(done), [png])


def _class_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


#: Opacity of the heat map where it is hottest; it fades (as heat squared) to none at 0.
HEAT_OPACITY = 0.6


def blend_heat(shown: np.ndarray, heat: np.ndarray) -> np.ndarray:
    """A display image (h, w, 1 | 3 | 4, uint8) with a heat map (h, w) in [0, 1] drawn
    over it: each pixel's colour blue (cool) to red (hot), its opacity
    :data:`HEAT_OPACITY` x heat², so the image stays visible where the model looked
    little and the colour marks where it looked most. Returns (h, w, 3) uint8."""
    rgb = shown.astype(np.float32)
    if rgb.shape[-1] == 1:
        rgb = np.repeat(rgb, 3, axis=-1)
    v = np.clip(np.nan_to_num(heat), 0.0, 1.0)[..., None]
    alpha = HEAT_OPACITY * v**2
    blended = (1.0 - alpha) * rgb[..., :3] + alpha * 255.0 * _colormap(v)
    return np.clip(np.rint(blended), 0, 255).astype(np.uint8)


def _colormap(v: np.ndarray) -> np.ndarray:
    """A bright blue-to-red ("jet" without its dark ends) colour per value in [0, 1]."""
    centres = np.array([3.0, 2.0, 1.0])  # red, green, blue
    return np.clip(1.5 - np.abs(4.0 * (0.125 + 0.75 * v) - centres), 0.0, 1.0)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")
