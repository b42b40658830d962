"""LayerTree: the model as a collapsible tree with a trainable toggle on every row.

A thin view over :mod:`transfer_widgets.model`: the tree structure is sent once
in the ``tree`` trait; the flags travel in one channel, the ``flags`` trait (every
row's flag as one digit, plus the few trainable counts that flag does not imply;
see :class:`~transfer_widgets.widgets.protocol.TreeFlags`), which the view follows and
which saved widget state holds, so a static page, a re-opened notebook or a
reloaded page shows the flags as they are. The front end sends intents (toggle,
set a range, move the boundary, freeze / unfreeze all); the kernel applies them to
the Keras model and updates ``flags``, or answers with an ``error`` message.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

import traitlets

from ..model import freeze
from ..model.inspect import LayerNode, ModelTree, format_shape
from ..training.events import ACTIVE, Event, has_event, last_state
from ._bundle import BundledWidget, Controller, is_controller
from .protocol import ErrorMessage, FlagCode, Summary, TreeFlags, TreePayload
from .static_html import StaticFallback, tree_html


def _state_code(trainable: bool | None) -> FlagCode:
    return FlagCode.of(trainable)  # an IntEnum: JSON carries the plain number


#: The ``flags`` trait's digits (FlagCode values as text).
_FROZEN, _TRAINABLE, _MIXED = (str(int(c)) for c in (FlagCode.FROZEN, FlagCode.TRAINABLE, FlagCode.MIXED))


def implied_trainable_params(code: FlagCode | int, full: int) -> int | None:
    """The trainable count a node's state implies: 0 frozen, ``full`` trainable, none mixed."""
    if code == FlagCode.FROZEN:
        return 0
    if code == FlagCode.TRAINABLE:
        return full
    return None


def encode_flags(tree: ModelTree) -> tuple[str, dict[str, int]]:
    """The ``flags`` trait's ``state`` and ``trainable_params`` for ``tree``: one digit
    per node, and the counts (by node id) that the state does not imply."""
    digits: list[str] = []
    listed: dict[str, int] = {}
    # implied_trainable_params, inlined: this runs on every toggle, over every node
    for node in tree.nodes:
        trainable, count = node.trainable, node.trainable_params
        if trainable is None:
            digits.append(_MIXED)
            listed[str(node.id)] = count
        elif trainable:
            digits.append(_TRAINABLE)
            if count != node.full_trainable_params:
                listed[str(node.id)] = count
        else:
            digits.append(_FROZEN)
            if count != 0:
                listed[str(node.id)] = count
    return "".join(digits), listed


def decode_trainable_params(flags: TreeFlags, full_trainable: list[int]) -> list[int]:
    """Every node's trainable count from the ``flags`` trait, as the view reads it
    (``labextension/src/widgets/tree/state.ts``); raises if a count is missing."""
    listed = flags["trainable_params"]
    counts: list[int] = []
    for i, (digit, full) in enumerate(zip(flags["state"], full_trainable, strict=True)):
        count = listed.get(str(i), implied_trainable_params(int(digit), full))
        if count is None:
            raise ValueError(f"node {i} is mixed but its trainable count is not listed")
        counts.append(count)
    return counts


