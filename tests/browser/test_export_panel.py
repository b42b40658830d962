"""The export panel in real JupyterLab: "Insert cell below" puts the experiment's cell export
directly below the widget's cell (not below whichever cell is active), the kinds switch, the
preview shows hostile layer names as text, and a saved config loads back or is refused inline."""

from __future__ import annotations

import json

from playwright.sync_api import expect

HOSTILE = '"><img src=x onerror=alert(1)>'  # Keras refuses "/" in names, so no </pre>

SETUP = (
    "import json, keras\n"
    "from transfer_widgets import ExportPanel, FineTuneController, TransferConfig, datasets, freeze_up_to\n"
    "x, y = datasets.load_digits()\n"
    "base = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3, name='conv'),\n"
    f"                        keras.layers.Conv2D(8, 3, name={HOSTILE!r})], name='tiny')\n"
    f"freeze_up_to(base, {HOSTILE!r})  # the layer name ends up in the exported freeze plan\n"
    "c = TransferConfig()\n"
    "c.preprocessing.mode = 'rescale'\n"
    "controller = FineTuneController(base, num_classes=10, train_data=(x, y), config=c)\n"
    "def exported(kind):\n"
    "    print(json.dumps(controller.export_code(kind)))"
)
CELLS = [
    SETUP,
    "panel = ExportPanel(controller)\npanel",
    "print('a later cell')",
]


def cell_sources(nb) -> list[str]:
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in nb.cells()]


def exported(nb, kind: str) -> str:
    return json.loads(nb.python(f"exported({kind!r})"))


def active_index(nb) -> int:
    return nb.page.evaluate("() => window.jupyterapp.shell.currentWidget.content.activeCellIndex")


def activate_cell(nb, index: int) -> None:
    """Click into a cell's editor, as a person does to make it the active cell."""
    nb.page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".jp-InputArea-editor").click()
    nb._wait_for(
        "(i) => window.jupyterapp.shell.currentWidget.content.activeCellIndex === i",
        index,
        10_000,
        f"cell {index} to become active",
    )


def panel_of(nb):
    panel = nb.cell_output(1).locator(".tw-export-panel")
    expect(panel).to_be_visible()
    return panel


def test_insert_cell_below_the_widgets_cell(open_nb, artifacts_dir, console_log):
    nb = open_nb(CELLS)
    nb.run_all()
    panel = panel_of(nb)
    assert nb.page.evaluate("() => typeof window.transferWidgets?.insertCellBelow") == "function"
    # In a notebook kernel the cell rebuilds the experiment from the notebook's own objects.
    cell_code = json.loads(nb.python("print(json.dumps(panel.cell))"))
    assert "base_model=base," in cell_code and "train_data=(x, y)," in cell_code

    # The preview shows the script; the hostile layer name is text, not markup.
    preview = panel.get_by_role("region", name="Exported code")
    script = exported(nb, "script")
    assert HOSTILE in script
    expect(panel.locator(".tw-ex-caption")).to_have_text(f"train.py · {len(script.splitlines())} lines")
    assert preview.text_content() == script
    expect(nb.page.locator(".jp-Notebook img")).to_have_count(0)

    # Another cell is active; a person clicks Insert cell below in the widget.
    activate_cell(nb, 2)
    panel.get_by_role("button", name="Insert cell below").click()
    nb._wait_for(
        "() => window.jupyterapp.shell.currentWidget.content.model.sharedModel.cells.length === 4",
        None,
        10_000,
        "a fourth cell",
    )
    cells = nb.cells()
    assert [c["cell_type"] for c in cells] == ["code"] * 4
    sources = cell_sources(nb)
    assert sources[2] == cell_code  # directly below the widget's cell, exactly the cell export
    assert sources[3] == CELLS[2]
    assert active_index(nb) == 2
    expect(panel.get_by_role("status")).to_have_text(
        "Inserted the experiment as a code cell below this widget's cell."
    )

    # Lab activates a cell on any mouse-down or focus inside it, so the click above also
    # made the widget's cell active. What the plugin must get right is the event's origin:
    # with cell 3 active and the insert event coming from the widget (a click with no
    # mouse-down or focus), the new cell still lands below the widget's cell.
    activate_cell(nb, 3)
    panel.get_by_role("button", name="Insert cell below").dispatch_event("click")
    nb._wait_for(
        "() => window.jupyterapp.shell.currentWidget.content.model.sharedModel.cells.length === 5",
        None,
        10_000,
        "a fifth cell",
    )
    sources = cell_sources(nb)
    assert sources[2] == cell_code and sources[3] == cell_code and sources[4] == CELLS[2]

    # From outside any cell (the palette, a script on the page): below the active cell.
    activate_cell(nb, 4)
    assert nb.page.evaluate("() => window.transferWidgets.insertCellBelow('# from outside')") is True
    assert cell_sources(nb)[5] == "# from outside"

    nb.page.locator(".jp-Notebook .jp-Cell").nth(1).scroll_into_view_if_needed()
    nb.page.screenshot(path=str(artifacts_dir / "export-panel-insert.png"))

    # A view rendered where the plugin is missing (Colab, VS Code): the button is disabled
    # and says why; Copy and Download still work.
    nb.page.evaluate("() => { window.__twPlugin = window.transferWidgets; delete window.transferWidgets; }")
    nb.add_and_run_cell("panel")
    other = nb.page.locator(".tw-export-panel").nth(1)
    expect(other.get_by_role("button", name="Insert cell below")).to_be_disabled()
    expect(other.locator(".tw-ex-reasons")).to_have_text(
        "Insert cell below needs JupyterLab with the transfer-widgets extension, which this page does not "
        "have: use Copy or Download."
    )
    expect(other.get_by_role("button", name="Copy")).to_be_enabled()
    other.scroll_into_view_if_needed()
    nb.page.screenshot(path=str(artifacts_dir / "export-panel-no-plugin.png"))
    nb.page.evaluate("() => { window.transferWidgets = window.__twPlugin; }")
    assert console_log.errors == []


