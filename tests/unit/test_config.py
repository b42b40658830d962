"""TransferConfig: exact JSON round trip, validation naming every field, freeze plans."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest

from transfer_widgets import (
    ConfigError,
    TransferConfig,
    freeze_all,
    freeze_up_to,
    set_trainable,
    unfreeze_all,
)
from transfer_widgets.config import (
    AugmentationSpec,
    BaseSpec,
    DataSpec,
    FineTuneSpec,
    FreezePlan,
    HeadLayerSpec,
    HeadSpec,
    PreprocessingSpec,
    Problem,
    TrainingSpec,
)
from transfer_widgets.model.assemble import ImagenetPreprocessing, family_of, resolve_preprocessing
from transfer_widgets.model.freeze_plan import apply_freeze_plan, freeze_plan_from_model
from transfer_widgets.model.head import build_head, head_preview


def full_config() -> TransferConfig:
    """Every field away from its default, including floats that print long."""
    return TransferConfig(
        base=BaseSpec(
            "application", "MobileNetV2", "weights/base.weights.h5", None, (96, 96, 3), {"alpha": 0.35}
        ),
        preprocessing=PreprocessingSpec(
            "rescale",
            None,
            1 / 127.5,
            -1.0,
            [
                AugmentationSpec("random_flip", mode="horizontal"),
                AugmentationSpec("random_rotation", factor=0.1),
            ],
        ),
        head=HeadSpec(
            [
                HeadLayerSpec("global_max_pooling"),
                HeadLayerSpec("dense", 64, "gelu"),
                HeadLayerSpec("batch_norm"),
                HeadLayerSpec("dropout", rate=0.3),
            ],
            "multilabel",
            7,
            "binary_crossentropy",
            ["binary_accuracy", "auc"],
            "one_hot",
        ),
        training=TrainingSpec(
            "sgd",
            0.1 + 0.2,
            16,
            3,
            FineTuneSpec(2, 4, "block_13_expand", 1 / 3, False),
            True,
            True,
            "val_auc",
            False,
            42,
        ),
        mode="fine_tune",
        feature_cache="disk",
        cache_dir="/tmp/features",
        data=DataSpec("directory", "/data/flowers", (96, 96), 0.2, "categorical", 7, None, {}),
        freeze=FreezePlan("explicit", None, False, ["a/b", "c"]),
    )


def test_json_round_trip_is_exact() -> None:
    for config in (TransferConfig(), full_config()):
        text = config.to_json()
        back = TransferConfig.from_json(text)
        assert back == config
        assert back.to_json() == text
        assert isinstance(back.base.input_shape, (tuple, type(None)))
        assert isinstance(back.head.layers[0], HeadLayerSpec)
    assert TransferConfig.from_json(full_config().to_json()).training.learning_rate == 0.1 + 0.2


def test_default_and_full_configs_are_valid() -> None:
    assert TransferConfig().validate() == []
    assert full_config().validate() == []


def test_validate_returns_every_problem_with_its_field() -> None:
    c = TransferConfig()
    c.head.layers = [
        HeadLayerSpec("global_average_pooling"),
        HeadLayerSpec("dropout", rate=1.0),
        HeadLayerSpec("dense", units=0, activation="relu"),
        HeadLayerSpec("dense", 8, "sparkle"),
    ]
    c.training.learning_rate = 0
    c.training.optimizer = "adamm"
    c.training.batch_size = -4
    problems = c.validate()
    assert "head.layers[2].units must be a positive integer, got 0" in problems
    assert any(p.startswith("head.layers[1].rate must be a number in [0, 1)") for p in problems)
    assert any(p.startswith("head.layers[3].activation") and "'sparkle'" in p for p in problems)
    assert any(p.startswith("training.learning_rate must be a positive number") for p in problems)
    assert any(p.startswith("training.optimizer") and "'adamm'" in p for p in problems)
    assert any(p.startswith("training.batch_size") for p in problems)
    assert len(problems) == 6
    with pytest.raises(ConfigError) as info:
        c.check()
    assert info.value.problems == problems
    assert "head.layers[2].units" in str(info.value)


def test_from_json_names_unknown_and_mistyped_fields() -> None:
    data = json.loads(TransferConfig().to_json())
    data["head"]["layres"] = []
    data["training"]["fine_tune"] = [1, 2]
    data["head"]["layers"][0] = {"units": 3}
    with pytest.raises(ConfigError) as info:
        TransferConfig.from_dict(data)
    text = str(info.value)
    assert "head.layres is not a known field" in text
    assert "training.fine_tune must be an object" in text
    assert "head.layers[0].type is required" in text
    with pytest.raises(ConfigError, match="not valid JSON"):
        TransferConfig.from_json("{nope")


def test_feature_extraction_with_augmentation_is_refused_not_dropped() -> None:
    c = TransferConfig(mode="feature_extraction")
    c.preprocessing.augmentation = [AugmentationSpec("random_zoom", factor=0.2)]
    assert any(
        p.startswith("preprocessing.augmentation cannot apply to cached features") for p in c.validate()
    )


def backbone() -> keras.Model:
    layers = []
    for b in (1, 2, 3):
        layers += [
            keras.layers.Conv2D(4, 3, padding="same", name=f"block_{b}_conv"),
            keras.layers.BatchNormalization(name=f"block_{b}_bn"),
            keras.layers.ReLU(name=f"block_{b}_relu"),
        ]
    return keras.Sequential([keras.Input((8, 8, 3)), *layers], name="backbone")


def flags(model: keras.Model) -> list[bool]:
    return [layer.trainable for layer in model.layers]


def _two_trainable(model: keras.Model) -> None:
    freeze_all(model)
    set_trainable(model, "block_1_bn", True)
    set_trainable(model, "block_3_conv", True)


@pytest.mark.parametrize(
    ("setup", "kind"),
    [
        (lambda m: freeze_all(m), "all_frozen"),
        (lambda m: unfreeze_all(m, keep_bn_frozen=False), "all_trainable"),
        (lambda m: unfreeze_all(m, keep_bn_frozen=True), "all_trainable"),
        (lambda m: freeze_up_to(m, "block_2_conv"), "boundary"),
        (lambda m: freeze_up_to(m, "block_2_conv", keep_bn_frozen=False), "boundary"),
        (_two_trainable, "explicit"),
    ],
)
def test_freeze_plan_is_compact_and_reapplies_by_name(setup: Callable[[keras.Model], Any], kind: str) -> None:
    source, target = backbone(), backbone()
    setup(source)
    plan = freeze_plan_from_model(source)
    assert plan.kind == kind
    if kind == "boundary":
        assert plan.boundary == "block_2_conv"
    # Through JSON, onto a fresh model with other flags.
    config = TransferConfig(freeze=plan)
    plan_back = TransferConfig.from_json(config.to_json()).freeze
    unfreeze_all(target, keep_bn_frozen=False) if kind == "all_frozen" else freeze_all(target)
    apply_freeze_plan(plan_back, target)
    assert flags(target) == flags(source)


def test_freeze_plan_with_an_unknown_layer_names_it_and_the_field() -> None:
    model = backbone()
    before = [layer.trainable for layer in model.layers]
    with pytest.raises(ConfigError, match=r"freeze\.boundary .*block_9_conv"):
        apply_freeze_plan(FreezePlan("boundary", boundary="block_9_conv"), model)
    with pytest.raises(ConfigError, match=r"freeze\.trainable .*nope"):
        apply_freeze_plan(FreezePlan("explicit", trainable=[model.layers[0].name, "nope"]), model)
    assert [layer.trainable for layer in model.layers] == before


def test_head_from_spec_with_preview() -> None:
    spec = HeadSpec(
        [
            HeadLayerSpec("global_average_pooling"),
            HeadLayerSpec("dense", 16, "relu"),
            HeadLayerSpec("dropout", rate=0.5),
        ],
        "multiclass",
        5,
    )
    rows = head_preview(spec, (None, 4, 4, 32))
    assert [r["output_shape"] for r in rows] == [(None, 32), (None, 16), (None, 16), (None, 5)]
    assert [r["params"] for r in rows] == [0, 32 * 16 + 16, 0, 16 * 5 + 5]
    assert build_head(HeadSpec(task="binary"), (None, 4, 4, 8)).layers[-1].activation.__name__ == "sigmoid"
    with pytest.raises(ConfigError, match=r"head.layers\[0\] \(dense\) gets a 4-D feature map"):
        build_head(HeadSpec([HeadLayerSpec("dense", 4)], num_classes=3), (None, 4, 4, 8))


@pytest.mark.parametrize(
    ("name", "mode"),
    [
        ("mobilenetv2_1.00_224", "tf"),
        ("MobileNetV2", "tf"),
        ("resnet50", "caffe"),
        ("ResNet50V2", "tf"),
        ("densenet121", "torch"),
        ("efficientnetb0", "none"),
        ("convnext_tiny", "none"),
        ("my_cnn", "none"),
    ],
)
def test_preprocessing_follows_the_family(name: str, mode: str) -> None:
    assert resolve_preprocessing(PreprocessingSpec(), name) == mode


def test_preprocessing_layer_matches_keras_preprocess_input() -> None:
    x = np.random.default_rng(0).uniform(0, 255, (2, 4, 4, 3)).astype("float32")
    for mode, fn in (
        ("tf", keras.applications.mobilenet_v2.preprocess_input),
        ("caffe", keras.applications.resnet50.preprocess_input),
        ("torch", keras.applications.densenet.preprocess_input),
    ):
        np.testing.assert_allclose(
            np.asarray(ImagenetPreprocessing(mode)(x)), fn(x.copy()), rtol=1e-5, atol=1e-4
        )
    assert family_of("inception_resnet_v2") == "inception_resnet_v2"


def test_flags_must_be_booleans_not_strings() -> None:
    data = json.loads(TransferConfig().to_json())
    data["training"]["nan_guard"] = "yes"
    data["freeze"]["keep_bn_frozen"] = 1
    problems = TransferConfig.from_dict(data).validate()
    assert "training.nan_guard must be true or false, got 'yes'" in problems
    assert "freeze.keep_bn_frozen must be true or false, got 1" in problems


def test_problems_are_structured_and_validate_is_their_text() -> None:
    c = TransferConfig()
    c.head.layers[1].rate = 1.5
    c.training.batch_size = 0
    problems = c.problems()
    assert Problem("training.batch_size", "must be a positive integer, got 0") in problems
    assert [p.field for p in problems] == ["head.layers[1].rate", "training.batch_size"]
    assert c.validate() == [str(p) for p in problems]
    with pytest.raises(ConfigError) as info:
        c.check()
    assert info.value.details == problems and info.value.problems == c.validate()


def test_config_error_takes_lines_or_problems() -> None:
    err = ConfigError(
        ["head.task must be one of 'multiclass', got 'x'", Problem("mode", "must be one of ...")]
    )
    assert err.problems == ["head.task must be one of 'multiclass', got 'x'", "mode must be one of ..."]
    assert err.details == [
        Problem("head.task", "must be one of 'multiclass', got 'x'"),
        Problem("mode", "must be one of ..."),
    ]
    assert "2 problem(s)" in str(err)


def test_problems_come_in_field_order_and_a_part_of_the_wrong_kind_is_named() -> None:
    c = TransferConfig()
    c.version = 2
    c.training.optimizer = "nope"
    c.head.task = "x"
    c.head.layers = [{"type": "dense"}, HeadLayerSpec("dense", units=0)]  # type: ignore[list-item]
    c.preprocessing.augmentation = None  # type: ignore[assignment]
    c.data = {}  # type: ignore[assignment]
    assert [str(p) for p in c.problems()] == [
        "preprocessing.augmentation must be a list, got NoneType",
        "head.layers[0] must be a HeadLayerSpec, got dict",
        "head.layers[1].units must be a positive integer, got 0",
        "head.task must be one of 'multiclass', 'binary', 'multilabel', 'regression', got 'x'",
        "training.optimizer must be a Keras optimizer name (adam, sgd, rmsprop, adamw, ...), got 'nope'",
        "data must be a DataSpec, got dict",
        "version must be 1, got 2",
    ]


def test_from_dict_checks_the_shape_and_leaves_values_to_validate() -> None:
    data = json.loads(TransferConfig().to_json())
    data["base"]["input_shape"] = [0, 3]
    data["training"]["batch_size"] = "32"
    config = TransferConfig.from_dict(data)  # wrong values are kept, as if set on the object
    batch_size: object = config.training.batch_size
    assert config.base.input_shape == (0, 3) and batch_size == "32"
    assert config.validate() == [
        "base.input_shape must be a tuple of positive integers, got (0, 3)",
        "training.batch_size must be a positive integer, got '32'",
    ]
    data["base"]["kwargs"] = None
    data["head"]["layers"] = {"type": "dense"}
    with pytest.raises(ConfigError) as info:
        TransferConfig.from_dict(data)
    assert info.value.problems == [
        "base.kwargs must be an object, got NoneType",
        "head.layers must be a list, got dict",
    ]
    with pytest.raises(ConfigError, match=r"\(config\) must be an object, got list"):
        TransferConfig.from_dict([])


def test_parts_stay_plain_dataclasses() -> None:
    layer = HeadLayerSpec("dense", 3)
    assert dataclasses.is_dataclass(layer) and dataclasses.replace(layer, units=4) == HeadLayerSpec(
        "dense", units=4
    )
    assert FreezePlan("boundary", boundary="x") == FreezePlan(kind="boundary", boundary="x")
    assert AugmentationSpec("random_flip").mode is None
    config = full_config()
    assert (
        dataclasses.asdict(config) == config.to_dict()
        and config.copy() == config
        and config.copy() is not config
    )


def test_load_takes_json_text_a_path_a_dict_or_a_config(tmp_path: Path) -> None:
    config = full_config()
    path = tmp_path / "experiment.json"
    path.write_text(config.to_json(), encoding="utf-8")
    for source in (config.to_json(), "  " + config.to_json(), str(path), path, config.to_dict(), config):
        loaded = TransferConfig.load(source)
        assert loaded == config and loaded is not config
    with pytest.raises(ConfigError, match="not valid JSON"):
        TransferConfig.load("{nope")
    with pytest.raises(FileNotFoundError):
        TransferConfig.load(str(tmp_path / "missing.json"))
    with pytest.raises(TypeError, match="got int"):
        TransferConfig.load(3)  # type: ignore[arg-type]
