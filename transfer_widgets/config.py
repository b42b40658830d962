"""TransferConfig: everything that defines a transfer-learning experiment except
the trainable flags (those live on the model; :class:`FreezePlan` records them).

Plain dataclasses, so widgets, the controller and the exporter share one source
of truth. ``to_json()`` / ``from_json()`` round-trip exactly; ``validate()``
returns every problem at once, each naming its field
(``head.layers[2].units must be a positive integer, got 0``).
"""

from __future__ import annotations

import dataclasses
import json
import math
import typing
from dataclasses import dataclass, field
from collections.abc import Iterable
from typing import Any

TASKS = ("multiclass", "binary", "multilabel", "regression")
MODES = ("fine_tune", "feature_extraction")
HEAD_LAYER_TYPES = ("global_average_pooling", "global_max_pooling", "flatten", "dropout", "dense", "batch_norm")
AUGMENTATIONS = ("random_flip", "random_rotation", "random_zoom", "random_contrast")
PREPROCESSING_MODES = ("auto", "preprocess_input", "rescale", "none")
BASE_SOURCES = ("application", "file", "model")
DATA_SOURCES = ("arrays", "tf.data", "pydataset", "directory", "demo")
LABEL_MODES = ("auto", "sparse", "one_hot")
FREEZE_KINDS = ("all_frozen", "all_trainable", "boundary", "explicit")
FEATURE_CACHES = ("auto", "memory", "disk")


