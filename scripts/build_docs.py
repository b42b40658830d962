"""Build the tutorials as self-hosted HTML pages whose widgets work offline.

Each notebook is executed with its widget state saved (nbclient), converted to
HTML (nbconvert, with ``scripts/docs_template``: every widget keeps its text/html
fallback beside the view, for readers without JavaScript), and every script the
pages load is copied beside them from locally installed packages, so a page needs
no CDN and works behind a strict network policy:

- ``require.js`` (npm ``requirejs``) and ``embed-amd.js`` (npm
  ``@jupyter-widgets/html-manager``), both dev dependencies of ``labextension/``;
- one AMD bundle per widget module the saved state names (``anywidget``,
  ``bqplot``, ``bqscales``), from the ``share/jupyter/nbextensions/`` folder its
  Python package installs: html-manager looks for ``<page dir>/<module>.js`` first.

Usage: ``python scripts/build_docs.py [--out DIR] [NOTEBOOK ...]`` (default: every
notebook in ``notebooks/`` into ``build/docs``). Exits non-zero if a notebook fails,
a module's bundle is missing, or a page still names a CDN.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import sysconfig
from collections.abc import Sequence
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbconvert import HTMLExporter

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = Path(__file__).resolve().parent
NODE_MODULES = ROOT / "labextension" / "node_modules"
#: The page's loaders, from npm: (file beside the pages, where npm installed it).
LOADERS = {
    "require.js": NODE_MODULES / "requirejs" / "require.js",
    "embed-amd.js": NODE_MODULES / "@jupyter-widgets" / "html-manager" / "dist" / "embed-amd.js",
}
#: Modules html-manager carries itself: no file needed.
BUILT_IN = re.compile(r"^@jupyter-widgets/(base|controls|output)$")
CDN = re.compile(r"https?://(cdn\.jsdelivr\.net|unpkg\.com|cdnjs\.cloudflare\.com)[^\s\"'<>]*")


def nbextension_dirs() -> list[Path]:
    """Where Python packages install their classic-notebook AMD bundles."""
    prefixes = {sys.prefix, sysconfig.get_paths()["data"], os.environ.get("VIRTUAL_ENV", sys.prefix)}
    return [Path(p) / "share" / "jupyter" / "nbextensions" for p in sorted(prefixes)]


def execute(path: Path) -> nbformat.NotebookNode:
    """Run ``path`` top to bottom in its own folder, keeping the widget state."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        store_widget_state=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    if errors:
        raise RuntimeError(f"{path.name}: {errors[0].ename}: {errors[0].evalue}")
    return nb


def widget_modules(nb: nbformat.NotebookNode) -> set[str]:
    """The widget modules the saved state names (each model's model and view module)."""
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    modules = set()
    for model in state.get("state", {}).values():
        for key in ("_model_module", "_view_module"):
            name = model.get("state", {}).get(key)
            if name and not BUILT_IN.match(name):
                modules.add(name)
    return modules


def to_html(nb: nbformat.NotebookNode) -> str:
    exporter = HTMLExporter(
        extra_template_basedirs=[str(TEMPLATES)],
        template_name="docs_template",
        require_js_url="require.js",
        widget_renderer_url="embed-amd.js",
    )
    body, _ = exporter.from_notebook_node(nb)
    return body


def copy_scripts(modules: set[str], out: Path) -> None:
    """Copy the loaders and one AMD bundle per widget module beside the pages."""
    for name, source in LOADERS.items():
        if not source.is_file():
            raise FileNotFoundError(f"{source} is missing: run `npm --prefix labextension install`.")
        shutil.copyfile(source, out / name)
    for module in sorted(modules):
        found = [d / module / "index.js" for d in nbextension_dirs() if (d / module / "index.js").is_file()]
        if not found:
            raise FileNotFoundError(
                f"No AMD bundle for widget module {module!r} under {', '.join(map(str, nbextension_dirs()))}."
            )
        shutil.copyfile(found[0], out / f"{module}.js")


def build(notebooks: Sequence[Path], out: Path) -> list[Path]:
    """Execute, convert and write each notebook as ``out/<name>.html``; returns the pages."""
    out.mkdir(parents=True, exist_ok=True)
    modules: set[str] = set()
    pages = []
    for path in notebooks:
        nb = execute(path)
        modules |= widget_modules(nb)
        html = to_html(nb)
        cdn = CDN.search(html)
        if cdn:
            raise RuntimeError(f"{path.name}: the page still loads {cdn.group(0)}")
        page = out / f"{path.stem}.html"
        page.write_text(html, encoding="utf-8")
        pages.append(page)
    copy_scripts(modules, out)
    (out / "modules.json").write_text(json.dumps(sorted(modules)) + "\n", encoding="utf-8")
    return pages


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebook in notebooks/")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "docs")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    for page in build(notebooks, args.out):
        print(page)
    return 0


if __name__ == "__main__":
    sys.exit(main())
