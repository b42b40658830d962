"""The training monitor in real JupyterLab: Train, watch curves and progress move,
Stop within one batch, Find LR and apply it, a confusion matrix after two epochs;
each checked against the controller in a later cell. The empty state before a run,
"Starting…" right after a click, no console errors inside a Tab / Accordion or after a
reload, no horizontal scrollbar. Light and dark screenshots at 900 and 1,400 px."""

from __future__ import annotations

import re

from playwright.sync_api import expect

SETUP = (
    "import keras\n"
    "from transfer_widgets import FineTuneController, TrainingMonitor, TransferConfig, datasets\n"
    "x, y = datasets.load_digits()\n"
    "def make(epochs, batch_size, n=1400):\n"
    "    base = keras.Sequential("
    "[keras.Input((8, 8, 3)), keras.layers.Conv2D(8, 3, name='conv')], name='tiny')\n"
    "    c = TransferConfig()\n"
    "    c.preprocessing.mode = 'rescale'\n"
    "    c.training.batch_size, c.training.epochs, c.training.seed = batch_size, epochs, 0\n"
    "    c.training.learning_rate = 0.01\n"
    "    c.head.class_names = [f'digit {i}' for i in range(10)]\n"
    "    return FineTuneController(base, num_classes=10, train_data=(x[:n], y[:n]),\n"
    "                              validation_data=(x[n:], y[n:]), config=c)\n"
)

# A long run (batch 4: 350 steps per epoch, 100 epochs) that only Stop ends; every
# call to stop() records how many batches had run when it was asked.
STOP_CELLS = [
    SETUP + "ctl = make(epochs=100, batch_size=4)\n"
    "at_stop = []\n"
    "_stop = ctl.stop\n"
    "def stop_and_count():\n"
    "    at_stop.append(len(monitor._recorder.steps))\n"
    "    _stop()\n"
    "ctl.stop = stop_and_count",
    "monitor = TrainingMonitor(ctl)\nmonitor",
]

CONFUSION_CELLS = [SETUP + "ctl = make(epochs=2, batch_size=32)", "monitor = TrainingMonitor(ctl)\nmonitor"]


def monitor(nb):
    widget = nb.page.locator(".tw-training-monitor")
    expect(widget).to_be_visible()
    return widget


def step_of(text: str) -> int:
    match = re.search(r"step (\d+)", text)
    return int(match.group(1)) if match else 0


def batch_path_length(widget) -> int:
    """Length of the per-batch loss line's SVG path (grows as points are added)."""
    return widget.locator(".bqplot").first.evaluate(
        "(fig) => Math.max(0, ...Array.from("
        "fig.querySelectorAll('path.line'), p => (p.getAttribute('d') || '').length))"
    )


