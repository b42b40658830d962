"""Freeze and unfreeze layers: the flags live on the Keras model itself.

Every operation works on leaves (the layers) and then makes each container's own
``trainable`` flag honest (True when anything under it trains), so
``base_model.trainable`` keeps meaning what users expect.

BatchNorm policy: when a bulk operation unfreezes layers, BatchNormalization
layers stay frozen unless ``keep_bn_frozen=False``: their γ / β keep the
pretrained values. (The Keras transfer-learning guide does not freeze them: it keeps
BatchNorm in inference mode by calling the base with ``training=False``, which the
assembled model always does, and trains γ / β; ``fine_tune()`` follows it by default.)
A BatchNorm layer named on its own is set as asked.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from .inspect import LayerNode, ModelTree

FlagListener = Callable[[ModelTree], object]

#: Told after every operation here (weakly held), so a controller, or a layer
#: tree shown without one, follows ``freeze_all(model)`` run in a later cell.
_listeners: list[weakref.ref[Any]] = []


def subscribe(listener: FlagListener) -> Callable[[], None]:
    """Call ``listener(tree)`` after every freezing operation (``tree.model`` is the
    model it changed); returns a function that unsubscribes.

    The listener is held weakly (a bound method lives as long as its object), so a
    forgotten controller or view never stays alive because of it; the owner keeps
    a reference to a plain function it passes.
    """
    ref: weakref.ref[Any] = (
        weakref.WeakMethod(listener) if hasattr(listener, "__self__") else weakref.ref(listener)
    )
    _listeners.append(ref)

    def unsubscribe() -> None:
        if ref in _listeners:
            _listeners.remove(ref)

    return unsubscribe


def _notify(tree: ModelTree) -> None:
    for ref in list(_listeners):
        listener = ref()
        if listener is None:
            _listeners.remove(ref)
        else:
            listener(tree)


def as_tree(model_or_tree: Any) -> ModelTree:
    """A :class:`ModelTree` for a model (built now) or the tree itself."""
    return model_or_tree if isinstance(model_or_tree, ModelTree) else ModelTree(model_or_tree)


def _bulk_value(leaf: LayerNode, flag: bool, keep_bn_frozen: bool) -> bool:
    """The flag a bulk operation gives one layer under the BatchNorm policy."""
    return flag and not (keep_bn_frozen and leaf.is_batch_norm)


def _apply(tree: ModelTree, assignments: Iterable[tuple[LayerNode, bool]]) -> None:
    """Set (leaf, flag) pairs on the model, fix container flags, refresh counts."""
    for leaf, value in assignments:
        layer = leaf.keras_layer
        if layer.trainable != value:
            layer.trainable = value
    _sync_container_flags(tree)
    tree.refresh()
    _notify(tree)


def _sync_container_flags(tree: ModelTree) -> None:
    """Set each model container's flag to whether any layer under it is trainable.

    Keras's setter recurses into sub-layers, so a container that must turn on is
    switched with the setter and its descendants' flags put back as they were.
    """
    for node in reversed(tree.nodes):  # children before parents
        if node.kind != "model" or node.shared or not node.children:
            continue
        container = node.keras_layer
        wanted = any(leaf.keras_layer.trainable for leaf in node.leaves())
        if container.trainable == wanted:
            continue
        below = [n.layer for n in node.walk() if n is not node and n.layer is not None]
        saved = [layer.trainable for layer in below]
        container.trainable = wanted
        for layer, flag in zip(below, saved, strict=True):  # pre-order: containers before their children
            layer.trainable = flag


def set_trainable(model: Any, path: str | LayerNode, flag: bool, *, keep_bn_frozen: bool = True) -> LayerNode:
    """Set one layer, block or sub-model (recursively) trainable or frozen.

    Returns the node, with its counts refreshed.
    """
    tree = as_tree(model)
    node = tree.find(path)
    if not node.children:  # a single layer is set exactly as asked
        keep_bn_frozen = False
    _apply(tree, ((leaf, _bulk_value(leaf, bool(flag), keep_bn_frozen)) for leaf in node.leaves()))
    return node


def toggle(model: Any, path: str | LayerNode, *, keep_bn_frozen: bool = True) -> bool:
    """Flip a node the way a checkbox does; returns the value that was set.

    A frozen or mixed node becomes trainable, a trainable one frozen; a mixed node
    whose only frozen layers are BatchNorm kept frozen by the policy is frozen
    instead, so repeated clicks never get stuck.
    """
    tree = as_tree(model)
    node = tree.find(path)
    if node.trainable is None:
        flag = any(
            not leaf.keras_layer.trainable and not (keep_bn_frozen and leaf.is_batch_norm)
            for leaf in node.leaves()
        )
    else:
        flag = not node.trainable
    set_trainable(tree, node, flag, keep_bn_frozen=keep_bn_frozen)
    return flag


def set_many(
    model: Any, paths: Sequence[str | LayerNode], flag: bool, *, keep_bn_frozen: bool = True
) -> None:
    """Set several nodes at once (a shift-click range) with one refresh."""
    tree = as_tree(model)
    nodes = [tree.find(p) for p in paths]
    leaves: dict[int, LayerNode] = {}
    for node in nodes:
        for leaf in node.leaves():
            leaves[leaf.id] = leaf
    exact = {n.id for n in nodes if not n.children}  # single layers: set as asked
    _apply(
        tree,
        (
            (leaf, _bulk_value(leaf, bool(flag), keep_bn_frozen and leaf.id not in exact))
            for leaf in leaves.values()
        ),
    )


def freeze_all(model: Any) -> None:
    """Freeze every layer."""
    tree = as_tree(model)
    _apply(tree, ((leaf, False) for leaf in tree.leaves))


def unfreeze_all(model: Any, *, keep_bn_frozen: bool = True) -> None:
    """Make every layer trainable (BatchNorm kept frozen by default)."""
    tree = as_tree(model)
    _apply(tree, ((leaf, _bulk_value(leaf, True, keep_bn_frozen)) for leaf in tree.leaves))


def freeze_up_to(model: Any, layer_name: str | LayerNode, *, keep_bn_frozen: bool = True) -> None:
    """The freeze boundary: layers before ``layer_name`` frozen, from it on trainable.

    Order is the model's topological layer order (nested models included);
    naming a block or sub-model puts the boundary at its first layer.
    """
    tree = as_tree(model)
    first = tree.find(layer_name).leaves()[0]
    start = tree.leaves.index(first)
    _apply(
        tree, ((leaf, _bulk_value(leaf, i >= start, keep_bn_frozen)) for i, leaf in enumerate(tree.leaves))
    )
