"""inspect_model over a corpus of model shapes: structure, shapes and exact counts."""

from __future__ import annotations

import math
import random

import keras
import pytest

from transfer_widgets import freeze_all, freeze_up_to, inspect_model, set_trainable, unfreeze_all
from transfer_widgets.model import ModelTree, toggle

from .model_corpus import BUILDERS, FILE_BUILDERS


def trainable_weight_count(model) -> int:
    return sum(math.prod(w.shape) for w in model.trainable_weights)


@pytest.fixture(params=sorted(BUILDERS) + sorted(FILE_BUILDERS))
def model(request, tmp_path):
    if request.param in FILE_BUILDERS:
        return FILE_BUILDERS[request.param](tmp_path)
    return BUILDERS[request.param]()


def check_counts(tree: ModelTree) -> None:
    model = tree.model
    assert tree.root.params == model.count_params()
    assert tree.root.trainable_params == trainable_weight_count(model)
    for node in tree.nodes:
        assert node.params == node.trainable_params + node.non_trainable_params
        if node.children:
            states = {c.trainable for c in node.children if not c.is_input}
            expected = states.pop() if len(states) == 1 else None if states else False
            assert node.trainable == expected, node.path
        else:
            is_input = isinstance(node.layer, keras.layers.InputLayer)
            assert node.is_input == is_input, node.path
            assert node.trainable == (model.trainable and node.layer.trainable and not is_input), node.path


def test_counts_match_keras_after_random_freeze_plans(model):
    tree = ModelTree(model)
    check_counts(tree)
    rng = random.Random(0)
    for _ in range(12):
        op = rng.choice(["set", "set", "toggle", "boundary", "freeze_all", "unfreeze_all"])
        node = rng.choice(tree.nodes)
        if op == "set":
            set_trainable(tree, node, rng.random() < 0.5, keep_bn_frozen=rng.random() < 0.5)
        elif op == "toggle":
            toggle(tree, node)
        elif op == "boundary":
            freeze_up_to(tree, rng.choice(tree.leaves))
        elif op == "freeze_all":
            freeze_all(tree)
        else:
            unfreeze_all(tree, keep_bn_frozen=rng.random() < 0.5)
        check_counts(tree)
        # A tree built afresh reads the same flags: nothing is cached but the structure.
        fresh = ModelTree(model)
        assert [(n.path, n.trainable, n.trainable_params) for n in fresh.nodes] == [
            (n.path, n.trainable, n.trainable_params) for n in tree.nodes
        ]


def test_paths_are_unique_and_every_layer_appears(model):
    tree = ModelTree(model)
    paths = [n.path for n in tree.nodes]
    assert len(paths) == len(set(paths))
    shown = {id(n.layer) for n in tree.nodes if n.layer is not None}
    assert all(id(layer) in shown for layer in model.layers)


def test_nested_backbone_is_a_model_node_with_blocks():
    root = inspect_model(BUILDERS["mobilenet_in_functional"]())
    base = next(c for c in root.children if c.kind == "model")
    assert base.class_name == "Functional"
    assert base.output_shape == (None, 1, 1, 1280)
    block = next(c for c in base.children if c.name == "block_13")
    assert block.kind == "block"
    assert block.path == f"{base.path}/block_13_*"
    assert [c.name for c in block.children][:2] == ["block_13_expand", "block_13_expand_BN"]
    assert block.params == sum(c.params for c in block.children) > 0
    assert len(base.children) <= 30  # 154 layers read as about twenty rows


def test_applications_group_into_named_blocks():
    resnet = inspect_model(BUILDERS["resnet50"]())
    stage = next(c for c in resnet.children if c.name == "conv4")
    assert [c.name for c in stage.children] == [f"conv4_block{i}" for i in range(1, 7)]
    assert len(resnet.children) <= 20
    efficientnet = inspect_model(BUILDERS["efficientnet_b0"]())
    assert "block6a" in [c.name for c in efficientnet.children]
    assert len(efficientnet.children) <= 25


def test_layer_shared_between_submodels_is_counted_once():
    model = BUILDERS["layer_shared_between_submodels"]()
    tree = ModelTree(model)
    copies = [n for n in tree.nodes if n.name == "shared_dense"]
    assert [n.shared for n in copies] == [False, True]
    assert copies[1].params == 0 and copies[0].params == 4 * 4 + 4
    assert tree.root.params == model.count_params()


def test_subclassed_model_own_weights_count_at_the_model():
    model = BUILDERS["subclassed_own_weight"]()
    root = inspect_model(model)
    assert root.params == model.count_params() == 5 * 3 + 3 + 3
    assert root.children[0].params == 18
    assert root.children[0].output_shape is None  # subclassed layers have no graph shapes


def test_multi_output_shapes():
    root = inspect_model(BUILDERS["multi_output"]())
    assert root.output_shape == [(None, 2), (None, 3)]


def test_refresh_reads_flags_changed_from_python():
    model = BUILDERS["sequential_in_sequential"]()
    tree = ModelTree(model)
    model.get_layer("inner").layers[0].trainable = False
    tree.refresh()
    inner = tree.find("outer/inner")
    assert inner.trainable is None
    assert tree.root.trainable_params == trainable_weight_count(model)


def test_flags_mean_what_keras_trains():
    """One optimizer step changes weights exactly where the tree says 'trainable'."""
    model = BUILDERS["small_cnn_in_functional"]()
    tree = ModelTree(model)
    freeze_all(tree)
    set_trainable(tree, "backbone/block_2_*", True)  # its BatchNorm stays frozen
    set_trainable(tree, "head", True)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    before = {id(v): keras.ops.convert_to_numpy(v).copy() for v in model.weights}
    x = keras.random.normal((16, 8, 8, 3), seed=1)
    model.fit(x, keras.ops.arange(16) % 3, epochs=1, batch_size=16, verbose=0)
    changed = {id(v) for v in model.weights if (keras.ops.convert_to_numpy(v) != before[id(v)]).any()}
    assert changed == {id(v) for v in model.trainable_weights}
    trained_layers = {leaf.name for leaf in tree.leaves if leaf.trainable_params}
    assert trained_layers == {"block_2_conv", "head"}


def test_the_input_layer_reads_frozen_and_leaves_its_parent_whole():
    """A functional model's InputLayer has no weights: it is never "trainable", so a model
    whose backbone is frozen reads frozen (not mixed) and the freeze boundary (the first
    trainable layer) is not the input at the top."""
    base = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="d")], name="base")
    inputs = keras.Input((4,), name="image")
    model = keras.Model(inputs, keras.layers.Dense(2, name="out")(base(inputs)), name="m")
    tree = ModelTree(model)
    image = tree.find("image")
    assert image.is_input and image.trainable is False and image.params == 0
    assert tree.root.trainable is True  # everything with weights trains
    freeze_all(model)
    tree.refresh()
    assert tree.root.trainable is False
    unfreeze_all(model)
    freeze_all(base)
    tree.refresh()
    assert tree.root.trainable is None and tree.find("base").trainable is False
    assert [leaf.name for leaf in tree.leaves if leaf.trainable] == ["out"]
