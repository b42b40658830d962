"""HeadDraft without any widget: edits, presets, structured problems, the preview
against Keras's own numbers, and the round trip to and from a TransferConfig."""

from __future__ import annotations

import keras
import pytest

from transfer_widgets.config import (
    AugmentationSpec,
    ConfigError,
    HeadLayerSpec,
    HeadSpec,
    Problem,
    TransferConfig,
)
from transfer_widgets.model.head import HEAD_PRESETS, HeadPreset, build_head, check_head_fits
from transfer_widgets.model.head_draft import (
    AUGMENTATION_DEFAULTS,
    COMPILE_FIELDS,
    HEAD_FIELDS,
    LAYER_DEFAULTS,
    HeadDraft,
    owns,
)

MAP = (None, 4, 4, 6)  # a base that outputs a 4-D feature map
VECTOR = (None, 6)  # a base that ends in pooling


def draft(feature_shape=MAP, **head) -> HeadDraft:
    return HeadDraft(feature_shape, TransferConfig(head=HeadSpec(num_classes=3, **head)))


def types(d: HeadDraft, section="layers") -> list[str]:
    return [r["type"] for r in d.rows(section)]


def fields(d: HeadDraft) -> list[str]:
    return [p.field for p in d.problems()]


# -- what it holds ------------------------------------------------------------------------------------


def test_a_draft_shows_its_config():
    config = TransferConfig(
        head=HeadSpec(
            task="multilabel",
            num_classes=4,
            class_names=list("abcd"),
            loss="binary_crossentropy",
            metrics=["auc"],
        )
    )
    config.preprocessing.augmentation = [AugmentationSpec("random_flip", mode="vertical")]
    config.training.optimizer, config.training.learning_rate = "sgd", 0.05
    d = HeadDraft(MAP, config)
    form = d.as_dict()
    assert [{k: v for k, v in r.items() if k != "id"} for r in form["layers"]] == [
        {"type": "global_average_pooling"},
        {"type": "dropout", "rate": 0.2},
    ]
    assert [{k: v for k, v in r.items() if k != "id"} for r in form["augmentation"]] == [
        {"type": "random_flip", "mode": "vertical"}
    ]
    assert {k: form[k] for k in HEAD_FIELDS + COMPILE_FIELDS} == {
        "task": "multilabel",
        "num_classes": 4,
        "class_names": list("abcd"),
        "optimizer": "sgd",
        "learning_rate": 0.05,
        "loss": "binary_crossentropy",
        "metrics": ["auc"],
    }
    assert d.valid and d.problems() == []
    # What it hands out are copies.
    d.layers[0]["type"] = "flatten"
    d.value("class_names").append("e")
    assert types(d) == ["global_average_pooling", "dropout"] and d.value("class_names") == list("abcd")
    assert d.feature_shape == MAP


def test_row_ids_are_unique_and_survive_edits_and_reloads():
    d = draft()
    first = [r["id"] for r in d.layers]
    new = d.add_layer("dense")
    d.add_augmentation("random_zoom")
    ids = [r["id"] for r in d.layers + d.augmentation]
    assert len(set(ids)) == len(ids) and new == ids[2]
    d.move_layer(2, 0)
    assert [r["id"] for r in d.layers] == [new, *first]
    assert d.index_of("layers", new) == 0
    d.load(d.to_config())
    assert not set(ids) & {r["id"] for r in d.layers + d.augmentation}  # a reload gives new ids


# -- edits -----------------------------------------------------------------------------------------


def test_add_remove_move_and_set_layers():
    d = draft()
    d.add_layer("dense")
    assert d.layers[-1] | {"id": 0} == {"id": 0, "type": "dense", **LAYER_DEFAULTS["dense"]}
    d.add_layer("batch_norm", 0)
    d.add_layer("dense", 2, units=7, activation="tanh")
    assert types(d) == ["batch_norm", "global_average_pooling", "dense", "dropout", "dense"]
    d.set_layer(2, units=9)
    d.set_layer(-1, activation=None)
    d.move_layer(0, 4)
    d.remove_layer(0)
    assert [(r["type"], r.get("units"), r.get("activation")) for r in d.layers] == [
        ("dense", 9, "tanh"),
        ("dropout", None, None),
        ("dense", 128, None),
        ("batch_norm", None, None),
    ]


def test_add_remove_move_and_set_augmentation():
    d = draft()
    d.add_augmentation("random_flip")
    d.add_augmentation("random_rotation", 0, factor=0.3)
    assert d.augmentation[1] | {"id": 0} == {
        "id": 0,
        "type": "random_flip",
        **AUGMENTATION_DEFAULTS["random_flip"],
    }
    d.set_augmentation(1, mode="vertical")
    d.move_augmentation(0, 1)
    assert d.to_config().preprocessing.augmentation == [
        AugmentationSpec("random_flip", mode="vertical"),
        AugmentationSpec("random_rotation", factor=0.3),
    ]
    d.remove_augmentation(-1)
    assert types(d, "augmentation") == ["random_flip"]