@dataclass(frozen=True)
class Problem:
    """One problem in a config: the ``field`` at fault as a dotted path
    (``head.layers[1].units``; ``(config)`` / ``(json)`` for the whole input) and
    what is wrong with it. ``str(problem)`` is ``"<field> <message>"``, the line
    :meth:`TransferConfig.validate` returns."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field} {self.message}"

    @classmethod
    def parse(cls, text: str) -> Problem:
        """A problem from its one-line form, the field being everything before the first space."""
        field_name, _, message = text.partition(" ")
        return cls(field_name, message)


class ConfigError(ValueError):
    """A config with problems: ``problems`` lists each one as a line naming its field,
    ``details`` the same as :class:`Problem` objects (field and message apart)."""

    def __init__(self, problems: Iterable[str | Problem]):
        items = list(problems)
        self.details = [p if isinstance(p, Problem) else Problem.parse(p) for p in items]
        self.problems = [p if isinstance(p, str) else str(p) for p in items]
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"TransferConfig has {len(self.problems)} problem(s):\n{lines}")


@dataclass
class BaseSpec:
    """Where the backbone comes from.

    ``source="application"``: ``keras.applications.<name>(include_top=False,
    weights=weights, input_shape=input_shape, **kwargs)`` where ``weights`` is
    ``"imagenet"``, None or a weights file path; ``source="file"``: a ``.keras`` /
    ``.h5`` model at ``path``; ``source="model"``: an in-memory model (``name``
    records its name, the model itself is passed to the controller).
    """

    source: str = "model"
    name: str | None = None
    weights: str | None = "imagenet"
    path: str | None = None
    input_shape: tuple[int, ...] | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class AugmentationSpec:
    """One augmentation layer: ``random_flip`` (``mode``), or ``random_rotation`` /
    ``random_zoom`` / ``random_contrast`` (``factor``)."""

    type: str
    factor: float | None = None
    mode: str | None = None


@dataclass
class PreprocessingSpec:
    """How raw pixels reach the base.

    ``auto`` picks the right ``preprocess_input`` for a known applications family
    from the base's name (or nothing for families that preprocess inside the model,
    such as EfficientNet); ``preprocess_input`` forces ``family``'s;
    ``rescale`` multiplies by ``scale`` and adds ``offset``; ``none`` passes pixels as they are.
    """

    mode: str = "auto"
    family: str | None = None
    scale: float = 1.0 / 255.0
    offset: float = 0.0
    augmentation: list[AugmentationSpec] = field(default_factory=list)


@dataclass
class HeadLayerSpec:
    """One head layer: pooling, flatten, dropout (``rate``), dense (``units``,
    ``activation``) or batch_norm."""

    type: str
    units: int | None = None
    activation: str | None = None
    rate: float | None = None


def _default_head_layers() -> list[HeadLayerSpec]:
    return [HeadLayerSpec("global_average_pooling"), HeadLayerSpec("dropout", rate=0.2)]


@dataclass
class HeadSpec:
    """The new head: ``layers`` in order, then an output layer made from ``task``.

    multiclass: softmax over ``num_classes``; binary: one sigmoid unit;
    multilabel: ``num_classes`` sigmoid units; regression: ``num_classes`` linear
    outputs (1 by default). ``loss`` / ``metrics`` follow from the task when None;
    ``labels`` ``auto`` detects sparse vs one-hot labels from the data.
    ``class_names``: optional names of the outputs, one per class (two for binary).
    """

    layers: list[HeadLayerSpec] = field(default_factory=_default_head_layers)
    task: str = "multiclass"
    num_classes: int | None = None
    loss: str | None = None
    metrics: list[str] | None = None
    labels: str = "auto"
    class_names: list[str] | None = None


@dataclass
class FineTuneSpec:
    """Two-phase fine-tuning: ``head_epochs`` with the base frozen, then ``epochs``
    with the base unfrozen from ``unfreeze_from`` (all of it when None) at
    ``learning_rate * lr_mult``."""

    head_epochs: int = 5
    epochs: int = 5
    unfreeze_from: str | None = None
    lr_mult: float = 0.1
    keep_bn_frozen: bool = True


@dataclass
class TrainingSpec:
    """Optimizer and loop settings. ``base_training=False`` calls the base with
    ``training=False`` (BatchNorm in inference mode, the Keras guide's advice);
    ``restore_best`` puts back the weights of the best epoch on ``monitor``."""

    optimizer: str = "adam"
    learning_rate: float = 1e-3
    batch_size: int = 32
    epochs: int = 5
    fine_tune: FineTuneSpec = field(default_factory=FineTuneSpec)
    base_training: bool = False
    restore_best: bool = False
    monitor: str = "val_loss"
    nan_guard: bool = True
    seed: int | None = None


@dataclass
class DataSpec:
    """Where the data comes from: in-memory ``arrays`` / ``tf.data`` / ``pydataset``
    (passed to the controller), an image ``directory``
    (``image_dataset_from_directory`` arguments), or a ``demo`` dataset by name."""

    source: str = "arrays"
    directory: str | None = None
    image_size: tuple[int, int] | None = None
    validation_split: float | None = None
    label_mode: str = "int"
    seed: int | None = 0
    demo: str | None = None
    demo_kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class FreezePlan:
    """The base's trainable flags in their most compact form, reapplied by name.

    ``all_frozen``; ``all_trainable``; ``boundary`` (layers before ``boundary``
    frozen, from it on trainable); ``explicit`` (exactly the layers in
    ``trainable``). ``keep_bn_frozen``: BatchNorm layers stay frozen in bulk unfreezing.
    """

    kind: str = "all_frozen"
    boundary: str | None = None
    keep_bn_frozen: bool = True
    trainable: list[str] = field(default_factory=list)


@dataclass
class TransferConfig:
    """One experiment: base, preprocessing, head, training, mode, data, freeze plan.

    ``mode``: ``fine_tune`` trains end to end through the base; ``feature_extraction``
    runs the frozen base once, caches its features (``feature_cache``: memory, disk
    under ``cache_dir``, or ``auto`` by size) and trains the head on them.
    """

    base: BaseSpec = field(default_factory=BaseSpec)
    preprocessing: PreprocessingSpec = field(default_factory=PreprocessingSpec)
    head: HeadSpec = field(default_factory=HeadSpec)
    training: TrainingSpec = field(default_factory=TrainingSpec)
    mode: str = "fine_tune"
    feature_cache: str = "auto"
    cache_dir: str | None = None
    data: DataSpec = field(default_factory=DataSpec)
    freeze: FreezePlan = field(default_factory=FreezePlan)
    version: int = 1

    # -- JSON ---------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TransferConfig:
        """Build from a dict; unknown keys and wrong types raise :class:`ConfigError`."""
        problems: list[str] = []
        config = _from_dict(cls, data, "", problems)
        if problems:
            raise ConfigError(problems)
        return config

    def to_json(self, **kwargs) -> str:
        kwargs.setdefault("indent", 2)
        return json.dumps(self.to_dict(), allow_nan=False, **kwargs)

    @classmethod
    def from_json(cls, text: str) -> TransferConfig:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError([f"(json) not valid JSON: {exc}"]) from None
        return cls.from_dict(data)

    def copy(self) -> TransferConfig:
        return TransferConfig.from_dict(self.to_dict())

    # -- validation -----------------------------------------------------------------

    def problems(self) -> list[Problem]:
        """Every problem in the config as :class:`Problem` (field, message); [] if none."""
        return _Validator(self).run()

    def validate(self) -> list[str]:
        """Every problem in the config, each a line starting with its field; [] if none."""
        return [str(p) for p in self.problems()]

    def check(self) -> TransferConfig:
        """Raise :class:`ConfigError` listing every problem; return self if none."""
        problems = self.problems()
        if problems:
            raise ConfigError(problems)
        return self


# -- dict -> dataclasses, with field names in errors ----------------------------------


def _from_dict(cls, data, where: str, problems: list[str]):
    if not isinstance(data, dict):
        problems.append(f"{where or '(config)'} must be an object, got {type(data).__name__}")
        return cls()
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    for key in data:
        if key not in names:
            problems.append(f"{_join(where, key)} is not a known field (known: {', '.join(sorted(names))})")
    kwargs = {}
    required = [f.name for f in dataclasses.fields(cls)
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    for name in required:
        if name not in data:
            problems.append(f"{_join(where, name)} is required")
            kwargs[name] = ""
    for f in dataclasses.fields(cls):
        if f.name in data:
            kwargs[f.name] = _convert(hints[f.name], data[f.name], _join(where, f.name), problems)
    return cls(**kwargs)


def _convert(hint, value, where: str, problems: list[str]):
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        if value is None:
            return None
        inner = [a for a in args if a is not type(None)]
        return _convert(inner[0], value, where, problems)
    if dataclasses.is_dataclass(hint):
        return _from_dict(hint, value, where, problems)
    if origin is list:
        if not isinstance(value, list):
            problems.append(f"{where} must be a list, got {type(value).__name__}")
            return []
        return [_convert(args[0], v, f"{where}[{i}]", problems) for i, v in enumerate(value)]
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            problems.append(f"{where} must be a list, got {type(value).__name__}")
            return None
        return tuple(value)
    if origin is dict:
        if not isinstance(value, dict):
            problems.append(f"{where} must be an object, got {type(value).__name__}")
            return {}
        return dict(value)
    return value  # scalars: checked by validate(), with the field's own rules


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


# -- validation rules ---------------------------------------------------------------------


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


class _Validator:
    def __init__(self, config: TransferConfig):
        self.c = config
        self.problems: list[Problem] = []

    def add(self, field_name: str, message: str) -> None:
        self.problems.append(Problem(field_name, message))

    def one_of(self, name: str, value, options) -> bool:
        if value not in options:
            self.add(name, f"must be one of {', '.join(map(repr, options))}, got {value!r}")
            return False
        return True

    def positive_int(self, name: str, value, *, allow_zero=False, allow_none=False) -> None:
        if value is None and allow_none:
            return
        if not _is_int(value) or value < (0 if allow_zero else 1):
            kind = "a non-negative integer" if allow_zero else "a positive integer"
            self.add(name, f"must be {kind}, got {value!r}")

    def run(self) -> list[Problem]:
        c = self.c
        self.base(c.base)
        self.preprocessing(c.preprocessing)
        self.head(c.head)
        self.training(c.training)
        self.one_of("mode", c.mode, MODES)
        self.one_of("feature_cache", c.feature_cache, FEATURE_CACHES)
        if c.feature_cache == "disk" and not c.cache_dir:
            self.add("cache_dir", "must name a directory when feature_cache is 'disk'")
        if c.mode == "feature_extraction" and c.preprocessing.augmentation:
            self.add(
                "preprocessing.augmentation",
                "cannot apply to cached features in feature_extraction mode (the base runs once, before "
                "training); remove the augmentation or use mode='fine_tune'",
            )
        if c.mode == "feature_extraction" and c.training.base_training:
            self.add("training.base_training", "must be False in feature_extraction mode (the base is frozen)")
        self.data(c.data)
        self.freeze(c.freeze)
        if c.version != 1:
            self.add("version", f"must be 1, got {c.version!r}")
        return self.problems

    def base(self, b: BaseSpec) -> None:
        if not self.one_of("base.source", b.source, BASE_SOURCES):
            return
        if b.source == "application":
            import keras

            if not isinstance(b.name, str) or not callable(getattr(keras.applications, b.name or "", None)):
                import difflib

                known = [n for n in dir(keras.applications) if n[:1].isupper()]
                close = difflib.get_close_matches(str(b.name), known, n=3)
                hint = f" (closest: {', '.join(close)})" if close else ""
                self.add("base.name", f"must name a keras.applications model, got {b.name!r}{hint}")
            if b.weights is not None and not isinstance(b.weights, str):
                self.add("base.weights", f"must be 'imagenet', None or a weights file path, got {b.weights!r}")
        if b.source == "file" and not (isinstance(b.path, str) and b.path):
            self.add("base.path", "must be the path of a .keras or .h5 file when base.source is 'file'")
        if b.input_shape is not None:
            shape = tuple(b.input_shape) if isinstance(b.input_shape, (list, tuple)) else None
            if not shape or not all(_is_int(d) and d > 0 for d in shape):
                self.add("base.input_shape", f"must be a tuple of positive integers, got {b.input_shape!r}")
        if not isinstance(b.kwargs, dict):
            self.add("base.kwargs", f"must be a dict, got {type(b.kwargs).__name__}")

    def preprocessing(self, p: PreprocessingSpec) -> None:
        self.one_of("preprocessing.mode", p.mode, PREPROCESSING_MODES)
        if p.mode == "preprocess_input":
            from .model.assemble import PREPROCESS_FAMILIES

            if p.family not in PREPROCESS_FAMILIES:
                self.add("preprocessing.family", f"must be one of {', '.join(sorted(PREPROCESS_FAMILIES))}, "
                         f"got {p.family!r}")
        if p.mode == "rescale":
            if not _is_number(p.scale) or p.scale == 0:
                self.add("preprocessing.scale", f"must be a non-zero number, got {p.scale!r}")
            if not _is_number(p.offset):
                self.add("preprocessing.offset", f"must be a number, got {p.offset!r}")
        for i, a in enumerate(p.augmentation):
            where = f"preprocessing.augmentation[{i}]"
            if not self.one_of(f"{where}.type", a.type, AUGMENTATIONS):
                continue
            if a.type == "random_flip":
                if a.mode not in (None, "horizontal", "vertical", "horizontal_and_vertical"):
                    self.add(f"{where}.mode", f"must be 'horizontal', 'vertical' or 'horizontal_and_vertical', "
                             f"got {a.mode!r}")
            elif not _is_number(a.factor) or not 0 < a.factor <= 1:
                self.add(f"{where}.factor", f"must be a number in (0, 1], got {a.factor!r}")

    def head(self, h: HeadSpec) -> None:
        import keras

        task_ok = self.one_of("head.task", h.task, TASKS)
        for i, layer in enumerate(h.layers):
            where = f"head.layers[{i}]"
            if not isinstance(layer, HeadLayerSpec):
                self.add(where, f"must be a HeadLayerSpec, got {type(layer).__name__}")
                continue
            if not self.one_of(f"{where}.type", layer.type, HEAD_LAYER_TYPES):
                continue
            if layer.type == "dense":
                self.positive_int(f"{where}.units", layer.units)
                if layer.activation is not None:
                    try:
                        keras.activations.get(layer.activation)
                    except (ValueError, TypeError):
                        self.add(f"{where}.activation", f"must be a Keras activation name (relu, gelu, swish, "
                                 f"tanh, ...), got {layer.activation!r}")
            if layer.type == "dropout" and (not _is_number(layer.rate) or not 0 <= layer.rate < 1):
                self.add(f"{where}.rate", f"must be a number in [0, 1), got {layer.rate!r}")
        if task_ok and h.task in ("multiclass", "multilabel"):
            if h.num_classes is not None and (not _is_int(h.num_classes) or h.num_classes < 2):
                self.add("head.num_classes", f"must be an integer >= 2 for a {h.task} task, got {h.num_classes!r}")
        elif task_ok:
            self.positive_int("head.num_classes", h.num_classes, allow_none=True)
            if h.task == "binary" and h.num_classes not in (None, 1, 2):
                self.add("head.num_classes", f"must be 1 or 2 (or None) for a binary task, got {h.num_classes!r}")
        if h.loss is not None:
            try:
                keras.losses.get(h.loss)
            except (ValueError, TypeError):
                self.add("head.loss", f"must be a Keras loss name, got {h.loss!r}")
        if h.metrics is not None:
            if not isinstance(h.metrics, list):
                self.add("head.metrics", f"must be a list of metric names, got {h.metrics!r}")
            else:
                for i, m in enumerate(h.metrics):
                    if m in ("accuracy", "acc"):
                        continue
                    try:
                        keras.metrics.get(m)
                    except (ValueError, TypeError):
                        self.add(f"head.metrics[{i}]", f"must be a Keras metric name, got {m!r}")
        self.one_of("head.labels", h.labels, LABEL_MODES)
        if h.class_names is not None:
            self.class_names(h, task_ok)

    def class_names(self, h: HeadSpec, task_ok: bool) -> None:
        names = h.class_names
        if not isinstance(names, list) or not all(isinstance(n, str) and n.strip() for n in names):
            self.add("head.class_names", f"must be a list of non-empty names, got {names!r}")
            return
        if len(set(names)) != len(names):
            dupes = sorted({n for n in names if names.count(n) > 1})
            self.add("head.class_names", f"must be unique, got {', '.join(map(repr, dupes))} more than once")
        expected = None
        if task_ok and h.task == "binary":
            expected = 2
        elif task_ok and _is_int(h.num_classes):
            expected = h.num_classes
        elif task_ok and h.task == "regression" and h.num_classes is None:
            expected = 1
        if expected is not None and len(names) != expected:
            word = "name" if expected == 1 else "names"
            self.add("head.class_names", f"must have {expected} {word} (one per output), got {len(names)}")

    def training(self, t: TrainingSpec) -> None:
        import keras

        try:
            keras.optimizers.get(t.optimizer)
        except (ValueError, TypeError):
            self.add("training.optimizer", f"must be a Keras optimizer name (adam, sgd, rmsprop, adamw, ...), "
                     f"got {t.optimizer!r}")
        if not _is_number(t.learning_rate) or t.learning_rate <= 0:
            self.add("training.learning_rate", f"must be a positive number, got {t.learning_rate!r}")
        self.positive_int("training.batch_size", t.batch_size)
        self.positive_int("training.epochs", t.epochs, allow_zero=True)
        f = t.fine_tune
        self.positive_int("training.fine_tune.head_epochs", f.head_epochs, allow_zero=True)
        self.positive_int("training.fine_tune.epochs", f.epochs, allow_zero=True)
        if not _is_number(f.lr_mult) or f.lr_mult <= 0:
            self.add("training.fine_tune.lr_mult", f"must be a positive number, got {f.lr_mult!r}")
        if f.unfreeze_from is not None and not isinstance(f.unfreeze_from, str):
            self.add("training.fine_tune.unfreeze_from", f"must be a layer name or None, got {f.unfreeze_from!r}")
        if not isinstance(t.monitor, str) or not t.monitor:
            self.add("training.monitor", f"must be a metric name such as 'val_loss', got {t.monitor!r}")
        if t.seed is not None and not _is_int(t.seed):
            self.add("training.seed", f"must be an integer or None, got {t.seed!r}")
        for name, value in (("training.base_training", t.base_training), ("training.restore_best", t.restore_best),
                            ("training.nan_guard", t.nan_guard), ("training.fine_tune.keep_bn_frozen",
                                                                   f.keep_bn_frozen)):
            if not isinstance(value, bool):
                self.add(name, f"must be true or false, got {value!r}")

    def data(self, d: DataSpec) -> None:
        if not self.one_of("data.source", d.source, DATA_SOURCES):
            return
        if d.source == "directory":
            if not d.directory:
                self.add("data.directory", "must name a folder of class sub-folders when data.source is 'directory'")
            size = d.image_size
            if size is None or len(size) != 2 or not all(_is_int(s) and s > 0 for s in size):
                self.add("data.image_size", f"must be (height, width) in pixels, got {size!r}")
            self.one_of("data.label_mode", d.label_mode, ("int", "categorical", "binary"))
        if d.source == "demo":
            from .data.datasets import DEMOS

            self.one_of("data.demo", d.demo, tuple(DEMOS))
        if d.validation_split is not None and (not _is_number(d.validation_split) or not 0 < d.validation_split < 1):
            self.add("data.validation_split", f"must be a number in (0, 1) or None, got {d.validation_split!r}")

    def freeze(self, f: FreezePlan) -> None:
        if not self.one_of("freeze.kind", f.kind, FREEZE_KINDS):
            return
        if f.kind == "boundary" and not (isinstance(f.boundary, str) and f.boundary):
            self.add("freeze.boundary", "must name the first trainable layer when freeze.kind is 'boundary'")
        if not isinstance(f.keep_bn_frozen, bool):
            self.add("freeze.keep_bn_frozen", f"must be true or false, got {f.keep_bn_frozen!r}")
        if f.kind == "explicit" and not all(isinstance(p, str) for p in f.trainable):
            self.add("freeze.trainable", "must be a list of layer paths")


# -- freeze plan <-> model flags ---------------------------------------------------------


def freeze_plan_from_model(base) -> FreezePlan:
    """The base's current flags in their most compact form (see :class:`FreezePlan`)."""
    from .model.freeze import as_tree

    tree = as_tree(base)
    leaves = tree.leaves
    flags = [bool(leaf.layer.trainable) and bool(base.trainable) for leaf in leaves]
    is_bn = [leaf.is_batch_norm for leaf in leaves]
    root = tree.root.name + "/"

    def rel(path: str) -> str:
        return path[len(root):] if path.startswith(root) else path

    if not any(flags):
        return FreezePlan("all_frozen")
    for keep in (False, True):
        if flags == [not (keep and bn) for bn in is_bn]:
            return FreezePlan("all_trainable", keep_bn_frozen=keep)
    start = flags.index(True)
    for keep in (True, False):
        expected = [i >= start and not (keep and bn) for i, bn in enumerate(is_bn)]
        if flags == expected:
            return FreezePlan("boundary", boundary=rel(leaves[start].path), keep_bn_frozen=keep)
    return FreezePlan("explicit", trainable=[rel(leaf.path) for leaf, f in zip(leaves, flags) if f],
                      keep_bn_frozen=False)


def apply_freeze_plan(plan: FreezePlan, base) -> None:
    """Set the base's flags from a plan, naming layers by path; a layer the base
    lacks raises :class:`ConfigError` naming the field, before any flag changes."""
    from .model.inspect import UnknownLayerError

    try:
        _apply_freeze_plan(plan, base)
    except UnknownLayerError as err:
        field_name = "freeze.boundary" if plan.kind == "boundary" else "freeze.trainable"
        raise ConfigError([f"{field_name} {err}"]) from err


def _apply_freeze_plan(plan: FreezePlan, base) -> None:
    from .model.freeze import as_tree, freeze_all, freeze_up_to, set_many, unfreeze_all

    tree = as_tree(base)
    if plan.kind == "all_frozen":
        freeze_all(tree)
    elif plan.kind == "all_trainable":
        unfreeze_all(tree, keep_bn_frozen=plan.keep_bn_frozen)
    elif plan.kind == "boundary":
        freeze_up_to(tree, plan.boundary, keep_bn_frozen=plan.keep_bn_frozen)
    elif plan.kind == "explicit":
        nodes = [tree.find(p) for p in plan.trainable]  # every name checked before any flag changes
        freeze_all(tree)
        if nodes:
            set_many(tree, nodes, True, keep_bn_frozen=False)
    else:
        raise ConfigError([f"freeze.kind must be one of {', '.join(map(repr, FREEZE_KINDS))}, got {plan.kind!r}"])
