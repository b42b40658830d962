"""Where bases and data come from, feature extraction with cached features, and
distribution: bases by applications name (with a weights file the test writes),
from a .keras file, data from an image folder or the demo set, MirroredStrategy."""

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np

from transfer_widgets import FineTuneController, TransferConfig, datasets, unfreeze_all
from transfer_widgets.config import DataSpec

from .test_controller import backbone, changed, config, data, snapshot

# -- feature extraction -----------------------------------------------------------------------


def feature_controller(**kwargs):
    x, y = data(96)
    c = config()
    c.mode = "feature_extraction"
    for k, v in kwargs.items():
        setattr(c, k, v)
    return FineTuneController(
        backbone(), num_classes=3, train_data=(x[:64], y[:64]), validation_data=(x[64:], y[64:]), config=c
    )


def test_feature_extraction_runs_the_base_once_and_trains_only_the_head():
    c = feature_controller()
    unfreeze_all(c.base_model)  # flags do not matter: the base only produces cached features
    base_before, head_before = snapshot(c.base_model), snapshot(c.head)
    c.fit(2, block=True)
    c.fit(1, block=True)
    assert c._features.computed == 2  # train and validation data, once each
    assert changed(base_before, c.base_model) == set()
    assert changed(head_before, c.head) == {v.path for v in c.head.trainable_weights}
    assert c.history["epoch"] == [0, 1, 2] and "val_loss" in c.history
    # The trained head is attached to the base: the full model predicts with it.
    x = data(8, seed=3)[0]
    features = c._feature_model.predict(x, verbose=0)
    np.testing.assert_allclose(c.predict(x), c.head.predict(features, verbose=0), rtol=1e-5, atol=1e-6)


def test_disk_cache_and_invalidation_when_the_base_changes(tmp_path):
    c = feature_controller(feature_cache="disk", cache_dir=str(tmp_path))
    c.fine_tune(head_epochs=2, epochs=1, block=True)  # phase 1 on cached features, phase 2 end to end
    files = os.listdir(tmp_path)
    assert len(files) == 2 and all(f.startswith("tw-features-") for f in files)
    assert c.history["phase"] == ["head", "head", "fine_tune"]
    assert c._features.computed == 2
    c.fit(1, block=True)  # the base was fine-tuned: its old features are stale
    assert c._features.computed == 4
    assert c.state == "finished"
    result = c.lr_find(start=1e-4, end=1.0, steps=10)
    assert len(result.losses) >= 2
    c._features.clear()
    assert os.listdir(tmp_path) == []


# -- bases ------------------------------------------------------------------------------------------


def test_application_by_name_with_a_weights_file_and_auto_preprocessing(tmp_path):
    kwargs = dict(include_top=False, input_shape=(32, 32, 3), alpha=0.35)
    source = keras.applications.MobileNetV2(weights=None, **kwargs)
    path = str(tmp_path / "mobilenet.weights.h5")
    source.save_weights(path)
    c = TransferConfig()
    c.base.weights = path
    c.base.input_shape = (32, 32, 3)
    c.base.kwargs = {"alpha": 0.35}
    x = np.random.default_rng(0).uniform(0, 255, (8, 32, 32, 3)).astype("float32")
    ctl = FineTuneController("MobileNetV2", num_classes=2, train_data=(x, np.arange(8) % 2), config=c)
    assert [layer.name for layer in ctl.model.layers][:2] == ["image", "preprocess_tf"]
    assert all(
        np.array_equal(a, b) for a, b in zip(source.get_weights(), ctl.base_model.get_weights(), strict=True)
    )
    assert ctl.config.freeze.kind == "all_frozen"  # a loaded base gets config.freeze (all frozen by default)
    assert ctl.config.base.source == "application"
    # The config reproduces the same controller from JSON.
    again = FineTuneController(
        config=TransferConfig.from_json(ctl.config.to_json()), train_data=(x, np.arange(8) % 2)
    )
    assert all(
        np.array_equal(a, b)
        for a, b in zip(ctl.base_model.get_weights(), again.base_model.get_weights(), strict=True)
    )


def test_base_from_a_keras_file(tmp_path):
    path = str(tmp_path / "base.keras")
    backbone().save(path)
    c = FineTuneController(path, num_classes=3, train_data=data(), config=config())
    assert c.base_model.name == "backbone" and c.config.base.source == "file"
    c.unfreeze_all()
    c.fit(1, block=True)
    assert c.state == "finished"


# -- data sources -------------------------------------------------------------------------------------


def test_image_directory_workflow(tmp_path):
    folder = datasets.write_image_folder(
        tmp_path / "digits", per_class=8, image_size=(8, 8), classes=(0, 1, 2)
    )
    assert sorted(os.listdir(folder)) == ["digit_0", "digit_1", "digit_2"]
    c = config()
    c.data = DataSpec("directory", directory=folder, image_size=(8, 8), validation_split=0.25)
    ctl = FineTuneController(backbone(), num_classes=3, config=c)
    ctl.fit(1, block=True)
    assert ctl.state == "finished" and "val_loss" in ctl.history


def test_demo_dataset_through_the_config():
    c = config()
    c.data = DataSpec(
        "demo", demo="digits", demo_kwargs={"image_size": [8, 8], "classes": [0, 1, 2]}, validation_split=0.2
    )
    ctl = FineTuneController(backbone(), config=TransferConfig.from_json(c.to_json()))
    assert ctl.config.head.num_classes == 3  # inferred from the labels
    ctl.fit(1, block=True)
    assert ctl.state == "finished" and len(ctl.history["val_accuracy"]) == 1


# -- distribution ----------------------------------------------------------------------------------------

STRATEGY_SCRIPT = textwrap.dedent("""
    import json, os
    import numpy as np
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    from transfer_widgets import FineTuneController, unfreeze_all
    from tests.unit.test_controller import backbone, config, data, snapshot, changed

    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    base = backbone()
    original = [np.array(w) for w in base.get_weights()]
    c = FineTuneController(base, num_classes=3, train_data=data(64), config=config(), strategy=strategy)
    unfreeze_all(c.base_model)
    before = snapshot(c.model)
    c.fit(2, block=True)
    kernel = c.base_model.get_layer("block_1_conv").kernel
    print(json.dumps({
        "replicas": strategy.num_replicas_in_sync,
        "state": c.state,
        "mirrored": isinstance(kernel.value, tf.distribute.DistributedValues),
        "exact": changed(before, c.model) == {v.path for v in c.model.trainable_weights},
        "epochs": len(c.history["epoch"]),
        # The in-memory base was copied into the strategy's scope; the copy trained, not the original.
        "copied": c.base_model is not base
        and all(np.array_equal(a, b) for a, b in zip(original, base.get_weights())),
    }))
""")


def test_mirrored_strategy_over_two_logical_cpus():
    # TF devices can only be configured before first use: run in a fresh process.
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = {
        **os.environ,
        "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", ""),
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }
    out = subprocess.run(
        [sys.executable, "-c", STRATEGY_SCRIPT],
        capture_output=True,
        text=True,
        cwd=root,
        env=env,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {
        "replicas": 2,
        "state": "finished",
        "mirrored": True,
        "exact": True,
        "epochs": 2,
        "copied": True,
    }