@pytest.mark.parametrize(
    ("edit", "error", "words"),
    [
        (lambda d: d.add_layer("conv2d"), ValueError, "Unknown head layer type 'conv2d'"),
        (lambda d: d.add_augmentation("dense"), ValueError, "Unknown augmentation layer type 'dense'"),
        (lambda d: d.add("columns", "dense"), ValueError, "Unknown section 'columns'"),
        (lambda d: d.add_layer("dense", 7), IndexError, "Cannot insert at index 7 (0 to 2)"),
        (lambda d: d.add_layer("dense", True), IndexError, "Cannot insert at index True"),
        (
            lambda d: d.add_layer("dense", rate=0.1),
            ValueError,
            "A dense layer has no field 'rate' (fields: units, activation, kernel_l1, kernel_l2)",
        ),
        (lambda d: d.remove_layer(2), IndexError, "No head layer at index 2 (there are 2)"),
        (lambda d: d.remove_augmentation(0), IndexError, "No augmentation layer at index 0 (there are 0)"),
        (lambda d: d.move_layer(0, 5), IndexError, "Cannot move to index 5 (0 to 1)"),
        (
            lambda d: d.set_layer(0, units=3),
            ValueError,
            "A global_average_pooling layer has no field 'units' (no fields)",
        ),
        (lambda d: d.set_layer(1, rate=0.5, units=3), ValueError, "A dropout layer has no field 'units'"),
        (lambda d: d.index_of("layers", 999), ValueError, "No head layer with id 999"),
        (lambda d: d.set_field("epochs", 3), ValueError, "Unknown field 'epochs'"),
        (lambda d: d.set_compile(optimizer="sgd", epochs=3), ValueError, "Unknown compile setting(s) epochs"),
        (lambda d: d.apply_preset("resnet"), ValueError, "Unknown preset 'resnet'; known: keras_guide"),
    ],
)
def test_a_refused_edit_raises_and_changes_nothing(edit, error, words):
    d = draft()
    before = d.as_dict()
    with pytest.raises(error) as info:
        edit(d)
    assert words in str(info.value)
    assert d.as_dict() == before
    d.add_layer("flatten")  # ids still count on from where they were
    assert len({r["id"] for r in d.layers}) == 3


def test_fields_task_classes_and_compile():
    d = draft()
    d.set_task("binary")
    assert d.value("num_classes") is None and d.output() == {"units": 1, "activation": "sigmoid"}
    d.set_task("multilabel")
    assert d.value("num_classes") == 3  # the count comes back
    d.set_task("regression")
    assert d.value("num_classes") == 3 and d.output() == {"units": 3, "activation": "linear"}
    d.set_field("num_classes", None)
    assert d.output() == {"units": 1, "activation": "linear"}
    d.set_task("multiclass", 4)
    d.set_classes(class_names=["w", "x", "y", "z"])
    assert (d.value("num_classes"), d.value("class_names")) == (4, ["w", "x", "y", "z"])
    d.set_classes(5, None)
    assert (d.value("num_classes"), d.value("class_names")) == (5, None)
    d.set_field("task", "binary")  # as set_task
    assert d.value("num_classes") is None
    d.set_compile(optimizer="rmsprop", learning_rate=0.002, loss="mse", metrics=["mae"])
    d.set_field("learning_rate", 0.003)
    t, h = d.to_config().training, d.to_config().head
    assert (t.optimizer, t.learning_rate, h.loss, h.metrics) == ("rmsprop", 0.003, "mse", ["mae"])


def test_defaults_and_output_follow_the_task():
    d = draft()
    assert d.default_compile() == {"loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}
    assert d.output() == {"units": 3, "activation": "softmax"}
    d.set_task("multilabel")
    assert d.default_compile() == {"loss": "binary_crossentropy", "metrics": ["binary_accuracy"]}
    d.set_task("ranking")
    assert d.default_compile() == {"loss": None, "metrics": []} and d.output() is None
    d.set_task("multiclass", None)
    assert d.output() is None


# -- presets ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "on_a_map", "on_a_vector"),
    [
        ("keras_guide", [("global_average_pooling", None), ("dropout", 0.2)], [("dropout", 0.2)]),
        ("teachable_machine", [("global_average_pooling", None), ("dense", 100)], [("dense", 100)]),
        ("linear_probe", [("global_average_pooling", None)], []),
    ],
)
def test_presets_replace_the_layers_and_pool_only_a_feature_map(name, on_a_map, on_a_vector):
    for shape, expected in ((MAP, on_a_map), (VECTOR, on_a_vector)):
        d = draft(shape)
        d.add_layer("batch_norm")
        d.add_augmentation("random_flip")
        d.apply_preset(name)
        assert [(r["type"], r.get("units") or r.get("rate")) for r in d.layers] == expected
        assert types(d, "augmentation") == ["random_flip"]  # presets are about the head
        assert d.valid, d.problems()
    assert all(
        isinstance(p, HeadPreset) and p.name == key and p.label and p.description
        for key, p in HEAD_PRESETS.items()
    )


