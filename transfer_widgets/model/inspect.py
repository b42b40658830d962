"""Read a Keras model into a tree of plain nodes: structure, shapes, parameter counts.

The model holds the trainable flags; a :class:`ModelTree` only reads them. It is
built once per model structure and then refreshed cheaply after every flag
change (:meth:`ModelTree.refresh`), which is what keeps a toggle in the layer tree
widget fast on a 1,000-layer backbone.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

import keras

from .blocks import Group, group_names

#: What a node of the tree is: a (nested) model, a block of layers grouped by name, or a layer.
NodeKind: TypeAlias = Literal["model", "block", "layer"]
MODEL: NodeKind = "model"
BLOCK: NodeKind = "block"
LAYER: NodeKind = "layer"

#: A tensor's shape, batch dimension included (``(None, 7, 7, 1280)``).
Shape: TypeAlias = tuple[int | None, ...]
#: A layer's output shape: one shape, a list (several outputs) or a dict (named
#: outputs); None where the layer has no graph shapes (a subclassed model).
OutputShape: TypeAlias = Shape | list[Shape] | dict[str, Shape] | None


class UnknownLayerError(LookupError):
    """A layer name or path that the model does not have."""


@dataclass(eq=False)
class LayerNode:
    """One row of the tree: a model, a block of layers, or a layer.

    ``trainable`` is True, False, or None for a parent whose children differ.
    ``path`` is unique in the tree: container names joined by ``/``, then the
    layer name; block paths end in ``*`` (``mobilenetv2_1.00_224/block_13_*``).
    """

    path: str
    name: str
    class_name: str
    kind: NodeKind
    output_shape: OutputShape = None
    params: int = 0
    trainable_params: int = 0
    non_trainable_params: int = 0
    trainable: bool | None = False
    #: Parameters that train while this node is trainable throughout: every variable
    #: that ``layer.trainable = True`` makes (or leaves) trainable, under it. Fixed for
    #: a structure; ``trainable_params`` equals it whenever ``trainable`` is True unless
    #: a variable's own flag was set apart from its layer's.
    full_trainable_params: int = 0
    children: list[LayerNode] = field(default_factory=list)
    layer: keras.Layer | None = field(default=None, repr=False)
    is_batch_norm: bool = False
    #: True for a model's ``InputLayer``: no weights and no flag that means anything.
    #: It reads as frozen (nothing trains there) and does not count towards its
    #: parent's state, so a frozen backbone under it is not "mixed".
    is_input: bool = False
    #: True for the second and later appearances of a layer object shared between
    #: sub-models: its parameters are counted at its first appearance only.
    shared: bool = False
    id: int = -1
    parent: LayerNode | None = field(default=None, repr=False)

    @property
    def keras_layer(self) -> keras.Layer:
        """The Keras layer (or model) of a layer or model node; a block has none."""
        if self.layer is None:
            raise TypeError(f"{self.path!r} is a block of layers, not a Keras layer")
        return self.layer

    def walk(self) -> Iterator[LayerNode]:
        """This node and all below it, in pre-order (the model's layer order)."""
        stack = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))

    def leaves(self) -> list[LayerNode]:
        """The layers under this node (itself if it is a layer), in order."""
        return [n for n in self.walk() if not n.children]


def check_model(model: Any) -> keras.Model:
    """Return ``model`` if it is a built, non-empty Keras 3 model; else say what to pass."""
    if not isinstance(model, keras.Model):
        kind = f"{type(model).__module__}.{type(model).__qualname__}"
        hint = (
            " Wrap a single layer in a model first, e.g. keras.Sequential([keras.Input(shape), layer])."
            if isinstance(model, keras.Layer)
            else " For example keras.applications.MobileNetV2(weights=None),"
            " or keras.models.load_model(path)."
        )
        raise TypeError(f"Expected a Keras 3 model (keras.Model), got {kind}.{hint}")
    if not model.layers:
        raise ValueError(
            f"Model {model.name!r} has no layers, so there is nothing to show or freeze. "
            "Pass a model with at least one layer."
        )
    if not model.built:
        raise ValueError(
            f"Model {model.name!r} is not built yet, so its weights and shapes do not exist. "
            "Build it first: start it with keras.Input(shape), call model.build(input_shape), "
            "or call it once on a batch of data."
        )
    return model


def _switchable_variables(layer: keras.Layer | None) -> set[int]:
    """Ids of the variables that ``layer.trainable = True`` makes trainable (its own and
    its sub-layers'); empty where this Keras keeps no such list."""
    if layer is None:
        return set()
    try:
        return {id(v) for sub in layer._flatten_layers(include_self=True) for v in sub._trainable_variables}
    except AttributeError:  # another Keras: only the flags set now count
        return set()


