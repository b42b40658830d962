"""The layer tree in real JupyterLab: found by role and name, clicked like a person,
checked against the Python model in a later cell."""

from __future__ import annotations

from playwright.sync_api import expect

MOBILENET_CELLS = [
    "import keras\n"
    "from transfer_widgets import LayerTree, freeze_all\n"
    "base = keras.applications.MobileNetV2("
    "weights=None, include_top=False, input_shape=(32, 32, 3), alpha=0.35)\n"
    "inputs = keras.Input((32, 32, 3))\n"
    "x = keras.layers.GlobalAveragePooling2D()(base(inputs, training=False))\n"
    "model = keras.Model(inputs, keras.layers.Dense(3, name='classifier')(x), name='transfer')",
    "tree = LayerTree(model)\ntree",
]

# Eight small layers: every row fits in the tree's viewport, no scrolling needed.
FLAT_CELLS = [
    "import keras\n"
    "from transfer_widgets import LayerTree\n"
    "model = keras.Sequential([keras.Input((4,))] + [keras.layers.Dense(4, name=f'd{i}') for i in range(8)],"
    " name='flat')\n"
    "def flags():\n"
    "    print(''.join('T' if layer.trainable else 'F' for layer in model.layers))",
    "tree = LayerTree(model)\ntree",
]


def layer_tree(nb, model_name: str):
    tree = nb.page.get_by_role("tree", name=f"Layers of {model_name}")
    expect(tree).to_be_visible()
    return tree


def row(tree, name: str):
    """The treeitem whose checkbox is named ``name``."""
    # `has=` is resolved inside each row, so the inner locator starts from the page.
    return tree.get_by_role("treeitem").filter(has=tree.page.get_by_role("checkbox", name=name, exact=True))


def test_nested_backbone_expand_and_click_changes_python_flag(open_nb, artifacts_dir, console_log):
    nb = open_nb(MOBILENET_CELLS)
    nb.run_all()
    tree = layer_tree(nb, "transfer")
    expect(tree.get_by_role("checkbox", name="mobilenetv2_0.35_32", exact=True)).to_be_checked()
    nb.page.screenshot(path=str(artifacts_dir / "layer-tree-light.png"))

    nb.page.get_by_role("searchbox", name="Filter layers").fill("block_13")
    block = row(tree, "block_13")
    expect(block).to_have_attribute("aria-expanded", "false")
    block.click()
    nb.page.keyboard.press("Enter")
    expect(block).to_have_attribute("aria-expanded", "true")

    expand = tree.get_by_role("checkbox", name="block_13_expand", exact=True)
    expect(expand).to_be_checked()
    expand.click()
    expect(expand).not_to_be_checked()
    expect(block).to_have_attribute("aria-checked", "mixed")
    nb.wait_for_python("print(base.get_layer('block_13_expand').trainable)", "False")
    assert (
        nb.add_and_run_cell(
            "print(base.get_layer('block_13_expand').trainable, "
            "base.get_layer('block_13_depthwise').trainable)"
        )
        == "False True"
    )
    assert console_log.errors == []


def test_freezing_from_python_shows_in_the_browser(open_nb, artifacts_dir):
    nb = open_nb(MOBILENET_CELLS, theme="dark")
    nb.run_all()
    tree = layer_tree(nb, "transfer")
    backbone = tree.get_by_role("checkbox", name="mobilenetv2_0.35_32", exact=True)
    expect(backbone).to_be_checked()
    nb.add_and_run_cell("freeze_all(base)")
    expect(backbone).not_to_be_checked()
    expect(row(tree, "transfer")).to_have_attribute("aria-checked", "mixed")  # the head still trains
    nb.add_and_run_cell("base.get_layer('Conv1').trainable = True\ntree.refresh()")
    expect(tree.get_by_role("checkbox", name="Conv1", exact=True)).to_be_checked()
    expect(row(tree, "mobilenetv2_0.35_32")).to_have_attribute("aria-checked", "mixed")
    nb.page.screenshot(path=str(artifacts_dir / "layer-tree-mobilenet-dark.png"))


def test_shift_click_sets_a_range(open_nb):
    nb = open_nb(FLAT_CELLS)
    nb.run_all()
    tree = layer_tree(nb, "flat")
    tree.get_by_role("checkbox", name="d1", exact=True).click()
    nb.wait_for_python("flags()", "TFTTTTTT")
    tree.get_by_role("checkbox", name="d4", exact=True).click(modifiers=["Shift"])
    nb.wait_for_python("flags()", "TFFFFTTT")
    for name, checked in [("d0", True), ("d2", False), ("d4", False), ("d5", True)]:
        box = tree.get_by_role("checkbox", name=name, exact=True)
        expect(box).to_be_checked() if checked else expect(box).not_to_be_checked()


