"""The head designer in real JupyterLab: edited like a person (palette, fields, drag,
presets), checked against the controller's config and assembled model in a later cell."""

from __future__ import annotations

import re

from playwright.sync_api import expect

CELLS = [
    "import keras, numpy as np\n"
    "from transfer_widgets import FineTuneController, HeadDesigner\n"
    "base = keras.applications.MobileNetV2(\n"
    "    weights=None, include_top=False, input_shape=(32, 32, 3), alpha=0.35\n"
    ")\n"
    "rng = np.random.default_rng(0)\n"
    "x, y = rng.random((24, 32, 32, 3), dtype='float32'), rng.integers(0, 3, 24)\n"
    "controller = FineTuneController(base, train_data=(x, y))\n"
    "def head():\n"
    "    h = controller.config.head\n"
    "    print(' '.join(f'{s.type}:{s.units or s.rate or \"\"}' for s in h.layers), h.task, h.num_classes)",
    "designer = HeadDesigner(controller)\ndesigner",
]


def layers(nb):
    lst = nb.page.get_by_role("list", name="Head layers")
    expect(lst).to_be_visible()
    return lst


def row(lst, name: str):
    return lst.get_by_role("listitem", name=name, exact=True)


def designer(nb):
    return nb.page.locator(".tw-head-designer")


def test_add_set_drag_validate_preset_and_check_the_controller(open_nb, artifacts_dir, console_log):
    nb = open_nb(CELLS)
    nb.run_all()
    lst = layers(nb)
    widget = designer(nb)
    expect(lst.get_by_role("listitem")).to_have_count(2)
    status = widget.get_by_role("status")
    expect(status).to_have_text("Applied to the model")

    # Add a dense layer from the palette: it lands at the end, 128 relu by default.
    widget.get_by_role("button", name="Add Dense layer").click()
    dense = row(lst, "3. Dense")
    expect(dense.locator(".tw-hd-shape")).to_have_text("→ (None, 128)")

    # Set its units; the preview under the row and the totals follow.
    units = dense.get_by_role("textbox", name="Units")
    units.fill("64")
    units.press("Enter")
    expect(dense.locator(".tw-hd-shape")).to_have_text("→ (None, 64)")
    expect(dense.locator(".tw-hd-params")).to_have_text("81,984 params")  # 1280 * 64 + 64
    nb.wait_for_python("head()", "global_average_pooling: dropout:0.2 dense:64 multiclass 3")

    # Drag it above the dropout: dropout now sees 64 features.
    dropout = row(lst, "2. Dropout")
    dense.get_by_role("button", name=re.compile("^Drag 3. Dense")).drag_to(
        dropout, target_position={"x": 40, "y": 3}
    )
    expect(row(lst, "2. Dense")).to_be_visible()
    expect(row(lst, "3. Dropout").locator(".tw-hd-shape")).to_have_text("→ (None, 64)")
    nb.wait_for_python("head()", "global_average_pooling: dense:64 dropout:0.2 multiclass 3")

    # An invalid value: shown inline next to the field with the reason; the head is not applied.
    units = row(lst, "2. Dense").get_by_role("textbox", name="Units")
    units.fill("0")
    units.press("Enter")
    units = row(lst, "2. Dense").get_by_role("textbox", name="Units")
    expect(units).to_have_attribute("aria-invalid", "true")
    expect(row(lst, "2. Dense").locator(".tw-hd-error")).to_have_text("must be a positive integer, got 0")
    expect(status).to_have_text("Not applied: 1 problem to fix")
    assert nb.add_and_run_cell("head()") == "global_average_pooling: dense:64 dropout:0.2 multiclass 3"

    # A bad learning rate is caught the same way.
    lr = widget.get_by_role("textbox", name="Learning rate")
    lr.fill("fast")
    lr.press("Enter")
    expect(widget.locator(".tw-hd-compile .tw-hd-error")).to_have_text(
        "must be a positive number, got 'fast'"
    )
    lr = widget.get_by_role("textbox", name="Learning rate")
    lr.fill("0.0005")
    lr.press("Enter")
    # Wait for the kernel's answer (the form re-renders with it) before typing elsewhere, as a person sees it.
    expect(widget.locator(".tw-hd-compile .tw-hd-error")).to_have_count(0)
    units = row(lst, "2. Dense").get_by_role("textbox", name="Units")
    units.fill("32")
    units.press("Enter")
    expect(status).to_have_text("Applied to the model")

    # A preset replaces the layers; the model follows.
    widget.get_by_role("button", name="Teachable Machine").click()
    expect(lst.get_by_role("listitem")).to_have_count(2)
    tm = row(lst, "2. Dense")
    expect(tm.get_by_role("textbox", name="Units")).to_have_value("100")
    expect(tm.locator(".tw-hd-params")).to_have_text("128,100 params")
    expect(widget.locator(".tw-hd-output .tw-hd-shape")).to_have_text("→ (None, 3)")
    totals = widget.locator(".tw-hd-totals").inner_text()
    expect(status).to_have_text("Applied to the model")

    out = nb.add_and_run_cell(
        "head()\n"
        "m = controller.model\n"
        "print([l.name for l in controller.head.layers], controller.head.layers[1].units)\n"
        "print(f'{m.count_params():,}', f'{sum(int(np.prod(w.shape)) for w in m.trainable_weights):,}')\n"
        "print(controller.config.training.learning_rate)"
    )
    lines = out.splitlines()
    assert lines[0] == "global_average_pooling: dense:100 multiclass 3"
    assert lines[1] == "['head_0_global_average_pooling', 'head_1_dense', 'predictions'] 100"
    total, trainable = lines[2].split()
    assert totals == f"Head: 128,403 params · Model: {total} params, {trainable} trainable"
    assert lines[3] == "0.0005"
    assert console_log.errors == []


