"""An :class:`~transfer_widgets.export.plan.ExportPlan` rendered as code: a
standalone script, a notebook, or one notebook cell.

Rules the output follows: every string from the model or the user (layer names,
paths, class names, ...) is written as a Python literal (:func:`lit`, built on
``repr``) and never into a comment or docstring; the same plan gives the same
text; the script passes ``ruff check`` and ``ruff format``. It needs Keras alone
(and NumPy, scikit-learn for the demo data): the few helpers it uses (the freeze
helpers of :mod:`.standalone`, the preprocessing layer, the demo loader) are
copied into it from their one definition in this package.

The code is organised as functions a reader can follow and tests can call:
``load_data()`` -> ``build_model()`` (base, freeze plan, preprocessing, head) ->
``train()`` (the phases of fit, each compiled with its learning rate) -> save.
"""

from __future__ import annotations

import functools
import inspect
import textwrap
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import nbformat

from ..config import FreezePlan, optimizer_class
from ..data.datasets import DEMO_SOURCES
from ..model import assemble, precision
from ..run_record import PhaseRecord
from . import standalone
from .plan import Construct, ExportPlan, LayerCall

KINDS = ("script", "notebook", "cell")
OUTPUT_PATH = "fine_tuned.keras"
INDENT = "    "
WIDTH = 88  # ruff format's default line length

#: What each kind of phase does, for the comment above it.
PHASE_NOTES = {
    "fit": "one fit with the freeze plan above.",
    "head": "the head trains with the base frozen.",
    "fine_tune": "the base trains too, at a lower learning rate.",
}

#: A function or class whose source the code carries.
Carried: TypeAlias = Callable[..., Any]


#: What each freeze helper the script calls needs copied along, in definition order.
FREEZE_HELPERS = {
    "freeze_every_layer": ("base_layers", "set_trainable_layers", "freeze_every_layer"),
    "unfreeze_every_layer": ("base_layers", "set_trainable_layers", "is_batch_norm", "unfreeze_every_layer"),
    "unfreeze_from": ("base_layers", "set_trainable_layers", "is_batch_norm", "unfreeze_from"),
    "train_only": ("base_layers", "set_trainable_layers", "train_only"),
}


def lit(value: object) -> str:
    """``value`` as a Python literal (``repr``), strings double-quoted where that
    needs no escaping, as ``ruff format`` would write them."""
    if isinstance(value, str):
        text = repr(value)
        if text.startswith("'") and '"' not in value:
            text = '"' + text[1:-1] + '"'
        return text
    if isinstance(value, (list, tuple)):
        items = ", ".join(lit(v) for v in value)
        if isinstance(value, tuple):
            return f"({items},)" if len(value) == 1 else f"({items})"
        return f"[{items}]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{lit(k)}: {lit(v)}" for k, v in value.items()) + "}"
    if isinstance(value, float) and len(repr(value)) > 10 and 0 < abs(value) < 1:
        n = round(1 / value)
        if abs(n) > 1 and 1 / n == value:  # 0.00392156862745098 reads better as 1 / 255
            return f"1 / {n}" if n > 0 else f"-1 / {-n}"
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    if isinstance(value, Construct):
        return call(value.func, (), value.kwargs)
    raise TypeError(f"cannot write a {type(value).__name__} as a literal")


def call_parts(args: Sequence[object] = (), kwargs: Mapping[str, object] | None = None) -> list[str]:
    """The arguments of a call, every value a literal; keys that are not identifiers
    as written (Python reads ``ﬀ=`` as ``ff=``: NFKC) go through ``**{...}``."""
    kwargs = kwargs or {}
    parts = [lit(a) for a in args]
    plain = {
        k: v
        for k, v in kwargs.items()
        if isinstance(k, str)
        and k.isidentifier()
        and not _keyword(k)
        and unicodedata.normalize("NFKC", k) == k
    }
    odd = {k: v for k, v in kwargs.items() if k not in plain}
    parts += [f"{k}={lit(v)}" for k, v in plain.items()]
    if odd:
        parts.append(f"**{lit(odd)}")
    return parts