def test_a_preset_hands_out_copies():
    layers = HEAD_PRESETS["teachable_machine"].layers_for(MAP)
    layers[1].units = 5
    assert HEAD_PRESETS["teachable_machine"].layers[1].units == 100


# -- problems, structured --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "field", "words"),
    [
        (
            lambda d: d.add_layer("dense", 1, units=0),
            "head.layers[1].units",
            "must be a positive integer, got 0",
        ),
        (lambda d: d.add_layer("dense", 1, units="abc"), "head.layers[1].units", "got 'abc'"),
        (
            lambda d: d.add_layer("dense", 1, activation="sparkle"),
            "head.layers[1].activation",
            "must be a Keras activation name",
        ),
        (lambda d: d.set_layer(1, rate=1), "head.layers[1].rate", "must be a number in [0, 1), got 1"),
        (
            lambda d: d.set_field("num_classes", 1),
            "head.num_classes",
            "must be an integer >= 2 for a multiclass task",
        ),
        (lambda d: d.set_field("num_classes", None), "head.num_classes", "must be set for a multiclass task"),
        (lambda d: d.set_task("multilabel", None), "head.num_classes", "must be set for a multilabel task"),
        (lambda d: d.set_task("binary", 3), "head.num_classes", "must be 1 or 2 (or None) for a binary task"),
        (lambda d: d.set_task("ranking"), "head.task", "must be one of"),
        (
            lambda d: d.set_classes(class_names=["a", "b"]),
            "head.class_names",
            "must have 3 names (one per output)",
        ),
        (
            lambda d: d.set_compile(optimizer="adamant"),
            "training.optimizer",
            "must be a Keras optimizer name",
        ),
        (lambda d: d.set_compile(learning_rate="fast"), "training.learning_rate", "got 'fast'"),
        (lambda d: d.set_compile(loss="lossy"), "head.loss", "must be a Keras loss name"),
        (
            lambda d: d.set_compile(metrics=["accuracy", "precisionn"]),
            "head.metrics[1]",
            "must be a Keras metric name",
        ),
        (
            lambda d: d.add_augmentation("random_zoom", factor=0),
            "preprocessing.augmentation[0].factor",
            "must be a number in (0, 1], got 0",
        ),
        (
            lambda d: d.add_augmentation("random_flip", mode="diagonal"),
            "preprocessing.augmentation[0].mode",
            "must be 'horizontal', 'vertical' or 'horizontal_and_vertical'",
        ),
        # Fitting the head to the feature map (check_head_fits).
        (
            lambda d: d.add_layer("dense", 0),
            "head.layers[0]",
            "(dense) gets a 4-D feature map (None, 4, 4, 6): add global_average_pooling or flatten before it",
        ),
        (
            lambda d: d.remove_layer(0),
            "head.layers",
            "must reduce the base's output (None, 4, 4, 6) to a vector",
        ),
        (
            lambda d: d.add_layer("global_max_pooling", 1),
            "head.layers[1].type",
            "'global_max_pooling' needs a 4-D feature map",
        ),
    ],
)
def test_each_problem_names_its_field(edit, field, words):
    d = draft()
    edit(d)
    problems = d.problems()
    assert all(isinstance(p, Problem) for p in problems)
    assert [p.field for p in problems] == [field], problems
    assert words in problems[0].message
    assert not d.valid and d.preview() is None


def test_several_problems_at_once_in_order_and_the_fit_check_waits_for_valid_layers():
    d = draft()
    d.add_layer("dense", 0, units=0)  # also a dense on a 4-D map, but its own field comes first
    d.set_field("num_classes", None)
    d.set_compile(optimizer="adamant")
    assert fields(d) == ["head.layers[0].units", "training.optimizer", "head.num_classes"]
    d.set_layer(0, units=4)
    assert fields(d) == ["training.optimizer", "head.num_classes", "head.layers[0]"]


def test_problems_outside_the_drafts_fields_are_not_its_to_show():
    config = TransferConfig(head=HeadSpec(num_classes=3))
    config.training.epochs = -1
    config.data.source = "directory"
    assert {p.field for p in config.problems()} >= {"training.epochs", "data.directory"}
    d = HeadDraft(MAP, config)
    assert d.problems() == []
    assert owns("head") and owns("head.layers[0].units") and owns("preprocessing.augmentation[2].factor")
    assert owns("training.learning_rate") and not owns("training.learning_rate_schedule")
    assert not owns("training.epochs") and not owns("headline") and not owns("preprocessing.mode")


