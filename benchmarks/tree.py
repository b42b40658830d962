"""Layer tree costs on 1,000-layer models, as ratios measured in one run.

For NASNetLarge and EfficientNetB7 (weights=None), prints JSON with:
- build_vs_summary: time to build the widget's tree state (inspection + payload)
  divided by the time of ``model.summary()`` on the same model (goal <= 0.05),
  fastest of interleaved rounds;
- toggle_100_layers_ms: Python time to handle one toggle of 100 layers, from
  message in to the ``flags`` trait updated (goal < 5 ms), median of repeats; the
  worse of a click on the block nearest 100 layers and a 100-row shift-click range;
- bytes_per_toggle_vs_tree: JSON bytes a toggle sends (the ``flags`` trait, the one
  channel of the flags: a digit per row and the trainable counts those digits do not
  imply), the larger of the two states the repeats alternate between, divided by the
  JSON bytes of the initial tree state (goal <= 0.05).

Before it reports, it checks that the counts the view works out from the ``flags``
trait equal the kernel's for every row, after each toggle and after freeze / unfreeze all.

Run: .venv/bin/python benchmarks/tree.py
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras

from transfer_widgets import LayerTree
from transfer_widgets.model import ModelTree
from transfer_widgets.widgets.layer_tree import decode_trainable_params


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def once(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def build_vs_summary_times(model, rounds: int = 5) -> tuple[float, float]:
    """Fastest of interleaved rounds of ``model.summary()`` and of building the
    widget's tree state: the machine is shared, so the minimum is the figure
    least disturbed by other work, and interleaving exposes both to the same load."""

    def summary():
        with contextlib.redirect_stdout(io.StringIO()):
            model.summary(line_length=120)

    def build():
        widget = LayerTree(model)
        json.dumps(widget.tree)
        widget.close()

    build()  # warm-up: the first build also imports and fills caches
    summaries, builds = [], []
    for _ in range(rounds):
        summaries.append(once(summary))
        builds.append(once(build))
    return min(summaries), min(builds)


def node_nearest(tree: ModelTree, n_leaves: int):
    containers = [n for n in tree.nodes if n.children and n.parent is not None]
    return min(containers, key=lambda n: abs(len(n.leaves()) - n_leaves))


def message_cost(widget: LayerTree, message: dict) -> tuple[float, int]:
    """Median seconds to handle ``message`` (message in to ``flags`` updated) and the
    JSON bytes of the ``flags`` trait it syncs. Repeats alternate the state back and forth."""
    sent: list[dict] = []
    widget.send = lambda msg, buffers=None: sent.append(msg)

    def handle():
        widget._on_front_end_msg(widget, message, [])

    handle()  # warm-up
    seconds = median_time(handle, 21)
    assert sent == [], sent  # refused intents answer with a message; this one must not be refused
    check_exact(widget)
    size = len(json.dumps(widget.flags))
    handle()  # the other state of the two the repeats alternate between (a toggle's: frozen / mixed)
    check_exact(widget)
    return seconds, max(size, len(json.dumps(widget.flags)))


def check_exact(widget: LayerTree) -> None:
    """The trainable counts the view works out from what travels are the kernel's, every row."""
    flags = json.loads(json.dumps(widget.flags))
    full = widget.tree["columns"]["full_trainable"]
    shown = decode_trainable_params(flags, full)
    counted = [n.trainable_params for n in widget._tree.nodes]
    assert shown == counted, [i for i, (a, b) in enumerate(zip(shown, counted, strict=True)) if a != b]


def toggle_cost(model) -> dict:
    """A block of about 100 layers clicked, and a 100-row shift-click range."""
    widget = LayerTree(model)
    node = node_nearest(widget._tree, 100)
    block_s, block_bytes = message_cost(widget, {"type": "toggle", "id": node.id})
    leaves = widget._tree.leaves
    start = len(leaves) // 2
    ids = [leaf.id for leaf in leaves[start : start + 100]]
    widget.freeze_all()
    range_s, range_bytes = message_cost(widget, {"type": "set", "ids": ids, "value": True})
    widget.unfreeze_all()  # BatchNorm kept frozen: mixed blocks
    check_exact(widget)
    widget.freeze_all()
    check_exact(widget)
    tree_bytes = len(json.dumps(widget.tree))
    widget.close()
    toggle_bytes = max(block_bytes, range_bytes)
    return {
        "block_toggled": node.path,
        "block_layers": len(node.leaves()),
        "block_toggle_ms": round(block_s * 1000, 3),
        "range_100_layers_ms": round(range_s * 1000, 3),
        "toggle_100_layers_ms": round(max(block_s, range_s) * 1000, 3),
        "tree_state_bytes": tree_bytes,
        "toggle_flags_bytes": toggle_bytes,
        "bytes_per_toggle_vs_tree": round(toggle_bytes / tree_bytes, 4),
    }


def measure(name: str, model) -> dict:
    summary_s, build_s = build_vs_summary_times(model)
    return {
        "model": name,
        "layers_flat": len(ModelTree(model).leaves),
        "summary_ms": round(summary_s * 1000, 1),
        "build_state_ms": round(build_s * 1000, 2),
        "build_vs_summary": round(build_s / summary_s, 4),
        **toggle_cost(model),
    }


def main() -> None:
    results = [
        measure("NASNetLarge", keras.applications.NASNetLarge(weights=None, input_shape=(331, 331, 3))),
        measure("EfficientNetB7", keras.applications.EfficientNetB7(weights=None, input_shape=(600, 600, 3))),
    ]
    goals = {"build_vs_summary": 0.05, "toggle_100_layers_ms": 5.0, "bytes_per_toggle_vs_tree": 0.05}
    for r in results:
        r["meets_goals"] = {k: r[k] <= v for k, v in goals.items()}
    print(json.dumps({"benchmark": "layer_tree", "goals": goals, "results": results}, indent=2))


if __name__ == "__main__":
    main()
