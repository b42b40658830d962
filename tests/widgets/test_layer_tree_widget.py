"""LayerTree's Python side, driven by simulated front-end messages."""

from __future__ import annotations

import json
import math

import keras
import pytest

from transfer_widgets import LayerTree, freeze_all
from transfer_widgets.model import ModelTree
from transfer_widgets.widgets.layer_tree import decode_trainable_params

from ..unit.model_corpus import BUILDERS
from .front_end import FrontEnd


class Recorder(FrontEnd):
    """The layer tree's front end, with look-ups into the sent structure, and the synced
    traits that reached it (``synced``: trait names, in order)."""

    def __init__(self, widget):
        super().__init__(widget)
        self.synced: list[str] = []
        widget.observe(lambda change: self.synced.append(change.name), names=list(widget.keys))

    def node(self, name: str) -> dict:
        """One node of the sent structure, as a dict of its columns' entries."""
        columns = self.widget.tree["columns"]
        i = columns["name"].index(name)
        return {"id": i, **{key: values[i] for key, values in columns.items()}}

    def state(self, name: str) -> int:
        """The flag the ``flags`` trait shows for ``name`` (0 frozen, 1 trainable, 2 mixed)."""
        return int(self.widget.flags["state"][self.node(name)["id"]])

    def intent(self, **msg) -> None:
        """Send an intent the kernel applies: it answers in the ``flags`` trait, never a message."""
        self.widget._on_front_end_msg(self.widget, msg, [])
        assert self.sent == [], self.sent


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
    assert widget.flags["state"] == "".join(map(str, widget.tree["state"]))  # a digit a row
    assert len(widget.flags["state"]) == n
    freeze_all(model)
    state = widget.get_state()["flags"]
    assert set(state["state"]) == {"0"} and state["summary"]["trainable"] == 0
    assert state["trainable_params"] == {}  # every count is the 0 that "frozen" implies
    assert decode_trainable_params(state, widget.tree["columns"]["full_trainable"]) == [0] * n
    widget.unfreeze_all()
    assert widget.get_state()["flags"]["summary"]["trainable"] == trainable_count(model) > 0


def test_the_flags_trait_is_the_one_channel_of_the_flags(tree):
    """An intent changes the model and the ``flags`` trait, nothing else: no custom message
    repeats it (saved state, reloads and live views all read the trait)."""
    head = tree.node("head")
    before = list(tree.widget.flags["state"])
    tree.intent(type="toggle", id=head["id"])
    assert tree.synced == ["flags"]
    assert tree.widget.model.get_layer("head").trainable is False
    changed = [i for i, (a, b) in enumerate(zip(before, tree.widget.flags["state"], strict=True)) if a != b]
    assert changed == [0, head["id"]]  # the row and the (now mixed) root
    assert tree.state("head") == 0 and tree.widget.flags["state"][0] == "2"
    assert tree.widget.flags["summary"]["trainable"] == trainable_count(tree.widget.model)


def test_an_intent_that_changes_nothing_sends_nothing(tree):
    tree.intent(type="freeze_all")
    count = len(tree.synced)
    tree.intent(type="freeze_all")
    assert len(tree.synced) == count


def test_a_new_structure_and_its_flags_reach_the_view_together():
    """``tree`` and ``flags`` in one update: the view never holds a structure with the
    flags of another."""
    import keras

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    widget = LayerTree(model)
    updates: list[set[str]] = []
    widget.send_state = lambda key=None: updates.append(set(key) if isinstance(key, list | set) else {key})
    model.add(keras.layers.Dense(4))
    model.layers[-1].trainable = False
    widget.refresh()
    assert updates == [{"tree", "flags"}]
    assert len(widget.flags["state"]) == len(widget.tree["columns"]["name"])
    assert widget.flags["state"][-1] == "0"


def test_mixed_block_with_only_bn_frozen_toggles_to_frozen(tree):
    block = tree.node("block_2")
    tree.intent(type="freeze_all")
    tree.intent(type="toggle", id=block["id"])  # unfreeze: BatchNorm kept frozen
    assert tree.state("block_2") == 2
    tree.intent(type="toggle", id=block["id"])  # clicking the mixed block freezes it
    assert tree.state("block_2") == 0


def test_range_sets_every_row_and_bn_rows_named_explicitly(tree):
    tree.intent(type="freeze_all")
    ids = [tree.node(n)["id"] for n in ("block_1_conv", "block_1_bn", "block_1_relu")]
    tree.intent(type="set", ids=ids, value=True)
    model = tree.widget.model
    backbone = model.get_layer("backbone")
    assert [backbone.get_layer(n).trainable for n in ("block_1_conv", "block_1_bn", "block_1_relu")] == [
        True
    ] * 3
    assert backbone.trainable is True and model.trainable is True
    assert [tree.state(n) for n in ("block_1_conv", "block_1_bn", "block_1_relu")] == [1, 1, 1]


def test_boundary_freezes_everything_before_the_row(tree):
    tree.intent(type="boundary", id=tree.node("block_3")["id"])
    backbone = tree.widget.model.get_layer("backbone")
    flags = {layer.name: layer.trainable for layer in backbone.layers}
    assert not any(flags[f"block_{b}_{k}"] for b in (1, 2) for k in ("conv", "bn", "relu"))
    assert flags["block_3_conv"] and flags["block_3_relu"] and not flags["block_3_bn"]
    assert tree.widget.flags["summary"]["trainable"] == trainable_count(tree.widget.model)


def test_keep_bn_frozen_off_unfreezes_batchnorm(tree):
    tree.widget.keep_bn_frozen = False
    tree.intent(type="freeze_all")
    tree.intent(type="unfreeze_all")
    assert tree.widget.model.get_layer("backbone").get_layer("block_1_bn").trainable is True


