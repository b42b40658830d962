"""LayerTree's Python side, driven by simulated front-end messages."""

from __future__ import annotations

import json
import math

import pytest

from transfer_widgets import LayerTree, freeze_all

from ..unit.model_corpus import BUILDERS
from .front_end import FrontEnd


class Recorder(FrontEnd):
    """The layer tree's front end, with look-ups into the sent structure."""

    def node(self, name: str) -> dict:
        """One node of the sent structure, as a dict of its columns' entries."""
        columns = self.widget.tree["columns"]
        i = columns["name"].index(name)
        return {"id": i, **{key: values[i] for key, values in columns.items()}}


@pytest.fixture
def tree():
    widget = LayerTree(BUILDERS["small_cnn_in_functional"]())
    return Recorder(widget)


def trainable_count(model):
    return sum(math.prod(w.shape) for w in model.trainable_weights)


def test_initial_payload_describes_every_node_once(tree):
    payload = tree.widget.tree
    columns = payload["columns"]
    n = len(columns["name"])
    assert all(len(values) == n for values in columns.values())
    assert columns["kind"][0] == "model" and columns["parent"][0] == -1
    assert all(parent < i for i, parent in enumerate(columns["parent"]))  # pre-order
    block = tree.node("block_2")
    assert block["kind"] == "block" and block["cls"] == "Block · 3 layers"
    children = [columns["name"][i] for i, parent in enumerate(columns["parent"]) if parent == block["id"]]
    assert children == ["block_2_conv", "block_2_bn", "block_2_relu"]
    assert tree.node("block_2_bn")["bn"] is True
    assert tree.node("head")["shape"] == "(None, 3)"
    assert payload["summary"]["total"] == tree.widget.model.count_params()
    inputs = [i for i, flag in enumerate(columns["input"]) if flag]
    assert [columns["cls"][i] for i in inputs] == ["InputLayer"]  # the model's own input, no flag
    assert payload["state"] == [0 if i in inputs else 1 for i in range(n)]


def test_flags_trait_holds_the_current_flags_for_saved_state():
    """Saved widget state holds synced traits only: a tree shown after freeze_all()
    must embed every layer frozen, not the flags it was built with."""
    model = BUILDERS["small_cnn_in_functional"]()
    widget = LayerTree(model)
    n = len(widget.tree["columns"]["name"])
    assert widget.flags["state"] == widget.tree["state"] and len(widget.flags["state"]) == n
    freeze_all(model)
    state = widget.get_state()["flags"]
    assert set(state["state"]) == {0} and state["summary"]["trainable"] == 0
    assert state["trainable_params"] == [0] * n
    widget.unfreeze_all()
    assert widget.get_state()["flags"]["summary"]["trainable"] == trainable_count(model) > 0


def test_hello_answers_with_full_flags(tree):
    msg = tree.click(type="hello")
    assert msg["type"] == "flags" and msg["full"]
    assert msg["ids"] == list(range(len(tree.widget.tree["columns"]["name"])))


def test_toggle_changes_the_model_and_sends_only_changed_rows(tree):
    model = tree.widget.model
    head = tree.node("head")
    msg = tree.click(type="toggle", id=head["id"])
    assert model.get_layer("head").trainable is False
    assert set(msg["ids"]) == {head["id"], 0}  # the row and the (now mixed) root
    assert msg["state"][msg["ids"].index(head["id"])] == 0
    assert msg["summary"]["trainable"] == trainable_count(model)


def test_mixed_block_with_only_bn_frozen_toggles_to_frozen(tree):
    block = tree.node("block_2")
    tree.click(type="freeze_all")
    msg = tree.click(type="toggle", id=block["id"])  # unfreeze: BatchNorm kept frozen
    assert msg["state"][msg["ids"].index(block["id"])] == 2
    msg = tree.click(type="toggle", id=block["id"])  # clicking the mixed block freezes it
    assert msg["state"][msg["ids"].index(block["id"])] == 0


