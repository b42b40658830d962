"""Real-browser harness: a JupyterLab server, headless Chromium, and notebook helpers.

The fixtures in ``conftest.py`` are thin wrappers over what lives here, so the same
pieces can be used from a script when debugging (see ``python -m tests.browser.harness``).

Everything waits for a condition with a timeout and a message that says what it was
waiting for; nothing sleeps for a fixed time.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS_DIR = REPO_ROOT / "test-artifacts" / "browser"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
VIEWPORT = {"width": 1400, "height": 1000}

# The machine is shared and slow: kernel start plus first render can take 10-30 s.
SERVER_START_TIMEOUT_S = 90
KERNEL_IDLE_TIMEOUT_MS = 90_000
RUN_TIMEOUT_MS = 120_000
THEMES = {"light": "JupyterLab Light", "dark": "JupyterLab Dark"}

# User settings written before the server starts: no news / update toast over the
# page, and every cell attached to the DOM (no windowing), so locators are stable.
LAB_USER_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until(predicate, timeout_s: float, what: str, interval_s: float = 0.25):
    """Poll ``predicate`` until it returns a truthy value; raise TimeoutError naming ``what``."""
    deadline = time.monotonic() + timeout_s
    last_exc: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # noqa: BLE001 - reported if we time out
            last_exc = exc
        time.sleep(interval_s)
    raise TimeoutError(
        f"timed out after {timeout_s:.0f} s waiting for {what}"
        + (f" (last error: {last_exc!r})" if last_exc else "")
    )


# --------------------------------------------------------------------------- server


@dataclass
class LabServer:
    """A running ``jupyter lab``: ``url`` (no trailing slash), ``root_dir`` for notebooks."""

    url: str
    root_dir: Path
    log_path: Path
    process: subprocess.Popen
    _tmp: Path = field(repr=False, default=None)  # type: ignore[assignment]

    def api(self, method: str, path: str, timeout_s: float = 30) -> Any:
        """Call the server's REST API (``path`` like ``/api/kernels``); JSON result or None."""
        req = urllib.request.Request(self.url + path, method=method)
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self, timeout_s: float = 60) -> None:
        """Delete every session and kernel, and wait until none is left (frees memory)."""
        for session in self.api("GET", "/api/sessions"):
            with contextlib.suppress(urllib.error.HTTPError):
                self.api("DELETE", f"/api/sessions/{session['id']}")
        for kernel in self.api("GET", "/api/kernels"):
            with contextlib.suppress(urllib.error.HTTPError):
                self.api("DELETE", f"/api/kernels/{kernel['id']}")
        _wait_until(lambda: self.api("GET", "/api/kernels") == [], timeout_s, "all kernels to shut down")

    def stop(self, timeout_s: float = 20) -> None:
        """Terminate the server (then kill it if it lingers) and remove its temp dirs."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout_s)
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)


#: The server application class of each front end the tests drive.
APP_CLASSES = {"lab": "LabApp", "notebook": "JupyterNotebookApp"}


def start_lab_server(
    log_path: Path, timeout_s: float = SERVER_START_TIMEOUT_S, app: str = "lab"
) -> LabServer:
    """Start ``jupyter lab`` (or ``app="notebook"``: Notebook 7) on a free port with a temp root
    dir and isolated user dirs.

    The server's output goes to ``log_path``. Returns once ``/api/status`` answers.
    """
    tmp = Path(tempfile.mkdtemp(prefix="tw-browser-"))
    root_dir = tmp / "root"
    settings_dir = tmp / "lab-settings"
    for d in (root_dir, settings_dir, tmp / "workspaces", tmp / "config", tmp / "runtime", tmp / "ipython"):
        d.mkdir(parents=True)
    for rel, value in LAB_USER_SETTINGS.items():
        p = settings_dir / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(value))

    # This checkout's own built plugin, found before any installed copy (the first
    # `labextensions/<name>` on the data path wins): a worktree's tests run its own build.
    labextensions = tmp / "data" / "labextensions"
    labextensions.mkdir(parents=True)
    (labextensions / "transfer-widgets").symlink_to(REPO_ROOT / "transfer_widgets" / "labextension")

    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "jupyter",
        app,
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.token=",
        "--ServerApp.password=",
        "--ServerApp.disable_check_xsrf=True",
        f"--{APP_CLASSES[app]}.expose_app_in_browser=True",
        *(
            ["--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
            if app == "lab"
            else []
        ),
        f"--{APP_CLASSES[app]}.user_settings_dir={settings_dir}",
        f"--{APP_CLASSES[app]}.workspaces_dir={tmp / 'workspaces'}",
        "--allow-root",
        f"--ServerApp.root_dir={root_dir}",
    ]
    env = dict(os.environ)
    env.update(
        JUPYTER_CONFIG_DIR=str(tmp / "config"),  # ignore the user's ~/.jupyter
        JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
        JUPYTER_PATH=os.pathsep.join(p for p in (str(tmp / "data"), env.get("JUPYTER_PATH")) if p),
        IPYTHONDIR=str(tmp / "ipython"),
        TF_CPP_MIN_LOG_LEVEL=env.get("TF_CPP_MIN_LOG_LEVEL", "3"),
        KERAS_BACKEND=env.get("KERAS_BACKEND", "tensorflow"),
        PYTHONUNBUFFERED="1",
    )
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:  # closed once started: the child holds its own handle
        proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root_dir, start_new_session=True
        )
    server = LabServer(
        url=f"http://127.0.0.1:{port}", root_dir=root_dir, log_path=log_path, process=proc, _tmp=tmp
    )

    def ready():
        if proc.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with {proc.returncode}; see {log_path}")
        try:
            return server.api("GET", "/api/status", timeout_s=5) is not None
        except (urllib.error.URLError, ConnectionError, OSError):
            return False

    try:
        _wait_until(ready, timeout_s, f"jupyter lab to answer /api/status (log: {log_path})", interval_s=0.5)
    except BaseException:
        server.stop()
        raise
    return server


# --------------------------------------------------------------------------- browser


def launch_browser(playwright, headless: bool = True):
    """Launch the system Chromium with the flags that work on these machines."""
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=headless, args=CHROMIUM_ARGS)


@dataclass
class ConsoleLog:
    """Browser console messages and uncaught page errors seen by one page."""

    messages: list[str] = field(default_factory=list)  # every message, "[type] text"
    errors: list[str] = field(default_factory=list)  # console errors + page errors

    def attach(self, page) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", self._on_pageerror)

    def _on_console(self, msg) -> None:
        loc = msg.location or {}
        where = f" ({loc.get('url', '')}:{loc.get('lineNumber', '')})" if loc.get("url") else ""
        line = f"[{msg.type}] {msg.text}{where}"
        self.messages.append(line)
        if msg.type == "error":
            self.errors.append(line)

    def _on_pageerror(self, exc) -> None:
        line = f"[pageerror] {exc}"
        self.messages.append(line)
        self.errors.append(line)

    def text(self) -> str:
        return "\n".join(self.messages)


# --------------------------------------------------------------------------- notebook

_JS_KERNEL_STATUS = """() => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  return k ? k.status : null;
}"""


class NotebookCellError(AssertionError):
    """A cell run by the harness produced an error output."""


class Notebook:
    """An open notebook in JupyterLab, driven through ``window.jupyterapp``."""

    def __init__(self, page, server: LabServer, path: str):
        self.page = page
        self.server = server
        self.path = path  # relative to server.root_dir

    # -- waiting

    def kernel_status(self) -> str | None:
        return self.page.evaluate(_JS_KERNEL_STATUS)

    def wait_idle(self, timeout_ms: float = KERNEL_IDLE_TIMEOUT_MS) -> None:
        """Wait until the notebook's kernel reports ``idle``."""
        self._wait_for(
            """() => {
              const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
              const k = w && w.sessionContext && w.sessionContext.session
                        && w.sessionContext.session.kernel;
              return !!k && k.status === 'idle';
            }""",
            None,
            timeout_ms,
            "the kernel to be idle",
        )

    def _wait_for(self, js: str, arg: Any, timeout_ms: float, what: str) -> None:
        try:
            self.page.wait_for_function(js, arg=arg, timeout=timeout_ms, polling=100)
        except Exception as exc:  # playwright TimeoutError
            status = None
            # Any failure to read the status just leaves it out of the message.
            with contextlib.suppress(Exception):
                status = self.kernel_status()
            raise TimeoutError(
                f"timed out after {timeout_ms / 1000:.0f} s waiting for {what} "
                f"in {self.path} (kernel status: {status})"
            ) from exc

    # -- model access

    def cells(self) -> list[dict]:
        """The notebook's cells as JSON (source, outputs, execution_count...)."""
        return self.page.evaluate(
            "() => window.jupyterapp.shell.currentWidget.content.model.sharedModel.toJSON().cells"
        )

    def cell_text(self, index: int) -> str:
        """Text of a cell's stream / text-plain / error outputs, joined, outer whitespace stripped."""
        return _outputs_text(self.cells()[index].get("outputs", []))

    def cell_output(self, index: int):
        """Locator for the output area of cell ``index`` (0-based, all cell types count)."""
        return self.page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".jp-OutputArea")

    def _await_js(self, js: str, arg: Any, timeout_ms: float, what: str) -> Any:
        """Start the async JS function ``js(arg)`` and wait (bounded) for its result.

        ``page.evaluate`` alone would wait forever on a promise that never settles.
        """
        token = self.page.evaluate(
            """(arg) => {
              const fn = JS_FUNCTION;
              window.__tw = window.__tw || {n: 0, jobs: {}};
              const id = ++window.__tw.n;
              window.__tw.jobs[id] = {done: false};
              Promise.resolve().then(() => fn(arg)).then(
                r => { window.__tw.jobs[id] = {done: true, result: r}; },
                e => { window.__tw.jobs[id] = {done: true, error: String(e && e.stack || e)}; });
              return id;
            }""".replace("JS_FUNCTION", js),
            arg,
        )
        self._wait_for("(id) => window.__tw.jobs[id].done", token, timeout_ms, what)
        job = self.page.evaluate(
            "(id) => { const j = window.__tw.jobs[id]; delete window.__tw.jobs[id]; return j; }", token
        )
        if "error" in job:
            raise RuntimeError(f"{what} failed: {job['error']}")
        return job.get("result")

    def _run_command(self, command: str, timeout_ms: float) -> Any:
        """Execute a Lab command, waiting for its promise (run commands resolve when cells finish)."""
        return self._await_js(
            "(c) => window.jupyterapp.commands.execute(c)", command, timeout_ms, f"command {command!r}"
        )

    def python(self, code: str, timeout_ms: float = RUN_TIMEOUT_MS) -> str:
        """Run ``code`` in the notebook's kernel without adding a cell; return its text output.

        For checking Python state after interacting with a widget. Raises
        NotebookCellError if the code raises.
        """
        result = self._await_js(
            """async (code) => {
              const k = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
              const future = k.requestExecute({code, store_history: false, allow_stdin: false});
              let out = '', err = null;
              future.onIOPub = (msg) => {
                const t = msg.header.msg_type, c = msg.content;
                if (t === 'stream') out += c.text;
                else if (t === 'execute_result') out += (c.data['text/plain'] || '') + '\\n';
                else if (t === 'error') err = c.ename + ': ' + c.evalue + '\\n' + c.traceback.join('\\n');
              };
              await future.done;
              return {out, err};
            }""",
            code,
            timeout_ms,
            "kernel execution",
        )
        if result["err"]:
            raise NotebookCellError(f"{code!r} raised {_strip_ansi(result['err'])}")
        return result["out"].strip()

    def wait_for_python(self, code: str, expected: str, timeout_ms: float = 30_000) -> None:
        """Re-run ``code`` (see ``python``) until its stripped output equals ``expected``.

        Widget state reaches the kernel asynchronously after a click or key press; this
        waits for it instead of sleeping.
        """
        deadline = time.monotonic() + timeout_ms / 1000
        last = None
        while True:
            last = self.python(code, timeout_ms=timeout_ms)
            if last == expected:
                return
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"after {timeout_ms / 1000:.0f} s, {code!r} printed {last!r}, expected {expected!r}"
                )
            self.page.wait_for_timeout(200)

    def _raise_cell_errors(self, indices=None) -> None:
        cells = self.cells()
        for i, cell in enumerate(cells):
            if indices is not None and i not in indices:
                continue
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error":
                    tb = _strip_ansi("\n".join(out.get("traceback", [])))
                    raise NotebookCellError(
                        f"cell {i} raised {out.get('ename')}: {out.get('evalue')}\n"
                        f"--- source ---\n{_source(cell)}\n--- traceback ---\n{tb}"
                    )

    # -- running

    def run_all(self, timeout_ms: float = RUN_TIMEOUT_MS) -> None:
        """Run all cells; wait for the kernel to be idle and every code cell to have a count.

        Raises NotebookCellError naming the cell if a cell produced an error.
        """
        self._run_command("notebook:run-all-cells", timeout_ms)
        self._raise_cell_errors()
        self._wait_for(
            """() => window.jupyterapp.shell.currentWidget.content.model.sharedModel
                       .toJSON().cells.filter(c => c.cell_type === 'code')
                       .every(c => c.execution_count !== null && c.execution_count !== undefined)""",
            None,
            timeout_ms,
            "every code cell to have an execution count",
        )
        self.wait_idle(timeout_ms)

    def add_and_run_cell(
        self, code: str, timeout_ms: float = RUN_TIMEOUT_MS, allow_error: bool = False
    ) -> str:
        """Append a code cell, run it, wait for idle; return its text output (stripped).

        Text output means stream output, ``text/plain`` results and error tracebacks.
        Raises NotebookCellError if the cell errors, unless ``allow_error``.
        """
        index = self.page.evaluate(
            """(code) => {
              const nb = window.jupyterapp.shell.currentWidget.content;
              const n = nb.model.sharedModel.cells.length;
              nb.model.sharedModel.insertCell(n, {cell_type: 'code', source: code});
              nb.activeCellIndex = n;
              nb.deselectAll();
              return n;
            }""",
            code,
        )
        self._wait_for(
            "(i) => window.jupyterapp.shell.currentWidget.content.activeCellIndex === i",
            index,
            10_000,
            f"new cell {index} to become active",
        )
        self._run_command("notebook:run-cell", timeout_ms)
        self._wait_for(
            """(i) => { const c = window.jupyterapp.shell.currentWidget.content.model.sharedModel
                                     .toJSON().cells[i];
                        return c.execution_count !== null && c.execution_count !== undefined; }""",
            index,
            timeout_ms,
            f"cell {index} to have an execution count",
        )
        self.wait_idle(timeout_ms)
        if not allow_error:
            self._raise_cell_errors([index])
        return self.cell_text(index)

    def set_theme(self, theme: str, timeout_ms: float = 30_000) -> None:
        """Switch to ``"light"`` or ``"dark"`` and wait until the body says so."""
        if theme not in THEMES:
            raise ValueError(f"theme must be one of {sorted(THEMES)}, not {theme!r}")
        light = "true" if theme == "light" else "false"
        selector = f'body[data-jp-theme-light="{light}"][data-jp-theme-name="{THEMES[theme]}"]'
        if self.page.locator(selector).count():
            return
        self.page.evaluate(
            "(t) => window.jupyterapp.commands.execute('apputils:change-theme', {theme: t})", THEMES[theme]
        )
        try:
            self.page.wait_for_selector(selector, state="attached", timeout=timeout_ms)
        except Exception as exc:
            raise TimeoutError(f"timed out waiting for theme {THEMES[theme]!r}") from exc


