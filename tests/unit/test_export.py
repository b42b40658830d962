"""Export: the exported script rebuilds the experiment. A corpus of experiments is
exported and each script run in a subprocess (one Python process for the whole
corpus, with Model.fit recorded instead of run); the demo-data scripts also run
for real, train an epoch and save a model that loads back."""

from __future__ import annotations

import ast
import json
import math
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import nbformat
import numpy as np
import pytest

from transfer_widgets import FineTuneController, TransferConfig, datasets, set_trainable, unfreeze_all
from transfer_widgets.config import AugmentationSpec, HeadLayerSpec
from transfer_widgets.export import plan_from_controller, render
from transfer_widgets.export.describe import describe_compile, describe_model

HOSTILE = 'b"lk\'1 \\ \n"); import os; os.system("echo pwned") #'
# Layer names without the newline: the layer tree's block grouping fails on a name with one
# (transfer_widgets/model/blocks.py is_auto_name; reported, not this module's code).
HOSTILE_LAYER = HOSTILE.replace("\n", " ")

# -- the corpus ------------------------------------------------------------------------------


def arrays(n=8, shape=(32, 32, 3), classes=3, task="multiclass", seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 255, (n, *shape)).astype("float32")
    if task == "binary":
        y = rng.integers(0, 2, (n, 1)).astype("float32")
    elif task == "multilabel":
        y = rng.integers(0, 2, (n, classes)).astype("float32")
    elif task == "regression":
        y = rng.normal(size=(n, classes)).astype("float32")
    else:
        y = rng.integers(0, classes, n)
    return x, y


def nested_base(names=None):
    """A small backbone with a nested block and BatchNorm: Sequential in Sequential."""
    n = names or {}
    inner = keras.Sequential(
        [
            keras.layers.Conv2D(6, 3, padding="same", name=n.get("inner_conv", "inner_conv")),
            keras.layers.BatchNormalization(name="inner_bn"),
            keras.layers.Activation("relu", name="inner_relu"),
        ],
        name="inner_block",
    )
    return keras.Sequential(
        [
            keras.Input((16, 16, 3)),
            keras.layers.Conv2D(4, 3, padding="same", name=n.get("stem_conv", "stem_conv")),
            keras.layers.BatchNormalization(name="stem_bn"),
            inner,
            keras.layers.Conv2D(8, 3, padding="same", name="top_conv"),
        ],
        name=n.get("model", "nested_backbone"),
    )


def cfg(**training):
    c = TransferConfig()
    c.base.weights = None
    c.training.batch_size = 8
    for k, v in training.items():
        setattr(c.training, k, v)
    return c


def head(*specs):
    return [HeadLayerSpec(**s) if isinstance(s, dict) else HeadLayerSpec(s) for s in specs]


def mnv2(c):
    c.base.kwargs = {"alpha": 0.35}
    c.base.input_shape = (32, 32, 3)
    return "MobileNetV2"


def case_mnv2_boundary_augmented(tmp):
    c = cfg(epochs=3, learning_rate=3e-4)
    c.preprocessing.augmentation = [
        AugmentationSpec("random_flip", mode="horizontal_and_vertical"),
        AugmentationSpec("random_rotation", factor=0.1),
        AugmentationSpec("random_zoom", factor=0.2),
        AugmentationSpec("random_contrast", factor=0.3),
    ]
    c.head.layers = head(
        "global_average_pooling",
        {"type": "dense", "units": 16, "activation": "relu"},
        {"type": "dropout", "rate": 0.3},
    )
    c.freeze.kind, c.freeze.boundary = "boundary", "block_13_expand"
    return FineTuneController(mnv2(c), num_classes=5, train_data=arrays(classes=5), config=c), False


def case_mnv2_two_phase_binary(tmp):
    c = cfg()
    c.head.layers = head("global_max_pooling", "batch_norm")
    c.training.fine_tune.unfreeze_from = "block_15_expand"
    c.training.fine_tune.lr_mult = 0.05
    c.head.task = "binary"
    c.head.class_names = ["cat", HOSTILE]
    ctl = FineTuneController(
        mnv2(c), train_data=arrays(task="binary"), validation_data=arrays(task="binary"), config=c
    )
    return ctl, True


def case_mobilenet_v3_tf_data(tmp):
    import tensorflow as tf

    c = cfg(optimizer="rmsprop", learning_rate=5e-4)
    c.base.input_shape = (32, 32, 3)
    c.base.kwargs = {"minimalistic": True}
    c.head.layers = head("global_average_pooling")
    x, y = arrays(classes=4)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(4)
    c.freeze.kind = "all_trainable"
    return FineTuneController("MobileNetV3Small", num_classes=4, train_data=ds, config=c), False


