"""The freeze plan of a model: its trainable flags read into a :class:`FreezePlan`
(the config's compact, name-based record) and a plan applied back onto a model."""

from __future__ import annotations

from typing import Any

from ..config import FREEZE_KINDS, ConfigError, FreezePlan
from .freeze import as_tree, freeze_all, freeze_up_to, set_many, unfreeze_all
from .inspect import UnknownLayerError


def freeze_plan_from_model(base: Any) -> FreezePlan:
    """The base's current flags in their most compact form (see :class:`FreezePlan`)."""
    tree = as_tree(base)
    leaves = tree.leaves
    flags = [bool(leaf.keras_layer.trainable) and bool(base.trainable) for leaf in leaves]
    is_bn = [leaf.is_batch_norm for leaf in leaves]
    root = tree.root.name + "/"

    def rel(path: str) -> str:
        return path[len(root) :] if path.startswith(root) else path

    if not any(flags):
        return FreezePlan("all_frozen")
    for keep in (False, True):
        if flags == [not (keep and bn) for bn in is_bn]:
            return FreezePlan("all_trainable", keep_bn_frozen=keep)
    start = flags.index(True)
    for keep in (True, False):
        expected = [i >= start and not (keep and bn) for i, bn in enumerate(is_bn)]
        if flags == expected:
            return FreezePlan("boundary", boundary=rel(leaves[start].path), keep_bn_frozen=keep)
    return FreezePlan(
        "explicit",
        trainable=[rel(leaf.path) for leaf, f in zip(leaves, flags, strict=True) if f],
        keep_bn_frozen=False,
    )


def apply_freeze_plan(plan: FreezePlan, base: Any) -> None:
    """Set the base's flags from a plan, naming layers by path; a layer the base
    lacks raises :class:`ConfigError` naming the field, before any flag changes."""
    try:
        _apply_freeze_plan(plan, base)
    except UnknownLayerError as err:
        field_name = "freeze.boundary" if plan.kind == "boundary" else "freeze.trainable"
        raise ConfigError([f"{field_name} {err}"]) from err


def _apply_freeze_plan(plan: FreezePlan, base: Any) -> None:
    tree = as_tree(base)
    if plan.kind == "all_frozen":
        freeze_all(tree)
    elif plan.kind == "all_trainable":
        unfreeze_all(tree, keep_bn_frozen=plan.keep_bn_frozen)
    elif plan.kind == "boundary":
        if plan.boundary is None:  # what TransferConfig.problems() says of it
            raise ConfigError(
                ["freeze.boundary must name the first trainable layer when freeze.kind is 'boundary'"]
            )
        freeze_up_to(tree, plan.boundary, keep_bn_frozen=plan.keep_bn_frozen)
    elif plan.kind == "explicit":
        nodes = [tree.find(p) for p in plan.trainable]  # every name checked before any flag changes
        freeze_all(tree)
        if nodes:
            set_many(tree, nodes, True, keep_bn_frozen=False)
    else:
        raise ConfigError(
            [f"freeze.kind must be one of {', '.join(map(repr, FREEZE_KINDS))}, got {plan.kind!r}"]
        )