def call(func: str, args: Sequence[object] = (), kwargs: Mapping[str, object] | None = None) -> str:
    """``func(arg, key=value, ...)`` on one line."""
    return f"{func}({', '.join(call_parts(args, kwargs))})"


def wrapped(prefix: str, func: str, parts: list[str], suffix: str = "", depth: int = 1) -> list[str]:
    """``prefix + func(parts) + suffix`` on one line when it fits in :data:`WIDTH` at
    ``depth`` indents, else one argument per line with a trailing comma (what
    ``ruff format`` writes)."""
    one = f"{prefix}{func}({', '.join(parts)}){suffix}"
    if not parts or len(INDENT * depth + one) <= WIDTH:
        return [one]
    return [f"{prefix}{func}(", *[f"{INDENT}{p}," for p in parts], f"){suffix}"]


def _keyword(name: str) -> bool:
    import keyword

    return keyword.iskeyword(name)


@dataclass
class Section:
    """A titled piece of the code (a notebook cell with a markdown heading)."""

    title: str
    code: str
    note: str = ""


class _Writer:
    def __init__(self, plan: ExportPlan, kind: str) -> None:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(map(repr, KINDS))}, got {kind!r}")
        self.plan = plan
        self.kind = kind
        self.c = plan.config
        self.features = self.c.mode == "feature_extraction"
        # arrays: (x, y) tuples (demo data, in-memory arrays); otherwise batched datasets
        self.arrays = self.c.data.source in ("arrays", "demo")
        self.imports: set[str] = {"import keras"}
        # Functions and classes whose source the code carries (see the module docstring).
        self.model_helpers: list[Carried] = []
        self.data_helpers: list[Carried] = []

    def carry(self, helpers: list[Carried], *objects: Carried) -> None:
        """Have the code define ``objects`` (functions or classes copied as source), once each."""
        for obj in objects:
            if obj not in helpers:
                helpers.append(obj)

    def freeze_call(self, helper: str, *args: str) -> list[str]:
        """``helper(base, *args)``, a freeze helper of :mod:`.standalone` carried along."""
        self.carry(self.model_helpers, *(getattr(standalone, name) for name in FREEZE_HELPERS[helper]))
        return wrapped("", helper, ["base", *args])

    # -- pieces ------------------------------------------------------------------------

    def constants(self) -> str:
        c, run = self.c, self.plan.run
        lines = []
        if c.base.source == "model":
            lines.append("# The base as it was before the session's first run: training starts from it.")
            if self.kind == "script":
                self.imports.add("from pathlib import Path")
                lines += wrapped(
                    "BASE_PATH = ", "Path(__file__).resolve().with_name", [lit(self.plan.base_file)], depth=0
                )
            else:
                lines.append("# controller.export_script() saves it; so does running, before any training,")
                lines.append("# controller.base_model.save(BASE_PATH).")
                lines += assign("BASE_PATH", lit(self.plan.base_file))
        elif c.base.source == "file":
            lines += assign("BASE_PATH", lit(c.base.path))
        if self.plan.trained_file is not None:
            lines.append(
                "# The model the session trained, saved apart for reference: this code never reads it."
            )
            if self.kind == "script":
                self.imports.add("from pathlib import Path")
                lines += wrapped(
                    "SESSION_MODEL_PATH = ",
                    "Path(__file__).resolve().with_name",
                    [lit(self.plan.trained_file)],
                    depth=0,
                )
            else:
                lines += assign("SESSION_MODEL_PATH", lit(self.plan.trained_file))
        if c.base.input_shape is None:  # a controller's snapshot always has it
            raise ValueError("base.input_shape must be set: the exported code builds the model for it")
        lines.append(f"INPUT_SHAPE = {lit(tuple(c.base.input_shape))}")
        lines.append(f"BATCH_SIZE = {lit(run.batch_size)}")
        for i, phase in enumerate(self.phases()):
            lines.append(f"# Phase {i + 1}, {phase.name}: {PHASE_NOTES[phase.name]}")
            lines.append(f"{_prefix(phase)}EPOCHS = {lit(phase.epochs)}")
            lines.append(f"{_prefix(phase)}LEARNING_RATE = {lit(phase.learning_rate)}")
            if phase.freeze is not None and phase.freeze.kind == "explicit" and i > 0:
                lines.append(f"# The base layers that train in phase {i + 1} (every other layer is frozen).")
                lines.append(f"{_prefix(phase)}TRAINABLE_LAYERS = " + _list_lines(phase.freeze.trainable))
        if self.plan.build_freeze.kind == "explicit":
            lines.append("# The base layers that train (every other layer is frozen).")
            lines.append("TRAINABLE_LAYERS = " + _list_lines(self.plan.build_freeze.trainable))
        if run.class_weight is not None:
            weights = {int(k): v for k, v in run.class_weight.items()}
            lines += assign("CLASS_WEIGHT", lit(weights))
        if run.unexported_callbacks:
            lines.append("# The session's run also used these callbacks, which this code cannot rebuild:")
            lines += assign("UNEXPORTED_CALLBACKS", lit(list(run.unexported_callbacks)))
        if c.head.class_names:
            lines.append("CLASS_NAMES = " + _list_lines(c.head.class_names))
        lines.append(f"OUTPUT_PATH = {lit(OUTPUT_PATH)}")
        return "\n".join(lines)

    def phases(self) -> list[PhaseRecord]:
        """The phases the code trains: those a run reached (an unreached one has no flags)."""
        return [p for p in self.plan.run.phases if p.freeze is not None]

    def load_data(self) -> str:
        d = self.c.data
        if d.source == "demo":
            if d.demo not in DEMO_SOURCES:
                raise ValueError(
                    f"data.demo must be one of {', '.join(map(repr, DEMO_SOURCES))}, got {d.demo!r}"
                )
            self.imports.add("import numpy as np")
            self.carry(self.data_helpers, *DEMO_SOURCES[d.demo])
            loader = DEMO_SOURCES[d.demo][-1].__name__
            body = [
                '"""The demo dataset (works offline), split at random into train and validation',
                'the way the session split it."""',
                *wrapped("x, y = ", loader, call_parts((), d.demo_kwargs)),
            ]
            if d.validation_split:
                body += [
                    f"n_val = round(len(x) * {lit(d.validation_split)})",
                    f"order = np.random.default_rng({lit(d.seed)}).permutation(len(x))",
                    "train, val = order[n_val:], order[:n_val]",
                    "return (x[train], y[train]), (x[val], y[val])",
                ]
            else:
                body.append("return (x, y), None")
        elif d.source == "directory":
            if d.image_size is None:  # what TransferConfig.problems() says of it
                raise ValueError(f"data.image_size must be (height, width) in pixels, got {d.image_size!r}")
            body = ['"""Images in class sub-folders (keras.utils.image_dataset_from_directory)."""']
            common = [
                "DATA_DIRECTORY",
                f"image_size={lit(tuple(d.image_size))}",
                "batch_size=BATCH_SIZE",
                f"label_mode={lit(d.label_mode)}",
                f"seed={lit(d.seed if d.seed is not None else 0)}",
            ]
            func = "keras.utils.image_dataset_from_directory"
            if d.validation_split:
                for subset, var in (("training", "train"), ("validation", "val")):
                    split = [f"validation_split={lit(d.validation_split)}", f"subset={lit(subset)}"]
                    body += wrapped(f"{var} = ", func, common + split)
                body.append("return train, val")
            else:
                body += wrapped("train = ", func, common)
                body.append("return train, None")
            return (
                "\n".join(assign("DATA_DIRECTORY", lit(d.directory))) + "\n\n\n" + _def("load_data()", body)
            )
        else:
            what = (
                [
                    "Return (train_data, validation_data) as (x_train, y_train) and (x_val, y_val)",
                    "numpy arrays (validation_data may be None), images shaped INPUT_SHAPE and",
                ]
                if self.arrays
                else [
                    "Return (train_data, validation_data) as batched tf.data.Dataset or",
                    "keras.utils.PyDataset objects (validation_data may be None), images shaped",
                    "INPUT_SHAPE and",
                ]
            )
            body = [
                '"""FILL IN: the data was in memory in the session, so it is not part of this export.',
                "",
                *what,
                "labels as in the session (integer class ids, one-hot rows, or targets).",
                '"""',
                'raise NotImplementedError("Fill in load_data() with your training data")',
            ]
        return _def("load_data()", body)

    def load_base(self) -> str:
        b = self.c.base
        if b.source == "application":
            if not (isinstance(b.name, str) and b.name.isidentifier()):
                raise ValueError(f"base.name must name a keras.applications model, got {b.name!r}")
            parts = [
                "include_top=False",
                f"weights={lit(b.weights)}",
                "input_shape=INPUT_SHAPE",
                *call_parts((), b.kwargs),
            ]
            note = (
                '"""The pretrained backbone without its classifier (weights="imagenet"\n'
                f'{INDENT}downloads them once)."""'
                if b.weights == "imagenet"
                else '"""The backbone without its classifier."""'
            )
            return _def("load_base()", [note, *wrapped("return ", f"keras.applications.{b.name}", parts)])
        note = (
            '"""The backbone, saved from the session next to this script."""'
            if b.source == "model"
            else '"""The backbone, from its model file."""'
        )
        return _def("load_base()", [note, "return keras.models.load_model(BASE_PATH, compile=False)"])

    def freeze_lines(self, plan: FreezePlan, trainable: str = "TRAINABLE_LAYERS") -> list[str]:
        """A comment saying what ``plan`` does, then the freeze helper call that does it."""
        f = plan
        if f.kind == "all_frozen":
            return ["# Freeze plan: the whole base is frozen.", *self.freeze_call("freeze_every_layer")]
        if f.kind == "all_trainable":
            bn = " except its BatchNorm layers" if f.keep_bn_frozen else ", BatchNorm layers included"
            return [
                f"# Freeze plan: the whole base trains{bn}.",
                *self.freeze_call("unfreeze_every_layer", f"keep_bn_frozen={f.keep_bn_frozen!r}"),
            ]
        if f.kind == "boundary":
            bn = "BatchNorm layers stay frozen" if f.keep_bn_frozen else "BatchNorm layers included"
            return [
                "# Freeze plan: the layers before this one frozen, the rest trainable",
                f"# ({bn}).",
                *self.freeze_call("unfreeze_from", lit(f.boundary), f"keep_bn_frozen={f.keep_bn_frozen!r}"),
            ]
        return [
            f"# Freeze plan: exactly the layers in {trainable} train.",
            *self.freeze_call("train_only", trainable),
        ]

    def layer(self, spec: LayerCall, prefix: str, suffix: str, depth: int) -> list[str]:
        if spec.package == "transfer_widgets":
            self.carry(self.model_helpers, getattr(assemble, spec.cls))
            func = spec.cls
        else:
            self.imports.add("from keras import layers")
            func = f"layers.{spec.cls}"
        return wrapped(prefix, func, call_parts(spec.args, {**spec.kwargs, "name": spec.name}), suffix, depth)

    def build_model(self) -> str:
        t = self.c.training
        body = [
            '"""Base, freeze plan, preprocessing and head, wired into one model."""',
            "base = load_base()",
        ]
        body += self.freeze_lines(self.plan.build_freeze)
        body += ["", 'inputs = keras.Input(INPUT_SHAPE, name="image")', "x = inputs"]
        if self.plan.preprocessing:
            if any(p.cls.startswith("Random") for p in self.plan.preprocessing):
                body.append("# Augmentation (active in training only), then the pixel preprocessing")
                body.append("# the base expects.")
            for spec in self.plan.preprocessing:
                body += self.layer(spec, "x = ", "(x)", 1)
        if t.base_training:
            body += [
                "# The base runs in training mode: BatchNorm statistics update during fit.",
                "features = base(x)",
            ]
        else:
            self.carry(self.model_helpers, assemble.pin_inference_mode)
            body += [
                "# The base runs in inference mode: BatchNorm keeps its pretrained statistics.",
                "# Keras 3 passes the outer model's training flag to a nested model, overriding",
                "# training=False; pin_inference_mode(base) makes it stick.",
                "pin_inference_mode(base)",
                "features = base(x, training=False)",
            ]
        body.append("head = keras.Sequential(")
        body.append(f"{INDENT}[")
        body.append(f"{INDENT * 2}keras.Input(features.shape[1:]),")
        for spec in self.plan.head:
            body += [INDENT * 2 + line for line in self.layer(spec, "", ",", 3)]
        body.append(f"{INDENT}],")
        body.append(f'{INDENT}name="head",')
        body.append(")")
        body.append('model = keras.Model(inputs, head(features), name="transfer_model")')
        if self.plan.run.mixed_precision:
            self.carry(self.model_helpers, precision.set_mixed_precision)
            body += [
                "# Mixed precision, as the session trained: float16 compute, float32 variables,",
                "# the output layer in float32 (pays off on GPUs only). The loaded base keeps the",
                "# policy it was saved with, so every layer is set.",
                "set_mixed_precision(model)",
            ]
        if self.features:
            body.append("# What feature extraction caches: the frozen base's outputs for each image.")
            body.append('feature_model = keras.Model(inputs, features, name="transfer_model_features")')
            body.append("return model, base, head, feature_model")
        else:
            body.append("return model, base, head")
        return _def("build_model()", body)

    def compile_model(self) -> str:
        run = self.plan.run
        body = ['"""Compile with a fresh optimizer, as needed after every change of what trains."""']
        if isinstance(run.loss, dict):  # a keras.losses class with arguments
            config = run.loss.get("config", {})
            body += wrapped("loss = ", f"keras.losses.{run.loss['class_name']}", call_parts((), config))
            loss = "loss"
        else:
            loss = lit(run.loss)
        if any(isinstance(m, dict) for m in run.metrics):  # metrics set to read logits
            body.append("metrics = [")
            for m in run.metrics:
                if isinstance(m, dict):
                    func = f"keras.metrics.{m['class_name']}"
                    call_lines = wrapped("", func, call_parts((), m["config"]), ",", 2)
                    body += [INDENT + line for line in call_lines]
                else:
                    body.append(f"{INDENT}{lit(m)},")
            body.append("]")
            metrics = "metrics"
        else:
            metrics = lit(list(run.metrics))
        body += [
            "model.compile(",
            f"{INDENT}optimizer=optimizer,",
            f"{INDENT}loss={loss},",
            f"{INDENT}metrics={metrics},",
            ")",
        ]
        return _def("compile_model(model, optimizer)", body)

    def optimizer_lines(self, phase: PhaseRecord) -> list[str]:
        """``optimizer = keras.optimizers.<Class>(...)``: the phase's optimizer with its
        arguments, on its schedule (``schedule = ...`` first) or at its constant rate."""
        cls = optimizer_class(phase.optimizer)
        if cls is None:  # what TransferConfig.problems() says of it
            raise ValueError(f"training.optimizer must be a Keras optimizer name, got {phase.optimizer!r}")
        rate = f"{_prefix(phase)}LEARNING_RATE"
        lines = []
        if phase.lr_schedule is not None:
            config = dict(phase.lr_schedule["config"])
            config.pop("initial_learning_rate", None)
            parts = [f"initial_learning_rate={rate}", *call_parts((), config)]
            lines += wrapped(
                "schedule = ", f"keras.optimizers.schedules.{phase.lr_schedule['class_name']}", parts
            )
            rate = "schedule"
        parts = [f"learning_rate={rate}", *call_parts((), phase.optimizer_args)]
        return lines + wrapped("optimizer = ", f"keras.optimizers.{cls.__name__}", parts)

    def callbacks(self) -> list[str]:
        """The callback list's lines (comment, then the call), empty when there are none."""
        run = self.plan.run
        items = []
        if run.nan_guard:
            items += ["# Stop on a NaN loss.", "keras.callbacks.TerminateOnNaN(),"]
        if run.restore_best:
            epochs = " + ".join(f"{_prefix(p)}EPOCHS" for p in self.phases()) or "1"
            parts = [f"monitor={lit(run.monitor)}", f"patience={epochs}", "restore_best_weights=True"]
            items += [
                "# Put back the best epoch's weights at the end (patience: never stop early).",
                *wrapped("", "keras.callbacks.EarlyStopping", parts, ",", 2),
            ]
        if run.callbacks:
            items.append("# The run's own callbacks.")
        for spec in run.callbacks:
            items += wrapped(
                "", f"keras.callbacks.{spec['class_name']}", call_parts((), spec.get("config", {})), ",", 2
            )
        return items

    def fit_line(self, model: str, epochs: str, features: bool) -> list[str]:
        cb = "callbacks=callbacks()" if self.callbacks() else ""
        if features:
            args = ["train_features", "y_train", "batch_size=BATCH_SIZE"]
            val = "validation_data=val_features"
        elif self.arrays:
            args = ["x_train", "y_train", "batch_size=BATCH_SIZE"]
            val = "validation_data=validation_data"
        else:
            args = ["train_data"]
            val = "validation_data=validation_data"
        args += [f"epochs={epochs}", val] + ([cb] if cb else [])
        if self.plan.run.class_weight is not None:
            args.append("class_weight=CLASS_WEIGHT")
        return [f"{model}.fit(", *[f"{INDENT}{a}," for a in args], ")"]

    def extract_lines(self) -> list[str]:
        if self.arrays:
            return [
                "# Feature extraction: the frozen base runs once over the data; the head trains",
                "# on its outputs.",
                "x_train, y_train = train_data",
                "train_features = feature_model.predict(x_train, batch_size=BATCH_SIZE, verbose=0)",
                "val_features = None",
                "if validation_data is not None:",
                f"{INDENT}x_val, y_val = validation_data",
                f"{INDENT}x_val_features = feature_model.predict(x_val, batch_size=BATCH_SIZE, verbose=0)",
                f"{INDENT}val_features = (x_val_features, y_val)",
            ]
        return [
            "# Feature extraction: the frozen base runs once over the data; the head trains",
            "# on its outputs.",
            "train_features, y_train = extract_features(feature_model, train_data)",
            "val_features = None",
            "if validation_data is not None:",
            f"{INDENT}val_features = extract_features(feature_model, validation_data)",
        ]

    def extract_helper(self) -> str:
        self.imports.add("import numpy as np")
        body = [
            '"""Run the base over a batched dataset once: (features, labels) as arrays."""',
            "features, labels = [], []",
            "if isinstance(data, keras.utils.PyDataset):",
            f"{INDENT}data = (data[i] for i in range(len(data)))",
            "for x, y in data:",
            f"{INDENT}features.append(np.asarray(feature_model.predict_on_batch(x)))",
            f"{INDENT}labels.append(np.asarray(y))",
            "return np.concatenate(features), np.concatenate(labels)",
        ]
        return _def("extract_features(feature_model, data)", body)

    def callbacks_fn(self) -> str:
        body = ['"""Callbacks for every fit."""', "return ["]
        body += [f"{INDENT}{item}" for item in self.callbacks()]
        body.append("]")
        return _def("callbacks()", body)

    def train(self) -> str:
        params = (
            "model, base, head, feature_model, train_data, validation_data"
            if self.features
            else "model, base, head, train_data, validation_data"
        )
        what = "the run's phases" if self.plan.from_run else "the phases of fit"
        body = [f'"""{what[:1].upper()}{what[1:]}, each compiled with a fresh optimizer."""']
        phases = self.phases()
        if any(p.features for p in phases):
            body += self.extract_lines()
        elif self.arrays:
            body.append("x_train, y_train = train_data")
        previous = self.plan.build_freeze
        for i, phase in enumerate(phases):
            body += ["", f"# Phase {i + 1}, {phase.name}: {PHASE_NOTES[phase.name]}"]
            if phase.freeze is not None and phase.freeze != previous and not phase.features:
                body += self.freeze_lines(phase.freeze, f"{_prefix(phase)}TRAINABLE_LAYERS")
                previous = phase.freeze
            if phase.epochs <= 0:
                body.append("# (no epochs: only the flags above)")
                continue
            model = "head" if phase.features else "model"
            body += self.optimizer_lines(phase)
            body.append(f"compile_model({model}, optimizer)")
            body += self.fit_line(model, f"{_prefix(phase)}EPOCHS", phase.features)
        return _def(f"train({params})", body)

    def run_lines(self) -> list[str]:
        seed = self.plan.run.seed
        parts = "model, base, head, feature_model" if self.features else "model, base, head"
        lines = []
        if seed is not None:
            lines.append(f"keras.utils.set_random_seed({lit(seed)})")
        if self.plan.run.mixed_precision:
            lines.append('keras.mixed_precision.set_global_policy("mixed_float16")')
        lines += [
            "train_data, validation_data = load_data()",
            f"{parts} = build_model()",
            f"train({parts}, train_data, validation_data)",
            "model.save(OUTPUT_PATH)",
            'print(f"Saved the trained model to {OUTPUT_PATH}")',
        ]
        return lines

    # -- assembly ------------------------------------------------------------------------

    def sections(self) -> list[Section]:
        # Render the bodies first: they record the imports they use.
        constants = self.constants()
        data = self.load_data()
        base = self.load_base()
        build = self.build_model()
        comp = self.compile_model()
        extra = [self.callbacks_fn()] if self.callbacks() else []
        if self.features and not self.arrays:
            extra.append(self.extract_helper())
        train = self.train()
        sep = "\n\n\n"
        data_helpers = [carried_source(obj)[1] for obj in self.data_helpers]
        # The freeze helpers first, each group in its module's order.
        model_helpers = [
            carried_source(obj)[1]
            for obj in sorted(
                self.model_helpers, key=lambda o: (o.__module__ != standalone.__name__, carried_source(o)[0])
            )
        ]
        out = [
            Section("Imports", self.import_block()),
            Section("Settings", constants),
            Section("Data", sep.join([*data_helpers, data]), self.data_note()),
            Section("Model", sep.join([*model_helpers, base, build])),
            Section("Training", sep.join([comp, *extra, train])),
        ]
        if self.kind == "script":
            out.append(
                Section(
                    "Run",
                    _def("main()", self.run_lines()) + f'\n\n\nif __name__ == "__main__":\n{INDENT}main()',
                )
            )
        else:
            out.append(Section("Run", "\n".join(self.run_lines())))
        return out

    def data_note(self) -> str:
        if self.c.data.source in ("directory", "demo"):
            return ""
        return "The data was in memory in the session: fill in `load_data()` before running."

    def import_block(self) -> str:
        """Imports as ruff's isort sorts them: standard library, then third party
        (``import x`` before ``from x import y``, each by module)."""
        std = sorted(i for i in self.imports if i.startswith("from pathlib"))
        plain = sorted(i for i in self.imports if i in ("import keras", "import numpy as np"))
        froms = sorted(i for i in self.imports if i == "from keras import layers")
        groups = [g for g in (std, plain + froms) if g]
        return "\n\n".join("\n".join(g) for g in groups)


