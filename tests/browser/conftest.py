"""Fixtures for the real-browser tier: JupyterLab + headless Chromium (see harness.py).

Every test in this directory is marked ``browser``; deselect the tier with ``-m "not browser"``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from . import harness

_HERE = Path(__file__).resolve().parent

# Without Playwright or the system Chromium the tier cannot run: say so in the header
# and do not collect it (the test modules import playwright at module level).
try:
    import playwright.sync_api  # noqa: F401

    _MISSING = None if Path(harness.CHROMIUM).exists() else f"{harness.CHROMIUM} not found"
except ImportError:
    _MISSING = "playwright is not importable"
if _MISSING and os.environ.get("CI") == "true":
    # In CI the set-up installs both; a missing one must fail the run, not skip the tier.
    raise RuntimeError(f"browser tests cannot run in CI: {_MISSING}")
if _MISSING:
    collect_ignore_glob = ["test_*.py"]


def pytest_report_header(config):
    if _MISSING:
        return f"browser tier NOT collected: {_MISSING}"
    return None


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "browser: real JupyterLab + headless Chromium tests (slow; tests/browser)"
    )


def pytest_collection_modifyitems(config, items):
    for item in items:
        if _HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the item so fixtures can see whether the test failed.
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """``<repo>/test-artifacts/browser/`` (created); save screenshots here by name."""
    harness.ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    return harness.ARTIFACTS_DIR


@pytest.fixture(scope="session")
def lab_server(artifacts_dir):
    """A running JupyterLab server (``.url``, ``.root_dir``), shared by the session."""
    server = harness.start_lab_server(artifacts_dir / "jupyter-server.log")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser():
    """Headless system Chromium, shared by the session."""
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=30_000)  # slow shared machine: renders can take seconds
    with sync_playwright() as pw:
        b = harness.launch_browser(pw)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def console_log() -> harness.ConsoleLog:
    """Console messages (``.messages``) and console + page errors (``.errors``) of ``page``."""
    return harness.ConsoleLog()


@pytest.fixture
def page(request, browser, lab_server, console_log, artifacts_dir):
    """A fresh browser context and page; on failure saves a screenshot + console log.

    After the test every kernel on the server is shut down, so tests do not pile up
    kernels (each one holds TensorFlow in memory).
    """
    context = browser.new_context(viewport=harness.VIEWPORT)
    context.set_default_timeout(60_000)
    pg = context.new_page()
    console_log.attach(pg)
    try:
        yield pg
    finally:
        rep = getattr(request.node, "rep_call", None)
        if rep is not None and rep.failed:
            harness.save_failure_artifacts(
                pg, console_log, artifacts_dir, "FAILED-" + harness.safe_name(request.node.nodeid)
            )
        context.close()
        lab_server.shutdown_kernels()


@pytest.fixture
def open_nb(request, page, lab_server):
    """``open_nb(cells, name=None, theme="light") -> harness.Notebook`` on this test's page.

    ``name`` defaults to the test's name, so notebooks of different tests never clash.
    """

    def _open(cells: list[str], name: str | None = None, theme: str = "light") -> harness.Notebook:
        return harness.open_notebook(
            page, lab_server, cells, name or harness.safe_name(request.node.name), theme=theme
        )

    return _open
