"""A corpus of bad input, the way a hostile but realistic user would give it: each
case must be refused before any training with an error that names the field or
argument at fault (``needle``), or behave as documented (``documented``).

``python -m pytest tests/reliability/test_bad_input_corpus.py -q`` prints the
count per outcome at the end (see ``test_corpus_size``)."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Callable

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.unit.test_controller import backbone, config, data
from transfer_widgets import FineTuneController, TrainingError


@dataclasses.dataclass
class Case:
    id: str
    run: Callable[..., object]  # run(tmp_path)
    needle: str | None = None  # a clear error containing this (the field / argument), before training
    documented: Callable[[object], None] | None = None  # or: run() returns, and this checks the result


CASES: list[Case] = []


def case(id, needle=None, documented=None):
    def register(fn):
        CASES.append(Case(id, fn, needle, documented))
        return fn

    return register


def ctl(**kwargs):
    kwargs.setdefault("train_data", data())
    kwargs.setdefault("num_classes", 3)
    kwargs.setdefault("config", config())
    return FineTuneController(kwargs.pop("base", None) or backbone(), **kwargs)


def fit_with(**kwargs):
    def run(tmp_path):
        ctl(**kwargs).fit(1, block=True)

    return run


# -- config fields, set on the object then used -----------------------------------------

CONFIG_VALUES = {
    "training.batch_size": [0, -1, 1.5, "32", True, None, 10**30],
    "training.epochs": [-1, 1.5, "3", None],
    "training.learning_rate": [0, -1, float("nan"), float("inf"), "0.01", True, None],
    "training.optimizer": ["sgdd", 42, ""],
    "training.seed": ["x", 1.5],
    "training.monitor": [42, ""],
    "training.nan_guard": ["yes", 1],
    "training.restore_best": ["no"],
    "training.base_training": [2],
    "training.fine_tune.lr_mult": [0, -0.1, "0.1"],
    "training.fine_tune.head_epochs": [-2, 2.5],
    "training.fine_tune.epochs": ["5"],
    "head.task": ["multi", 3, "classification"],
    "head.num_classes": [0, -3, 2.5, "10"],
    "head.labels": ["onehot", 1],
    "head.loss": ["mse_typo", 3],
    "head.metrics": ["accuracy", [3], ["acuracy"]],
    "head.class_names": [["a", ""], "abc", ["a", 2]],
    "mode": ["finetune", None],
    "feature_cache": ["ram"],
    "cache_dir": [3],
    "preprocessing.mode": ["scale", None],
    "preprocessing.scale": ["1/255", float("nan")],
    "data.validation_split": [1.5, -0.1, "0.2"],
    "version": [2],
}

for field_path, values in CONFIG_VALUES.items():
    for value in values:

        def run(tmp_path, field_path=field_path, value=value):
            c = config()
            obj = c
            *parents, last = field_path.split(".")
            for part in parents:
                obj = getattr(obj, part)
            setattr(obj, last, value)
            ctl(config=c, num_classes=None).fit(1, block=True)

        CASES.append(Case(f"config:{field_path}={value!r}", run, field_path))

HEAD_LAYERS = {
    "dense without units": [{"type": "global_average_pooling"}, {"type": "dense"}],
    "dense units 0": [{"type": "global_average_pooling"}, {"type": "dense", "units": 0}],
    "dense units -4": [{"type": "global_average_pooling"}, {"type": "dense", "units": -4}],
    "dense units 2.5": [{"type": "global_average_pooling"}, {"type": "dense", "units": 2.5}],
    "activation typo": [
        {"type": "global_average_pooling"},
        {"type": "dense", "units": 4, "activation": "relux"},
    ],
    "dropout rate 1": [{"type": "global_average_pooling"}, {"type": "dropout", "rate": 1.0}],
    "dropout rate -0.1": [{"type": "global_average_pooling"}, {"type": "dropout", "rate": -0.1}],
    "dropout without rate": [{"type": "global_average_pooling"}, {"type": "dropout"}],
    "unknown type": [{"type": "dense2", "units": 3}],
    "unknown key": [{"type": "dense", "unit": 3}],
    "type missing": [{"units": 3}],
}
for name, layers in HEAD_LAYERS.items():
    CASES.append(Case(f"head layers: {name}", fit_with(head=layers), "head.layers"))

# -- constructor arguments ------------------------------------------------------------------

CONSTRUCTOR = {
    "head=42": (dict(head=42), "head"),
    "head='dense'": (dict(head="dense"), "head"),
    "head=[42]": (dict(head=[42]), "head.layers[0]"),
    "head={'type': 'dense'}": (dict(head={"type": "dense"}), "head"),
    "config='text'": (dict(config="not a config"), "config"),
    "strategy='mirrored'": (dict(strategy="mirrored"), "strategy"),
    "strategy=42": (dict(strategy=42), "strategy"),
    "task typo": (dict(task="regresion"), "head.task"),
    "num_classes=0": (dict(num_classes=0), "head.num_classes"),
    "num_classes='3'": (dict(num_classes="3"), "head.num_classes"),
    "num_classes=1 multiclass": (dict(num_classes=1), "num_classes"),
    "mode typo": (dict(mode="features"), "mode"),
    "train_data=[1,2,3]": (dict(train_data=[1, 2, 3]), "train_data"),
    "train_data=(x,)": (dict(train_data=(data()[0],)), "train_data"),
    "train_data=x only": (dict(train_data=data()[0]), "train_data"),
    "train_data=dict": (dict(train_data={"x": data()[0], "y": data()[1]}), "train_data"),
    "train_data='folder'": (dict(train_data="images/"), "train_data"),
    "validation_data=(x,)": (dict(validation_data=(data()[0],)), "validation_data"),
    "validation_data=42": (dict(validation_data=42), "validation_data"),
}
for name, (kwargs, needle) in CONSTRUCTOR.items():
    CASES.append(Case(f"constructor: {name}", fit_with(**kwargs), needle))

x, y = data()
ARRAYS = {
    "x nested lists": ((x.tolist(), y), "train_data.x"),
    "x strings": ((np.full((64, 8, 8, 3), "a"), y), "train_data.x"),
    "x object dtype": ((x.astype(object), y), "train_data.x"),
    "x wrong size": ((np.zeros((64, 9, 9, 3), "float32"), y), "train_data.x"),
    "x gray": ((np.zeros((64, 8, 8), "float32"), y), "train_data.x"),
    "x 1 channel": ((np.zeros((64, 8, 8, 1), "float32"), y), "train_data.x"),
    "x NaN": ((np.where(x > 250, np.nan, x), y), "train_data.x"),
    "x inf": ((np.where(x > 250, np.inf, x), y), "train_data.x"),
    "x empty": ((x[:0], y[:0]), "train_data"),
    "y short": ((x, y[:10]), "train_data"),
    "y long": ((x[:10], y), "train_data"),
    "y negative": ((x, y - 1), "train_data.y"),
    "y too large": ((x, y + 3), "train_data.y"),
    "y floats": ((x, y + 0.5), "train_data.y"),
    "y strings": ((x, y.astype(str)), "train_data.y"),
    "y NaN": ((x, np.where(y == 0, np.nan, y)), "train_data.y"),
    "y 3-D": ((x, y.reshape(64, 1, 1)), "train_data.y"),
    "y one-hot wrong width": ((x, np.eye(4)[y % 4]), "train_data.y"),
    "y 2-D not one-hot": ((x, np.ones((64, 3))), "train_data.y"),
    "y None": ((x, None), "train_data.y"),
    "y list of str": ((x, ["cat"] * 64), "train_data.y"),
}
for name, (train, needle) in ARRAYS.items():
    CASES.append(Case(f"arrays: {name}", fit_with(train_data=train), needle))

LABELS = {
    "one-hot with labels='sparse'": (np.eye(3)[y], "sparse", "multiclass", "head.labels"),
    "indices with labels='one_hot'": (y, "one_hot", "multiclass", "head.labels"),
    "binary labels 0..2": (y, "auto", "binary", "train_data.y"),
    "multilabel from indices": (y, "auto", "multilabel", "train_data.y"),
    "regression 2 targets, 1 output": (np.zeros((64, 2)), "auto", "regression", "train_data.y"),
}
for name, (labels, mode, task, needle) in LABELS.items():

    def run(tmp_path, labels=labels, mode=mode, task=task):
        c = config()
        c.head.labels = mode
        ctl(train_data=(x, labels), config=c, task=task, num_classes=None if task == "binary" else 3).fit(
            1, block=True
        )

    CASES.append(Case(f"labels: {name}", run, needle))

LOSSES = {
    "mse for multiclass": ("multiclass", "mse", None),
    "binary_crossentropy for multiclass": ("multiclass", "binary_crossentropy", None),
    "sparse loss for one-hot labels": ("multiclass", "sparse_categorical_crossentropy", "one_hot"),
    "categorical loss for indices": ("multiclass", "categorical_crossentropy", None),
    "auc metric for multiclass": ("multiclass", None, "auc"),
    "crossentropy for regression": ("regression", "categorical_crossentropy", None),
    "unknown loss": ("multiclass", "nonsense_loss", None),
    "unknown metric": ("multiclass", None, "nonsense_metric"),
}
for name, (task, loss, extra) in LOSSES.items():

    def run(tmp_path, task=task, loss=loss, extra=extra):
        c = config()
        c.head.task = task
        c.head.num_classes = 3 if task == "multiclass" else 1
        c.head.loss = loss
        labels = y if task == "multiclass" else y.astype("float32")
        if extra == "one_hot":
            labels = np.eye(3)[y]
        if extra not in (None, "one_hot"):
            c.head.metrics = [extra]
        FineTuneController(backbone(), train_data=(x, labels), config=c).fit(1, block=True)

    CASES.append(Case(f"loss/metric: {name}", run, "head.metrics" if "metric" in name else "head.loss"))

# -- tf.data ------------------------------------------------------------------------------


def ds(batch=True, **kw):
    d = tf.data.Dataset.from_tensor_slices((kw.get("x", x), kw.get("y", y)))
    return d.batch(16) if batch else d


TFDATA = {
    "unbatched": (lambda: ds(batch=False), "train_data"),
    "x only": (lambda: tf.data.Dataset.from_tensor_slices(x).batch(16), "train_data"),
    "wrong size": (lambda: ds(x=np.zeros((64, 9, 9, 3), "float32")), "train_data.x"),
    "labels out of range": (lambda: ds(y=y + 5), "train_data.y"),
    "empty": (lambda: ds().take(0), "train_data"),
    "infinite": (lambda: ds().repeat(), "train_data"),
    "string labels": (lambda: ds(y=y.astype(str)), "train_data.y"),
}
for name, (make_ds, needle) in TFDATA.items():
    CASES.append(
        Case(f"tf.data: {name}", lambda tmp_path, m=make_ds: ctl(train_data=m()).fit(1, block=True), needle)
    )

# -- run arguments -------------------------------------------------------------------------

RUN_ARGS = {
    "fit(epochs=-1)": (lambda c: c.fit(-1), "epochs"),
    "fit(epochs=1.5)": (lambda c: c.fit(1.5), "epochs"),
    "fit(epochs='3')": (lambda c: c.fit("3"), "epochs"),
    "fit(learning_rate=0)": (lambda c: c.fit(1, 0), "learning_rate"),
    "fit(learning_rate=nan)": (lambda c: c.fit(1, float("nan")), "learning_rate"),
    "fit(learning_rate='x')": (lambda c: c.fit(1, "x"), "learning_rate"),
    "fit(callbacks=[42])": (lambda c: c.fit(1, callbacks=[42]), "callbacks"),
    "fit(callbacks=callback)": (lambda c: c.fit(1, callbacks=keras.callbacks.Callback()), "callbacks"),
    "fine_tune(unfreeze_from typo)": (
        lambda c: c.fine_tune(1, 1, unfreeze_from="block_9_conv"),
        "block_9_conv",
    ),
    "fine_tune(lr_mult=0)": (lambda c: c.fine_tune(1, 1, lr_mult=0), "lr_mult"),
    "fine_tune(head_epochs=-1)": (lambda c: c.fine_tune(-1, 1), "head_epochs"),
    "lr_find(start > end)": (lambda c: c.lr_find(1.0, 0.1), "start"),
    "lr_find(start=0)": (lambda c: c.lr_find(0, 1), "start"),
    "lr_find(steps=1)": (lambda c: c.lr_find(steps=1), "steps"),
    "lr_find(steps=2.5)": (lambda c: c.lr_find(steps=2.5), "steps"),
    "set unknown field": (lambda c: c.set("training.batchsize", 8), "training.batchsize"),
    "set model field": (lambda c: c.set("head.num_classes", 5), "head.num_classes"),
    "set batch_size 0": (lambda c: c.set("training.batch_size", 0), "training.batch_size"),
    "set learning_rate -1": (lambda c: c.set("training.learning_rate", -1), "training.learning_rate"),
    "set seed 'x'": (lambda c: c.set("training.seed", "x"), "training.seed"),
    "set not a string": (lambda c: c.set(42, 1), "field"),
    "evaluate((x,))": (lambda c: c.evaluate((x,)), "data"),
    "set_trainable unknown": (lambda c: c.set_trainable("nope", True), "nope"),
    "freeze_up_to unknown": (lambda c: c.freeze_up_to("nope"), "nope"),
    "export_code kind": (lambda c: c.export_code("pdf"), "kind"),
}
for name, (action, needle) in RUN_ARGS.items():
    CASES.append(Case(f"call: {name}", lambda tmp_path, a=action: a(ctl()), needle))


def write_then(field_path, value):
    def run(tmp_path):
        c = ctl()
        obj = c.config
        *parents, last = field_path.split(".")
        for part in parents:
            obj = getattr(obj, part)
        setattr(obj, last, value)
        c.fit(1, block=True)

    return run


CONFIG_WRITES = {
    "training.batch_size": 0,
    "training.learning_rate": -1.0,
    "training.epochs": -3,
    "training.optimizer": "nope",
    "head.num_classes": 7,
    "head.task": "regression_typo",
    "head.layers": [],
    "base.input_shape": (16, 16, 3),
    "preprocessing.mode": "none",
    "mode": "feature_extraction_typo",
}
for field_path, value in CONFIG_WRITES.items():
    CASES.append(
        Case(f"controller.config.{field_path} = {value!r}", write_then(field_path, value), field_path)
    )

# -- saved configs and files --------------------------------------------------------------

LOAD = {
    "null": ("null", "(json) must be a JSON object"),
    "[1, 2]": ("[1, 2]", "(json) must be a JSON object"),
    "a number": ("3.5", "(json) must be a JSON object"),
    "empty string": ("", "neither JSON text nor an existing file"),
    "truncated JSON": ('{"training": {', "(json) not valid JSON"),
    "unknown key": ('{"trainin": {}}', "trainin"),
    "wrong type section": ('{"training": 3}', "training"),
    "missing file": ("no/such/config.json", "no/such/config.json"),
    "42": (42, "config must be"),
    "list": ([1, 2], "config must be"),
}
for name, (text, needle) in LOAD.items():

    def run(tmp_path, text=text):
        c = ctl()
        c.load_config(text)

    CASES.append(Case(f"load_config: {name}", run, needle))


def load_with_bom(tmp_path):
    c = ctl()
    saved = c.config.copy()
    saved.training.epochs = 7
    c.load_config("\ufeff" + saved.to_json())
    path = tmp_path / "saved.json"
    path.write_bytes("\ufeff".encode() + saved.to_json().encode())
    c.load_config(path)
    return c


def config_as_dict(tmp_path):
    return ctl(config={"training": {"batch_size": 8}})


CASES += [
    Case(
        "load_config: JSON text and file with a BOM",
        load_with_bom,
        documented=lambda c: c.config.training.epochs == 7,
    ),
    Case(
        "constructor: config=dict is loaded",
        config_as_dict,
        documented=lambda c: c.config.training.batch_size == 8,
    ),
]


def corrupt_keras(tmp_path):
    path = tmp_path / "model.keras"
    path.write_bytes(b"not a zip file at all")
    FineTuneController(str(path), num_classes=3, train_data=data())


def empty_keras(tmp_path):
    path = tmp_path / "model.keras"
    path.write_bytes(b"")
    FineTuneController(str(path), num_classes=3, train_data=data())


def corrupt_h5(tmp_path):
    path = tmp_path / "model.h5"
    path.write_bytes(b"garbage")
    FineTuneController(str(path), num_classes=3, train_data=data())


def zip_not_model(tmp_path):
    import zipfile

    path = tmp_path / "model.keras"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("hello.txt", "not a model")
    FineTuneController(str(path), num_classes=3, train_data=data())


def missing_keras(tmp_path):
    FineTuneController(str(tmp_path / "missing.keras"), num_classes=3, train_data=data())


def unknown_application(tmp_path):
    FineTuneController("MobileNetV9", num_classes=3, train_data=data())


def directory_as_model(tmp_path):
    FineTuneController(str(tmp_path) + ".keras", num_classes=3, train_data=data())


CASES += [
    Case("file: corrupt .keras", corrupt_keras, "is not a zip archive"),
    Case("file: zero-byte .keras", empty_keras, "is empty (0 bytes)"),
    Case("file: corrupt .h5", corrupt_h5, "is not an HDF5 file"),
    Case("file: a zip that is no model", zip_not_model, "could not be loaded as a Keras model"),
    Case("file: missing .keras", missing_keras, "missing.keras"),
    Case("base: unknown application", unknown_application, "MobileNetV9"),
    Case("base: path that is not there", directory_as_model, ".keras"),
    Case("base: 42", lambda tmp_path: FineTuneController(42, num_classes=3, train_data=data()), "base_model"),
    Case(
        "base: a layer",
        lambda tmp_path: FineTuneController(keras.layers.Dense(3), num_classes=3, train_data=data()),
        "model",
    ),
]


def export_twice(tmp_path):
    c = ctl()
    path = tmp_path / "train.py"
    path.write_text("# my own script\n")
    c.export_script(path)


def export_over_base(tmp_path):
    c = ctl()
    (tmp_path / "train_base.keras").write_text("mine")
    c.export_script(tmp_path / "train.py")


def export_overwrite_ok(tmp_path):
    c = ctl()
    path = tmp_path / "train.py"
    path.write_text("# my own script\n")
    return c.export_script(path, overwrite=True), path


def export_into_missing_dir(tmp_path):
    return ctl().export_script(tmp_path / "no" / "such" / "dir" / "train.py")


CASES += [
    Case("export: existing script", export_twice, "overwrite"),
    Case("export: existing _base.keras", export_over_base, "overwrite"),
    Case(
        "export: overwrite=True replaces it",
        export_overwrite_ok,
        documented=lambda r: r[1].read_text().startswith("# my own") is False,
    ),
    Case("export: missing folder is made", export_into_missing_dir, documented=lambda p: p.exists()),
]

# -- settings that must take effect, or be refused ---------------------------------------


def seed_by_set(tmp_path):
    """set("training.seed") takes effect: the same seed, the same run; another seed, another."""
    base = backbone()
    out = []
    for seed in (123, 123, 124):
        clone = keras.models.clone_model(base)
        clone.set_weights(base.get_weights())
        c = FineTuneController(clone, num_classes=3, train_data=data(), config=config())
        c.set("training.seed", seed)
        c.fit(1, block=True)
        out.append(c.history["loss"][0])
    return out


def bad_label_deep_in_a_dataset(tmp_path):
    """Labels past the first batch are only seen by a run: the error names the batch."""
    labels = np.concatenate([y[:16], y[16:] + 7])
    try:
        ctl(train_data=ds(y=labels)).fit(1, block=True)
    except TrainingError as exc:
        return str(exc)
    return ""


def validation_split_with_arrays(tmp_path):
    c = config()
    c.data.validation_split = 0.5
    ctl(config=c)


def input_shape_with_in_memory_base(tmp_path):
    c = config()
    c.base.input_shape = (16, 16, 3)
    ctl(config=c)


def huge_stray_label(tmp_path):
    labels = data()[1].copy()
    labels[5] = 10**6
    FineTuneController(backbone(), train_data=(x, labels), config=config())


def class_names_keep_weights(tmp_path):
    c = ctl()
    c.fit(1, block=True)
    weights = c.model.get_weights()
    cfg = c.config.copy()
    cfg.head.class_names = ["a", "b", "c"]
    cfg.training.learning_rate = 0.01
    cfg.training.epochs = 9
    c.load_config(cfg)
    return c, weights


def class_names_by_set(tmp_path):
    c = ctl()
    c.fit(1, block=True)
    weights = c.model.get_weights()
    c.set("head.class_names", ["a", "b", "c"])
    return c, weights


def class_names_wrong_count(tmp_path):
    c = config()
    c.head.class_names = ["a", "b"]
    ctl(config=c)


CASES += [
    Case("setting: training.seed by set()", seed_by_set, documented=lambda r: r[0] == r[1] != r[2]),
    Case(
        "tf.data: labels bad after the first batch",
        bad_label_deep_in_a_dataset,
        documented=lambda m: "epoch 1, batch 2 of train_data" in m,
    ),
    Case("setting: data.validation_split with arrays", validation_split_with_arrays, "data.validation_split"),
    Case(
        "setting: base.input_shape with an in-memory base",
        input_shape_with_in_memory_base,
        "base.input_shape",
    ),
    Case("setting: num_classes inferred from a stray huge label", huge_stray_label, "num_classes"),
    Case(
        "setting: load_config of new class names, lr, epochs keeps weights and history",
        class_names_keep_weights,
        documented=lambda r: (
            len(r[0].history["epoch"]) == 1
            and all(np.array_equal(a, b) for a, b in zip(r[0].model.get_weights(), r[1], strict=True))
            and r[0].config.head.class_names == ["a", "b", "c"]
        ),
    ),
    Case("setting: class_names of the wrong length", class_names_wrong_count, "head.class_names"),
    Case(
        "setting: set('head.class_names') keeps weights and history",
        class_names_by_set,
        documented=lambda r: (
            len(r[0].history["epoch"]) == 1
            and all(np.array_equal(a, b) for a, b in zip(r[0].model.get_weights(), r[1], strict=True))
            and r[0].config.head.class_names == ["a", "b", "c"]
        ),
    ),
    Case(
        "setting: set('head.class_names') of the wrong length",
        lambda tmp_path: ctl().set("head.class_names", ["a"]),
        "head.class_names",
    ),
    Case("setting: set('head.layers')", lambda tmp_path: ctl().set("head.layers", []), "load_config"),
    Case(  # a serialised optimizer takes effect whole: its class and its rate (issue 15)
        "setting: optimizer as a dict",
        lambda tmp_path: _optimizer_dict(),
        documented=lambda t: (t.optimizer, t.learning_rate) == ("SGD", 5.0),
    ),
    Case(
        "setting: cache_dir not writable",
        lambda tmp_path: _cache_dir_case(tmp_path),
        "cache_dir",
    ),
]


def _cache_dir_case(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    c = config()
    c.mode, c.feature_cache, c.cache_dir = "feature_extraction", "disk", str(blocker / "cache")
    ctl(config=c).fit(1, block=True)


# -- image folders ------------------------------------------------------------------------

PNG = None


def png_bytes():
    global PNG
    if PNG is None:
        PNG = tf.io.encode_png(np.zeros((8, 8, 3), "uint8")).numpy()
    return PNG


def folder(tmp_path, classes=("cat", "dog"), per_class=4, extra=None):
    root = tmp_path / "images"
    for name in classes:
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            (root / name / f"{i}.png").write_bytes(png_bytes())
    if extra:
        extra(root)
    return root


def from_folder(root, num_classes=None):
    c = config()
    c.data.source, c.data.directory, c.data.image_size = "directory", str(root), (8, 8)
    if num_classes is not None:
        c.head.num_classes = num_classes
    FineTuneController(backbone(), config=c).fit(1, block=True)


def folder_case(extra=None, classes=("cat", "dog"), per_class=4, num_classes=None):
    return lambda tmp_path: from_folder(folder(tmp_path, classes, per_class, extra), num_classes)


CASES += [
    Case("folder: missing", lambda tmp_path: from_folder(tmp_path / "nope"), "data.directory"),
    Case("folder: a file", lambda tmp_path: from_folder(_file(tmp_path)), "data.directory"),
    Case("folder: no class folders", folder_case(classes=()), "data.directory"),
    Case("folder: empty class folder", folder_case(lambda r: (r / "bird").mkdir()), "bird"),
    Case("folder: single class", folder_case(classes=("cat",)), "class"),
    Case("folder: nested subfolder", folder_case(lambda r: _nested(r)), "deep"),
    Case(
        "folder: zero-byte image",
        folder_case(lambda r: (r / "cat" / "empty.png").write_bytes(b"")),
        "empty.png",
    ),
    Case(
        "folder: corrupt image",
        folder_case(lambda r: (r / "dog" / "bad.png").write_bytes(b"\x89PNG garbage")),
        "bad.png",
    ),
    Case(
        "folder: text named .jpg",
        folder_case(lambda r: (r / "dog" / "note.jpg").write_text("hello")),
        "note.jpg",
    ),
    Case("folder: num_classes mismatch", folder_case(num_classes=5), "num_classes"),
    Case("folder: truncated JPEG", folder_case(lambda r: _truncated(r / "dog" / "cut.jpg")), "cut.jpg"),
]


def _truncated(path):
    """A JPEG cut in half: its header (and Pillow's verify()) read fine, only a full decode fails."""
    image = tf.io.encode_jpeg(np.random.default_rng(0).integers(0, 255, (32, 32, 3), "uint8")).numpy()
    path.write_bytes(image[: len(image) // 2])


def _optimizer_dict():
    c = ctl()
    c.set("training.optimizer", {"class_name": "SGD", "config": {"learning_rate": 5.0}})
    return c.config.training


def _file(tmp_path):
    path = tmp_path / "images.zip"
    path.write_text("x")
    return path


def _nested(root):
    (root / "cat" / "deep").mkdir()
    (root / "cat" / "deep" / "x.png").write_bytes(png_bytes())


# -- the test --------------------------------------------------------------------------------

OUTCOMES: Counter[str] = Counter()


@pytest.fixture
def no_training(monkeypatch):
    """Fails the case if Keras's fit starts."""
    calls = []
    original = keras.Model.fit

    def fit(self, *args, **kwargs):
        calls.append(self.name)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "fit", fit)
    return calls


@pytest.mark.parametrize("item", CASES, ids=[c.id for c in CASES])
def test_bad_input(item, tmp_path, no_training):
    if item.documented is not None:
        result = item.run(tmp_path)
        assert item.documented(result)
        OUTCOMES["documented behaviour"] += 1
        return
    with pytest.raises((ValueError, TypeError, OSError, LookupError)) as info:
        item.run(tmp_path)
    message = str(info.value)
    assert item.needle in message, message
    assert not no_training, f"training started before the error: {message}"
    OUTCOMES["clear error before training"] += 1


def test_corpus_size():
    counts = Counter("documented behaviour" if c.documented else "clear error before training" for c in CASES)
    print(json.dumps({"cases": len(CASES), **counts}))
    assert len(CASES) >= 150