@functools.cache
def carried_source(obj: Carried) -> tuple[int, str]:
    """(first line, source) of a function or class the code carries, as written in this
    package (read once: an export panel re-exports on every flag change)."""
    lines, first = inspect.getsourcelines(obj)
    return first, "".join(lines).rstrip("\n")


def _prefix(phase: PhaseRecord) -> str:
    """The settings' prefix of a phase's constants: none for one fit, ``HEAD_`` / ``FINE_TUNE_``."""
    return "" if phase.name == "fit" else f"{phase.name.upper()}_"


def assign(name: str, value: str) -> list[str]:
    """``NAME = value``, in parentheses on its own line when too long (as ruff format does)."""
    if len(f"{name} = {value}") <= WIDTH:
        return [f"{name} = {value}"]
    return [f"{name} = (", f"{INDENT}{value}", ")"]


def _list_lines(items: Sequence[object]) -> str:
    if not items:
        return "[]"
    return "[\n" + "".join(f"{INDENT}{lit(i)},\n" for i in items) + "]"


def _def(signature: str, body: list[str]) -> str:
    lines = [f"def {signature}:"]
    for line in body:
        lines.append(f"{INDENT}{line}" if line else "")
    return "\n".join(lines)


HEADER = (
    "It rebuilds the experiment: the base model, which of its layers train, the "
    "preprocessing and augmentation, the new head, the compile settings and the "
    "phases of fit, then saves the trained model. {run} It needs Keras alone: the "
    "helpers it defines are plain Keras, copied from transfer-widgets."
)