def test_range_sets_every_row_and_bn_rows_named_explicitly(tree):
    tree.click(type="freeze_all")
    ids = [tree.node(n)["id"] for n in ("block_1_conv", "block_1_bn", "block_1_relu")]
    tree.click(type="set", ids=ids, value=True)
    model = tree.widget.model
    backbone = model.get_layer("backbone")
    assert [backbone.get_layer(n).trainable for n in ("block_1_conv", "block_1_bn", "block_1_relu")] == [
        True
    ] * 3
    assert backbone.trainable is True and model.trainable is True


def test_boundary_freezes_everything_before_the_row(tree):
    msg = tree.click(type="boundary", id=tree.node("block_3")["id"])
    backbone = tree.widget.model.get_layer("backbone")
    flags = {layer.name: layer.trainable for layer in backbone.layers}
    assert not any(flags[f"block_{b}_{k}"] for b in (1, 2) for k in ("conv", "bn", "relu"))
    assert flags["block_3_conv"] and flags["block_3_relu"] and not flags["block_3_bn"]
    assert msg["summary"]["trainable"] == trainable_count(tree.widget.model)


def test_keep_bn_frozen_off_unfreezes_batchnorm(tree):
    tree.widget.keep_bn_frozen = False
    tree.click(type="freeze_all")
    tree.click(type="unfreeze_all")
    assert tree.widget.model.get_layer("backbone").get_layer("block_1_bn").trainable is True


def test_freezing_api_updates_displayed_trees_by_itself(tree):
    backbone = tree.widget.model.get_layer("backbone")
    freeze_all(backbone)  # a sub-model of the shown model, from another cell
    msg = tree.sent[-1]
    assert msg["type"] == "flags"
    assert msg["summary"]["trainable"] == trainable_count(tree.widget.model) > 0
    other = LayerTree(BUILDERS["sequential_mlp"]())
    count = len(tree.sent)
    freeze_all(other.model)  # another model: this tree stays quiet
    assert len(tree.sent) == count


def test_python_changes_show_after_refresh(tree):
    for layer in tree.widget.model.layers:
        layer.trainable = False
    tree.widget.refresh()
    msg = tree.sent[-1]
    assert msg["type"] == "flags" and not msg["full"]
    assert set(msg["state"]) == {0}
    assert msg["summary"]["trainable"] == 0


def test_refresh_resends_structure_when_layers_change(tree):
    import keras

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    widget = LayerTree(model)
    before = widget.tree
    model.add(keras.layers.Dense(4))
    widget.refresh()
    assert len(widget.tree["columns"]["name"]) == len(before["columns"]["name"]) + 1


def test_disabled_refuses_edits_with_a_readable_error(tree):
    tree.widget.disabled = True
    msg = tree.click(type="freeze_all")
    assert msg["type"] == "error" and "read-only" in msg["message"]
    assert tree.widget.model.get_layer("head").trainable is True
    with pytest.raises(RuntimeError, match="read-only"):
        tree.widget.set_trainable("head", False)


def test_bad_messages_answer_with_errors_not_exceptions(tree):
    assert "out of date" in tree.click(type="toggle", id=10_000)["message"]
    assert "Unknown layer tree message" in tree.click(type="explode")["message"]


def test_python_api_and_unknown_names(tree):
    tree.widget.freeze_up_to("block_2_conv")
    assert tree.widget.summary["trainable"] == trainable_count(tree.widget.model)
    with pytest.raises(LookupError, match="Closest matches: 'block_2_conv'"):
        tree.widget.set_trainable("block_2_cnv", True)


def test_untrusted_names_travel_as_plain_data():
    import keras

    name = "<img src=x onerror=alert(1)>"
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name=name)])
    widget = LayerTree(model)
    assert name in widget.tree["columns"]["name"]
    json.dumps(widget.tree)  # plain JSON, rendered with textContent in the browser


def test_toggle_delta_is_small_compared_with_the_tree(tree):
    size = len(json.dumps(tree.widget.tree))
    msg = tree.click(type="toggle", id=tree.node("block_1_conv")["id"])
    assert len(json.dumps(msg)) < size / 5