def write_notebook(path: Path, cells: list[str]) -> Path:
    """Write an nbformat v4 notebook with these code cells and the python3 kernel."""
    nb = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"},
            "language_info": {"name": "python"},
        },
        "cells": [
            {
                "cell_type": "code",
                "id": f"cell-{i}",
                "metadata": {},
                "execution_count": None,
                "outputs": [],
                "source": src,
            }
            for i, src in enumerate(cells)
        ],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, indent=1))
    return path


def open_notebook(
    page,
    lab_server: LabServer,
    cells: list[str],
    name: str,
    theme: str = "light",
    timeout_ms: float = KERNEL_IDLE_TIMEOUT_MS,
) -> Notebook:
    """Write ``<name>.ipynb`` with ``cells``, open it in Lab, set the theme, wait for an idle kernel.

    Cells are not run: call ``run_all()`` on the result.
    """
    if theme not in THEMES:
        raise ValueError(f"theme must be one of {sorted(THEMES)}, not {theme!r}")
    rel = f"{name}.ipynb"
    write_notebook(lab_server.root_dir / rel, cells)
    nb = Notebook(page, lab_server, rel)
    page.goto(f"{lab_server.url}/lab/tree/{rel}?reset", wait_until="domcontentloaded")
    nb._wait_for(
        """(path) => {
          const app = window.jupyterapp;
          const w = app && app.shell && app.shell.currentWidget;
          return !!(w && w.context && w.context.path === path && w.content
                    && w.content.model && w.sessionContext);
        }""",
        rel,
        timeout_ms,
        f"JupyterLab to open {rel}",
    )
    # Always set the theme: it is a user setting and persists for the whole server.
    nb.set_theme(theme)
    nb.wait_idle(timeout_ms)
    return nb