def case_efficientnet_regression_base_training(tmp):
    c = cfg(base_training=True, nan_guard=False, restore_best=True, monitor="loss")
    c.base.input_shape = (32, 32, 3)
    c.head.layers = head("global_average_pooling", {"type": "dense", "units": 8, "activation": "gelu"})
    c.head.task = "regression"
    return FineTuneController(
        "EfficientNetB0", train_data=arrays(task="regression", classes=1), config=c
    ), False


def case_nested_explicit_regression(tmp):
    c = cfg()
    c.preprocessing.mode = "rescale"
    c.preprocessing.scale, c.preprocessing.offset = 1 / 127.5, -1.0
    c.head.layers = head("flatten", {"type": "dense", "units": 4})
    c.head.task, c.head.num_classes = "regression", 2
    base = nested_base()
    ctl = FineTuneController(
        base, train_data=arrays(shape=(16, 16, 3), task="regression", classes=2), config=c
    )
    ctl.freeze_all()
    set_trainable(ctl.base_model, "inner_block/inner_conv", True)
    set_trainable(ctl.base_model, "stem_bn", True)
    assert ctl.config.freeze.kind == "explicit"
    return ctl, False


def case_nested_all_trainable_multilabel(tmp):
    c = cfg(optimizer="sgd")
    c.preprocessing.mode = "none"
    c.head.layers = head("global_average_pooling", "batch_norm", {"type": "dropout", "rate": 0.1})
    c.head.task = "multilabel"
    ctl = FineTuneController(
        nested_base(),
        num_classes=4,
        train_data=arrays(shape=(16, 16, 3), task="multilabel", classes=4),
        config=c,
    )
    unfreeze_all(ctl.base_model, keep_bn_frozen=False)
    return ctl, False


def case_nested_feature_extraction(tmp):
    c = cfg()
    c.mode = "feature_extraction"
    c.preprocessing.mode = "rescale"
    ctl = FineTuneController(
        nested_base(),
        num_classes=3,
        train_data=arrays(shape=(16, 16, 3)),
        validation_data=arrays(shape=(16, 16, 3), seed=1),
        config=c,
    )
    ctl.freeze_all()
    return ctl, False


def case_hostile_names_two_phase(tmp):
    names = {"inner_conv": 'conv "q" \\ it\'s', "stem_conv": HOSTILE_LAYER, "model": "back'bone\"x"}
    c = cfg()
    c.preprocessing.mode = "rescale"
    c.head.class_names = [HOSTILE, "two\nlines", "'"]
    c.training.fine_tune.unfreeze_from = names["inner_conv"].join(["inner_block/", ""])
    c.training.fine_tune.keep_bn_frozen = False
    ctl = FineTuneController(
        nested_base(names), num_classes=3, train_data=arrays(shape=(16, 16, 3)), config=c
    )
    ctl.freeze_up_to(HOSTILE_LAYER)
    return ctl, True


def case_file_base_one_hot(tmp):
    path = str(tmp / "a dir 'quoted'" / "base.keras")
    os.makedirs(os.path.dirname(path))
    nested_base().save(path)
    c = cfg(optimizer="sgd", learning_rate=0.01)
    c.preprocessing.mode = "rescale"
    c.head.labels = "one_hot"
    c.freeze.kind, c.freeze.boundary, c.freeze.keep_bn_frozen = "boundary", "inner_block", False
    x, y = arrays(shape=(16, 16, 3))
    return FineTuneController(path, num_classes=3, train_data=(x, np.eye(3)[y]), config=c), False


def case_directory_feature_two_phase(tmp):
    folder = datasets.write_image_folder(tmp / "images", per_class=4, image_size=(16, 16), classes=(0, 1, 2))
    c = cfg()
    c.mode = "feature_extraction"
    c.preprocessing.mode = "rescale"
    c.data.source, c.data.directory, c.data.image_size = "directory", folder, (16, 16)
    c.data.validation_split = 0.25
    return FineTuneController(nested_base(), num_classes=3, config=c), True


