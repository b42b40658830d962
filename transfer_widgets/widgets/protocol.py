"""The wire contract between the widgets and their front ends, defined once, here.

What the kernel puts in the layer tree's ``tree`` trait, and the custom messages
each widget's front end sends (``...ViewMessage``) and gets back
(``...KernelMessage``). ``scripts/generate_contract.py`` writes every name in
``__all__``, in the order defined here, to
``labextension/src/widgets/shared/contract.ts`` (with the option lists from
:mod:`transfer_widgets.config`), which the TypeScript views import;
``tests/unit/test_contract.py`` fails when that file is out of date. After changing
anything here, run ``python scripts/generate_contract.py``.

Only what JSON can carry: ``int`` / ``float`` become ``number``, ``None`` ``null``,
``Any`` ``unknown``; a ``total=False`` TypedDict's keys are optional.
"""

from __future__ import annotations

import enum
from typing import Any, Literal, TypeAlias, TypedDict

from ..model.head_draft import Section
from ..model.inspect import NodeKind

__all__ = [
    "ErrorMessage",
    "ExportKernelMessage",
    "ExportViewMessage",
    "FlagCode",
    "FlagsMessage",
    "HeadAddMessage",
    "HeadFieldMessage",
    "HeadKernelMessage",
    "HeadMoveMessage",
    "HeadPresetMessage",
    "HeadRemoveMessage",
    "HeadSetMessage",
    "HeadViewMessage",
    "HelloMessage",
    "InsertCellMessage",
    "InsertMessage",
    "LoadConfigMessage",
    "LoadDoneMessage",
    "NodeColumns",
    "NodeKind",
    "OkMessage",
    "RefreshMessage",
    "SaveUnnamedMessage",
    "Section",
    "Summary",
    "TreeBoundaryMessage",
    "TreeFreezeAllMessage",
    "TreeKernelMessage",
    "TreePayload",
    "TreeSetMessage",
    "TreeToggleMessage",
    "TreeUnfreezeAllMessage",
    "TreeViewMessage",
    "Value",
]


class FlagCode(enum.IntEnum):
    """A layer tree row's trainable state, as the ``state`` columns carry it."""

    FROZEN = 0
    TRAINABLE = 1
    MIXED = 2  # a container whose descendants differ

    @classmethod
    def of(cls, trainable: bool | None) -> FlagCode:
        """The code for a node's ``trainable`` (``None``: its descendants differ)."""
        if trainable is None:
            return cls.MIXED
        return cls.TRAINABLE if trainable else cls.FROZEN


# -- shared by every widget --------------------------------------------------------------


class HelloMessage(TypedDict):
    """A view is ready: the kernel answers with what it needs to show (or ``ok``)."""

    type: Literal["hello"]


class ErrorMessage(TypedDict):
    """An intent was refused; the view shows ``message``."""

    type: Literal["error"]
    message: str
    traceback: str


# -- layer tree ---------------------------------------------------------------------------


class Summary(TypedDict):
    """Parameter counts of the whole model."""

    total: int
    trainable: int
    non_trainable: int


class NodeColumns(TypedDict):
    """The tree as parallel columns, one entry per node in pre-order (node id = index)."""

    parent: list[int]  # -1 for the root; every parent comes before its children
    path: list[str]
    name: list[str]
    cls: list[str]
    kind: list[NodeKind]
    shape: list[str | None]
    params: list[int]
    bn: list[bool]
    input: list[bool]  # the model's InputLayer: no flag, shown without a checkbox


class TreePayload(TypedDict):
    """The layer tree's ``tree`` trait."""

    model_name: str
    columns: NodeColumns
    state: list[FlagCode]
    trainable_params: list[int]
    summary: Summary


class TreeToggleMessage(TypedDict):
    type: Literal["toggle"]
    id: int


class TreeSetMessage(TypedDict):
    """Shift-click: every node in ``ids`` takes ``value``."""

    type: Literal["set"]
    ids: list[int]
    value: bool


class TreeBoundaryMessage(TypedDict):
    """Freeze everything above node ``id``."""

    type: Literal["boundary"]
    id: int


class TreeFreezeAllMessage(TypedDict):
    type: Literal["freeze_all"]


class TreeUnfreezeAllMessage(TypedDict):
    type: Literal["unfreeze_all"]


TreeViewMessage: TypeAlias = (
    HelloMessage
    | TreeToggleMessage
    | TreeSetMessage
    | TreeBoundaryMessage
    | TreeFreezeAllMessage
    | TreeUnfreezeAllMessage
)


class FlagsMessage(TypedDict):
    """The rows whose state or trainable count changed (every row when ``full``)."""

    type: Literal["flags"]
    full: bool
    ids: list[int]
    state: list[FlagCode]  # parallel to ids
    trainable_params: list[int]  # parallel to ids
    summary: Summary


TreeKernelMessage: TypeAlias = FlagsMessage | ErrorMessage

# -- head designer ------------------------------------------------------------------------


#: A form value as typed: a number, text the kernel's validation names the problem with, or blank.
Value: TypeAlias = float | str | None


class _HeadAddMessage(TypedDict):
    type: Literal["add"]
    section: Section
    layer: str


class HeadAddMessage(_HeadAddMessage, total=False):
    index: int  # where the new row goes; at the end without it


class HeadRemoveMessage(TypedDict):
    type: Literal["remove"]
    section: Section
    id: int


class HeadMoveMessage(TypedDict):
    type: Literal["move"]
    section: Section
    id: int
    to: int


class HeadSetMessage(TypedDict):
    """Set a field of one row."""

    type: Literal["set"]
    section: Section
    id: int
    field: str
    value: Value


class HeadFieldMessage(TypedDict):
    """Set a head or compile field (task, num_classes, class_names, optimizer, ...)."""

    type: Literal["field"]
    field: str
    value: Any


class HeadPresetMessage(TypedDict):
    type: Literal["preset"]
    name: str


HeadViewMessage: TypeAlias = (
    HelloMessage
    | HeadAddMessage
    | HeadRemoveMessage
    | HeadMoveMessage
    | HeadSetMessage
    | HeadFieldMessage
    | HeadPresetMessage
)


class OkMessage(TypedDict):
    """The last intent was applied (the new ``state`` trait shows it)."""

    type: Literal["ok"]


HeadKernelMessage: TypeAlias = OkMessage | ErrorMessage

# -- export panel -------------------------------------------------------------------------


class LoadConfigMessage(TypedDict):
    """Load a picked file's text as the controller's config."""

    type: Literal["load_config"]
    name: str
    text: str


class RefreshMessage(TypedDict):
    type: Literal["refresh"]


class InsertMessage(TypedDict):
    """Insert cell below was pressed: the kernel answers with ``insert_cell``."""

    type: Literal["insert"]


class SaveUnnamedMessage(TypedDict):
    """Save the objects the notebook has no name for beside it, then answer with ``insert_cell``."""

    type: Literal["save_unnamed"]


ExportViewMessage: TypeAlias = LoadConfigMessage | RefreshMessage | InsertMessage | SaveUnnamedMessage


class LoadDoneMessage(TypedDict):
    """A ``load_config`` finished; ``error`` / ``notice`` say how."""

    type: Literal["load_done"]
    ok: bool


class InsertCellMessage(TypedDict):
    """The cell to insert, as the notebook's names stand now; ``""`` when it cannot run
    there yet (``unnamed`` lists what has no name, ``error`` says why)."""

    type: Literal["insert_cell"]
    code: str


ExportKernelMessage: TypeAlias = LoadDoneMessage | InsertCellMessage