def test_a_new_feature_shape_is_checked_again():
    d = draft(VECTOR)
    d.apply_preset("keras_guide")
    assert d.valid
    d.feature_shape = (None, 3, 3, 6)
    assert fields(d) == ["head.layers"]


def test_check_head_fits_and_build_head_give_structured_problems():
    spec = HeadSpec([HeadLayerSpec("dense", 4)], num_classes=3)
    assert check_head_fits(spec, MAP) == [
        Problem(
            "head.layers[0]",
            "(dense) gets a 4-D feature map (None, 4, 4, 6): add global_average_pooling or flatten before it",
        )
    ]
    assert check_head_fits(spec, VECTOR) == []
    with pytest.raises(ConfigError) as info:
        build_head(spec, MAP)
    assert [p.field for p in info.value.details] == ["head.layers[0]"]
    assert info.value.problems == [str(p) for p in info.value.details]


# -- the preview against Keras's own numbers ---------------------------------------------------------


def test_preview_matches_a_head_keras_builds_by_hand():
    d = draft()
    d.add_layer("dense", 1, units=16, activation="relu")
    d.add_layer("batch_norm", 2)
    preview = d.preview()
    assert preview is not None
    by_hand = keras.Sequential(
        [
            keras.Input(MAP[1:]),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.BatchNormalization(),
            keras.layers.Dropout(0.2),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    assert [r["output_shape"] for r in preview.rows] == [
        tuple(layer.output.shape) for layer in by_hand.layers
    ]
    assert [r["params"] for r in preview.rows] == [layer.count_params() for layer in by_hand.layers]
    assert [r["trainable"] for r in preview.rows] == [
        sum(int(w.numpy().size) for w in layer.trainable_weights) for layer in by_hand.layers
    ]
    assert preview.total == by_hand.count_params()
    assert preview.trainable == sum(int(w.numpy().size) for w in by_hand.trainable_weights)
    assert preview.trainable == preview.total - 2 * 16  # BatchNorm's moving mean and variance
    assert [r["name"] for r in preview.rows] == [
        "head_0_global_average_pooling",
        "head_1_dense",
        "head_2_batch_norm",
        "head_3_dropout",
        "predictions",
    ]


# -- to and from a config -----------------------------------------------------------------------------


def test_round_trip_through_a_config_keeps_everything_else():
    config = TransferConfig(head=HeadSpec(num_classes=3, labels="sparse"))
    config.training.epochs, config.training.batch_size, config.mode = 9, 4, "feature_extraction"
    d = HeadDraft(MAP, config)
    assert d.to_config().to_json() == config.to_json()  # unchanged: the same config
    d.apply_preset("teachable_machine")
    d.set_layer(1, units=12, activation="gelu")
    d.set_task("multilabel", 5)
    d.set_classes(class_names=list("abcde"))
    d.set_compile(optimizer="adamw", learning_rate=3e-4, metrics=["binary_accuracy"])
    trial = d.to_config()
    assert trial.head == HeadSpec(
        [HeadLayerSpec("global_average_pooling"), HeadLayerSpec("dense", 12, "gelu")],
        task="multilabel",
        num_classes=5,
        metrics=["binary_accuracy"],
        labels="sparse",
        class_names=list("abcde"),
    )
    assert d.head_spec() == trial.head
    assert (trial.training.optimizer, trial.training.learning_rate) == ("adamw", 3e-4)
    assert (trial.training.epochs, trial.training.batch_size, trial.mode) == (9, 4, "feature_extraction")
    assert trial.check() is trial
    again = HeadDraft(MAP, TransferConfig.from_json(trial.to_json()))

    def without_ids(form):
        return {
            k: [{f: v for f, v in r.items() if f != "id"} for r in form[k]]
            if k in ("layers", "augmentation")
            else form[k]
            for k in form
        }

    assert without_ids(again.as_dict()) == without_ids(d.as_dict())
    assert again.to_config().to_json() == trial.to_json()


def test_to_config_carries_invalid_values_as_the_form_shows_them():
    d = draft()
    d.set_layer(1, rate="x")
    d.set_compile(learning_rate=None)
    trial = d.to_config()
    assert trial.head.layers[1].rate == "x" and trial.training.learning_rate is None
    assert {p.field for p in trial.problems()} == {"head.layers[1].rate", "training.learning_rate"}


def test_load_replaces_the_form():
    d = draft()
    d.add_layer("dense")
    d.set_field("num_classes", None)
    assert not d.valid
    d.load(TransferConfig(head=HeadSpec([HeadLayerSpec("flatten")], task="binary")))
    assert types(d) == ["flatten"] and d.value("task") == "binary" and d.valid