def case_demo_mnv2_full(tmp):
    c = cfg(epochs=1, seed=1)
    mnv2(c)
    c.head.layers = head("global_average_pooling", {"type": "dropout", "rate": 0.2})
    c.data.source, c.data.demo = "demo", "digits"
    c.data.demo_kwargs = {"image_size": [32, 32], "classes": [0, 1, 2]}
    c.data.validation_split = 0.2
    c.freeze.kind, c.freeze.boundary = "boundary", "block_16_expand"
    return FineTuneController("MobileNetV2", config=c), False


def case_demo_in_memory_feature_two_phase_full(tmp):
    c = cfg(seed=0)
    c.mode = "feature_extraction"
    c.preprocessing.mode = "none"
    c.training.fine_tune.head_epochs, c.training.fine_tune.epochs = 1, 1
    c.data.source, c.data.demo = "demo", "digits"
    c.data.demo_kwargs = {"image_size": [16, 16], "classes": [3, 4]}
    c.head.layers = head("global_average_pooling")
    return FineTuneController(datasets.small_cnn((16, 16, 3), "demo_cnn"), config=c), True


CORPUS = {
    f.__name__[5:]: f
    for f in [
        case_mnv2_boundary_augmented,
        case_mnv2_two_phase_binary,
        case_mobilenet_v3_tf_data,
        case_efficientnet_regression_base_training,
        case_nested_explicit_regression,
        case_nested_all_trainable_multilabel,
        case_nested_feature_extraction,
        case_hostile_names_two_phase,
        case_file_base_one_hot,
        case_directory_feature_two_phase,
        case_demo_mnv2_full,
        case_demo_in_memory_feature_two_phase_full,
    ]
}
FULL_RUNS = ("demo_mnv2_full", "demo_in_memory_feature_two_phase_full")
NOTEBOOK_RUNS = ("demo_mnv2_full", "directory_feature_two_phase")

# -- what the experiment is -------------------------------------------------------------------


def expected(ctl, two_phase: bool) -> dict:
    """The experiment as the controller runs it: each phase's model, epochs and compile
    settings, and the model after the last phase's flags are set."""
    c = ctl.config
    t = c.training
    features = c.mode == "feature_extraction"
    first = ctl.head if features else ctl.model
    phases = []
    if two_phase:
        ctl.freeze_all()
        phases.append((first, t.fine_tune.head_epochs, t.learning_rate))
        ctl.fine_tune(head_epochs=0, epochs=0, block=True)  # only sets the phase-2 flags
        phases.append((ctl.model, t.fine_tune.epochs, t.learning_rate * t.fine_tune.lr_mult))
    else:
        phases.append((first, t.epochs, t.learning_rate))
    fits = []
    for model, epochs, lr in phases:
        ctl._ensure_compiled(model, lr)  # what the controller compiles for that phase
        fits.append({"model": model.name, "epochs": epochs, "compile": describe_compile(model)})
    return {"model": describe_model(ctl.model), "fits": fits}


HARNESS = textwrap.dedent("""
    import json, runpy, sys
    import keras, numpy as np, tensorflow as tf
    from transfer_widgets.export.describe import describe_compile, describe_model

    fits = []

    def recording_fit(self, *args, **kwargs):  # records the phase instead of training
        fits.append({"model": self.name, "epochs": kwargs.get("epochs"), "compile": describe_compile(self),
                     "trainable_params": int(sum(v.numpy().size for v in self.trainable_weights))})

    keras.Model.fit = recording_fit
    out = {}
    for name, script, arrays in json.loads(sys.argv[1]):
        fits.clear()
        keras.utils.clear_session()  # auto-named layers (EfficientNet's rescaling) count per session
        if name.startswith("notebook:"):  # notebook code: runs top to bottom, loading its own data
            model = runpy.run_path(script, run_name="__main__")["model"]
        else:
            ns = runpy.run_path(script, run_name="exported")
            parts = ns["build_model"]()
            model = parts[0]
            x = np.random.default_rng(0).uniform(0, 255, (4, *model.input_shape[1:])).astype("float32")
            y = np.zeros((4, model.output_shape[-1]), "float32")
            data = (x, y) if arrays else tf.data.Dataset.from_tensor_slices((x, y)).batch(2)
            ns["train"](*parts, data, data)
        out[name] = {"model": describe_model(model), "fits": list(fits)}
    print("RESULT" + json.dumps(out))
""")


