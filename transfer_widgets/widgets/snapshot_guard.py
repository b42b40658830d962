"""SnapshotGuard: the snapshot mode of a composite built from plain ipywidgets.

The anywidget panels notice on their own when a page has no kernel (static HTML from
saved widget state) and turn their kernel-bound controls off. Plain ipywidgets cannot:
on such a page the studio's workflow buttons and the training monitor's controls would
look alive and do nothing. A composite adds one guard as a child and names its own root
class; live the guard shows nothing and takes no space, in a snapshot it shows the
"Snapshot: …" note and keeps every control of that root off (labextension
``src/widgets/guard/view.ts``).
"""

from __future__ import annotations

import re
from typing import Any

import traitlets

from ._bundle import BundledWidget

_CLASS_NAME = re.compile(r"-?[A-Za-z_][A-Za-z0-9_-]*")


class SnapshotGuard(BundledWidget):
    """``SnapshotGuard("tw-studio")``: a child of the composite whose root element has
    that CSS class (``widget.add_class(...)``); see the module docstring."""

    _bundle = "snapshot_guard"

    root = traitlets.Unicode(help="CSS class of the composite root whose controls it guards").tag(sync=True)

    def __init__(self, root: str, **kwargs: Any) -> None:
        if not isinstance(root, str) or not _CLASS_NAME.fullmatch(root):
            raise ValueError(
                f"SnapshotGuard(root=...) takes one CSS class name such as 'tw-studio', not {root!r}"
            )
        super().__init__(root=root, **kwargs)
        self.add_class("tw-snapshot-guard")
