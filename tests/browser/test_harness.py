"""Smoke tests of the browser harness itself: Lab opens, cells run, widgets render and click."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect


def test_run_all_and_add_cell(open_nb, artifacts_dir, console_log):
    nb = open_nb(["import sys; x = 41", "print(x + 1)"])
    nb.run_all()

    # Found like a person: the text "42" in the second cell's output.
    expect(nb.cell_output(1).get_by_text("42", exact=True)).to_be_visible()
    assert nb.cell_text(1) == "42"

    assert nb.add_and_run_cell("print(x * 2)") == "82"
    expect(nb.cell_output(2).get_by_text("82", exact=True)).to_be_visible()
    nb.page.screenshot(path=str(artifacts_dir / "harness-light.png"))
    assert console_log.errors == []


def test_cell_error_is_reported(open_nb):
    nb = open_nb(["y = 1"])
    nb.run_all()
    out = nb.add_and_run_cell("1 / 0", allow_error=True)
    assert "ZeroDivisionError" in out
    with pytest.raises(AssertionError) as failed:  # harness.NotebookCellError
        nb.add_and_run_cell("undefined_name")
    assert "NameError" in str(failed.value) and "undefined_name" in str(failed.value)


def test_widgets_render_and_respond(open_nb, artifacts_dir, console_log):
    nb = open_nb(
        [
            "import ipywidgets\nspeed = ipywidgets.IntSlider(value=7, description='Speed')\nspeed",
            "clicks = []\n"
            "go = ipywidgets.Button(description='Go')\n"
            "go.on_click(lambda b: clicks.append(1))\n"
            "go",
        ],
        theme="dark",
    )
    nb.run_all()

    # ipywidgets 8 gives the slider handle role="slider" but no accessible name (its
    # "Speed" label is a sibling, not a <label for>), so find it by role inside the
    # output that shows the label.
    out = nb.cell_output(0)
    expect(out.get_by_text("Speed", exact=True)).to_be_visible()
    slider = out.get_by_role("slider")
    expect(slider).to_have_attribute("aria-valuenow", "7.0")
    slider.focus()
    nb.page.keyboard.press("ArrowRight")
    expect(slider).to_have_attribute("aria-valuenow", "8.0")
    # The new value reaches the kernel asynchronously: wait for it, then check in a cell.
    nb.wait_for_python("print(speed.value)", "8")
    assert nb.add_and_run_cell("print(speed.value)") == "8"

    go = nb.page.get_by_role("button", name="Go")
    expect(go).to_be_visible()
    go.click()
    go.click()
    nb.wait_for_python("print(len(clicks))", "2")
    assert nb.add_and_run_cell("print(len(clicks))") == "2"

    nb.page.screenshot(path=str(artifacts_dir / "harness-dark.png"))
    assert console_log.errors == []