def save_failure_artifacts(page, console: ConsoleLog, directory: Path, name: str) -> list[Path]:
    """Save ``<name>.png`` and ``<name>.console.log`` into ``directory``; return the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    saved = []
    shot = directory / f"{name}.png"
    try:
        page.screenshot(path=str(shot), full_page=True, timeout=15_000)
        saved.append(shot)
    except Exception:  # noqa: BLE001 - the page may be gone
        pass
    log = directory / f"{name}.console.log"
    log.write_text(console.text() + "\n")
    saved.append(log)
    return saved


def safe_name(text: str) -> str:
    """A file-name-safe version of a test id."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")[:120]


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _outputs_text(outputs: list[dict]) -> str:
    parts = []
    for out in outputs:
        kind = out.get("output_type")
        if kind == "stream":
            text = out.get("text", "")
            parts.append("".join(text) if isinstance(text, list) else text)
        elif kind in ("execute_result", "display_data"):
            text = out.get("data", {}).get("text/plain")
            if text is not None and kind == "execute_result":
                parts.append(("".join(text) if isinstance(text, list) else text) + "\n")
        elif kind == "error":
            parts.append(_strip_ansi("\n".join(out.get("traceback", []))) + "\n")
    return "".join(parts).strip()


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


if __name__ == "__main__":  # manual debugging: start a server and print its URL
    srv = start_lab_server(ARTIFACTS_DIR / "jupyter-server-manual.log")
    print(srv.url, srv.root_dir, flush=True)
    try:
        srv.process.wait()
    except KeyboardInterrupt:
        srv.stop()
