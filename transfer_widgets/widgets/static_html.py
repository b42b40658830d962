"""Static renderings of the widgets, for every place that shows a notebook without a
widget manager (GitHub's and nbviewer's notebook views, nbconvert without JavaScript,
PDF): the tree as a compact table collapsed to blocks, the head as a list with shapes,
the export as highlighted code. Plain HTML with inline styles only; every model-supplied
string is escaped. :class:`StaticFallback` puts the rendering into a widget's mime bundle
beside the live view, which a widget manager prefers."""

from __future__ import annotations

import html
import logging
from typing import Any

from pygments import highlight  # type: ignore[import-untyped]
from pygments.formatters import HtmlFormatter  # type: ignore[import-untyped]
from pygments.lexers import JsonLexer, PythonLexer  # type: ignore[import-untyped]

from ..model.inspect import BLOCK, LayerNode, ModelTree

log = logging.getLogger(__name__)

_BOX = "font-family: system-ui, sans-serif; font-size: 13px; max-width: 100%; overflow-x: auto"
_CELL = "padding: 1px 8px; text-align: left; white-space: nowrap"
_NUM = "padding: 1px 8px; text-align: right; font-variant-numeric: tabular-nums"
_STATES = {True: "trainable", False: "frozen", None: "mixed"}


class StaticFallback:
    """Mixin for a widget: its mime bundle also carries ``text/html`` (:meth:`static_html`)
    and a readable ``text/plain`` (:meth:`static_text`) instead of ``<... object at 0x…>``."""

    def static_html(self) -> str:
        raise NotImplementedError

    def static_text(self) -> str:
        raise NotImplementedError

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        # ipywidgets returns the data; anywidget returns (data, metadata).
        result = super()._repr_mimebundle_(**kwargs)  # type: ignore[misc]
        if result is None:
            return None
        data, meta = result if isinstance(result, tuple) else (result, None)
        data = dict(data)
        try:
            data["text/html"] = self.static_html()
            data["text/plain"] = self.static_text()
        except Exception:  # the live view must still show: log, and keep the widget's own bundle
            log.exception("transfer-widgets: no static fallback for %s", type(self).__name__)
        return data if meta is None else (data, meta)


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _table(headers: list[tuple[str, bool]], rows: list[list[str]]) -> str:
    styles = [_NUM if num else _CELL for _h, num in headers]
    head = "".join(f'<th style="{st}">{_e(h)}</th>' for (h, _n), st in zip(headers, styles, strict=True))
    body = "".join(
        "<tr>" + "".join(f'<td style="{st}">{c}</td>' for c, st in zip(row, styles, strict=True)) + "</tr>"
        for row in rows
    )
    return (
        '<table style="border-collapse: collapse">'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def _title(title: str, detail: str) -> str:
    return (
        f'<div style="margin: 4px 0"><b>{_e(title)}</b> <span style="opacity: 0.7">{_e(detail)}</span></div>'
    )


def _collapsed(tree: ModelTree) -> list[LayerNode]:
    """Every node outside a block: models, blocks and loose layers (a block's layers are
    summed in its row), so a 1,000-layer model reads as a few dozen rows."""
    out: list[LayerNode] = []

    def walk(node: LayerNode) -> None:
        out.append(node)
        if node.kind != BLOCK:
            for child in node.children:
                walk(child)

    walk(tree.root)
    return out


def _depth(node: LayerNode) -> int:
    depth, parent = 0, node.parent
    while parent is not None:
        depth, parent = depth + 1, parent.parent
    return depth


def tree_html(tree: ModelTree, title: str = "Layer tree") -> str:
    """The model as a table collapsed to blocks, with parameter counts and trainable flags."""
    root = tree.root
    share = root.trainable_params / root.params if root.params else 0.0
    rows = []
    for node in _collapsed(tree):
        indent = "&nbsp;&nbsp;" * _depth(node)
        name = f"{indent}{_e(node.name)}"
        rows.append(
            [
                f"<b>{name}</b>" if node.children else name,
                _e(node.class_name),
                f"{node.params:,}",
                f"{node.trainable_params:,}",
                "input" if node.is_input else _STATES[node.trainable],
            ]
        )
    summary = (
        f"{root.name}: trainable {root.trainable_params:,} of {root.params:,} parameters ({share:.1%}), "
        f"{len(tree.leaves):,} layers"
    )
    table = _table(
        [("Layer", False), ("Class", False), ("Params", True), ("Trainable", True), ("State", False)], rows
    )
    return f'<div class="tw-static tw-static-tree" style="{_BOX}">{_title(title, summary)}{table}</div>'


def head_html(state: dict[str, Any]) -> str:
    """The head designer's head: the base's output, each head layer with its output shape."""
    base = state.get("base") or {}
    detail = f"on {base.get('name', '?')} · features {base.get('output_shape', '?')}"
    preview = state.get("preview")
    if preview is None:
        problems = "".join(f"<li>{_e(p)}</li>" for p in state.get("problems") or [])
        body = f"<p>The head is not valid yet:</p><ul>{problems}</ul>"
    else:
        items = "".join(
            f"<li><b>{_e(r['name'])}</b> → <code>{_e(r['shape'])}</code> · {int(r['params']):,} params</li>"
            for r in preview
        )
        totals = state.get("head_totals") or {}
        body = f"<ol>{items}</ol><p>Head: {int(totals.get('total', 0)):,} params</p>"
    return f'<div class="tw-static tw-static-head" style="{_BOX}">{_title("Head", detail)}{body}</div>'


def code_html(code: str, kind: str, title: str = "Export") -> str:
    """Code highlighted with inline styles (no stylesheet needed), escaped by Pygments."""
    lexer = JsonLexer() if kind in ("json", "notebook") else PythonLexer()
    pre = highlight(code, lexer, HtmlFormatter(noclasses=True, nobackground=False))
    lines = code.count("\n") + (0 if code.endswith("\n") or not code else 1)
    return (
        f'<div class="tw-static tw-static-export" style="{_BOX}">'
        f"{_title(title, f'{kind} · {lines:,} lines')}{pre}</div>"
    )
