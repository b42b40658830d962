"""No widget's stylesheet can change another widget's look: every rule of a widget's CSS
starts at that widget's own root class, and the rules every widget shares (the theme each
stylesheet imports, so injected again by every widget type in any order) have no
specificity (:where), so a widget's own rule always wins over a later copy of them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WIDGETS = ROOT / "labextension/src/widgets"
#: stylesheet -> the root class every one of its rules must start at
OWN_ROOT = {
    WIDGETS / "layer_tree.css": ".tw-layer-tree",
    WIDGETS / "head_designer.css": ".tw-head-designer",
    WIDGETS / "export_panel.css": ".tw-export-panel",
    ROOT / "transfer_widgets/widgets/studio.css": ".tw-studio",
    WIDGETS / "training_monitor.css": ".tw-training-monitor",
    WIDGETS / "snapshot_guard.css": ".tw-snapshot-guard",
}
THEME = WIDGETS / "shared/theme.css"


def selectors(css: str) -> list[str]:
    """Every style rule's selectors, inside @media / @container / @supports blocks too."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    out: list[str] = []
    depth_kinds: list[str] = []  # what each open brace is: "group" (nested rules) or "rule"
    prelude = ""
    for ch in css:
        if ch == "{":
            text = prelude.strip()
            if text.startswith("@"):
                kind = "group" if re.match(r"@(media|container|supports|layer)\b", text) else "skip"
            elif any(k in ("rule", "skip") for k in depth_kinds):
                kind = "skip"
            else:
                kind = "rule"
                out.extend(s.strip() for s in split_top_level(text) if s.strip())
            depth_kinds.append(kind)
            prelude = ""
        elif ch == "}":
            depth_kinds.pop()
            prelude = ""
        elif ch == ";" and (not depth_kinds or depth_kinds[-1] == "group"):
            prelude = ""  # @import ...;
        else:
            prelude += ch
    return out


def split_top_level(text: str, sep: str = ",") -> list[str]:
    """Split at ``sep`` outside parentheses (``:is(.a, .b)`` stays whole)."""
    parts, depth, current = [], 0, ""
    for ch in text:
        depth += (ch == "(") - (ch == ")")
        if ch == sep and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    return [*parts, current]


def compounds(selector: str) -> list[str]:
    """The compound selectors of a complex selector (split at combinators outside parentheses)."""
    spaced = re.sub(r"\s*([>+~])\s*", " ", selector)
    return [c for c in split_top_level(spaced, " ") if c]


@pytest.mark.parametrize("path", sorted(OWN_ROOT), ids=lambda p: p.name)
def test_every_rule_is_scoped_to_the_widget(path):
    """A rule starts at the widget's root, or styles an element that is the widget or holds
    it (``:has(.root)``, as the monitor's fix for hidden tabs does)."""
    root = OWN_ROOT[path]
    found = selectors(path.read_text(encoding="utf-8"))
    assert found
    own = re.compile(re.escape(root) + r"(?![\w-])")
    strays = [s for s in found if not (own.search(compounds(s)[0]) or own.search(compounds(s)[-1]))]
    assert strays == [], f"{path.name}: rules that are not scoped to {root}"


def test_shared_rules_have_no_specificity():
    found = selectors(THEME.read_text(encoding="utf-8"))
    assert found
    assert [s for s in found if not s.startswith(":where(")] == []


def test_the_parser_sees_rules_in_container_queries():
    css = ".a .b { x: 1; } @container (max-width: 5px) { .c .d { y: 2; } } @import 'x.css';"
    assert selectors(css) == [".a .b", ".c .d"]
