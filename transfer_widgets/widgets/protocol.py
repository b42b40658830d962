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
    "ConfusedPair",
    "DataChecks",
    "DataKernelMessage",
    "DataSummary",
    "DataViewMessage",
    "Duplicate",
    "ErrorMessage",
    "ExportKernelMessage",
    "ExportViewMessage",
    "FlagCode",
    "FolderProblem",
    "GalleryItem",
    "GalleryMessage",
    "GalleryRequest",
    "HeadAddMessage",
    "HeadFieldMessage",
    "HeadKernelMessage",
    "HeadMoveMessage",
    "HeadPresetMessage",
    "HeadRemoveMessage",
    "HeadSetMessage",
    "HeadViewMessage",
    "HeatmapMessage",
    "HeatmapRequest",
    "HelloMessage",
    "InsertCellMessage",
    "InsertMessage",
    "IssueItem",
    "IssuesMessage",
    "IssuesRequest",
    "LoadConfigMessage",
    "LoadDoneMessage",
    "MistakesKernelMessage",
    "MistakesState",
    "MistakesViewMessage",
    "NodeColumns",
    "NodeKind",
    "OkMessage",
    "RefreshMessage",
    "SaveUnnamedMessage",
    "Section",
    "Summary",
    "ThumbItem",
    "ThumbsMessage",
    "ThumbsRequest",
    "TreeBoundaryMessage",
    "TreeFlags",
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
    #: Trainable parameters while the node is trainable throughout: the count a
    #: TRAINABLE state implies (FROZEN implies 0) unless ``TreeFlags`` lists another.
    full_trainable: list[int]


class TreePayload(TypedDict):
    """The layer tree's ``tree`` trait."""

    model_name: str
    columns: NodeColumns
    state: list[FlagCode]
    trainable_params: list[int]
    summary: Summary


class TreeFlags(TypedDict):
    """The layer tree's ``flags`` trait: every node's current flag and trainable count.

    The one channel the flags travel in, updated after every change: the view follows
    it, and saved widget state (a static page, a re-opened notebook) holds it, so the
    flags show as they are, not as they were first shown. Compact, since every change
    sends it whole: ``state`` has one digit (a FlagCode) per node, and a node's
    trainable count is what its state implies (FROZEN: 0, TRAINABLE: the ``tree``
    trait's ``full_trainable``) unless ``trainable_params`` lists it, by node id; a
    MIXED node is always listed. The kernel counts them all from Keras.
    """

    state: str
    trainable_params: dict[str, int]
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
    TreeToggleMessage | TreeSetMessage | TreeBoundaryMessage | TreeFreezeAllMessage | TreeUnfreezeAllMessage
)


#: The flags come in the ``flags`` trait; a message only says an intent was refused.
TreeKernelMessage: TypeAlias = ErrorMessage

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

# -- data view ----------------------------------------------------------------------------


class DataSummary(TypedDict):
    """The data view's ``summary`` trait: what the first render shows."""

    classes: list[str]
    train: list[int]  # examples per class
    validation: list[int] | None  # None without validation data
    warnings: list[str]
    image_shape: list[int]
    folder: str | None  # the image folder, when the data is one


class FolderProblem(TypedDict):
    path: str
    problem: str


class Duplicate(TypedDict):
    """A training example that is byte for byte a validation example."""

    train: int
    validation: int
    train_path: str | None
    validation_path: str | None


class DataChecks(TypedDict):
    """The data view's ``checks`` trait, filled by a background scan."""

    state: Literal["checking", "done", "failed"]
    problems: list[FolderProblem]  # the first few
    problem_count: int
    duplicates: list[Duplicate]  # the first few
    duplicate_count: int
    message: str  # why the checks failed


class ThumbsRequest(TypedDict):
    """Ask for one page of thumbnails of one class (sent when its row scrolls into view)."""

    type: Literal["thumbs"]
    split: Literal["train", "validation"]
    cls: int
    page: int


DataViewMessage: TypeAlias = ThumbsRequest


class ThumbItem(TypedDict):
    """One example of a thumbnail page: ``error`` when its file cannot be shown (no buffer then)."""

    index: int
    path: str | None
    error: str | None


class ThumbsMessage(TypedDict):
    """A page of thumbnails: one PNG buffer per item without ``error``, in order."""

    type: Literal["thumbs"]
    split: str
    cls: int
    page: int
    items: list[ThumbItem]
    total: int  # examples of the class in the split
    has_more: bool


DataKernelMessage: TypeAlias = ThumbsMessage | ErrorMessage

# -- mistakes -----------------------------------------------------------------------------


class ConfusedPair(TypedDict):
    true: int
    predicted: int
    count: int


class MistakesState(TypedDict):
    """The mistakes panel's ``state`` trait."""

    classes: list[str]
    running: bool  # a run is active: results are those of its last completed epoch
    weights: str  # which weights: "current" or "epoch N"
    confusion: list[list[int]]  # rows: true class, columns: predicted class ([] before training)
    most_confused: list[ConfusedPair]
    total: int
    errors: int
    message: str  # why there are no results ("" when there are)


class GalleryRequest(TypedDict):
    """A page of the top-loss gallery; ``true`` and ``predicted`` both set: one confusion-matrix cell."""

    type: Literal["gallery"]
    true: int | None
    predicted: int | None
    page: int


class HeatmapRequest(TypedDict):
    type: Literal["heatmap"]
    index: int


class IssuesRequest(TypedDict):
    """Find likely label errors (cross-validation of the head: takes seconds)."""

    type: Literal["label_issues"]


MistakesViewMessage: TypeAlias = GalleryRequest | HeatmapRequest | IssuesRequest | RefreshMessage


class GalleryItem(TypedDict):
    index: int
    label: int
    predicted: int
    probability: float  # of the predicted class
    loss: float
    path: str | None


class GalleryMessage(TypedDict):
    """A gallery page: one PNG buffer per item, in order."""

    type: Literal["gallery"]
    true: int | None
    predicted: int | None
    page: int
    items: list[GalleryItem]
    total: int  # examples matching the filter
    has_more: bool


class HeatmapMessage(TypedDict):
    """The image blended with its heat map (one PNG buffer), or ``error`` and no buffer."""

    type: Literal["heatmap"]
    index: int
    error: str | None


class IssueItem(TypedDict):
    index: int
    label: int
    suggested: int
    margin: float
    path: str | None


class IssuesMessage(TypedDict):
    """Likely label errors, most doubted first: a PNG buffer per item; ``csv`` lists all ``count``."""

    type: Literal["label_issues"]
    items: list[IssueItem]
    count: int
    examples: int  # training examples checked
    csv: str


MistakesKernelMessage: TypeAlias = GalleryMessage | HeatmapMessage | IssuesMessage | ErrorMessage