def run_note(plan: ExportPlan) -> str:
    """The docstring's sentence on which phases the script trains, and from what."""
    if not plan.from_run:
        return "The phases are those the session's config plans (no run had started when it was exported)."
    r = plan.run
    start = (
        "the base as it was before the session's first run"
        if plan.config.base.source == "model"
        else "the base as loaded"
    )
    return (
        f"The phases are those of run {r.run} of the session ({r.kind}), with the settings it ran with, "
        f"starting from {start}."
    )


def docstring(plan: ExportPlan) -> str:
    """The script's docstring: what it does, which run it trains, what to fill in."""
    text = textwrap.fill(HEADER.format(run=run_note(plan)), 79)
    if plan.config.data.source not in ("directory", "demo"):
        text += (
            "\n\nFILL IN load_data() first: the session's data was in memory, so it is not"
            "\npart of this export."
        )
    return f'"""Transfer learning, exported by transfer-widgets from a notebook session.\n\n{text}\n"""'


def render_script(plan: ExportPlan) -> str:
    writer = _Writer(plan, "script")
    sections = writer.sections()
    head = docstring(plan) + "\n\n" + sections[0].code + "\n\n" + sections[1].code
    return head + "\n\n\n" + "\n\n\n".join(s.code for s in sections[2:]) + "\n"