def run_python(args, cwd, timeout=600):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONHASHSEED": "0"}
    proc = subprocess.run(
        [sys.executable, *args],
        check=False,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return proc.stdout


def ruff_problems(path) -> str:
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if not os.path.exists(ruff):
        pytest.skip("ruff is not installed (pip install -e .[test])")
    # Run from the script's folder: from the repository, ruff would sort transfer_widgets as first party.
    out = ""
    for args in (["check"], ["format", "--check", "--diff"]):
        proc = subprocess.run(
            [ruff, *args, "--isolated", "--no-cache", str(path)],
            check=False,
            capture_output=True,
            text=True,
            cwd=str(Path(path).parent),
        )
        out += "" if proc.returncode == 0 else proc.stdout + proc.stderr
    return out


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Every corpus experiment exported to its own folder, with what it should rebuild."""
    root = tmp_path_factory.mktemp("export")
    out = {}
    for name, make in CORPUS.items():
        folder = root / name
        folder.mkdir()
        keras.utils.clear_session()
        ctl, two_phase = make(folder)
        script = ctl.export_script(folder / "train.py", two_phase=two_phase)
        texts = {kind: ctl.export_code(kind, two_phase=two_phase) for kind in ("script", "cell", "notebook")}
        out[name] = {
            "script": script,
            "controller": ctl,
            "two_phase": two_phase,
            "texts": texts,
            "expected": expected(ctl, two_phase),
        }  # runs fine_tune: export before it
    return out


@pytest.fixture(scope="module")
def rebuilt(corpus, tmp_path_factory):
    """The corpus scripts' models and fit calls, from one subprocess."""
    jobs = [
        [name, str(c["script"]), c["controller"].config.data.source in ("arrays", "demo")]
        for name, c in corpus.items()
    ]
    work = tmp_path_factory.mktemp("notebooks")
    for name in NOTEBOOK_RUNS:  # the notebook's code cells, run top to bottom
        cells = nbformat.reads(corpus[name]["texts"]["notebook"], as_version=4).cells
        path = work / f"{name}.py"
        path.write_text("\n\n".join(cell.source for cell in cells if cell.cell_type == "code"))
        saved_base = corpus[name]["script"].with_name("train_base.keras")
        if saved_base.exists():  # what the notebook asks the user to save
            shutil.copy(saved_base, work / "base_model.keras")
        jobs.append([f"notebook:{name}", str(path), True])
    stdout = run_python(["-c", HARNESS, json.dumps(jobs)], cwd=str(work))
    return json.loads(stdout.split("RESULT", 1)[1])


def test_corpus_has_at_least_12_experiments():
    assert len(CORPUS) >= 12


@pytest.mark.parametrize("name", list(CORPUS) + [f"notebook:{n}" for n in NOTEBOOK_RUNS])
def test_exported_script_rebuilds_the_experiment(name, corpus, rebuilt):
    want, got = corpus[name.split(":")[-1]]["expected"], rebuilt[name]
    name = name.split(":")[-1]
    assert got["model"]["params"] == want["model"]["params"]
    assert got["model"]["trainable_params"] == want["model"]["trainable_params"]
    assert [r["path"] for r in got["model"]["layers"]] == [r["path"] for r in want["model"]["layers"]]
    for mine, theirs in zip(got["model"]["layers"], want["model"]["layers"], strict=True):
        assert mine == theirs, mine["path"]
    assert len(got["fits"]) == len(want["fits"])
    for mine, theirs in zip(got["fits"], want["fits"], strict=True):
        assert (mine["model"], mine["epochs"]) == (theirs["model"], theirs["epochs"])
        a, b = dict(mine["compile"]), dict(theirs["compile"])  # the expectations are shared: copy
        assert math.isclose(a.pop("learning_rate"), b.pop("learning_rate"), rel_tol=1e-6)
        assert a == b
    if corpus[name]["two_phase"] and corpus[name]["controller"].config.mode == "fine_tune":
        head_params = sum(int(v.numpy().size) for v in corpus[name]["controller"].head.trainable_weights)
        assert got["fits"][0]["trainable_params"] == head_params  # phase 1: the base is frozen


@pytest.mark.parametrize("name", list(CORPUS))
def test_exported_code_is_ruff_clean_and_deterministic(name, corpus, tmp_path):
    c = corpus[name]
    text = c["script"].read_text()
    assert ruff_problems(c["script"]) == ""
    # export_code names the in-memory base's file generically; export_script after the script
    assert c["texts"]["script"].replace('"base_model.keras"', '"train_base.keras"') == text
    cell = tmp_path / "cell.py"
    cell.write_text(c["texts"]["cell"])
    assert ruff_problems(cell) == ""
    nb = nbformat.reads(c["texts"]["notebook"], as_version=4)
    nbformat.validate(nb)
    code = "\n\n".join(cell.source for cell in nb.cells if cell.cell_type == "code")
    ast.parse(code)
    assert [cell.cell_type for cell in nb.cells][1:] == ["markdown", "code"] * (len(nb.cells) // 2)


def test_in_memory_data_becomes_load_data_to_fill_in(corpus):
    text = corpus["nested_explicit_regression"]["script"].read_text()
    assert "FILL IN load_data()" in text
    assert 'raise NotImplementedError("Fill in load_data() with your training data")' in text


def test_in_memory_base_is_saved_beside_the_script(corpus):
    script = corpus["nested_feature_extraction"]["script"]
    assert (script.parent / "train_base.keras").exists()
    assert 'with_name("train_base.keras")' in script.read_text()


@pytest.mark.parametrize("name", list(CORPUS))
def test_exported_code_needs_keras_alone(name, corpus):
    """Script, cell and notebook import Keras, NumPy and the standard library only."""
    texts = dict(corpus[name]["texts"])
    nb = nbformat.reads(texts.pop("notebook"), as_version=4)
    texts["notebook"] = "\n\n".join(cell.source for cell in nb.cells if cell.cell_type == "code")
    for kind, text in texts.items():
        imported = set()
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                imported.add(node.module.split(".")[0])
        assert imported <= {"keras", "numpy", "pathlib", "sklearn", "tensorflow"}, (kind, imported)


def test_an_exported_cell_leaves_the_packages_names_alone(corpus):
    """Run in a notebook that imported transfer_widgets, the cell must not rebind its
    names (a later freeze_all(base) would stop telling the layer trees)."""
    import transfer_widgets

    for c in corpus.values():
        tree = ast.parse(c["texts"]["cell"])
        defined = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
        defined |= {
            t.id
            for node in tree.body
            if isinstance(node, ast.Assign)
            for t in node.targets
            if isinstance(t, ast.Name)
        }
        assert defined.isdisjoint(transfer_widgets.__all__), defined & set(transfer_widgets.__all__)


@pytest.mark.parametrize("name", FULL_RUNS)
def test_demo_script_trains_an_epoch_and_saves_a_model_that_loads_back(name, corpus, tmp_path):
    script = corpus[name]["script"]
    # Run where transfer_widgets cannot be imported: the script stands alone.
    blocked = (
        "import runpy, sys; sys.modules['transfer_widgets'] = None; "
        f"runpy.run_path({str(script)!r}, run_name='__main__')"
    )
    run_python(["-c", blocked], cwd=str(tmp_path))
    saved = tmp_path / "fine_tuned.keras"
    assert saved.exists()
    check = textwrap.dedent(f"""
        import json, keras, numpy as np
        import transfer_widgets.model.assemble  # registers ImagenetPreprocessing
        from transfer_widgets.export.describe import describe_model
        model = keras.models.load_model({str(saved)!r})
        x = np.zeros((2, *model.input_shape[1:]), "float32")
        assert np.isfinite(model.predict(x, verbose=0)).all()
        print("RESULT" + json.dumps(describe_model(model)))
    """)
    loaded = json.loads(run_python(["-c", check], cwd=str(tmp_path)).split("RESULT", 1)[1])
    want = corpus[name]["expected"]["model"]
    assert loaded["params"] == want["params"]
    assert [r["path"] for r in loaded["layers"]] == [r["path"] for r in want["layers"]]


def test_json_export_loads_back_into_the_same_experiment(corpus):
    ctl = corpus["nested_explicit_regression"]["controller"]
    text = ctl.export_code("json")
    again = FineTuneController.from_config(text, base_model=nested_base(), train_data=ctl.train_data)
    assert again.config == ctl.config
    assert describe_model(again.model) == describe_model(ctl.model)
    ctl2 = corpus["mnv2_boundary_augmented"]["controller"]
    again2 = FineTuneController.from_config(ctl2.export_code("json"), train_data=ctl2.train_data)
    assert again2.config == ctl2.config
    assert describe_model(again2.model) == describe_model(ctl2.model)


def test_plan_reads_the_built_layers(corpus):
    plan = plan_from_controller(corpus["mnv2_boundary_augmented"]["controller"])
    assert [p.cls for p in plan.preprocessing] == [
        "RandomFlip",
        "RandomRotation",
        "RandomZoom",
        "RandomContrast",
        "ImagenetPreprocessing",
    ]
    assert plan.preprocessing[1].args == [0.1]
    assert render(plan, "script") == render(plan, "script")
