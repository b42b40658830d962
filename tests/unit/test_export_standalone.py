"""The plain-Keras freeze helpers that exported scripts carry set exactly the flags
the package's freezing API sets, on every model of the corpus (nested, shared,
subclassed, applications), so an exported freeze plan means the same thing."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest

from transfer_widgets.export import standalone
from transfer_widgets.export.describe import describe_model
from transfer_widgets.model import freeze
from transfer_widgets.model.freeze import as_tree
from transfer_widgets.model.freeze_plan import freeze_plan_from_model

from .model_corpus import BUILDERS


def flags_after(model, operation) -> dict:
    """Every layer's flag and counts (nested models walked) after ``operation``,
    starting from a scrambled state so nothing passes by staying as it was."""
    rng = np.random.default_rng(7)
    tree = as_tree(model)
    freeze.set_many(tree, [leaf for leaf in tree.leaves if rng.random() < 0.5], True, keep_bn_frozen=False)
    operation()
    rows = describe_model(model)
    return {
        "params": rows["trainable_params"],
        "layers": [(r["path"], r["trainable"], r["trainable_params"]) for r in rows["layers"]],
        "root": bool(model.trainable),
    }


def leaf_paths(model) -> list[str]:
    tree = as_tree(model)
    root = tree.root.name + "/"
    return [leaf.path[len(root) :] for leaf in tree.leaves]


# A layer object shared between two sub-models appears once per sub-model; the layer
# tree shows the second appearance of a shared sub-model as one row. Both walks agree
# on every model here.
@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_standalone_paths_are_the_layer_tree_leaves(name):
    model = BUILDERS[name]()
    assert [path for path, _ in standalone.base_layers(model)] == leaf_paths(model)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_standalone_freeze_helpers_set_the_same_flags(name):
    model = BUILDERS[name]()
    paths = leaf_paths(model)
    cases = [
        (lambda: freeze.freeze_all(model), lambda: standalone.freeze_every_layer(model)),
    ]
    for keep in (True, False):
        cases.append(
            (
                lambda k=keep: freeze.unfreeze_all(model, keep_bn_frozen=k),
                lambda k=keep: standalone.unfreeze_every_layer(model, keep_bn_frozen=k),
            )
        )
        for i in sorted({0, 1, len(paths) // 3, len(paths) // 2, len(paths) - 1} & set(range(len(paths)))):
            cases.append(
                (
                    lambda k=keep, p=paths[i]: freeze.freeze_up_to(model, p, keep_bn_frozen=k),
                    lambda k=keep, p=paths[i]: standalone.unfreeze_from(model, p, keep_bn_frozen=k),
                )
            )
    rng = np.random.default_rng(3)
    for _ in range(3):
        chosen = [p for p in paths if rng.random() < 0.3]
        cases.append(
            (
                lambda c=chosen: (
                    freeze.freeze_all(model),
                    c and freeze.set_many(model, c, True, keep_bn_frozen=False),
                ),
                lambda c=chosen: standalone.train_only(model, c),
            )
        )
    for package_way, script_way in cases:
        assert flags_after(model, script_way) == flags_after(model, package_way)


@pytest.mark.parametrize("name", ["mobilenet_in_functional", "three_levels", "resnet50"])
def test_every_derived_freeze_plan_round_trips_through_the_helpers(name):
    """What the exporter writes for a model's flags (FreezePlan), applied with the
    helpers, gives back those flags."""
    model = BUILDERS[name]()
    paths = leaf_paths(model)
    rng = np.random.default_rng(5)
    states = [
        lambda: freeze.freeze_up_to(model, paths[len(paths) // 2]),
        lambda: freeze.unfreeze_all(model),
        lambda: freeze.set_many(model, [p for p in paths if rng.random() < 0.2], True),
    ]
    for make_state in states:
        freeze.freeze_all(model)
        make_state()
        want = flags_after(model, lambda: None)
        plan = freeze_plan_from_model(model)
        apply = {
            "all_frozen": partial(standalone.freeze_every_layer, model),
            "all_trainable": partial(standalone.unfreeze_every_layer, model, plan.keep_bn_frozen),
            "boundary": partial(standalone.unfreeze_from, model, plan.boundary, plan.keep_bn_frozen),
            "explicit": partial(standalone.train_only, model, plan.trainable),
        }[plan.kind]
        assert flags_after(model, apply) == want


def test_unknown_paths_are_named():
    model = BUILDERS["sequential_in_sequential"]()
    with pytest.raises(ValueError, match="'nope' is not a layer of"):
        standalone.unfreeze_from(model, "nope")
    with pytest.raises(ValueError, match=r"not layers of .*\['nope'\]"):
        standalone.train_only(model, ["nope"])