def render_cells(plan: ExportPlan) -> list[tuple[str, str]]:
    """(markdown heading, code) per notebook cell."""
    writer = _Writer(plan, "notebook")
    out = []
    for s in writer.sections():
        md = f"## {s.title}" + (f"\n\n{s.note}" if s.note else "")
        out.append((md, s.code))
    return out


def render_notebook(plan: ExportPlan) -> str:
    """An nbformat 4.5 notebook (JSON text) with a markdown heading above each code cell."""
    v4 = nbformat.v4
    cells = [
        v4.new_markdown_cell(
            "# Transfer learning, exported by transfer-widgets\n\n"
            "Rebuilds the experiment from the session and trains it.",
            id="transfer-intro",
        )
    ]
    for i, (md, code) in enumerate(render_cells(plan)):
        cells.append(v4.new_markdown_cell(md, id=f"heading-{i}"))
        cells.append(v4.new_code_cell(code, id=f"code-{i}"))
    notebook = v4.new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
    )
    nbformat.validate(notebook)
    return nbformat.writes(notebook)


def render_cell(plan: ExportPlan) -> str:
    """One code cell (for the JupyterLab plugin to insert below the widget's cell)."""
    writer = _Writer(plan, "cell")
    sections = writer.sections()
    text = "# Transfer learning, exported by transfer-widgets.\n" + sections[0].code
    for i, s in enumerate(sections[1:]):
        note = "".join(f"\n# {line}" for line in s.note.split("\n")) if s.note else ""
        gap = "\n\n" if i == 0 else "\n\n\n"  # one blank line after the imports, as isort wants
        text += f"{gap}# -- {s.title} --{note}\n" + s.code
    return text + "\n"


def render(plan: ExportPlan, kind: str = "script") -> str:
    """``plan`` as ``kind``: "script", "notebook" (JSON) or "cell"."""
    if kind == "script":
        return render_script(plan)
    if kind == "notebook":
        return render_notebook(plan)
    if kind == "cell":
        return render_cell(plan)
    raise ValueError(f"kind must be one of {', '.join(map(repr, KINDS))}, got {kind!r}")