class LayerTree(StaticFallback, BundledWidget):
    """See a Keras model as a tree and choose which layers train.

    Every toggle in the browser changes the model's ``trainable`` flags at once.
    After changing flags from Python (``layer.trainable = ...``), call
    :meth:`refresh`; the freezing methods here refresh by themselves.

    ``LayerTree(controller)`` shows the controller's assembled model and follows
    it: a new head or a loaded config rebuilds the model, and the tree shows the
    new one; it is read-only while the controller trains.
    """

    _bundle = "layer_tree"

    tree = traitlets.Dict(help="The model's structure as columns, one entry per node in pre-order").tag(
        sync=True
    )
    disabled = traitlets.Bool(False, help="Read-only: as asked, or while the controller trains").tag(
        sync=True
    )
    flags = traitlets.Dict(
        help="Every node's current flag and trainable count, compactly (see protocol.TreeFlags): "
        "what a page rendered from saved state shows"
    ).tag(sync=True)
    keep_bn_frozen = traitlets.Bool(
        True, help="Bulk unfreezing (a block, everything, the boundary) keeps BatchNorm layers frozen"
    ).tag(sync=True)

    def __init__(self, model: Any, *, keep_bn_frozen: bool = True, disabled: bool = False, **kwargs: Any):
        self.controller: Controller | None = model if is_controller(model) else None
        self._tree = ModelTree(
            model.model if self.controller is not None else model
        )  # checked before any widget
        self._editing = False  # our own edit is under way: it sends its changes itself
        super().__init__(keep_bn_frozen=keep_bn_frozen, disabled=disabled, **kwargs)
        self._show(self._tree)
        self.on_msg(self._on_front_end_msg)
        self._read_only = disabled  # as asked, whatever the controller does
        if self.controller is not None:
            self.disabled = disabled or self.controller.running
        self._follow(self.controller, self._controller_events, self._model_flags_changed)

    # -- public API ------------------------------------------------------------------

    @property
    def model(self) -> Any:
        """The Keras model this tree shows (it holds the flags)."""
        return self._tree.model

    @property
    def root(self) -> LayerNode:
        """The inspected tree (see :func:`transfer_widgets.inspect_model`)."""
        return self._tree.root

    @property
    def summary(self) -> Summary:
        """Total, trainable and non-trainable parameter counts of the model."""
        root = self._tree.root
        return {
            "total": root.params,
            "trainable": root.trainable_params,
            "non_trainable": root.non_trainable_params,
        }

    def static_html(self) -> str:
        """The tree as a table collapsed to blocks, for pages without a widget manager."""
        return tree_html(self._tree)

    def static_text(self) -> str:
        s = self.summary
        return (
            f"LayerTree of {self._tree.model.name!r}: {len(self._tree.leaves):,} layers, "
            f"{s['trainable']:,} of {s['total']:,} parameters trainable"
        )

    def refresh(self) -> None:
        """Show the model's current flags (and structure, if layers were added or removed)."""
        paths = [n.path for n in self._tree.nodes]
        tree = ModelTree(self._tree.model)
        if [n.path for n in tree.nodes] != paths:
            self._show(tree)
            return
        self._tree.refresh()
        self._sync_flags()

    def set_trainable(self, path: str, flag: bool) -> None:
        """Set one layer, block or sub-model trainable or frozen."""
        self._edit(freeze.set_trainable, path, flag, keep_bn_frozen=self.keep_bn_frozen)

    def freeze_all(self) -> None:
        """Freeze every layer."""
        self._edit(freeze.freeze_all)

    def unfreeze_all(self) -> None:
        """Make every layer trainable (BatchNorm kept frozen unless ``keep_bn_frozen`` is off)."""
        self._edit(freeze.unfreeze_all, keep_bn_frozen=self.keep_bn_frozen)

    def freeze_up_to(self, layer_name: str) -> None:
        """Freeze the layers before ``layer_name``; make it and the rest trainable."""
        self._edit(freeze.freeze_up_to, layer_name, keep_bn_frozen=self.keep_bn_frozen)

    # -- told of changes ------------------------------------------------------------------

    def _model_flags_changed(self, tree: ModelTree) -> None:
        """Without a controller, after any freezing operation: show it if it touched this model."""
        if any(node.layer is tree.model for node in self._tree.nodes if node.kind == "model"):
            self._reread_flags()

    def _controller_events(self, events: list[Event]) -> None:
        state = last_state(events)
        if state is not None:
            self.disabled = self._read_only or state in ACTIVE
        if has_event(events, "config"):
            self._follow_controller()
        elif has_event(events, "flags"):
            self._reread_flags()

    def _reread_flags(self) -> None:
        """Freezing changes flags, never layers: skip refresh()'s structure check."""
        if self._editing:
            return  # our own edit: `_edit` shows the changes
        self._tree.refresh()
        self._sync_flags()

    def _follow_controller(self) -> None:
        """Show the controller's model again if it rebuilt it (new head, loaded config)."""
        assert self.controller is not None
        if self.controller.model is not self._tree.model:
            self._show(ModelTree(self.controller.model))
        else:
            self.refresh()

    # -- internals -----------------------------------------------------------------------

    def _show(self, tree: ModelTree) -> None:
        """Send ``tree`` whole (another structure): the front end renders it afresh."""
        self._tree = tree
        with self.hold_sync():  # structure and flags in one message: never one without the other
            self.tree = dict(self._tree_payload())  # the trait holds a plain dict
            self._sync_flags()

    def _edit(self, operation: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Run a freezing operation on the shown tree (through the controller, which
        refuses it during a run, when there is one) and show the flags it left."""
        if self.disabled:
            raise RuntimeError(
                "This layer tree is read-only (disabled); set tree.disabled = False to edit it."
            )
        self._editing = True
        try:
            if self.controller is not None:
                self.controller.edit_flags(operation, self._tree, *args, **kwargs)
            else:
                operation(self._tree, *args, **kwargs)
        finally:
            self._editing = False
        self._sync_flags()

    def _tree_payload(self) -> TreePayload:
        """The structure as parallel columns, one entry per node in pre-order.

        Columns rather than a list of objects: half the bytes, and ipywidgets walks
        a dozen lists instead of a thousand dicts when it sends the state.
        """
        nodes = self._tree.nodes
        state, trainable_params = self._flag_columns()
        return {
            "model_name": self._tree.model.name,
            "columns": {
                "parent": [n.parent.id if n.parent is not None else -1 for n in nodes],
                "path": [n.path for n in nodes],
                "name": [n.name for n in nodes],
                "cls": [n.class_name for n in nodes],
                "kind": [n.kind for n in nodes],
                "shape": [format_shape(n.output_shape) for n in nodes],
                "params": [n.params for n in nodes],
                "bn": [n.is_batch_norm for n in nodes],
                "input": [n.is_input for n in nodes],
                "full_trainable": [n.full_trainable_params for n in nodes],
            },
            "state": list(state),
            "trainable_params": list(trainable_params),
            "summary": self.summary,
        }

    def _flag_columns(self) -> tuple[list[FlagCode], list[int]]:
        nodes = self._tree.nodes
        return [_state_code(n.trainable) for n in nodes], [n.trainable_params for n in nodes]

    def _sync_flags(self) -> None:
        """Put every row's current flag into the ``flags`` trait (sent only if it changed),
        compactly: a digit per row, and only the trainable counts its state does not imply."""
        state, trainable_params = encode_flags(self._tree)
        flags: TreeFlags = {"state": state, "trainable_params": trainable_params, "summary": self.summary}
        self.flags = dict(flags)  # the trait holds a plain dict

    def _on_front_end_msg(self, _widget: object, msg: dict[str, Any], _buffers: object) -> None:
        try:
            self._handle(msg)
        except Exception as exc:  # noqa: BLE001 - shown in the widget, never raised into the comm
            message = str(exc) or type(exc).__name__
            error: ErrorMessage = {"type": "error", "message": message, "traceback": traceback.format_exc()}
            self.send(error)

    def _handle(self, msg: dict[str, Any]) -> None:
        kind = msg.get("type")
        if kind == "toggle":
            self._edit(freeze.toggle, self._node(msg["id"]), keep_bn_frozen=self.keep_bn_frozen)
        elif kind == "set":
            self._edit(
                freeze.set_many,
                [self._node(i) for i in msg["ids"]],
                bool(msg["value"]),
                keep_bn_frozen=self.keep_bn_frozen,
            )
        elif kind == "boundary":
            self._edit(freeze.freeze_up_to, self._node(msg["id"]), keep_bn_frozen=self.keep_bn_frozen)
        elif kind == "freeze_all":
            self.freeze_all()
        elif kind == "unfreeze_all":
            self.unfreeze_all()
        else:
            raise ValueError(f"Unknown layer tree message type {kind!r}.")

    def _node(self, node_id: Any) -> LayerNode:
        nodes = self._tree.nodes
        if not isinstance(node_id, int) or not 0 <= node_id < len(nodes):
            raise ValueError(f"No row with id {node_id!r}: this view is out of date; re-run the cell.")
        return nodes[node_id]
