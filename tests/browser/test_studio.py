"""TransferStudio in real JupyterLab, used as a person would: toggle a layer in the tree,
edit the head, train the head for two epochs on the demo digits, start a fine-tune and
stop it, export, insert the cell below and run it, and a further cell checks that it
rebuilt the same model; each step checked against the controller in the kernel. Screenshots of
the studio and each panel, light and dark, at 900 and 1,400 px."""

from __future__ import annotations

import re

from playwright.sync_api import expect

CELLS = [
    "import keras\n"
    "from transfer_widgets import TransferStudio, TransferConfig, datasets\n"
    "x, y = datasets.load_digits()\n"
    "base = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(8, 3, name='conv'),\n"
    "                         keras.layers.Conv2D(8, 3, name='conv_2')], name='tiny')\n"
    "c = TransferConfig()\n"
    "c.preprocessing.mode = 'rescale'\n"
    "c.training.batch_size, c.training.epochs, c.training.seed = 64, 2, 0\n"
    "c.training.learning_rate = 0.01\n"
    "studio = TransferStudio(base, train_data=(x[:1400], y[:1400]), validation_data=(x[1400:], y[1400:]),\n"
    "                        num_classes=10, config=c)\n"
    "ctl = studio.controller",
    "studio",
]


def studio_of(nb):
    widget = nb.page.locator(".tw-studio")
    expect(widget).to_be_visible()
    return widget


def tab(widget, name: str):
    return widget.locator(".widget-tab").first.get_by_role("tab", name=name, exact=True)


def no_horizontal_scroll(widget) -> bool:
    return widget.evaluate("(el) => el.scrollWidth <= el.clientWidth + 1")


