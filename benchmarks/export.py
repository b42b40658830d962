"""Export costs, as figures and ratios measured in one run.

On a FineTuneController over MobileNetV2 (weights=None, 96x96), prints JSON with:
- export_ms: median time of ``controller.export_code(kind)`` per kind;
- click_with_panel_vs_without: a layer tree click (the block nearest 20 layers
  toggled, message in to message out) with an ExportPanel on the same controller
  divided by the same click without one. The panel re-exports the experiment on
  every flag change, so this ratio is the price a user pays per click for a live
  preview of the code (median of interleaved repeats).

Run: .venv/bin/python benchmarks/export.py
"""

from __future__ import annotations

import json
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np

from transfer_widgets import ExportPanel, FineTuneController, LayerTree

REPEATS = 21


def seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def controller() -> FineTuneController:
    base = keras.applications.MobileNetV2(weights=None, include_top=False, input_shape=(96, 96, 3))
    x = np.zeros((32, 96, 96, 3), "float32")
    return FineTuneController(base, train_data=(x, np.arange(32) % 5))


def export_ms(ctl) -> dict[str, float]:
    out = {}
    for kind in ("script", "cell", "notebook", "json"):
        ctl.export_code(kind)  # warm-up
        out[kind] = round(
            statistics.median(seconds(lambda k=kind: ctl.export_code(k)) for _ in range(REPEATS)) * 1000, 2
        )
    return out


def click_ratio(ctl) -> dict:
    tree = LayerTree(ctl)
    tree.send = lambda msg, buffers=None: None
    block = min((n for n in tree._tree.nodes if n.kind == "block"), key=lambda n: abs(len(n.leaves()) - 20))

    def click():
        tree._on_front_end_msg(tree, {"type": "toggle", "id": block.id}, [])

    click()
    without, with_panel = [], []
    for _ in range(REPEATS):  # interleaved: both see the same machine load
        without.append(seconds(click))
        panel = ExportPanel(ctl)
        with_panel.append(seconds(click))
        panel.close()
    tree.close()
    plain, panel_s = statistics.median(without), statistics.median(with_panel)
    return {
        "block_clicked": block.path,
        "block_layers": len(block.leaves()),
        "click_ms_without_panel": round(plain * 1000, 2),
        "click_ms_with_panel": round(panel_s * 1000, 2),
        "click_with_panel_vs_without": round(panel_s / plain, 2),
    }


def main() -> None:
    ctl = controller()
    result = {
        "benchmark": "export",
        "model": ctl.base_model.name,
        "export_ms": export_ms(ctl),
        **click_ratio(ctl),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
