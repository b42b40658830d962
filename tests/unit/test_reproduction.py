"""Three references, each run three ways from the same saved base weights and seed:
plain Keras written from the reference, the controller started with method
arguments (the way the tutorials start it), and the script the controller exports,
run in a subprocess.

- the Keras guide "Transfer learning & fine-tuning": head with the base frozen
  (Adam 1e-3), then the whole base unfrozen, BatchNorm layers kept in inference mode
  (``training=False``) while their γ / β train, Adam 1e-5;
- fine-tuning with SGD (momentum 0.9, Nesterov) and partial unfreezing: the base
  frozen below a layer, everything from it on trained together with the head;
- feature extraction: the frozen base runs once, the head trains on its outputs.

Per phase the three must agree on the model's structure, the trainable and
non-trainable parameter counts, the optimizer's class, arguments and learning rate,
and the final training loss within ``LOSS_TOLERANCE``. The base is a small CNN with
BatchNorm, trained briefly on other digits and saved by the test; the data is the
offline digits demo.
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest

from transfer_widgets import FineTuneController, TransferConfig
from transfer_widgets.config import HeadLayerSpec
from transfer_widgets.data.datasets import load_digits
from transfer_widgets.export.describe import describe_model
from transfer_widgets.model.assemble import pin_inference_mode

from . import fit_recorder

SEED = 7
CLASSES = [0, 1, 2]
IMAGE = (16, 16)
BATCH = 32
#: Final training losses of the three ways may differ by this much (absolute). The three
#: start from the same weights and seed; what is left is float summation order between
#: the controller's thread and a fresh process.
LOSS_TOLERANCE = 1e-3
REPO = Path(__file__).resolve().parents[2]


def digits():
    """The demo data as the controller's ``data`` config loads it: train and validation."""
    x, y = load_digits(image_size=IMAGE, classes=CLASSES)
    n_val = round(len(x) * 0.2)
    order = np.random.default_rng(0).permutation(len(x))
    return (x[order[n_val:]], y[order[n_val:]]), (x[order[:n_val]], y[order[:n_val]])


def small_base() -> keras.Model:
    """A small backbone with BatchNorm, trained for 5 epochs on digits 5-9 (BatchNorm's
    momentum 0.9 so that its moving statistics settle in that short a time)."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((*IMAGE, 3))
    x = keras.layers.Conv2D(8, 3, padding="same", name="stem_conv")(inputs)
    x = keras.layers.BatchNormalization(momentum=0.9, name="stem_bn")(x)
    x = keras.layers.Activation("relu", name="stem_relu")(x)
    x = keras.layers.MaxPooling2D(name="stem_pool")(x)
    x = keras.layers.Conv2D(16, 3, padding="same", name="block_conv")(x)
    x = keras.layers.BatchNormalization(momentum=0.9, name="block_bn")(x)
    x = keras.layers.Activation("relu", name="block_relu")(x)
    base = keras.Model(inputs, x, name="small_base")
    pretrain = keras.Sequential(
        [base, keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(5, activation="softmax")]
    )
    px, py = load_digits(image_size=IMAGE, classes=[5, 6, 7, 8, 9])
    pretrain.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy")
    pretrain.fit(px / 127.5 - 1, py, epochs=5, batch_size=32, verbose=0)
    return base


@pytest.fixture(scope="module")
def base_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("base") / "base.keras"
    small_base().save(path)
    return path


def config(mode: str = "fine_tune") -> TransferConfig:
    c = TransferConfig()
    c.mode = mode
    c.preprocessing.mode = "rescale"
    c.preprocessing.scale, c.preprocessing.offset = 1 / 127.5, -1.0
    c.head.layers = [HeadLayerSpec("global_average_pooling"), HeadLayerSpec("dropout", rate=0.2)]
    c.training.batch_size = BATCH
    c.training.seed = SEED
    c.data.source, c.data.demo = "demo", "digits"
    c.data.demo_kwargs = {"image_size": list(IMAGE), "classes": CLASSES}
    c.data.validation_split = 0.2
    return c


def plain_model(base: keras.Model) -> tuple[keras.Model, keras.Sequential]:
    """The guide's model: rescale to [-1, 1], the base in inference mode, pooling,
    dropout 0.2, a softmax classifier (built in the order the controller builds it)."""
    head = keras.Sequential(
        [
            keras.Input(base.output_shape[1:]),
            keras.layers.GlobalAveragePooling2D(name="head_0_global_average_pooling"),
            keras.layers.Dropout(0.2, name="head_1_dropout"),
            keras.layers.Dense(len(CLASSES), activation="softmax", name="predictions"),
        ],
        name="head",
    )
    inputs = keras.Input((*IMAGE, 3), name="image")
    x = keras.layers.Rescaling(1 / 127.5, offset=-1.0, name="rescale")(inputs)
    # The guide calls base(x, training=False); Keras 3.15 lets the outer model's flag
    # override that in fit, so pin it as the guide intends.
    pin_inference_mode(base)
    outputs = head(base(x, training=False))
    return keras.Model(inputs, outputs, name="transfer_model"), head


def plain_compile(model: keras.Model, optimizer: keras.optimizers.Optimizer) -> None:
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])


def run_plain(recipe: str, base_file: Path) -> list[dict]:
    phases = fit_recorder.install()
    keras.utils.clear_session()
    keras.utils.set_random_seed(SEED)
    (x, y), val = digits()
    base = keras.models.load_model(base_file, compile=False)
    fit = {
        "batch_size": BATCH,
        "validation_data": val,
        "verbose": 0,
        "callbacks": [keras.callbacks.TerminateOnNaN()],
    }
    if recipe == "guide":
        base.trainable = False
        model, _ = plain_model(base)
        plain_compile(model, keras.optimizers.Adam())
        model.fit(x, y, epochs=2, **fit)
        base.trainable = True  # BatchNorm stays in inference mode: the base runs with training=False
        plain_compile(model, keras.optimizers.Adam(1e-5))
        model.fit(x, y, epochs=2, **fit)
    elif recipe == "sgd_partial":
        base.trainable = True
        for layer in base.layers[: [layer.name for layer in base.layers].index("block_conv")]:
            layer.trainable = False
        model, _ = plain_model(base)
        plain_compile(model, keras.optimizers.SGD(0.01, momentum=0.9, nesterov=True))
        model.fit(x, y, epochs=3, **fit)
    else:  # feature extraction
        base.trainable = False
        model, head = plain_model(base)
        features = keras.Model(model.input, base(model.layers[1].output, training=False))
        f_train = features.predict(x, batch_size=BATCH, verbose=0)
        f_val = features.predict(val[0], batch_size=BATCH, verbose=0)
        plain_compile(head, keras.optimizers.Adam())
        head.fit(f_train, y, epochs=3, **{**fit, "validation_data": (f_val, val[1])})
    fit_recorder.uninstall()
    return {"phases": list(phases), "model": describe_model(model)}


def run_controller(recipe: str, base_file: Path) -> tuple[dict, FineTuneController]:
    phases = fit_recorder.install()
    keras.utils.clear_session()
    if recipe == "guide":
        ctl = FineTuneController(str(base_file), config=config())
        ctl.fine_tune(2, 2, block=True)  # the defaults are the guide's: lr_mult 0.01, BN γ / β train
    elif recipe == "sgd_partial":
        ctl = FineTuneController(str(base_file), config=config())
        ctl.freeze_up_to("block_conv", keep_bn_frozen=False)
        ctl.fit(3, optimizer=keras.optimizers.SGD(0.01, momentum=0.9, nesterov=True), block=True)
    else:
        ctl = FineTuneController(str(base_file), config=config("feature_extraction"))
        ctl.fit(3, block=True)
    fit_recorder.uninstall()
    return {"phases": list(phases), "model": describe_model(ctl.model)}, ctl


HARNESS = textwrap.dedent("""
    import json, runpy, sys
    recorder = {}
    exec(sys.argv[2], recorder)
    phases = recorder["install"]()
    runpy.run_path(sys.argv[1], run_name="__main__")
    recorder["uninstall"]()
    import keras
    from transfer_widgets.export.describe import describe_model
    model = keras.models.load_model("fine_tuned.keras")
    print("RESULT" + json.dumps({"phases": phases, "model": describe_model(model)}))