def test_python_changes_show_and_training_disables(open_nb, artifacts_dir):
    nb = open_nb(CELLS)
    nb.run_all()
    lst = layers(nb)
    widget = designer(nb)
    nb.add_and_run_cell(
        "designer.add_layer('dense', 1, units=48)\ncontroller.set('training.learning_rate', 0.01)"
    )
    expect(row(lst, "2. Dense").get_by_role("textbox", name="Units")).to_have_value("48")
    expect(widget.get_by_role("textbox", name="Learning rate")).to_have_value("0.01")
    nb.add_and_run_cell("designer.read_only = True")
    expect(widget.get_by_role("button", name="Add Dense layer")).to_be_disabled()
    expect(row(lst, "2. Dense").get_by_role("textbox", name="Units")).to_be_disabled()
    nb.add_and_run_cell("designer.read_only = False")
    expect(widget.get_by_role("button", name="Add Dense layer")).to_be_enabled()

    # Keyboard: Alt+ArrowUp on the drag handle moves the row up.
    handle = row(lst, "3. Dropout").get_by_role("button", name=re.compile("^Drag 3. Dropout"))
    handle.focus()
    nb.page.keyboard.press("Alt+ArrowUp")
    expect(row(lst, "2. Dropout")).to_be_visible()
    nb.wait_for_python("head()", "global_average_pooling: dropout:0.2 dense:48 multiclass 3")


def _screenshot(nb, artifacts_dir, theme: str) -> None:
    nb.run_all()
    lst = layers(nb)
    widget = designer(nb)
    widget.get_by_role("button", name="Add Random flip augmentation").click()
    expect(nb.page.get_by_role("list", name="Augmentation layers").get_by_role("listitem")).to_have_count(1)
    names = widget.get_by_role("textbox", name="Class names")
    names.fill("cat, dog, <b>bird</b>")  # user strings are shown as text, never as markup
    names.press("Enter")
    widget.get_by_role("button", name="Add Dense layer").click()
    expect(row(lst, "3. Dense").locator(".tw-hd-shape")).to_have_text("→ (None, 128)")
    expect(widget.get_by_role("textbox", name="Class names")).to_have_value("cat, dog, <b>bird</b>")
    assert widget.locator("b").count() == 0
    widget.scroll_into_view_if_needed()
    widget.screenshot(path=str(artifacts_dir / f"head-designer-{theme}.png"))

    units = row(lst, "3. Dense").get_by_role("textbox", name="Units")
    units.fill("-5")
    units.press("Enter")
    expect(row(lst, "3. Dense").locator(".tw-hd-error")).to_have_text("must be a positive integer, got -5")
    widget.screenshot(path=str(artifacts_dir / f"head-designer-invalid-{theme}.png"))
    nb.page.screenshot(path=str(artifacts_dir / f"head-designer-page-{theme}.png"))


