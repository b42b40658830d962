"""Lab's interrupt button during training: the run stops within a batch, the monitor
says it was interrupted, and the layer tree and head designer, read-only while the
run trained, enable again. The kernel is idle while a background run trains (the
Train click returned at once), which is where ipykernel ignores SIGINT."""

from __future__ import annotations

import re

from playwright.sync_api import expect

CELLS = [
    "import keras\n"
    "from transfer_widgets import FineTuneController, HeadDesigner, LayerTree, TrainingMonitor\n"
    "from transfer_widgets import TransferConfig\n"
    "from transfer_widgets import datasets\n"
    "x, y = datasets.load_digits()\n"
    "base = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(8, 3, name='conv')], name='tiny')\n"
    "c = TransferConfig()\n"
    "c.preprocessing.mode = 'rescale'\n"
    "c.training.batch_size, c.training.epochs, c.training.seed = 4, 100, 0\n"
    "ctl = FineTuneController(base, num_classes=10, train_data=(x[:1400], y[:1400]), config=c)",
    "monitor = TrainingMonitor(ctl)\nmonitor",
    "tree = LayerTree(ctl)\ntree",
    "designer = HeadDesigner(ctl)\ndesigner",
]


def test_interrupt_button_stops_training_and_views_enable_again(open_nb, artifacts_dir, console_log):
    nb = open_nb(CELLS)
    nb.run_all()
    monitor = nb.page.locator(".tw-training-monitor")
    status = monitor.locator(".tw-tm-status")
    tree = nb.page.get_by_role("tree").first
    freeze_all = nb.page.get_by_role("button", name="Freeze all", exact=True)
    add_dense = nb.page.locator(".tw-head-designer").get_by_role("button", name="Add Dense layer")
    expect(freeze_all).to_be_enabled()

    monitor.get_by_role("button", name="Train", exact=True).click()
    expect(status).to_contain_text(re.compile(r"step \d+"), timeout=60_000)
    expect(freeze_all).to_be_disabled()  # read-only while the run trains
    expect(add_dense).to_be_disabled()

    nb.page.evaluate("window.jupyterapp.commands.execute('kernelmenu:interrupt')")
    expect(status).to_contain_text("interrupted", timeout=30_000)
    expect(freeze_all).to_be_enabled()
    expect(add_dense).to_be_enabled()
    expect(tree).to_be_visible()
    nb.page.screenshot(path=str(artifacts_dir / "interrupt-recovered.png"), full_page=True)
    assert nb.python("print(ctl.state, ctl.runs[-1]['reason'], ctl.runs[-1]['weights'])").startswith(
        "finished interrupted"
    )
    # The kernel lives on and the controller trains again.
    assert (
        nb.python("ctl.fit(1, block=True); print(ctl.state, ctl.runs[-1]['reason'])") == "finished completed"
    )
    assert console_log.errors == []
