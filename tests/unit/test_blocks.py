"""Block grouping from layer names alone."""

from transfer_widgets.model.blocks import group_names, is_auto_name, prefix_key, suffix_key


def labels(groups):
    return [g.label or "-" for g in groups]


def test_keys():
    assert prefix_key("block_13_expand_BN") == "block_13"
    assert prefix_key("conv4_block2_1_conv") == "conv4"
    assert prefix_key("block6a_se_excite") == "block6a"
    assert prefix_key("stem_conv") == "stem"
    assert prefix_key("Conv1") is None
    assert suffix_key("normal_add_1_5") == "5"
    assert suffix_key("normal_concat") is None


def test_auto_names_follow_keras_class_naming():
    assert is_auto_name("re_lu_3", "ReLU")
    assert is_auto_name("conv2d_94", "Conv2D")
    assert is_auto_name("batch_normalization", "BatchNormalization")
    assert not is_auto_name("block_1_relu", "ReLU")


def test_runs_become_blocks_and_short_runs_stay_flat():
    names = ["input", "block_1_a", "block_1_b", "block_1_c", "block_2_a", "block_2_b", "pool_1"]
    classes = ["InputLayer"] + ["Dense"] * 6
    assert labels(group_names(names, classes)) == ["-", "block_1", "-", "-", "-"]


def test_keras_named_layers_inside_a_block_join_it():
    names = ["block1_conv", "activation_7", "block1_bn", "block1_out", "add_3"]
    classes = ["Conv2D", "Activation", "BatchNormalization", "ReLU", "Add"]
    groups = group_names(names, classes)
    assert labels(groups) == ["block1", "-"]
    assert groups[0].items == [0, 1, 2, 3]


def test_stages_nest_their_blocks():
    names = [f"conv2_block{b}_{i}_conv" for b in (1, 2) for i in range(3)]
    groups = group_names(names, ["Conv2D"] * len(names))
    assert labels(groups) == ["conv2"]
    assert labels(groups[0].children) == ["conv2_block1", "conv2_block2"]
    assert groups[0].children[1].items == [3, 4, 5]


def test_cell_suffixes_group_when_prefixes_do_not():
    names = [f"{kind}_{cell}" for cell in (0, 1) for kind in ("normal_conv_1", "normal_bn_1", "normal_add_2")]
    groups = group_names(names, ["Layer"] * len(names))
    assert labels(groups) == ["0", "1"]
    assert groups[0].suffix


def test_names_with_newlines_and_odd_characters_group_without_errors():
    names = ["a\nb_1_x", "a\nb_1_y", "a\nb_1_z", '"); import os #']
    groups = group_names(names, ["Dense"] * 4)
    assert labels(groups) == ["a\nb_1", "-"]
    assert not is_auto_name("dense\n_3", "Dense")


def nasnet_like() -> tuple[list[str], list[str]]:
    """NASNet's order: the next cell's ``adjust_relu_1_*`` is built amid the current cell,
    and cells after the stem share only their number."""
    names: list[str] = []
    for cell, next_cell in (("stem_1", "stem_2"), ("stem_2", "0"), ("0", "1"), ("1", "2")):
        names += [f"separable_conv_1_reduction_left{k}_{cell}" for k in range(4)]
        names += [f"adjust_relu_1_{next_cell}"]
        names += [f"reduction_add{k}_{cell}" for k in range(3)] + [f"reduction_concat_{cell}"]
    return names, ["Layer"] * len(names)


def test_a_cell_broken_by_the_next_cells_first_layer_stays_one_block():
    names, classes = nasnet_like()
    groups = group_names(names, classes)
    assert labels(groups) == ["stem_1", "stem_2", "0", "1"]  # each once
    assert [len(g.items) for g in groups] == [9, 9, 9, 9]
    assert [i for g in groups for i in g.items] == list(range(len(names)))  # order kept
    assert names[groups[0].items[4]] == "adjust_relu_1_stem_2"  # in the block it was built in


def test_cells_named_by_number_read_as_cells():
    import keras

    from transfer_widgets.model import ModelTree

    names, _ = nasnet_like()
    inputs = keras.Input((2,))
    x = inputs
    for name in names:
        x = keras.layers.Activation("linear", name=name)(x)
    tree = ModelTree(keras.Model(inputs, x, name="nas"))
    blocks = [n for n in tree.nodes if n.kind == "block"]
    assert [b.name for b in blocks] == ["stem_1", "stem_2", "cell_0", "cell_1"]
    assert tree.find("cell_0").path == "nas/*_0"