def test_a_reloaded_page_shows_the_flags_as_they_are(open_nb, console_log):
    """The flags live in the ``flags`` trait: after a reload, the view rebuilt from the
    kernel's widget state shows the flags of now, not those the tree was first shown with."""
    nb = open_nb(FLAT_CELLS)
    nb.run_all()
    tree = layer_tree(nb, "flat")
    tree.get_by_role("checkbox", name="d1", exact=True).click()  # from the view
    nb.wait_for_python("flags()", "TFTTTTTT")
    nb.add_and_run_cell("model.get_layer('d5').trainable = False\ntree.refresh()")  # from Python
    expect(tree.get_by_role("checkbox", name="d5", exact=True)).not_to_be_checked()
    nb.page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    nb.page.reload(wait_until="domcontentloaded")
    nb._wait_for(
        "(path) => { const w = window.jupyterapp?.shell?.currentWidget;"
        " return !!(w && w.context && w.context.path === path && w.content?.model && w.sessionContext); }",
        nb.path,
        120_000,
        "JupyterLab to open the notebook again",
    )
    nb.wait_idle()
    tree = layer_tree(nb, "flat")
    for name in ("d0", "d1", "d2", "d5"):
        box = tree.get_by_role("checkbox", name=name, exact=True)
        expect(box).not_to_be_checked() if name in ("d1", "d5") else expect(box).to_be_checked()
    # the counts too (Dense(4) on 4 inputs: 20 each): the mixed model's travels listed,
    # a row's that its state implies does not
    expect(row(tree, "flat").locator(".tw-tp")).to_have_text("120")
    expect(row(tree, "d1").locator(".tw-tp")).to_have_text("0")
    expect(row(tree, "d0").locator(".tw-tp")).to_have_text("20")
    tree.get_by_role("checkbox", name="d2", exact=True).click()  # and it still answers
    nb.wait_for_python("flags()", "TFFTTFTT")
    expect(tree.get_by_role("checkbox", name="d2", exact=True)).not_to_be_checked()
    assert console_log.errors == []


def test_drag_the_freeze_boundary(open_nb, artifacts_dir):
    nb = open_nb(FLAT_CELLS)
    nb.run_all()
    tree = layer_tree(nb, "flat")
    boundary = tree.page.get_by_role("separator", name="Freeze boundary")
    expect(boundary).to_be_visible()
    start = boundary.bounding_box()
    target = row(tree, "d3").bounding_box()
    mouse = nb.page.mouse
    mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    mouse.down()
    mouse.move(start["x"] + start["width"] / 2, target["y"] + 2, steps=8)
    mouse.up()
    nb.wait_for_python("flags()", "FFFTTTTT")
    expect(tree.get_by_role("checkbox", name="d2", exact=True)).not_to_be_checked()
    expect(tree.get_by_role("checkbox", name="d3", exact=True)).to_be_checked()
    nb.page.screenshot(path=str(artifacts_dir / "layer-tree-boundary.png"))


def test_keyboard_moves_and_toggles(open_nb):
    nb = open_nb(FLAT_CELLS)
    nb.run_all()
    tree = layer_tree(nb, "flat")
    row(tree, "d0").get_by_text("d0", exact=True).click()
    nb.page.keyboard.press("ArrowDown")
    expect(row(tree, "d1")).to_be_focused()
    nb.page.keyboard.press("Space")
    nb.wait_for_python("flags()", "TFTTTTTT")
    nb.page.keyboard.press("Home")  # the root model row
    expect(row(tree, "flat")).to_be_focused()
    nb.page.keyboard.press("Enter")  # collapse it
    expect(row(tree, "flat")).to_have_attribute("aria-expanded", "false")
    expect(tree.get_by_role("checkbox", name="d0", exact=True)).to_have_count(0)
    nb.page.keyboard.press("ArrowRight")  # expand again
    expect(tree.get_by_role("checkbox", name="d0", exact=True)).to_be_visible()


def test_read_only_tree(open_nb):
    nb = open_nb([*FLAT_CELLS, "tree.disabled = True"])
    nb.run_all()
    tree = layer_tree(nb, "flat")
    expect(tree.get_by_role("checkbox", name="d0", exact=True)).to_be_disabled()
    expect(nb.page.get_by_role("button", name="Freeze all", exact=True)).to_be_disabled()


def test_hostile_layer_name_is_shown_as_text(open_nb, artifacts_dir, console_log):
    name = "<img src=x onerror=alert(1)>"
    nb = open_nb(
        [
            "import keras\nfrom transfer_widgets import LayerTree\n"
            "model = keras.Sequential("
            f"[keras.Input((3,)), keras.layers.Dense(2, name={name!r})], name='xss')",
            "LayerTree(model)",
        ],
        theme="dark",
    )
    dialogs: list[str] = []
    nb.page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    nb.run_all()
    tree = layer_tree(nb, "xss")
    expect(tree.get_by_text(name, exact=True)).to_be_visible()
    expect(tree.get_by_role("checkbox", name=name, exact=True)).to_be_checked()
    expect(tree.locator("img")).to_have_count(0)
    nb.page.screenshot(path=str(artifacts_dir / "layer-tree-dark.png"))
    assert dialogs == []
    assert console_log.errors == []


def test_thousand_layer_model_renders_only_visible_rows(open_nb):
    nb = open_nb(
        [
            "import keras\nfrom transfer_widgets import LayerTree\n"
            "model = keras.applications.NASNetLarge(weights=None, input_shape=(331, 331, 3))\n"
            "last = model.layers[-1].name\nprint(len(model.layers), last)",
            "LayerTree(model)",
        ]
    )
    nb.run_all()
    layers, last = nb.cell_text(0).split()
    assert int(layers) > 1000
    tree = layer_tree(nb, "nasnet_large")
    nb.page.get_by_role("button", name="Expand all", exact=True).click()
    row(tree, "nasnet_large").click()
    nb.page.keyboard.press("End")  # jump to the last of 1,000+ rows
    expect(tree.get_by_role("checkbox", name=last, exact=True)).to_be_visible()
    assert tree.get_by_role("treeitem").count() < 100  # virtualised: only the window is in the DOM