def test_freezing_api_updates_displayed_trees_by_itself(tree):
    backbone = tree.widget.model.get_layer("backbone")
    freeze_all(backbone)  # a sub-model of the shown model, from another cell
    assert tree.synced == ["flags"]
    assert tree.state("backbone") == 0
    assert tree.widget.flags["summary"]["trainable"] == trainable_count(tree.widget.model) > 0
    other = LayerTree(BUILDERS["sequential_mlp"]())
    freeze_all(other.model)  # another model: this tree stays quiet
    assert tree.synced == ["flags"]


def test_python_changes_show_after_refresh(tree):
    for layer in tree.widget.model.layers:
        layer.trainable = False
    tree.widget.refresh()
    assert tree.synced == ["flags"] and tree.sent == []
    assert set(tree.widget.flags["state"]) == {"0"}
    assert tree.widget.flags["summary"]["trainable"] == 0


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


def test_a_toggle_sends_the_flags_a_fraction_of_the_tree(tree):
    """Each change resends every row's flag (a digit a row) and the few counts the flags
    do not imply, never the structure (names, paths, classes, shapes)."""
    size = len(json.dumps(tree.widget.tree))
    tree.intent(type="toggle", id=tree.node("block_1_conv")["id"])
    assert tree.synced == ["flags"]
    assert len(json.dumps(tree.widget.flags)) < size / 10


def shown_counts(widget: LayerTree) -> list[int]:
    """Every row's trainable count as the view works it out from what travels (JSON)."""
    flags = json.loads(json.dumps(widget.get_state()["flags"]))
    full = json.loads(json.dumps(widget.tree))["columns"]["full_trainable"]
    return decode_trainable_params(flags, full)


def assert_counts_exact(widget: LayerTree) -> None:
    """What the view shows is what the kernel counts from Keras, row by row."""
    counted = [n.trainable_params for n in ModelTree(widget.model).nodes]  # read afresh
    assert shown_counts(widget) == counted
    assert counted[0] == trainable_count(widget.model)
    assert widget.flags["summary"]["trainable"] == counted[0]


def bn_kept_frozen():
    """A backbone whose BatchNorm layers were frozen on their own, the rest trainable."""
    model = BUILDERS["small_cnn_in_functional"]()
    for layer in model.get_layer("backbone").layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False
    return model


@pytest.mark.parametrize(
    "build",
    [
        BUILDERS["mobilenet_in_functional"],
        BUILDERS["small_cnn_in_functional"],
        BUILDERS["sequential_in_sequential"],
        BUILDERS["three_levels"],
        BUILDERS["layer_shared_between_submodels"],
        BUILDERS["subclassed_own_weight"],
        bn_kept_frozen,
    ],
    ids=lambda f: f.__name__,
)
def test_the_compact_flags_give_every_row_its_exact_count(build):
    """The ``flags`` trait lists only the counts the state does not imply: whatever was
    changed, and however, the counts the view works out equal the kernel's, row by row."""
    widget = LayerTree(build())
    tree = widget._tree
    containers = [n for n in tree.nodes if n.children and n.parent is not None]
    leaves = [n for n in tree.leaves if not n.is_input]
    assert_counts_exact(widget)
    widget.freeze_all()
    assert_counts_exact(widget)
    widget.unfreeze_all()  # BatchNorm kept frozen: mixed containers
    assert_counts_exact(widget)
    widget.keep_bn_frozen = False
    widget.freeze_all()
    widget.unfreeze_all()
    assert_counts_exact(widget)
    widget.freeze_all()
    half = [n.id for n in leaves[: len(leaves) // 2]]
    widget._on_front_end_msg(widget, {"type": "set", "ids": half, "value": True}, [])
    assert_counts_exact(widget)
    widget._on_front_end_msg(widget, {"type": "boundary", "id": leaves[len(leaves) // 3].id}, [])
    assert_counts_exact(widget)
    for node in containers[:3]:
        widget._on_front_end_msg(widget, {"type": "toggle", "id": node.id}, [])
        assert_counts_exact(widget)
    # a variable's own flag set apart from its layer's: trainable layers then train less,
    # a frozen one more, than their state implies; the kernel lists them
    with_weights = [n for n in leaves if n.layer is not None and n.layer.weights and not n.shared]
    first = with_weights[0]
    widget.set_trainable(first.path, True)
    first.layer.weights[0].trainable = False
    widget.refresh()
    assert_counts_exact(widget)
    assert str(first.id) in widget.flags["trainable_params"]  # trainable, yet not all of it
    last = with_weights[-1]
    widget.set_trainable(last.path, False)
    last.layer.weights[0].trainable = True
    widget.refresh()
    assert_counts_exact(widget)
    if widget.model.trainable:  # (a model of one such layer is frozen at the root: nothing trains)
        assert str(last.id) in widget.flags["trainable_params"]  # frozen, yet a variable trains
    widget.model.trainable = False  # the whole model frozen at the root
    widget.refresh()
    assert_counts_exact(widget)


@pytest.mark.parametrize("build", [BUILDERS["mobilenet_in_functional"], BUILDERS["sequential_in_sequential"]])
def test_no_count_travels_where_every_row_is_frozen_or_trainable(build):
    """``full_trainable`` knows what trains once a layer is on, even for a tree built
    while everything was frozen (BatchNorm's moving statistics never train): a fully
    trainable or fully frozen model sends a digit a row and no count."""
    model = build()
    freeze_all(model)
    widget = LayerTree(model, keep_bn_frozen=False)
    assert widget.flags["trainable_params"] == {}
    widget.unfreeze_all()
    assert set(widget.flags["state"]) <= {"0", "1"}  # (an InputLayer reads frozen)
    assert widget.flags["trainable_params"] == {}
    assert_counts_exact(widget)