def test_kinds_copy_fallback_and_load_config(open_nb, artifacts_dir, tmp_path, console_log):
    nb = open_nb([*CELLS[:2], "from transfer_widgets import LayerTree\nLayerTree(controller)"], theme="dark")
    nb.run_all()
    panel = panel_of(nb)
    base_row = (
        nb.page.get_by_role("tree", name="Layers of transfer_model")
        .get_by_role("treeitem")
        .filter(has=nb.page.get_by_role("checkbox", name="tiny", exact=True))
    )
    expect(base_row).to_have_attribute("aria-checked", "mixed")  # frozen up to the hostile layer
    preview = panel.get_by_role("region", name="Exported code")

    for label, kind, file in [
        ("JSON config", "json", "transfer_config.json"),
        ("Notebook", "notebook", "transfer.ipynb"),
        ("Notebook cell", "cell", "transfer_cell.py"),
        ("Script", "script", "train.py"),
    ]:
        panel.get_by_role("radio", name=label, exact=True).check()
        # The notebook cell, in a notebook kernel: the one Insert cell below inserts.
        expected = json.loads(nb.python("print(json.dumps(panel.cell))")) if kind == "cell" else None
        expected = expected or exported(nb, kind)
        expect(panel.locator(".tw-ex-caption")).to_have_text(f"{file} · {len(expected.splitlines())} lines")
        assert preview.text_content() == expected
    nb.wait_for_python("print(panel.kind)", "script")

    # Download saves the shown code under its file name.
    panel.get_by_role("radio", name="JSON config").check()
    expect(panel.locator(".tw-ex-caption")).to_contain_text("transfer_config.json")
    with nb.page.expect_download() as download:
        panel.get_by_role("button", name="Download").click()
    saved = tmp_path / "downloaded.json"
    download.value.save_as(saved)
    assert download.value.suggested_filename == "transfer_config.json"
    assert saved.read_text() == exported(nb, "json")

    # Copy: to the clipboard; where the host refuses it (an iframe without the permission,
    # plain http), the reason shows and the code is left selected for Ctrl+C.
    nb.page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    panel.get_by_role("button", name="Copy").click()
    expect(panel.get_by_role("status")).to_have_text(
        f"Copied the JSON config ({len(exported(nb, 'json').splitlines())} lines) to the clipboard."
    )
    assert nb.page.evaluate("() => navigator.clipboard.readText()") == exported(nb, "json")
    nb.page.evaluate(
        "() => { navigator.clipboard.writeText = () =>"
        " Promise.reject(new DOMException('Write permission denied.', 'NotAllowedError')); }"
    )
    panel.get_by_role("button", name="Copy").click()
    alert = panel.get_by_role("alert")
    expect(alert).to_have_text(
        "Could not copy (Write permission denied.). The code is selected below: "
        "press Ctrl+C (⌘C on a Mac), or use Download."
    )
    assert nb.page.evaluate("() => window.getSelection().toString()") == exported(nb, "json")
    nb.page.evaluate("() => { delete navigator.clipboard.writeText; }")

    # A config with a bad field: refused inline, naming the field; nothing changes.
    good = json.loads(exported(nb, "json"))
    before = preview.text_content()
    bad = json.loads(json.dumps(good))
    bad["head"]["task"] = "nope"
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    with nb.page.expect_file_chooser() as chooser:
        panel.get_by_role("button", name="Load config…").click()
    chooser.value.set_files(str(tmp_path / "bad.json"))
    expect(alert).to_contain_text("bad.json: ")
    expect(alert).to_contain_text("head.task")
    assert preview.text_content() == before
    assert json.loads(exported(nb, "json")) == good
    nb.page.screenshot(path=str(artifacts_dir / "export-panel-load-error-dark.png"))

    # A good one: loaded; the preview and the layer tree bound to the controller follow.
    good["training"]["learning_rate"] = 0.0042
    good["freeze"] = {"kind": "all_frozen", "boundary": None, "keep_bn_frozen": True, "trainable": []}
    (tmp_path / "good.json").write_text(json.dumps(good))
    with nb.page.expect_file_chooser() as chooser:
        panel.get_by_role("button", name="Load config…").click()
    chooser.value.set_files(str(tmp_path / "good.json"))
    expect(panel.get_by_role("status")).to_have_text("Loaded good.json into the controller.")
    expect(alert).to_be_hidden()
    nb.wait_for_python("print(controller.config.training.learning_rate)", "0.0042")
    expect(preview).to_contain_text("0.0042")
    expect(base_row).to_have_attribute("aria-checked", "false")
    nb.page.screenshot(path=str(artifacts_dir / "export-panel-dark.png"))
    assert console_log.errors == []