def test_toggle_edit_train_stop_export(open_nb, artifacts_dir, console_log):
    nb = open_nb(CELLS)
    nb.run_all()
    widget = studio_of(nb)
    header = widget.locator(".tw-studio-summary")
    expect(header).to_contain_text("1,400 train")
    expect(header).to_contain_text("397 validation")
    expect(header).to_contain_text("Fine-tune")
    # Live: the snapshot guards show nothing, take no space, and leave the controls on.
    expect(widget.get_by_role("note")).to_have_count(0)
    expect(widget.locator(".tw-snapshot-guard").first).to_be_attached()
    gap = widget.evaluate(
        "(el) => el.querySelector('.tw-studio-toolbar').getBoundingClientRect().top"
        " - el.querySelector('.tw-studio-header').getBoundingClientRect().bottom"
    )
    assert gap == widget.evaluate("(el) => parseFloat(getComputedStyle(el).rowGap)"), gap
    expect(widget.get_by_role("button", name="Train head")).to_be_enabled()

    # Layers: freeze one convolution of the backbone.
    tree = widget.get_by_role("tree", name=re.compile("^Layers of "))
    expect(tree).to_be_visible()
    conv = tree.get_by_role("checkbox", name="conv", exact=True)
    expect(conv).to_be_checked()
    conv.click()
    expect(conv).not_to_be_checked()
    nb.wait_for_python("print(base.get_layer('conv').trainable)", "False")

    # Head: add a dense layer of 16 units.
    tab(widget, "Head").click()
    designer = widget.locator(".tw-head-designer")
    expect(designer).to_be_visible()
    designer.get_by_role("button", name="Add Dense layer").click()
    heads = designer.get_by_role("list", name="Head layers")
    dense = heads.get_by_role("listitem", name=re.compile(r"^\d+\. Dense$"))
    units = dense.get_by_role("textbox", name="Units")
    units.fill("16")
    units.press("Enter")
    expect(designer.get_by_role("status")).to_have_text("Applied to the model")
    nb.wait_for_python("print([s.units for s in ctl.config.head.layers if s.type == 'dense'])", "[16]")

    # Train head: two epochs; the Training tab comes to the front, the kernel stays free.
    widget.get_by_role("button", name="Train head").click()
    monitor = widget.locator(".tw-training-monitor")
    expect(monitor).to_be_visible()
    assert nb.add_and_run_cell("print('free')") == "free"
    nb.wait_for_python("ctl.wait(120); print(ctl.state, len(ctl.history['loss']))", "finished 2")
    expect(header).to_contain_text("finished")
    nb.wait_for_python("print(any(l.trainable for l in base.layers))", "False")

    # Fine-tune a long run, then stop it.
    nb.python("ctl.set('training.epochs', 200)")
    widget.get_by_role("button", name="Fine-tune").first.click()
    stop = widget.locator(".tw-studio-toolbar").get_by_role("button", name="Stop")
    expect(stop).to_be_enabled(timeout=10_000)
    nb.page.wait_for_timeout(1500)
    stop.click()
    nb.wait_for_python("ctl.wait(120); print(ctl.runs[-1]['reason'])", "stopped")
    expect(stop).to_be_disabled()

    # Export: the panel with the code of what ran.
    widget.get_by_role("button", name="Export").click()
    panel = widget.locator(".tw-export-panel")
    expect(panel).to_be_visible()
    expect(panel.get_by_role("region", name="Exported code")).to_contain_text("Dense(16")
    widget.scroll_into_view_if_needed()
    nb.page.screenshot(path=str(artifacts_dir / "studio-export-light.png"))

    # Insert cell below: the data are slices with no name in the notebook, so the panel
    # offers to save them; then the cell lands below the studio's cell and runs there.
    panel.get_by_role("button", name="Insert cell below").click()
    expect(panel.locator(".tw-ex-note")).to_contain_text("no name for train_data[0], train_data[1]")
    expect(panel.get_by_role("alert")).to_contain_text("needs a name for every object")
    assert len(nb.cells()) == 3  # nothing inserted that could not run
    panel.get_by_role("button", name="Save them beside the notebook").click()
    nb._wait_for(
        "() => window.jupyterapp.shell.currentWidget.content.model.sharedModel.cells.length === 4",
        None,
        30_000,
        "the inserted cell",
    )
    inserted = "".join(nb.cells()[2]["source"])
    assert "base_model=base," in inserted and "np.load('transfer_objects/train_x.npy')" in inserted
    panel.scroll_into_view_if_needed()
    nb.page.screenshot(path=str(artifacts_dir / "studio-insert-light.png"))
    run_cell(nb, 2)
    check = (
        "r, m = rebuilt.model, ctl.model\n"
        "print(r.count_params() == m.count_params(),\n"
        "      [w.trainable for w in r.weights] == [w.trainable for w in m.weights],\n"
        "      rebuilt.config.head.num_classes == ctl.config.head.num_classes == 10,\n"
        "      [type(l).__name__ for l in rebuilt.head.layers]\n"
        "      == [type(l).__name__ for l in ctl.head.layers])"
    )
    assert nb.add_and_run_cell(check) == "True True True True"
    assert console_log.errors == []


def run_cell(nb, index: int) -> None:
    """Run cell ``index`` as a person does (make it active, Shift+Enter's command); raise its error."""
    nb.page.evaluate(
        "(i) => { const nb = window.jupyterapp.shell.currentWidget.content; nb.activeCellIndex = i; "
        "nb.deselectAll(); }",
        index,
    )
    nb._run_command("notebook:run-cell", 120_000)
    nb._wait_for(
        "(i) => { const c = window.jupyterapp.shell.currentWidget.content.model.sharedModel"
        ".toJSON().cells[i]; return c.execution_count !== null && c.execution_count !== undefined; }",
        index,
        120_000,
        f"cell {index} to run",
    )
    nb.wait_idle()
    nb._raise_cell_errors([index])


def test_screenshots_light_and_dark_at_900_and_1400_px(open_nb, artifacts_dir, console_log):
    nb = open_nb(CELLS)
    nb.run_all()
    widget = studio_of(nb)
    nb.python("studio.head.add_layer('dense', units=64)")  # a row with a field beside ↑ / ↓
    nb.page.evaluate("() => window.jupyterapp.shell.collapseLeft()")
    for theme in ("light", "dark"):
        nb.set_theme(theme)
        for width in (900, 1400):
            nb.page.set_viewport_size({"width": width, "height": 1100})
            for name in ("Layers", "Head", "Training", "Export"):
                if width == 1400 and name != "Layers":
                    continue  # the wide window: the studio as it opens
                tab(widget, name).click()
                nb.page.wait_for_timeout(600)
                widget.scroll_into_view_if_needed()
                widget.screenshot(path=str(artifacts_dir / f"studio-{name.lower()}-{theme}-{width}.png"))
                assert no_horizontal_scroll(widget), f"horizontal scroll at {width} px, {theme}, {name}"
    assert console_log.errors == []