def test_train_curves_grow_stop_within_one_batch_then_find_lr(open_nb, artifacts_dir, console_log):
    nb = open_nb(STOP_CELLS)
    nb.run_all()
    widget = monitor(nb)
    status = widget.locator(".tw-tm-status")
    expect(status).to_have_text("Idle")
    expect(widget.get_by_text(re.compile(r"^No run yet"))).to_be_visible()  # the empty state
    assert widget.locator(".bqplot").count() == 0  # no empty 0-1 chart
    widget.get_by_role("button", name="Train", exact=True).click()
    expect(status).to_contain_text(re.compile(r"Starting…|Running"), timeout=1_000)  # at once
    expect(status).to_contain_text("Running", timeout=30_000)
    expect(status).to_contain_text(re.compile(r"step \d+"), timeout=30_000)
    first_step, first_path = step_of(status.inner_text()), batch_path_length(widget)
    nb.page.wait_for_timeout(1500)
    expect(status).not_to_contain_text(f"step {first_step} ")
    assert step_of(status.inner_text()) > first_step  # progress moves
    assert batch_path_length(widget) > first_path  # the curve grows
    expect(widget.get_by_text(re.compile(r"samples/s"))).to_be_visible()
    nb.page.screenshot(path=str(artifacts_dir / "training-monitor-running-light.png"))

    widget.get_by_role("button", name="Stop", exact=True).click()
    expect(status).to_contain_text("Finished (stopped)", timeout=30_000)
    # Checked in a later cell: stopped, at most one batch after the request, nothing after.
    out = nb.add_and_run_cell(
        "import time\nctl.wait(30)\nn = len(monitor._recorder.steps)\ntime.sleep(0.5)\n"
        "print(ctl.state, ctl.stop_reason, len(at_stop), n - at_stop[0] <= 1, "
        "len(monitor._recorder.steps) == n)"
    )
    assert out == "finished stopped 1 True True"

    widget.get_by_role("button", name="Find LR", exact=True).click()
    lr_text = widget.get_by_text(re.compile(r"^(Suggested learning rate|No suggestion)"))
    expect(lr_text).to_be_visible(timeout=60_000)
    expect(widget.get_by_text("Learning-rate finder")).to_be_visible()
    if lr_text.inner_text().startswith("Suggested"):
        apply = widget.get_by_role("button", name=re.compile(r"^Apply suggested LR \("))
        expect(apply).to_be_enabled()
        suggested = float(re.search(r"\(([^)]+)\)", apply.inner_text()).group(1))
        apply.click()
        expect(widget.get_by_text(re.compile(r"^Learning rate set to"))).to_be_visible()
        value = float(nb.add_and_run_cell("print(ctl.config.training.learning_rate)"))
        assert abs(value - suggested) <= 0.06 * suggested  # the button shows 2 significant digits
    widget.scroll_into_view_if_needed()
    widget.screenshot(path=str(artifacts_dir / "training-monitor-lr-find-light.png"))
    assert console_log.errors == []


def test_classification_two_epochs_shows_confusion_matrix_dark(open_nb, artifacts_dir, console_log):
    nb = open_nb(CONFUSION_CELLS, theme="dark")
    nb.run_all()
    widget = monitor(nb)
    widget.get_by_role("button", name="Train", exact=True).click()
    expect(widget.get_by_text(re.compile(r"^Finished \(completed\)"))).to_be_visible(timeout=60_000)
    expect(widget.get_by_text(re.compile(r"^Epoch 2: \d+ of 397 validation samples right"))).to_be_visible()
    expect(widget.get_by_text("Confusion matrix (validation)")).to_be_visible()
    expect(widget.get_by_text("digit 9").first).to_be_attached()
    assert (
        nb.add_and_run_cell(
            "print(ctl.state, len(ctl.history['epoch']), int(monitor.confusion_map.color.sum()))"
        )
        == "finished 2 397"
    )
    widget.scroll_into_view_if_needed()
    widget.screenshot(path=str(artifacts_dir / "training-monitor-confusion-dark.png"))
    assert console_log.errors == []


def no_horizontal_scroll(widget) -> bool:
    """Neither the monitor nor any box inside it scrolls sideways."""
    return widget.evaluate(
        "(root) => [root, ...root.querySelectorAll('*')].every("
        "el => el.scrollWidth <= el.clientWidth + 1 || getComputedStyle(el).overflowX === 'visible'"
        " || getComputedStyle(el).overflowX === 'hidden')"
    )


