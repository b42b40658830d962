"""The JupyterLab plugin's entries, used as a person would: the launcher card "Fine-tuning
notebook" and the file browser's "Fine-tune in a new notebook" on a .keras file each create a
notebook that runs top to bottom and shows the studio; a model that needs unsafe
deserialisation gets a clear message instead of a traceback."""

from __future__ import annotations

import keras
from playwright.sync_api import expect

from . import harness


def current_path(page) -> str | None:
    return page.evaluate("() => window.jupyterapp.shell.currentWidget?.context?.path ?? null")


def current_notebook(page, lab_server, before: str | None, timeout_ms: float = 60_000) -> harness.Notebook:
    """The notebook the plugin just opened (not ``before``), once its kernel is idle."""
    nb = harness.Notebook(page, lab_server, "")
    nb._wait_for(
        "(before) => { const w = window.jupyterapp.shell.currentWidget;"
        " return !!(w && w.context && w.context.path !== before && w.content && w.content.model"
        " && w.sessionContext && w.sessionContext.isReady"
        " && w.content.model.sharedModel.cells.length > 1); }",
        before,
        timeout_ms,
        "the new notebook",
    )
    nb.path = page.evaluate("() => window.jupyterapp.shell.currentWidget.context.path")
    nb.wait_idle()
    return nb


def test_launcher_card_creates_a_notebook_that_opens_the_studio(
    open_nb, page, lab_server, artifacts_dir, console_log
):
    open_nb(["1"])  # Lab with a notebook open and the theme set
    page.evaluate("() => window.jupyterapp.commands.execute('launcher:create')")
    card = page.locator(".jp-LauncherCard", has_text="New fine-tuning notebook")
    expect(card).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "plugin-launcher.png"))
    before = current_path(page)
    card.click()
    nb = current_notebook(page, lab_server, before)
    assert nb.path.endswith(".ipynb")
    source = "".join(
        c["source"] if isinstance(c["source"], str) else "".join(c["source"]) for c in nb.cells()
    )
    assert "TransferStudio.from_application" in source and "TF_CPP_MIN_LOG_LEVEL" in source
    nb.run_all()
    expect(page.locator(".tw-studio")).to_be_visible(timeout=60_000)
    outputs = [o for c in nb.cells() for o in c.get("outputs", []) if o.get("output_type") == "stream"]
    assert outputs == []  # no TensorFlow log noise
    assert "New fine-tuning notebook" in page.evaluate(
        "() => window.jupyterapp.commands.label('transfer-widgets:new-notebook')"
    )
    assert console_log.errors == []


def right_click_file(page, name: str):
    page.evaluate("() => window.jupyterapp.commands.execute('filebrowser:refresh')")
    item = page.locator(".jp-DirListing-item", has_text=name)
    expect(item).to_be_visible()
    item.click(button="right")
    return page.locator(".lm-Menu-item", has_text="Fine-tune in a new notebook")


def test_file_browser_fine_tunes_a_keras_file_and_refuses_unsafe_code_clearly(
    open_nb, page, lab_server, artifacts_dir, console_log
):
    root = lab_server.root_dir
    keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3, name="conv")], name="mine").save(
        root / "my model.keras"
    )
    keras.Sequential(
        [keras.Input((8, 8, 3)), keras.layers.Lambda(lambda t: t * 2), keras.layers.Conv2D(4, 3)], name="lam"
    ).save(root / "lambda.keras")
    (root / "notes.txt").write_text("not a model")
    open_nb(["1"])

    page.evaluate("() => window.jupyterapp.shell.expandLeft()")
    expect(right_click_file(page, "notes.txt")).to_be_hidden()  # only on .keras / .h5
    page.keyboard.press("Escape")

    entry = right_click_file(page, "my model.keras")
    expect(entry).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "plugin-file-menu.png"))
    before = current_path(page)
    entry.click()
    nb = current_notebook(page, lab_server, before)
    source = "".join("".join(c["source"]) for c in nb.cells())
    assert 'path = "my model.keras"' in source and "safe_mode=True" in source
    nb.run_all()
    expect(page.locator(".tw-studio")).to_be_visible(timeout=60_000)
    expect(page.locator(".tw-studio .tw-studio-summary")).to_contain_text("mine + head")

    before = current_path(page)
    right_click_file(page, "lambda.keras").click()
    nb = current_notebook(page, lab_server, before)
    nb.run_all()  # raises on any cell error: there is none
    text = "\n".join(nb.cell_text(i) for i in range(len(nb.cells())))
    assert "holds code (a Lambda layer or a custom object)" in text and "safe_mode=False" in text
    assert "Traceback" not in text
    assert console_log.errors == []
