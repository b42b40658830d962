"""The exported script of one representative experiment, committed under
tests/unit/golden/ so reviewers read what users get. Regenerate after an intended
change with ``TW_UPDATE_GOLDEN=1 python -m pytest tests/unit/test_export_golden.py``."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from transfer_widgets import FineTuneController, TransferConfig
from transfer_widgets.config import AugmentationSpec, HeadLayerSpec
from transfer_widgets.export import plan_from_controller, render

GOLDEN = Path(__file__).parent / "golden" / "mobilenet_v2_fine_tune.py"


def representative_plan():
    """MobileNetV2 on a folder of images: augmentation, a dense head, head first and then
    the top of the base fine-tuned at a hundredth of the rate (the defaults, as the Keras guide)."""
    c = TransferConfig()
    c.base.weights = None  # built offline; the export below asks for imagenet weights, as a user would
    c.preprocessing.augmentation = [
        AugmentationSpec("random_flip"),
        AugmentationSpec("random_rotation", factor=0.1),
    ]
    c.head.layers = [
        HeadLayerSpec("global_average_pooling"),
        HeadLayerSpec("dropout", rate=0.2),
        HeadLayerSpec("dense", units=64, activation="relu"),
    ]
    c.head.class_names = ["daisy", "dandelion", "roses", "sunflowers", "tulips"]
    c.training.seed = 42
    c.training.fine_tune.head_epochs, c.training.fine_tune.epochs = 10, 10
    c.training.fine_tune.unfreeze_from = "block_13_expand"
    c.training.restore_best = True
    x = np.zeros((5, 224, 224, 3), "float32")
    ctl = FineTuneController("MobileNetV2", num_classes=5, train_data=(x, np.arange(5)), config=c)
    plan = plan_from_controller(ctl, two_phase=True)
    plan.config.base.weights = "imagenet"
    d = plan.config.data
    d.source, d.directory, d.image_size, d.validation_split, d.seed = (
        "directory",
        "data/flowers",
        (224, 224),
        0.2,
        123,
    )
    return plan


def test_golden_script():
    text = render(representative_plan(), "script")
    if os.environ.get("TW_UPDATE_GOLDEN"):
        GOLDEN.write_text(text)
    assert GOLDEN.read_text() == text, (
        "the export changed: review it, then regenerate with TW_UPDATE_GOLDEN=1"
    )


def test_golden_script_is_ruff_clean(tmp_path):
    from .test_export import ruff_problems

    copy = tmp_path / GOLDEN.name  # outside the repository, where transfer_widgets is third party
    copy.write_text(GOLDEN.read_text())
    assert ruff_problems(copy) == ""