def test_monitor_in_tab_and_accordion_after_reload_has_no_errors_and_looks_right(
    open_nb, artifacts_dir, console_log
):
    """Figures drawn while their Tab / Accordion page is hidden, then the page reloaded:
    no bqplot errors (negative <rect> sizes); shown, the charts have their size."""
    cells = [
        SETUP + "import ipywidgets\nctl = make(epochs=3, batch_size=32)\nctl.fit(block=True)\n"
        "m1, m2 = TrainingMonitor(ctl), TrainingMonitor(ctl)",
        "tab = ipywidgets.Tab([ipywidgets.Label('first page'), m1], titles=('First', 'Monitor'))\n"
        "acc = ipywidgets.Accordion([m2], titles=('Monitor',))\n"
        "ipywidgets.VBox([tab, acc])",
    ]
    nb = open_nb(cells)
    nb.run_all()
    nb.page.wait_for_timeout(1500)
    nb.page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    nb.page.wait_for_timeout(1000)
    nb.page.reload(wait_until="domcontentloaded")
    nb.page.wait_for_function("() => document.querySelectorAll('.tw-training-monitor').length >= 2")
    nb.page.wait_for_timeout(2500)
    assert console_log.errors == []
    nb.page.locator(".widget-tab").get_by_role("tab", name="Monitor").click()
    widget = nb.page.locator(".tw-training-monitor").first
    expect(widget).to_be_visible()
    expect(widget.get_by_text("Loss per epoch")).to_be_visible()
    nb.page.wait_for_timeout(1000)
    width = widget.locator(".bqplot").first.evaluate("(el) => el.getBoundingClientRect().width")
    assert width > 200
    assert no_horizontal_scroll(widget)
    assert console_log.errors == []


def test_screenshots_light_and_dark_at_900_and_1400_px(open_nb, artifacts_dir, console_log):
    cells = [
        SETUP + "ctl = make(epochs=4, batch_size=32)\nmonitor = TrainingMonitor(ctl)\nctl.fit(block=True)",
        "monitor",
    ]
    nb = open_nb(cells)
    nb.run_all()
    widget = monitor(nb)
    expect(widget.get_by_text("Confusion matrix (validation)")).to_be_visible()
    # The file browser closed, as a person gives a notebook the window; tall enough that
    # every chart is in view (bqplot lays out only figures on screen).
    nb.page.evaluate("() => window.jupyterapp.shell.collapseLeft()")
    for theme in ("light", "dark"):
        nb.set_theme(theme)
        for width in (900, 1400):
            nb.page.set_viewport_size({"width": width, "height": 1900})
            nb.page.wait_for_timeout(1200)
            assert no_horizontal_scroll(widget), f"horizontal scroll at {width} px, {theme}"
            widget.scroll_into_view_if_needed()
            widget.screenshot(path=str(artifacts_dir / f"training-monitor-{theme}-{width}.png"))
    # Dark: bqplot's own dark rule makes axis text orange; here it follows the theme.
    fill = widget.locator(".bqplot .axis .tick text").first.evaluate("(el) => getComputedStyle(el).fill")
    assert "255, 165, 0" not in fill
    assert console_log.errors == []


# Stopped from a callback at the end of the second epoch's third batch; the controller
# honours it at the next batch boundary (4 batches of 44 done), the same on any machine.
PARTIAL_CELLS = [
    SETUP + "ctl = make(epochs=2, batch_size=32)\n"
    "class StopAt(keras.callbacks.Callback):\n"
    "    def on_epoch_begin(self, epoch, logs=None):\n"
    "        self.epoch = epoch\n"
    "    def on_train_batch_end(self, batch, logs=None):\n"
    "        if (self.epoch, batch) == (1, 2):\n"
    "            ctl.stop()\n",
    "monitor = TrainingMonitor(ctl)\nmonitor",
]


def test_a_stopped_epoch_is_drawn_apart_and_a_second_run_counts_from_one(open_nb, console_log):
    nb = open_nb(PARTIAL_CELLS)
    nb.run_all()
    widget = monitor(nb)
    status = widget.locator(".tw-tm-status")
    nb.add_and_run_cell("ctl.fit(3, callbacks=[StopAt()])\nctl.wait(60)")
    expect(status).to_contain_text("Finished (stopped)", timeout=60_000)
    # The bars show where the run was stopped: batch 4 of epoch 2, one complete epoch.
    expect(widget.get_by_text("4 / 44", exact=True)).to_be_visible()
    expect(widget.get_by_text("2 / 3", exact=True)).to_be_visible()
    # The cut-short epoch is no point of the per-epoch series: it has its own legend entry.
    loss_card = widget.locator(".tw-tm-card").filter(has_text="Loss per epoch")
    expect(loss_card.get_by_text("epoch cut short")).to_be_visible()
    out = nb.add_and_run_cell("print(len(ctl.history['epoch']), [p['batches'] for p in ctl.partial_epochs])")
    assert out == "1 [4]"

    # Train again (the config's 2 epochs): run 2, its epochs counted from 1, titles that do not grow.
    widget.get_by_role("button", name="Train", exact=True).click()
    expect(status).to_contain_text("Finished (completed)", timeout=90_000)
    expect(widget.get_by_text(re.compile(r"run 2"))).to_be_visible()
    expect(widget.get_by_text("2 / 2", exact=True)).to_be_visible()
    expect(loss_card.get_by_text("earlier runs")).to_be_visible()
    expect(widget.get_by_text(re.compile(r"fit → fit"))).to_have_count(0)
    assert console_log.errors == []