def boxes_overlap(a, b) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def test_900_px_with_the_file_browser_open(open_nb, artifacts_dir, console_log):
    """The narrowest studio a person meets: a 900 px window with the file browser open.
    Every panel's stylesheet is on the page (the export panel's last), yet the tree keeps its
    grid; nothing sticks out, no column is clipped, no button lies over a field."""
    nb = open_nb(CELLS)
    nb.run_all()
    widget = studio_of(nb)
    nb.python("studio.head.add_layer('dense', units=64)")
    nb.page.set_viewport_size({"width": 900, "height": 1100})
    nb.page.wait_for_timeout(600)

    tree = widget.locator(".tw-layer-tree")
    header = tree.locator(".tw-header")
    assert header.evaluate("(el) => getComputedStyle(el).display") == "grid"
    assert no_horizontal_scroll(widget)
    right = header.evaluate("(el) => el.getBoundingClientRect().right")
    last = header.locator("span").last
    expect(last).to_have_text("Trainable")
    assert last.evaluate("(el) => el.getBoundingClientRect().right") <= right  # not clipped
    assert last.evaluate("(el) => el.scrollWidth <= el.clientWidth")
    # The boundary's label shows only while the line is pointed at: at rest it covers no number.
    label = tree.locator(".tw-boundary-label")
    assert label.evaluate("(el) => getComputedStyle(el).visibility") == "hidden"
    # The input layer sits above the boundary, without a checkbox.
    image = tree.get_by_role("treeitem").filter(has_text="image").first
    expect(image).to_have_attribute("data-state", "inert")
    widget.screenshot(path=str(artifacts_dir / "studio-layers-light-900-sidebar.png"))

    tab(widget, "Head").click()
    dense = widget.get_by_role("list", name="Head layers").get_by_role(
        "listitem", name=re.compile(r"^\d+\. Dense$")
    )
    units = dense.get_by_role("textbox", name="Units")
    expect(units).to_have_value("64")
    for button in ("Move", "Remove"):
        for b in dense.get_by_role("button", name=re.compile(f"^{button}")).all():
            assert not boxes_overlap(units.bounding_box(), b.bounding_box()), button
    assert no_horizontal_scroll(widget)
    widget.screenshot(path=str(artifacts_dir / "studio-head-light-900-sidebar.png"))
    assert console_log.errors == []


def test_snapshot_mode_in_light_and_dark_at_900_px(open_nb, artifacts_dir, console_log):
    """The studio as a page with no kernel shows it (the embedder's flag, here set on Lab's
    own page so the look follows Lab's light and dark themes): one note above the toolbar,
    the workflow buttons and the monitor's controls off, no horizontal scroll at 900 px."""
    nb = open_nb(CELLS)
    nb.page.evaluate("() => { document.documentElement.dataset.twStatic = 'true'; }")
    nb.run_all()
    widget = studio_of(nb)
    note = widget.get_by_role("note")
    expect(note).to_have_count(1)
    expect(note).to_contain_text("Snapshot: saved with this page, no kernel connected")
    expect(widget.get_by_role("button", name="Train head")).to_be_disabled()
    nb.page.evaluate("() => window.jupyterapp.shell.collapseLeft()")
    nb.page.set_viewport_size({"width": 900, "height": 1100})
    for theme in ("light", "dark"):
        nb.set_theme(theme)
        for name in ("Layers", "Training"):
            tab(widget, name).click()
            nb.page.wait_for_timeout(600)
            widget.scroll_into_view_if_needed()
            widget.screenshot(path=str(artifacts_dir / f"studio-snapshot-{name.lower()}-{theme}-900.png"))
            assert no_horizontal_scroll(widget), f"horizontal scroll at 900 px, {theme}, {name}"
    expect(widget.get_by_role("button", name="Train", exact=True)).to_be_disabled()
    expect(widget.get_by_role("note")).to_have_count(1)
    assert console_log.errors == []