def test_screenshot_light(open_nb, artifacts_dir):
    _screenshot(open_nb(CELLS, theme="light"), artifacts_dir, "light")


def test_screenshot_dark(open_nb, artifacts_dir):
    _screenshot(open_nb(CELLS, theme="dark"), artifacts_dir, "dark")


def test_recipe_settings_show_beside_the_compile_fields(open_nb, artifacts_dir, console_log):
    """Optimizer arguments, the schedule and the class weights set from Python show as hints
    under the fields they change; an optimizer that does not take the arguments is refused."""
    nb = open_nb(
        [
            CELLS[0],
            "controller.set('training.optimizer', keras.optimizers.SGD(0.01, momentum=0.9, nesterov=True))\n"
            "schedule = {'class_name': 'CosineDecay', 'config': {'decay_steps': 40}}\n"
            "controller.set('training.lr_schedule', schedule)\n"
            "controller.set('training.class_weight', {0: 1.0, 1: 2.0, 2: 1.0})\n"
            "designer = HeadDesigner(controller)\ndesigner",
        ]
    )
    nb.run_all()
    widget = designer(nb)
    optimizer = widget.get_by_role("combobox", name="Optimizer")
    expect(optimizer).to_have_value("SGD")
    expect(optimizer).to_have_accessible_description("with momentum=0.9, nesterov=True")
    rate = widget.get_by_role("textbox", name="Learning rate")
    expect(rate).to_have_accessible_description("start of CosineDecay(decay_steps=40)")
    loss = widget.get_by_role("combobox", name="Loss")
    expect(loss).to_have_accessible_description("class weights 0: 1.0, 1: 2.0, 2: 1.0")
    widget.scroll_into_view_if_needed()
    widget.screenshot(path=str(artifacts_dir / "head-designer-recipe.png"))

    optimizer.select_option("adam")
    expect(widget.get_by_role("status")).not_to_have_text("Applied to the model")
    expect(widget.locator(".tw-hd-error").first).to_contain_text("are not arguments Adam takes")
    widget.screenshot(path=str(artifacts_dir / "head-designer-recipe-refused.png"))
    nb.wait_for_python("print(controller.config.training.optimizer)", "SGD")
    assert console_log.errors == []


def test_a_dense_layers_kernel_penalties_are_fields(open_nb, artifacts_dir, console_log):
    """L1 / L2 on a dense row: typed in the browser, kept in the config and the built layer."""
    nb = open_nb(
        [
            CELLS[0],
            "from transfer_widgets.config import HeadLayerSpec, HeadSpec\n"
            "controller.apply_head(HeadSpec(layers=[\n"
            "    HeadLayerSpec('global_average_pooling'),\n"
            "    HeadLayerSpec('dense', units=16, activation='relu', kernel_l2=0.0001),\n"
            "], num_classes=3))\n"
            "designer = HeadDesigner(controller)\ndesigner",
        ]
    )
    nb.run_all()
    lst = layers(nb)
    dense = row(lst, "2. Dense")
    expect(dense.get_by_role("textbox", name="L2, 2. Dense")).to_have_value("0.0001")
    l1 = dense.get_by_role("textbox", name="L1, 2. Dense")
    expect(l1).to_have_value("")
    l1.fill("1e-5")
    l1.press("Enter")
    nb.wait_for_python(
        "s = controller.config.head.layers[1]\n"
        "print(s.kernel_l1, s.kernel_l2, type(controller.head.layers[1].kernel_regularizer).__name__)",
        "1e-05 0.0001 L1L2",
    )
    widget = designer(nb)
    widget.scroll_into_view_if_needed()
    widget.screenshot(path=str(artifacts_dir / "head-designer-kernel-penalties.png"))
    assert console_log.errors == []