# A loss that cannot fall: every image is black, so the features are constant and the
# balanced labels keep the loss at ln(10) whatever the learning rate.
FLAT_CELLS = [
    SETUP + "ctl = make(epochs=1, batch_size=32)\nctl.train_data = (x[:1400] * 0, y[:1400])",
    "monitor = TrainingMonitor(ctl)\nmonitor",
]


def test_find_lr_on_a_flat_loss_says_why_instead_of_suggesting(open_nb, artifacts_dir, console_log):
    nb = open_nb(FLAT_CELLS)
    nb.run_all()
    widget = monitor(nb)
    widget.get_by_role("button", name="Find LR", exact=True).click()
    expect(widget.get_by_text(re.compile(r"^No suggestion"))).to_be_visible(timeout=90_000)
    expect(widget.get_by_role("button", name=re.compile(r"^Apply suggested LR"))).to_be_disabled()
    lr_card = widget.locator(".tw-tm-card").filter(has_text="Learning-rate finder")
    expect(lr_card.get_by_text("suggested", exact=True)).to_have_count(0)  # no key for a line not drawn
    out = nb.add_and_run_cell("r = monitor.state.lr_find\nprint(r['suggested'], bool(r['message']))")
    assert out == "None True"
    widget.scroll_into_view_if_needed()
    widget.screenshot(path=str(artifacts_dir / "training-monitor-lr-find-flat-light.png"))
    assert console_log.errors == []


RECIPE_CELLS = [
    SETUP + "ctl = make(epochs=1, batch_size=32)\n"
    "ctl.set('training.optimizer', keras.optimizers.SGD(0.01, momentum=0.9, nesterov=True))\n"
    "ctl.set('training.lr_schedule', {'class_name': 'CosineDecay', "
    "'config': {'decay_steps': 400, 'warmup_steps': 20, 'warmup_target': 0.05}})\n"
    "ctl.set('training.class_weight', {0: 1.0, 1: 3.0})",
    "monitor = TrainingMonitor(ctl)\nmonitor",
]


def test_the_runs_recipe_shows_under_the_status(open_nb, artifacts_dir, console_log):
    nb = open_nb(RECIPE_CELLS, theme="light")
    nb.run_all()
    widget = monitor(nb)
    widget.get_by_role("button", name="Train", exact=True).click()
    expect(widget.get_by_text(re.compile(r"^Finished \(completed\)"))).to_be_visible(timeout=60_000)
    recipe = widget.locator(".tw-tm-recipe")
    expect(recipe).to_have_text(
        "SGD · momentum 0.9, nesterov · cosine decay over 400 steps with 20-step warm-up to 0.05"
        " · class weights 0:1, 1:3"
    )
    muted = recipe.locator(".tw-muted").evaluate("(el) => getComputedStyle(el).color")
    status = widget.locator(".tw-tm-status").evaluate("(el) => getComputedStyle(el).color")
    assert muted != status  # muted, not the status's colour
    widget.scroll_into_view_if_needed()
    widget.screenshot(path=str(artifacts_dir / "training-monitor-recipe-light.png"))
    assert console_log.errors == []