""")


def run_script(script: Path) -> dict:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONHASHSEED": "0"}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    proc = subprocess.run(
        [sys.executable, "-c", HARNESS, str(script), inspect.getsource(fit_recorder)],
        cwd=script.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.split("RESULT", 1)[1])


def same_structure(a: dict, b: dict) -> None:
    """Same layers (path, class, config, flag, parameter counts) and totals."""
    assert [r["path"] for r in a["layers"]] == [r["path"] for r in b["layers"]]
    for mine, theirs in zip(a["layers"], b["layers"], strict=True):
        if mine["path"].endswith("(input)"):  # an input layer's flag trains nothing
            mine, theirs = {**mine, "trainable": None}, {**theirs, "trainable": None}
        assert mine == theirs, mine["path"]
    assert (a["params"], a["trainable_params"]) == (b["params"], b["trainable_params"])


def same_phases(got: list[dict], want: list[dict]) -> None:
    assert len(got) == len(want)
    for mine, theirs in zip(got, want, strict=True):
        for key in ("epochs", "trainable", "non_trainable", "optimizer", "optimizer_config"):
            assert mine[key] == theirs[key], (key, mine, theirs)
        assert mine["learning_rate"] == pytest.approx(theirs["learning_rate"], rel=1e-6)
        assert mine["loss"] == theirs["loss"]  # the compiled loss
        assert abs(mine["final_loss"] - theirs["final_loss"]) <= LOSS_TOLERANCE, (mine, theirs)


@pytest.mark.parametrize("recipe", ["guide", "sgd_partial", "feature_extraction"])
def test_reference_controller_and_export_agree(recipe, base_file, tmp_path):
    plain = run_plain(recipe, base_file)
    session, ctl = run_controller(recipe, base_file)
    script = ctl.export_script(tmp_path / "train.py")
    exported = run_script(script)

    assert plain["phases"][-1]["final_loss"] < plain["phases"][0]["first_loss"]  # it learned something
    same_structure(session["model"], plain["model"])
    same_structure(exported["model"], plain["model"])
    same_phases(session["phases"], plain["phases"])
    same_phases(exported["phases"], plain["phases"])
    # the run record says what the phases were
    record = ctl.run_records[-1]
    assert [p.epochs for p in record.phases] == [p["epochs"] for p in plain["phases"]]
    assert [p.learning_rate for p in record.phases] == pytest.approx(
        [p["learning_rate"] for p in plain["phases"]]
    )
