#!/usr/bin/env python3
"""Check that transfer_widgets' imports point one way: no import cycle, and no
import from a lower layer to a higher one (or between two layers of one rank).

Reads the package's source (every ``import`` statement, including those inside
functions and ``TYPE_CHECKING`` blocks); imports nothing of it. Exit status 1
with one line per problem; ``--graph`` also prints the layer diagram with the
imports between layers that exist today.

    python scripts/check_layers.py
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import defaultdict
from pathlib import Path

PACKAGE = "transfer_widgets"
ROOT = Path(__file__).resolve().parent.parent / PACKAGE

#: The layer order, lowest first: a module may import from its own layer and from
#: layers of a lower rank, never up, and never sideways into another layer of its rank.
LAYERS: list[tuple[str, ...]] = [
    ("config",),  # the experiment as data: imports nothing of the package
    ("model", "data"),  # Keras-facing operations | data adapters and demo data
    ("export",),  # code from a snapshot the controller hands over
    ("training",),  # the controller: builds, compiles, runs, emits events
    # the training monitor's logic | analysis of a trained model (reads a controller's model and
    # data, trains nothing the controller sees); views use both, neither needs the other
    ("monitor", "analysis"),
    ("widgets",),  # views
    ("api",),  # the package's front door: transfer_widgets/__init__.py, datasets.py
]
RANK = {layer: rank for rank, layers in enumerate(LAYERS) for layer in layers}
#: Top-level modules and what layer each is in (a sub-package is its own layer).
TOP_LEVEL = {"config": "config", "run_record": "config", "__init__": "api", "datasets": "api"}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "api"
    head = parts[1]
    if (ROOT / head).is_dir():
        return head
    if head not in TOP_LEVEL:
        raise SystemExit(f"check_layers: {module} is in no layer: add it to TOP_LEVEL or LAYERS")
    return TOP_LEVEL[head]


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def imports_of(module: str, path: Path, known: set[str]) -> list[tuple[str, int]]:
    """The package's modules ``module`` imports, with the line of each import."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    out: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(_nearest(a.name, known), node.lineno) for a in node.names if a.name.startswith(PACKAGE)]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                if not is_package:
                    base = base[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith(PACKAGE):
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                out.append((sub if sub in known else _nearest(target, known), node.lineno))
    return [(target, line) for target, line in out if target and target != module]


def _nearest(name: str, known: set[str]) -> str:
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def problems() -> tuple[list[str], dict[tuple[str, str], int]]:
    """Every layering problem, and how many imports go from each layer to each other one."""
    mods = modules()
    known = set(mods)
    graph: dict[str, set[str]] = defaultdict(set)
    between: dict[tuple[str, str], int] = defaultdict(int)
    found: list[str] = []
    for module, path in mods.items():
        graph[module]
        for target, line in imports_of(module, path, known):
            graph[module].add(target)
            src, dst = layer_of(module), layer_of(target)
            if src == dst:
                continue
            between[src, dst] += 1
            where = f"{path.relative_to(ROOT.parent)}:{line}"
            if RANK[dst] > RANK[src]:
                found.append(f"{where}: {module} ({src}) imports {target} ({dst}), a higher layer")
            elif RANK[dst] == RANK[src]:
                found.append(f"{where}: {module} ({src}) imports {target} ({dst}), a layer of the same rank")
    for component in cycles(graph):
        found.append(f"import cycle of {len(component)} modules: {', '.join(component)}")
    return found, dict(between)


def diagram(between: dict[tuple[str, str], int]) -> str:
    lines = []
    for rank in reversed(range(len(LAYERS))):
        for layer in LAYERS[rank]:
            below = sorted({dst for (src, dst) in between if src == layer}, key=lambda d: -RANK[d])
            lines.append(f"  {layer:<9} -> {', '.join(below) or '(nothing of the package)'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graph", action="store_true", help="print the imports between layers")
    args = parser.parse_args(argv)
    found, between = problems()
    if args.graph:
        print(diagram(between))
    for problem in found:
        print(problem)
    if found:
        print(f"check_layers: {len(found)} problem(s)", file=sys.stderr)
        return 1
    print(f"check_layers: {len(modules())} modules, imports point one way")
    return 0


if __name__ == "__main__":
    sys.exit(main())