def _output_shape(layer: keras.Layer) -> OutputShape:
    try:
        output = layer.output
    except (AttributeError, ValueError, RuntimeError):
        return None
    if isinstance(output, (list, tuple)):
        return [tuple(t.shape) for t in output]
    if isinstance(output, dict):
        return {k: tuple(t.shape) for k, t in output.items()}
    return tuple(output.shape)


def format_shape(shape: OutputShape) -> str | None:
    """``(None, 7, 7, 1280)`` as a short string; None stays None."""
    if shape is None:
        return None
    if isinstance(shape, dict):
        return "{" + ", ".join(f"{k}: {format_shape(v)}" for k, v in shape.items()) + "}"
    if isinstance(shape, list):
        return "[" + ", ".join(_format_dims(s) for s in shape) + "]"
    return _format_dims(shape)


def _format_dims(shape: Shape) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


class ModelTree:
    """The tree of one model, with flat indexes for fast refreshes and look-ups.

    ``nodes`` lists every node in pre-order with ``node.id`` its index;
    ``leaves`` lists the layers in the model's topological order.
    """

    def __init__(self, model: Any) -> None:
        self.model = check_model(model)
        self._seen_layers: dict[int, LayerNode] = {}
        self._seen_vars: set[int] = set()
        # Per node: the variables counted there, as (variable, size).
        self._own_vars: dict[int, list[tuple[Any, int]]] = {}
        self.root = self._container(self.model, self.model.name, parent=None)
        self.nodes: list[LayerNode] = list(self.root.walk())
        for i, node in enumerate(self.nodes):
            node.id = i
        self.leaves = [n for n in self.nodes if not n.children]
        self._by_path = {n.path: n for n in self.nodes}
        self._by_name: dict[str, list[LayerNode]] = {}
        for node in self.nodes:
            self._by_name.setdefault(node.name, []).append(node)
        self._var_lists = [self._own_vars.get(id(n), []) for n in self.nodes]
        self._count_full_trainable()
        self.refresh()

    # -- building --------------------------------------------------------------

    def _container(self, model: keras.Model, path: str, parent: LayerNode | None) -> LayerNode:
        node = self._layer_node(model, path, parent, kind=MODEL)
        if node.shared:
            return node
        layers = list(model.layers)
        children: list[LayerNode] = []
        used_paths: set[str] = set()
        groups = group_names([layer.name for layer in layers], [type(layer).__name__ for layer in layers])
        self._add_groups(groups, layers, path, node, children, used_paths)
        node.children = children
        # Weights a subclassed model owns directly, outside its sub-layers.
        self._own_vars[id(node)] = self._claim(model.weights)
        return node

    def _add_groups(
        self,
        groups: list[Group],
        layers: list[keras.Layer],
        path: str,
        parent: LayerNode,
        out: list[LayerNode],
        used_paths: set[str],
    ) -> None:
        for group in groups:
            if group.label is None:
                layer = layers[group.items[0]]
                child_path = _unique(f"{path}/{layer.name}", used_paths)
                if isinstance(layer, keras.Model):
                    out.append(self._container(layer, child_path, parent))
                else:
                    out.append(self._layer_node(layer, child_path, parent, kind=LAYER))
                continue
            block_path = _unique(
                f"{path}/*_{group.label}" if group.suffix else f"{path}/{group.label}_*", used_paths
            )
            block = LayerNode(
                path=block_path,
                # NASNet's cells share only a number (normal_add_1_5): "cell_5", not "5"
                name=f"cell_{group.label}" if group.suffix and group.label.isdigit() else group.label,
                class_name=f"Block · {len(group.items)} layers",
                kind=BLOCK,
                parent=parent,
            )
            if group.children:
                self._add_groups(group.children, layers, path, block, block.children, used_paths)
            else:
                self._add_groups(
                    [Group([i]) for i in group.items], layers, path, block, block.children, used_paths
                )
            out.append(block)

    def _layer_node(
        self, layer: keras.Layer, path: str, parent: LayerNode | None, kind: NodeKind
    ) -> LayerNode:
        first = self._seen_layers.get(id(layer))
        node = LayerNode(
            path=path,
            name=layer.name,
            class_name=type(layer).__name__,
            kind=kind,
            output_shape=_output_shape(layer),
            layer=layer,
            is_batch_norm=isinstance(layer, keras.layers.BatchNormalization),
            is_input=isinstance(layer, keras.layers.InputLayer),
            shared=first is not None,
            parent=parent,
        )
        if first is None:
            self._seen_layers[id(layer)] = node
            if kind == LAYER:
                self._own_vars[id(node)] = self._claim(layer.weights)
        return node

    def _claim(self, variables: Iterable[Any]) -> list[tuple[Any, int]]:
        """Variables not yet counted elsewhere in the tree, with their sizes."""
        claimed: list[tuple[Any, int]] = []
        for v in variables:
            if id(v) not in self._seen_vars:
                self._seen_vars.add(id(v))
                claimed.append((v, _size(v)))
        return claimed

    def _count_full_trainable(self) -> None:
        """Set every node's ``full_trainable_params``: what trains once it is trainable.

        A variable trains then if its flag is set now or if its layer's ``trainable``
        setter would set it (Keras keeps those in each layer's ``_trainable_variables``;
        BatchNorm's moving statistics are not among them).
        """
        for node, var_list in zip(reversed(self.nodes), reversed(self._var_lists), strict=True):
            full = 0
            switchable: set[int] | None = None
            for v, size in var_list:
                if v.trainable:
                    full += size
                    continue
                if switchable is None:
                    switchable = _switchable_variables(node.layer)
                if id(v) in switchable:
                    full += size
            for child in node.children:
                full += child.full_trainable_params
            node.full_trainable_params = full

    # -- reading flags -------------------------------------------------------------

    def refresh(self) -> None:
        """Re-read trainable flags and parameter counts from the model.

        A variable trains when the root model is trainable and the variable's own
        flag is set: that is exactly what ``model.trainable_weights`` returns.
        """
        root_trainable = bool(self.model.trainable)
        for node, var_list in zip(reversed(self.nodes), reversed(self._var_lists), strict=True):
            params = trainable_params = 0
            for v, size in var_list:
                params += size
                if root_trainable and v.trainable:
                    trainable_params += size
            if node.children:
                states: set[bool | None] = set()
                for child in node.children:
                    params += child.params
                    trainable_params += child.trainable_params
                    if not child.is_input:
                        states.add(child.trainable)
                node.trainable = states.pop() if len(states) == 1 else None if states else False
            else:
                node.trainable = root_trainable and bool(node.keras_layer.trainable) and not node.is_input
            node.params = params
            node.trainable_params = trainable_params
            node.non_trainable_params = params - trainable_params

    # -- look-ups -------------------------------------------------------------------

    def find(self, path_or_name: str | LayerNode) -> LayerNode:
        """The node with this path (with or without the root model's name first),
        or the layer or block with this (unique) name.

        Raises :class:`UnknownLayerError` naming the closest matches.
        """
        if isinstance(path_or_name, LayerNode):
            return path_or_name
        if not isinstance(path_or_name, str):
            raise TypeError(
                f"A layer is named by its name or path (a str), got {type(path_or_name).__name__}."
            )
        node = self._by_path.get(path_or_name) or self._by_path.get(f"{self.root.name}/{path_or_name}")
        if node is not None:
            return node
        named = self._by_name.get(path_or_name, [])
        if len(named) == 1:
            return named[0]
        if len(named) > 1:
            paths = ", ".join(repr(n.path) for n in named)
            raise UnknownLayerError(
                f"{path_or_name!r} names {len(named)} layers; pass one of their paths: {paths}."
            )
        candidates = list(self._by_path) + list(self._by_name)
        close = difflib.get_close_matches(path_or_name, candidates, n=5, cutoff=0.5)
        hint = f" Closest matches: {', '.join(map(repr, close))}." if close else ""
        raise UnknownLayerError(f"No layer or block {path_or_name!r} in model {self.model.name!r}.{hint}")


def _size(variable: Any) -> int:
    # KerasVariable keeps its shape as a plain tuple in `_shape`; the public
    # `.shape` goes through tf.TensorShape, which is a third of the build time
    # on NASNetLarge. Fall back to it for any other variable type.
    shape = getattr(variable, "_shape", None)
    return math.prod(shape if isinstance(shape, tuple) else variable.shape)


def _unique(path: str, used: set[str]) -> str:
    """Make a sibling path unique (duplicate names get ``#2``, ``#3``...)."""
    candidate, n = path, 1
    while candidate in used:
        n += 1
        candidate = f"{path}#{n}"
    used.add(candidate)
    return candidate


def inspect_model(model: Any) -> LayerNode:
    """The model as a tree of :class:`LayerNode` (models, blocks, layers)."""
    return ModelTree(model).root
