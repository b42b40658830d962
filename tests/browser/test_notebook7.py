"""The studio in Notebook 7 (not only JupyterLab): it renders, trains, and Insert cell below
inserts a cell that runs there and rebuilds the same model."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from . import harness
from .test_studio import CELLS, run_cell

pytest.importorskip("notebook", reason="Notebook 7 is not installed")

#: Notebook 7.6.5's own start-up error, from notebook_core's settings loading: it happens on
#: a notebook holding only `1`, with no transfer-widgets output (checked by hand here).
NOTEBOOK7_OWN_ERROR = "[pageerror] Cannot read properties of undefined (reading 'schema')"


@pytest.fixture(scope="module")
def notebook_server(artifacts_dir):
    server = harness.start_lab_server(artifacts_dir / "notebook7-server.log", app="notebook")
    yield server
    server.stop()


def test_studio_trains_and_its_inserted_cell_runs_in_notebook_7(browser, notebook_server, artifacts_dir):
    console = harness.ConsoleLog()
    context = browser.new_context(viewport=harness.VIEWPORT)
    context.set_default_timeout(60_000)
    page = context.new_page()
    console.attach(page)
    try:
        rel = "studio-notebook7.ipynb"
        harness.write_notebook(notebook_server.root_dir / rel, CELLS)
        page.goto(f"{notebook_server.url}/notebooks/{rel}", wait_until="domcontentloaded")
        nb = harness.Notebook(page, notebook_server, rel)
        nb._wait_for(
            "(path) => { const w = window.jupyterapp?.shell?.currentWidget;"
            " return !!(w && w.context && w.context.path === path"
            " && w.content?.model && w.sessionContext); }",
            rel,
            120_000,
            "Notebook 7 to open the notebook",
        )
        nb.wait_idle()
        nb.run_all()
        widget = page.locator(".tw-studio")
        expect(widget).to_be_visible()
        tree = widget.get_by_role("tree", name="Layers of transfer_model")
        expect(tree.get_by_role("checkbox", name="conv", exact=True)).to_be_checked()
        nb.python("ctl.set('training.epochs', 1)")
        widget.get_by_role("button", name="Train head").click()
        nb.wait_for_python("ctl.wait(120); print(ctl.state, len(ctl.history['loss']))", "finished 1", 120_000)
        widget.get_by_role("button", name="Export").click()
        panel = widget.locator(".tw-export-panel")
        panel.get_by_role("button", name="Insert cell below").click()
        panel.get_by_role("button", name="Save them beside the notebook").click()
        nb._wait_for(
            "() => window.jupyterapp.shell.currentWidget.content.model.sharedModel.cells.length === 3",
            None,
            30_000,
            "the inserted cell",
        )
        run_cell(nb, 2)
        check = (
            "print(rebuilt.model.count_params() == ctl.model.count_params(),"
            " [w.trainable for w in rebuilt.model.weights] == [w.trainable for w in ctl.model.weights])"
        )
        assert nb.add_and_run_cell(check) == "True True"
        widget.scroll_into_view_if_needed()
        page.screenshot(path=str(artifacts_dir / "studio-notebook7.png"))
        assert [e for e in console.errors if e != NOTEBOOK7_OWN_ERROR] == []
    except BaseException:
        harness.save_failure_artifacts(page, console, artifacts_dir, "FAILED-notebook7")
        raise
    finally:
        context.close()
        notebook_server.shutdown_kernels()
