"""HeadDesigner's Python side, driven by simulated front-end messages: every edit
path, every validation rule, and the controller's config and model following."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from transfer_widgets import ConfigError, FineTuneController, HeadDesigner
from transfer_widgets.config import AugmentationSpec, HeadLayerSpec, HeadSpec
from transfer_widgets.model import freeze

from .front_end import FrontEnd
from .small_models import backbone, data


class Recorder(FrontEnd):
    """The head designer's front end, with look-ups into its state."""

    @property
    def state(self) -> dict:
        return self.widget.state

    def layer_id(self, index: int, section: str = "layers") -> int:
        return self.state[section][index]["id"]

    def types(self) -> list[str]:
        return [r["type"] for r in self.state["layers"]]


@pytest.fixture
def controller():
    return FineTuneController(backbone(), train_data=data())


@pytest.fixture
def ui(controller):
    widget = HeadDesigner(controller)
    yield Recorder(widget)
    widget.close()


def count(weights) -> int:
    return int(sum(math.prod(w.shape) for w in weights))


def head_of(controller) -> list[tuple]:
    return [(s.type, s.units, s.activation, s.rate) for s in controller.config.head.layers]


# -- what it shows -------------------------------------------------------------------------


def test_initial_state_shows_the_controllers_head_preview_and_totals(ui, controller):
    s = ui.state
    assert ui.types() == ["global_average_pooling", "dropout"]
    assert s["task"] == "multiclass" and s["num_classes"] == 3
    assert s["base"] == {
        "name": "backbone",
        "input_shape": "(None, 8, 8, 3)",
        "output_shape": "(None, 4, 4, 6)",
        "params": controller.base_model.count_params(),
        "trainable": count(controller.base_model.trainable_weights),
    }
    assert [(r["name"], r["shape"], r["params"]) for r in s["preview"]] == [
        ("head_0_global_average_pooling", "(None, 6)", 0),
        ("head_1_dropout", "(None, 6)", 0),
        ("predictions", "(None, 3)", 21),
    ]
    assert s["output"] == {"units": 3, "activation": "softmax"}
    assert s["head_totals"] == {"total": 21, "trainable": 21}
    assert s["model_totals"] == {
        "total": controller.model.count_params(),
        "trainable": count(controller.model.trainable_weights),
    }
    assert s["defaults"] == {"loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}
    assert s["applied"] and s["errors"] == {} and s["problems"] == []
    assert ui.click(type="hello") == {"type": "ok"}


def test_standalone_designer_on_a_base_model_produces_a_head_spec():
    widget = HeadDesigner(backbone(), num_classes=4)
    ui = Recorder(widget)
    assert widget.controller is None and not ui.state["controller"]
    ui.click(type="add", layer="dense", index=1)
    ui.click(type="set", id=ui.layer_id(1), field="units", value=16)
    spec = widget.head_spec
    assert isinstance(spec, HeadSpec)
    assert [(layer.type, layer.units) for layer in spec.layers] == [
        ("global_average_pooling", None),
        ("dense", 16),
        ("dropout", None),
    ]
    assert spec.num_classes == 4
    assert widget.config.head == spec
    assert ui.state["preview"][1]["params"] == 6 * 16 + 16
    assert ui.state["model_totals"]["total"] == widget._base.count_params() + (6 * 16 + 16) + (16 * 4 + 4)
    widget.close()


# -- every edit path -------------------------------------------------------------------------


def test_add_layer_from_the_palette_with_defaults_and_at_an_index(ui, controller):
    ui.click(type="add", layer="dense")
    assert ui.state["layers"][-1] | {"id": 0} == {
        "id": 0,
        "type": "dense",
        "units": 128,
        "activation": "relu",
    }
    ui.click(type="add", layer="batch_norm", index=0)
    assert ui.types() == ["batch_norm", "global_average_pooling", "dropout", "dense"]
    assert head_of(controller)[0] == ("batch_norm", None, None, None)
    for kind in ("global_max_pooling", "flatten", "dropout"):
        ui.click(type="add", layer=kind)
    assert ui.types()[-3:] == ["global_max_pooling", "flatten", "dropout"]
    assert ui.state["layers"][-1]["rate"] == 0.2


def test_remove_move_and_set_by_row_id(ui, controller):
    ui.click(type="add", layer="dense")
    dense = ui.layer_id(2)
    ui.click(type="move", id=dense, to=1)
    assert ui.types() == ["global_average_pooling", "dense", "dropout"]
    assert [t for t, *_ in head_of(controller)] == ui.types()
    ui.click(type="set", id=dense, field="units", value=5)
    ui.click(type="set", id=dense, field="activation", value="gelu")
    ui.click(type="set", id=ui.layer_id(2), field="rate", value=0.5)
    assert head_of(controller) == [
        ("global_average_pooling", None, None, None),
        ("dense", 5, "gelu", None),
        ("dropout", None, None, 0.5),
    ]
    ui.click(type="set", id=dense, field="activation", value=None)
    assert head_of(controller)[1] == ("dense", 5, None, None)
    ui.click(type="remove", id=ui.layer_id(0))
    assert ui.types() == ["dense", "dropout"]
    assert not ui.state["applied"]  # a dense on a 4-D feature map: not applied
    assert [t for t, *_ in head_of(controller)] == ["global_average_pooling", "dense", "dropout"]


def test_the_model_is_rebuilt_to_match_and_the_base_keeps_its_weights(ui, controller):
    base_weights = [w.copy() for w in controller.base_model.get_weights()]
    ui.click(type="add", layer="dense", index=1)
    ui.click(type="set", id=ui.layer_id(1), field="units", value=10)
    model = controller.model
    assert controller.head.layers[1].units == 10
    assert [layer.name for layer in controller.head.layers] == [
        "head_0_global_average_pooling",
        "head_1_dense",
        "head_2_dropout",
        "predictions",
    ]
    assert controller.base_model is model.get_layer("backbone")
    for a, b in zip(base_weights, controller.base_model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert ui.state["model_totals"] == {
        "total": model.count_params(),
        "trainable": count(model.trainable_weights),
    }
    assert model(np.zeros((2, 8, 8, 3), "float32")).shape == (2, 3)
    controller.fit(1, block=True)
    assert controller.state == "finished"


def test_python_methods_are_the_same_edits(ui, controller):
    w = ui.widget
    w.add_layer("dense", 1, units=7, activation="tanh")
    w.set_layer(1, units=9)
    w.move_layer(1, 2)
    assert head_of(controller) == [
        ("global_average_pooling", None, None, None),
        ("dropout", None, None, 0.2),
        ("dense", 9, "tanh", None),
    ]
    w.remove_layer(-1)
    assert ui.types() == ["global_average_pooling", "dropout"]
    w.set_classes(5, ["a", "b", "c", "d", "e"])
    assert controller.config.head.num_classes == 5 and controller.config.head.class_names == list("abcde")
    assert controller.head.layers[-1].units == 5
    w.set_compile(
        optimizer="sgd", learning_rate=0.05, loss="categorical_crossentropy", metrics=["accuracy", "auc"]
    )
    t, h = controller.config.training, controller.config.head
    assert (t.optimizer, t.learning_rate, h.loss, h.metrics) == (
        "sgd",
        0.05,
        "categorical_crossentropy",
        ["accuracy", "auc"],
    )
    with pytest.raises(ValueError, match="Unknown compile setting"):
        w.set_compile(epochs=3)
    with pytest.raises(IndexError, match="No head layer at index 9"):
        w.set_layer(9, units=3)
    with pytest.raises(ValueError, match="has no field 'rate'"):
        w.add_layer("dense", rate=0.1)
    assert ui.types() == ["global_average_pooling", "dropout"]  # a refused edit changes nothing


def test_task_classes_names_and_the_output_layer(ui, controller):
    ui.click(type="field", field="task", value="binary")
    assert ui.state["num_classes"] is None and ui.state["output"] == {"units": 1, "activation": "sigmoid"}
    assert controller.config.head.task == "binary" and controller.head.layers[-1].units == 1
    assert ui.state["defaults"] == {"loss": "binary_crossentropy", "metrics": ["accuracy"]}
    ui.click(type="field", field="task", value="multilabel")
    assert ui.state["num_classes"] == 3  # the count comes back
    assert ui.state["output"] == {"units": 3, "activation": "sigmoid"}
    ui.click(type="field", field="task", value="regression")
    assert ui.state["output"] == {"units": 3, "activation": "linear"}
    assert ui.state["defaults"]["loss"] == "mse"
    ui.click(type="field", field="num_classes", value=None)
    assert ui.state["output"]["units"] == 1 and controller.head.layers[-1].units == 1
    ui.click(type="field", field="task", value="multiclass")
    ui.click(type="field", field="num_classes", value=4)
    ui.click(type="field", field="class_names", value=["w", "x", "y", "z"])
    assert controller.config.head.class_names == ["w", "x", "y", "z"]
    ui.click(type="field", field="class_names", value=None)
    assert controller.config.head.class_names is None


def test_compile_fields(ui, controller):
    for name, value in (
        ("optimizer", "rmsprop"),
        ("learning_rate", 0.002),
        ("loss", "categorical_crossentropy"),
        ("metrics", ["accuracy", "top_k_categorical_accuracy"]),
    ):
        ui.click(type="field", field=name, value=value)
        assert ui.state[name] == value and ui.state["applied"]
    t, h = controller.config.training, controller.config.head
    assert (t.optimizer, t.learning_rate, h.loss, h.metrics) == (
        "rmsprop",
        0.002,
        "categorical_crossentropy",
        ["accuracy", "top_k_categorical_accuracy"],
    )
    ui.click(type="field", field="loss", value=None)
    ui.click(type="field", field="metrics", value=None)
    assert controller.config.head.loss is None and controller.config.head.metrics is None


@pytest.mark.parametrize(
    ("preset", "layers", "head_params"),
    [
        ("keras_guide", [("global_average_pooling", None), ("dropout", 0.2)], 21),
        (
            "teachable_machine",
            [("global_average_pooling", None), ("dense", 100)],
            6 * 100 + 100 + 100 * 3 + 3,
        ),
        ("linear_probe", [("global_average_pooling", None)], 21),
    ],
)
def test_presets(ui, controller, preset, layers, head_params):
    ui.click(type="add", layer="batch_norm")
    ui.click(type="preset", name=preset)
    assert [(r["type"], r.get("units") or r.get("rate")) for r in ui.state["layers"]] == layers
    assert ui.state["head_totals"]["total"] == head_params
    assert [t for t, *_ in head_of(controller)] == [t for t, _ in layers]
    assert controller.head.count_params() == head_params
    if preset == "teachable_machine":
        assert ui.state["layers"][1]["activation"] == "relu"
    assert {p["name"] for p in ui.state["options"]["presets"]} == {
        "keras_guide",
        "teachable_machine",
        "linear_probe",
    }


def test_augmentation_section_goes_before_the_base(ui, controller):
    ui.click(type="add", section="augmentation", layer="random_flip")
    ui.click(type="add", section="augmentation", layer="random_rotation")
    assert [(r["type"], r.get("mode"), r.get("factor")) for r in ui.state["augmentation"]] == [
        ("random_flip", "horizontal", None),
        ("random_rotation", None, 0.1),
    ]
    ui.click(type="set", section="augmentation", id=ui.layer_id(1, "augmentation"), field="factor", value=0.3)
    ui.click(
        type="set", section="augmentation", id=ui.layer_id(0, "augmentation"), field="mode", value="vertical"
    )
    ui.click(type="move", section="augmentation", id=ui.layer_id(1, "augmentation"), to=0)
    assert controller.config.preprocessing.augmentation == [
        AugmentationSpec("random_rotation", factor=0.3),
        AugmentationSpec("random_flip", mode="vertical"),
    ]
    names = [layer.name for layer in controller.model.layers]
    assert (
        names.index("augment_0_random_rotation")
        < names.index("augment_1_random_flip")
        < names.index("backbone")
    )
    ui.click(type="remove", section="augmentation", id=ui.layer_id(0, "augmentation"))
    ui.widget.add_augmentation("random_zoom", factor=0.2)
    ui.widget.set_augmentation(1, factor=0.25)
    ui.widget.move_augmentation(1, 0)
    ui.widget.remove_augmentation(1)
    assert controller.config.preprocessing.augmentation == [AugmentationSpec("random_zoom", factor=0.25)]


def test_refused_messages_answer_with_an_error_and_change_nothing(ui, controller):
    before = (ui.types(), head_of(controller))
    cases = [
        ({"type": "add", "layer": "conv2d"}, "Unknown head layer type 'conv2d'"),
        ({"type": "add", "section": "augmentation", "layer": "dense"}, "Unknown augmentation layer type"),
        ({"type": "add", "layer": "dense", "index": 7}, "Cannot insert at index 7"),
        ({"type": "remove", "id": 999}, "No head layer with id 999"),
        ({"type": "move", "id": ui.layer_id(0), "to": 5}, "Cannot move to index 5"),
        (
            {"type": "set", "id": ui.layer_id(0), "field": "units", "value": 3},
            "global_average_pooling layer has no field 'units'",
        ),
        ({"type": "field", "field": "epochs", "value": 3}, "Unknown field 'epochs'"),
        ({"type": "preset", "name": "resnet"}, "Unknown preset 'resnet'"),
        ({"type": "explode"}, "Unknown head designer message type 'explode'"),
        ({"type": "set", "id": ui.layer_id(0)}, "Missing or unknown 'field'"),
    ]
    for msg, text in cases:
        reply = ui.click(**msg)
        assert reply["type"] == "error" and text in reply["message"], (msg, reply)
    assert (ui.types(), head_of(controller)) == before


# -- every validation rule -------------------------------------------------------------------


def _add(kind):
    return lambda ui: ui.click(type="add", layer=kind, index=1)


def _set(field, value):
    return lambda ui: ui.click(type="set", id=ui.layer_id(1), field=field, value=value)


RULES = [
    # (valid set-up or None, the invalid edit, field named in the error, words in the message)
    (_add("dense"), _set("units", 0), "head.layers[1].units", "must be a positive integer, got 0"),
    (_add("dense"), _set("units", "abc"), "head.layers[1].units", "got 'abc'"),
    (_add("dense"), _set("units", None), "head.layers[1].units", "got None"),
    (_add("dense"), _set("units", 2.5), "head.layers[1].units", "got 2.5"),
    (
        _add("dense"),
        _set("activation", "sparkle"),
        "head.layers[1].activation",
        "must be a Keras activation name",
    ),
    (_add("dropout"), _set("rate", 1), "head.layers[1].rate", "must be a number in [0, 1), got 1"),
    (_add("dropout"), _set("rate", -0.1), "head.layers[1].rate", "got -0.1"),
    (_add("dropout"), _set("rate", "x"), "head.layers[1].rate", "got 'x'"),
    (_add("dropout"), _set("rate", None), "head.layers[1].rate", "got None"),
    (
        None,
        lambda ui: ui.click(type="field", field="num_classes", value=1),
        "head.num_classes",
        "must be an integer >= 2 for a multiclass task, got 1",
    ),
    (
        None,
        lambda ui: ui.click(type="field", field="num_classes", value="many"),
        "head.num_classes",
        "got 'many'",
    ),
    (
        None,
        lambda ui: ui.click(type="field", field="num_classes", value=None),
        "head.num_classes",
        "must be set for a multiclass task",
    ),
    (
        lambda ui: ui.click(type="field", field="task", value="binary"),
        lambda ui: ui.click(type="field", field="num_classes", value=3),
        "head.num_classes",
        "must be 1 or 2 (or None) for a binary task",
    ),
    (
        lambda ui: ui.click(type="field", field="task", value="regression"),
        lambda ui: ui.click(type="field", field="num_classes", value=0),
        "head.num_classes",
        "must be a positive integer, got 0",
    ),
    (None, lambda ui: ui.click(type="field", field="task", value="ranking"), "head.task", "must be one of"),
    (
        None,
        lambda ui: ui.click(type="field", field="class_names", value=["a", "b"]),
        "head.class_names",
        "must have 3 names (one per output), got 2",
    ),
    (
        None,
        lambda ui: ui.click(type="field", field="class_names", value=["a", "a", "b"]),
        "head.class_names",
        "must be unique, got 'a' more than once",
    ),
    (
        None,
        lambda ui: ui.click(type="field", field="class_names", value=["a", "", "b"]),
        "head.class_names",
        "must be a list of non-empty names",
    ),
    (
        None,
        lambda ui: ui.click(type="field", field="class_names", value="a,b,c"),
        "head.class_names",
        "must be a list of non-empty names",
    ),
    (
        None,
        lambda ui: ui.click(type="field", field="optimizer", value="adamant"),
        "training.optimizer",
        "must be a Keras optimizer name",
    ),
    (
        None,
        lambda ui: ui.click(type="field", field="learning_rate", value=0),
        "training.learning_rate",
        "must be a positive number, got 0",
    ),
    (
        None,
        lambda ui: ui.click(type="field", field="learning_rate", value="fast"),
        "training.learning_rate",
        "got 'fast'",
    ),
    (
        None,
        lambda ui: ui.click(type="field", field="learning_rate", value=None),
        "training.learning_rate",
        "got None",
    ),
    (
        None,
        lambda ui: ui.click(type="field", field="loss", value="lossy"),
        "head.loss",
        "must be a Keras loss name",
    ),
    (
        None,
        lambda ui: ui.click(type="field", field="metrics", value=["accuracy", "precisionn"]),
        "head.metrics[1]",
        "must be a Keras metric name, got 'precisionn'",
    ),
    (
        None,
        lambda ui: ui.click(type="field", field="metrics", value="accuracy"),
        "head.metrics",
        "must be a list of metric names",
    ),
    (
        lambda ui: ui.click(type="add", section="augmentation", layer="random_zoom"),
        lambda ui: ui.click(
            type="set", section="augmentation", id=ui.layer_id(0, "augmentation"), field="factor", value=0
        ),
        "preprocessing.augmentation[0].factor",
        "must be a number in (0, 1], got 0",
    ),
    (
        lambda ui: ui.click(type="add", section="augmentation", layer="random_contrast"),
        lambda ui: ui.click(
            type="set", section="augmentation", id=ui.layer_id(0, "augmentation"), field="factor", value=1.5
        ),
        "preprocessing.augmentation[0].factor",
        "got 1.5",
    ),
    (
        lambda ui: ui.click(type="add", section="augmentation", layer="random_flip"),
        lambda ui: ui.click(
            type="set",
            section="augmentation",
            id=ui.layer_id(0, "augmentation"),
            field="mode",
            value="diagonal",
        ),
        "preprocessing.augmentation[0].mode",
        "must be 'horizontal', 'vertical' or 'horizontal_and_vertical'",
    ),
    # Fitting the head to the base's 4-D feature map (check_head_fits).
    (
        None,
        lambda ui: ui.click(type="add", layer="dense", index=0),
        "head.layers[0]",
        "(dense) gets a 4-D feature map (None, 4, 4, 6): add global_average_pooling or flatten before it",
    ),
    (
        None,
        lambda ui: ui.click(type="remove", id=ui.layer_id(0)),
        "head.layers",
        "must reduce the base's output (None, 4, 4, 6) to a vector",
    ),
    (
        lambda ui: ui.click(type="preset", name="linear_probe"),
        lambda ui: ui.click(type="add", layer="global_max_pooling"),
        "head.layers[1].type",
        "'global_max_pooling' needs a 4-D feature map",
    ),
]


@pytest.mark.parametrize(
    ("setup", "edit", "field", "words"), RULES, ids=[f"{i}:{r[2]}" for i, r in enumerate(RULES)]
)
def test_validation_rule_shows_inline_and_nothing_is_applied(ui, controller, setup, edit, field, words):
    if setup is not None:
        setup(ui)
        assert ui.state["applied"], ui.state["problems"]
    config_before = controller.config.to_json()
    model_before = controller.model
    edit(ui)
    s = ui.state
    assert field in s["errors"], s["errors"]
    assert words in s["errors"][field]
    assert any(p.startswith(field) for p in s["problems"])
    assert not s["applied"] and not ui.widget.valid
    assert s["preview"] is None and s["head_totals"] is None and s["model_totals"] is None
    assert controller.config.to_json() == config_before
    assert controller.model is model_before


def test_fixing_the_value_applies_the_head(ui, controller):
    _add("dense")(ui)
    _set("units", -3)(ui)
    assert not ui.state["applied"]
    ui.click(type="set", id=ui.layer_id(1), field="units", value=12)
    assert ui.state["applied"] and ui.state["errors"] == {}
    assert head_of(controller)[1] == ("dense", 12, "relu", None)


# -- both directions: Python changes show, training disables --------------------------------


def test_config_changes_made_from_python_show_in_the_widget(ui, controller):
    controller.set("training.learning_rate", 0.02)
    assert ui.state["learning_rate"] == 0.02
    controller.apply_head(
        HeadSpec(layers=[HeadLayerSpec("global_max_pooling")], task="multilabel", num_classes=4)
    )
    assert ui.types() == ["global_max_pooling"]
    assert ui.state["output"] == {"units": 4, "activation": "sigmoid"}
    assert ui.state["model_totals"]["total"] == controller.model.count_params()
    controller.config.head.num_classes = 5  # by hand: refresh() shows it
    ui.widget.refresh()
    assert ui.state["num_classes"] == 5


def test_freezing_the_base_updates_the_models_trainable_count(ui, controller):
    before = ui.state["model_totals"]["trainable"]
    freeze.freeze_all(controller.base_model)
    assert ui.state["base"]["trainable"] == 0
    assert ui.state["model_totals"]["trainable"] == 21 < before


def test_a_standalone_designer_follows_freezing_its_base():
    base = backbone()
    widget = HeadDesigner(base, num_classes=3)
    assert widget.state["base"]["trainable"] == count(base.trainable_weights) > 0
    freeze.freeze_all(base)
    assert widget.state["base"]["trainable"] == 0
    assert widget.state["model_totals"]["trainable"] == 21
    freeze.freeze_all(backbone())  # another model: not this designer's
    assert widget.state["base"]["trainable"] == 0
    widget.close()
    freeze.unfreeze_all(base)  # closed: no longer listening
    assert widget.state["base"]["trainable"] == 0


def test_form_lists_are_still_importable_from_the_widget_module():
    from transfer_widgets.model import head, head_draft
    from transfer_widgets.widgets import head_designer

    for name in (
        "ACTIVATIONS",
        "OPTIMIZERS",
        "LOSSES",
        "LAYER_FIELDS",
        "LAYER_DEFAULTS",
        "AUGMENTATION_FIELDS",
        "AUGMENTATION_DEFAULTS",
        "COMPILE_FIELDS",
        "HEAD_FIELDS",
    ):
        assert getattr(head_designer, name) is getattr(head_draft, name)
    assert head_designer.PRESETS is head.HEAD_PRESETS


def test_disabled_while_training_and_enabled_after(ui, controller):
    controller.events.emit("state", state="running")
    assert ui.widget.disabled
    reply = ui.click(type="add", layer="dense")
    assert reply["type"] == "error" and "while the model trains" in reply["message"]
    controller.events.emit("state", state="finished")
    assert not ui.widget.disabled
    assert ui.click(type="add", layer="dense") == {"type": "ok"}


def test_a_real_run_disables_then_enables(ui, controller):
    controller.fit(1, block=True)
    assert not ui.widget.disabled
    assert any(e["type"] == "state" and e["state"] == "running" for e in controller.events.log)


def test_read_only_refuses_edits(controller):
    widget = HeadDesigner(controller, read_only=True)
    ui = Recorder(widget)
    reply = ui.click(type="preset", name="linear_probe")
    assert reply["type"] == "error" and "read-only" in reply["message"]
    with pytest.raises(RuntimeError, match="read-only"):
        widget.add_layer("dense")
    assert ui.types() == ["global_average_pooling", "dropout"]
    widget.read_only = False
    widget.add_layer("flatten")
    assert ui.types()[-1] == "flatten"
    widget.close()


def test_close_unsubscribes(controller):
    widget = HeadDesigner(controller)
    widget.close()
    controller.set("training.learning_rate", 0.3)
    assert widget.state["learning_rate"] != 0.3


def test_a_base_of_any_size_needs_an_input_shape():
    base = keras.applications.MobileNetV2(weights=None, include_top=False, alpha=0.35)
    with pytest.raises(ConfigError, match=r"base\.input_shape must be set"):
        HeadDesigner(base, num_classes=2)
    widget = HeadDesigner(base, num_classes=2, input_shape=(32, 32, 3))
    assert widget.state["base"]["output_shape"] == "(None, 1, 1, 1280)"
    assert widget.state["preview"][-1]["params"] == 1280 * 2 + 2
    widget.close()


def test_model_supplied_strings_travel_as_plain_data():
    base = backbone()
    base.name = "<img src=x onerror=alert(1)>"
    widget = HeadDesigner(base, num_classes=2)
    assert widget.state["base"]["name"] == "<img src=x onerror=alert(1)>"
    widget.close()


# -- recipe settings it shows but does not edit ------------------------------------------------


def test_the_recipe_settings_show_beside_the_compile_fields(controller):
    controller.set("training.optimizer", keras.optimizers.SGD(0.01, momentum=0.9, nesterov=True))
    controller.set("training.lr_schedule", {"class_name": "CosineDecay", "config": {"decay_steps": 40}})
    controller.set("training.class_weight", {0: 1.0, 1: 2.0, 2: 1.0})
    widget = HeadDesigner(controller)
    ui = Recorder(widget)
    assert ui.state["optimizer"] == "SGD"
    assert ui.state["recipe"] == {
        "optimizer_args": "momentum=0.9, nesterov=True",
        "lr_schedule": "CosineDecay(decay_steps=40)",
        "class_weight": "0: 1.0, 1: 2.0, 2: 1.0",
        "loss_args": "",
    }
    # an optimizer that does not take those arguments: the form says so and nothing is applied
    ui.click(type="field", field="optimizer", value="adam")
    assert "are not arguments Adam takes" in ui.state["errors"]["training.optimizer_args"]
    assert not ui.state["applied"]
    assert controller.config.training.optimizer == "SGD"
    ui.click(type="field", field="optimizer", value="sgd")
    assert ui.state["applied"] and controller.config.training.optimizer_args == {
        "momentum": 0.9,
        "nesterov": True,
    }
    widget.close()


def test_kernel_penalties_are_designer_fields_kept_through_every_edit(ui, controller):
    ui.click(type="add", layer="dense", index=1)
    dense = ui.layer_id(1)
    ui.click(type="set", id=dense, field="kernel_l2", value=1e-4)
    spec = controller.config.head.layers[1]
    assert (spec.kernel_l1, spec.kernel_l2) == (None, 1e-4)
    assert controller.head.get_layer("head_1_dense").kernel_regularizer.get_config() == {"l2": 1e-4}
    ui.click(type="set", id=dense, field="units", value=8)  # another edit keeps the penalty
    ui.click(type="move", id=dense, to=0)
    ui.click(type="move", id=dense, to=1)
    assert controller.config.head.layers[1].kernel_l2 == 1e-4
    assert ui.state["layers"][1]["kernel_l2"] == 1e-4
    ui.click(type="set", id=dense, field="kernel_l1", value=-1)
    assert ui.state["errors"]["head.layers[1].kernel_l1"].startswith("must be a non-negative number")
    assert not ui.state["applied"] and controller.config.head.layers[1].kernel_l1 is None
    # a designer opened on that config shows the penalty in the row it loads
    again = Recorder(HeadDesigner(controller))
    assert again.state["layers"][1]["kernel_l2"] == 1e-4
    again.widget.close()
