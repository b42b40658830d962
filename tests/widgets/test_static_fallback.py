"""Each widget's mime bundle carries a static text/html rendering for pages without a
widget manager (GitHub, nbviewer, nbconvert without JavaScript) and a readable text/plain:
the tree collapsed to blocks with counts and flags, the head with shapes, the export as
highlighted code; hostile names stay text; NASNetLarge's tree stays under 100 KB."""

from __future__ import annotations

import re

import keras

from transfer_widgets import (
    ExportPanel,
    FineTuneController,
    HeadDesigner,
    LayerTree,
    TransferStudio,
    freeze_all,
)

from .small_models import backbone, data

HOSTILE = '"><img src=x onerror=alert(1)>'


def bundle_of(widget) -> dict:
    result = widget._repr_mimebundle_()
    return result[0] if isinstance(result, tuple) else result


def hostile_backbone():
    return keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            keras.layers.Conv2D(4, 3, padding="same", name="conv"),
            keras.layers.Conv2D(6, 3, padding="same", name=HOSTILE),
        ],
        name="tiny",
    )


def assert_no_markup_from(text: str) -> None:
    assert "<img" not in text and "&lt;img src=x onerror=alert(1)&gt;" in text


def test_the_tree_fallback_collapses_blocks_and_shows_flags():
    blocks = [keras.Input((4,))]
    for b in range(3):
        blocks += [keras.layers.Dense(4, name=f"block_{b}_{part}") for part in ("a", "b", "c")]
    model = keras.Sequential([*blocks, keras.layers.Dense(2, name="out")], name="blocky")
    tree = LayerTree(model)
    try:
        freeze_all(model)
        tree.set_trainable("out", True)
        bundle = bundle_of(tree)
        page = bundle["text/html"]
        assert "application/vnd.jupyter.widget-view+json" in bundle  # the live view is still there
        for name in ("block_0", "block_1", "block_2", "out"):
            assert re.search(rf"(>|&nbsp;){name}<", page), name
        assert "block_0_a" not in page  # a block's layers are summed in its row
        assert "frozen" in page and "trainable" in page
        assert bundle["text/plain"] == "LayerTree of 'blocky': 10 layers, 10 of 190 parameters trainable"
        assert "object at 0x" not in bundle["text/plain"]
    finally:
        tree.close()


def test_hostile_names_stay_text_in_every_fallback():
    c = FineTuneController(hostile_backbone(), train_data=data(), num_classes=3)
    c.freeze_up_to(HOSTILE)  # the export's freeze plan names the layer
    assert HOSTILE in c.export_code("script")
    widgets = [LayerTree(c), ExportPanel(c), TransferStudio(c)]
    try:
        for w in widgets:
            assert_no_markup_from(bundle_of(w)["text/html"])
    finally:
        for w in widgets:
            w.close()


def test_the_head_fallback_lists_layers_with_shapes():
    c = FineTuneController(backbone(), train_data=data(), num_classes=3)
    head = HeadDesigner(c)
    try:
        page = bundle_of(head)["text/html"]
        assert re.search(r"head_0_global_average_pooling</b> → <code>\(None, 6\)</code>", page)
        assert "predictions</b> → <code>(None, 3)</code> · 21 params" in page
        assert "on backbone · features (None, 4, 4, 6)" in page
        assert bundle_of(head)["text/plain"].startswith("HeadDesigner on 'backbone': head_0_global")
    finally:
        head.close()


def test_the_export_fallback_is_highlighted_code_with_inline_styles():
    c = FineTuneController(backbone(), train_data=data(), num_classes=3)
    panel = ExportPanel(c, kind="script")
    try:
        page = bundle_of(panel)["text/html"]
        assert "<pre" in page and 'style="color' in page  # coloured without a stylesheet
        assert "class=" not in page.replace('class="tw-static tw-static-export"', "").replace(
            'class="highlight"', ""
        )
        assert "Export: Script" in page and f"{panel.code.count(chr(10)):,} lines" in page
    finally:
        panel.close()


def test_nasnet_large_tree_fallback_stays_small():
    base = keras.applications.NASNetLarge(weights=None, include_top=False, input_shape=(331, 331, 3))
    tree = LayerTree(base)
    try:
        page = bundle_of(tree)["text/html"]
        size = len(page.encode())
        assert size <= 100_000, size
        assert "cell_0</b>" in page
        assert page.count("stem_1</b>") == 1
    finally:
        tree.close()


def test_the_monitor_fallback_draws_the_curves_as_svg_with_the_final_metrics():
    from transfer_widgets import TrainingMonitor

    x, y = data(24)
    c = FineTuneController(backbone(), train_data=(x, y), validation_data=data(8), num_classes=3)
    c.set("training.batch_size", 8)
    monitor = TrainingMonitor(c)
    try:
        assert "No completed epoch yet" in bundle_of(monitor)["text/html"]
        c.fit(3, block=True)
        page = bundle_of(monitor)["text/html"]
        assert page.count("<svg") == 2  # loss and accuracy
        assert page.count("<polyline") == 4  # train and validation each
        assert 'aria-label="loss per epoch"' in page and "After 3 epochs" in page
        assert f"{c.history['val_loss'][-1]:.4g}" in page
        assert bundle_of(monitor)["text/plain"].startswith("TrainingMonitor: <FineTuneController")
    finally:
        monitor.close()
