"""A tutorial built by scripts/build_docs.py works as a static page, offline.

The page is opened from disk with every request to another host aborted: the widgets
render from saved state with scripts served from beside the page, say they are a
snapshot, and keep their controls off. With JavaScript off, the text/html fallbacks
show instead. Hostile layer names stay text in both.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from .harness import write_notebook

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = '"><img src=x onerror=alert(1)>'  # Keras refuses "/" in names
CELLS = [
    "import os\nos.environ['TF_CPP_MIN_LOG_LEVEL'] = '3'\nimport keras\n"
    "from transfer_widgets import FineTuneController, HeadDesigner, LayerTree, freeze_all\n"
    "base = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3, name='conv_a'),\n"
    f"                        keras.layers.Conv2D(4, 3, name={HOSTILE!r})], name='tiny')",
    "tree = LayerTree(base)\ntree",
    "freeze_all(base)  # after the tree was shown: the saved state must hold it\n"
    "ctl = FineTuneController(base, num_classes=3, head=[{'type': 'global_average_pooling'},\n"
    "                         {'type': 'dense', 'units': 16}])\nHeadDesigner(ctl)",
    "tree",
    "from transfer_widgets import TrainingMonitor, TransferStudio\nTransferStudio(ctl)",
    "TrainingMonitor(ctl)",
]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The notebook above, built into a folder as the docs build builds the tutorials."""
    work = tmp_path_factory.mktemp("docs")
    notebook = write_notebook(work / "hostile.ipynb", CELLS)
    out = work / "site"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_docs.py"), "--out", str(out), str(notebook)],
        check=True,
        timeout=300,
    )
    return out


def open_offline(browser, page_path: Path, *, javascript: bool):
    """The page from disk, with every request to a non-local host aborted and recorded."""
    context = browser.new_context(java_script_enabled=javascript, viewport={"width": 1100, "height": 900})
    page = context.new_page()
    blocked: list[str] = []
    errors: list[str] = []
    dialogs: list[str] = []

    def route(r):
        url = urlparse(r.request.url)
        if url.scheme in ("file", "blob", "data") or url.hostname in ("127.0.0.1", "localhost"):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(page_path.as_uri())
    return context, page, blocked, errors, dialogs


def test_static_page_renders_widgets_offline(browser, site, artifacts_dir):
    context, page, blocked, errors, dialogs = open_offline(browser, site / "hostile.html", javascript=True)
    try:
        trees = page.get_by_role("tree")
        expect(trees).to_have_count(3)  # two trees, and the studio's Layers tab
        shown_after_freeze = trees.nth(1)
        for name in ("conv_a", HOSTILE):
            box = shown_after_freeze.get_by_role("checkbox", name=name, exact=True)
            expect(box).to_be_disabled()  # a snapshot: nothing would answer a click
            expect(box).not_to_be_checked()  # frozen, as the kernel left it
            # `has=` is resolved inside each row: its locator starts from the page
            row = shown_after_freeze.get_by_role("treeitem").filter(
                has=page.get_by_role("checkbox", name=name, exact=True)
            )
            expect(row.locator(".tw-tp")).to_have_text("0")  # its count, from the compact flags too
        expect(trees.nth(0).get_by_text(HOSTILE, exact=True)).to_be_visible()
        head = page.get_by_role("list", name="Head layers").first
        expect(head.get_by_role("listitem")).to_have_count(2)
        expect(head.get_by_role("listitem").nth(1)).to_contain_text("Dense")
        expect(head.get_by_role("button", name=re.compile("^Remove")).first).to_be_disabled()
        expect(page.get_by_text("while the model trains")).to_have_count(0)  # not training: a snapshot
        expect(page.get_by_role("note").first).to_contain_text("Snapshot")
        expect(page.locator(".tw-static-fallback").first).to_be_hidden()  # the view replaced it
        expect(page.locator("img[src='x']")).to_have_count(0)
        page.screenshot(path=str(artifacts_dir / "static-docs-page.png"), full_page=True)
        assert blocked == [] and dialogs == []
        assert errors == []
    finally:
        context.close()


def test_static_page_turns_the_ipywidgets_controls_off(browser, site, artifacts_dir):
    """The studio's toolbar and the monitor's controls are plain ipywidgets: their guard
    says "Snapshot" and keeps them off, also in the studio's tabs rendered later."""
    context, page, blocked, errors, dialogs = open_offline(browser, site / "hostile.html", javascript=True)
    try:
        studio = page.locator(".tw-studio")
        expect(studio.get_by_role("button", name="Train head")).to_be_disabled()
        for name in ("Fine-tune", "Find LR", "Stop", "Export"):
            expect(studio.get_by_role("button", name=name, exact=True).first).to_be_disabled()
        notes = studio.get_by_role("note")
        expect(notes).to_have_count(1)  # once for the studio, not again in each panel
        expect(notes).to_contain_text("Snapshot: saved with this page, no kernel connected")
        studio.get_by_role("tab", name="Training").click()  # tabs are the page's own: they still switch
        expect(studio.get_by_role("button", name="Train", exact=True)).to_be_disabled()
        expect(studio.get_by_role("note")).to_have_count(1)
        page.screenshot(path=str(artifacts_dir / "static-docs-studio.png"), full_page=True)

        monitor = page.locator(".tw-training-monitor:not(.tw-studio .tw-training-monitor)")
        expect(monitor).to_have_count(1)
        expect(monitor.get_by_role("note")).to_contain_text("Snapshot")
        for name in ("Train", "Fine-tune", "Stop", "Pause", "Find LR", "Apply suggested LR"):
            expect(monitor.get_by_role("button", name=name, exact=True)).to_be_disabled()
        monitor.scroll_into_view_if_needed()
        monitor.screenshot(path=str(artifacts_dir / "static-docs-monitor.png"))
        assert blocked == [] and dialogs == []
        assert errors == []
    finally:
        context.close()


def test_static_page_without_javascript_shows_fallbacks(browser, site, artifacts_dir):
    context, page, blocked, _errors, dialogs = open_offline(browser, site / "hostile.html", javascript=False)
    try:
        fallbacks = page.locator(".tw-static-fallback")
        expect(fallbacks.first).to_be_visible()
        expect(fallbacks.first).to_contain_text("conv_a")
        expect(fallbacks.first).to_contain_text(HOSTILE)  # as text
        expect(fallbacks.nth(1)).to_contain_text("head_1_dense")  # the head, as a list with shapes
        expect(fallbacks.nth(2)).to_contain_text("frozen")  # the tree re-shown after freeze_all()
        expect(fallbacks).to_have_count(5)  # and the studio's, and the monitor's
        expect(fallbacks.nth(3)).not_to_contain_text("Snapshot")  # the guards add nothing here
        expect(page.locator("img[src='x']")).to_have_count(0)
        page.screenshot(path=str(artifacts_dir / "static-docs-page-no-js.png"), full_page=True)
        assert blocked == [] and dialogs == []
    finally:
        context.close()
