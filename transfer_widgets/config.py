"""TransferConfig: everything that defines a transfer-learning experiment except
the trainable flags (those live on the model; :class:`FreezePlan` records them).

Plain dataclasses, so widgets, the controller and the exporter share one source
of truth. ``to_json()`` / ``from_json()`` round-trip exactly; ``validate()``
returns every problem at once, each naming its field
(``head.layers[2].units must be a positive integer, got 0``); ``problems()`` gives
the same as :class:`Problem` objects.

How the checking is split:

- Each field's annotation says its type and its rule (``Annotated[..., _Rule(...)]``).
  pydantic (``TypeAdapter``) reads them to turn a dict into these dataclasses
  (:meth:`TransferConfig.from_dict`), to check an object that may have been
  changed field by field (:meth:`TransferConfig.problems`), and to write the JSON
  Schema (:meth:`TransferConfig.json_schema`, published as
  ``transfer_widgets/schema/transfer_config.schema.json``).
- ``from_dict`` only insists on the shape (objects, lists, known and required
  keys); a value of the wrong type or out of range is kept as it is and reported
  by ``validate()``, like a value set on the object.
- Rules that depend on other fields (``units`` of a dense layer, ``scale`` when
  rescaling, ...) and names that must resolve in Keras are plain Python
  (:class:`_Rules`); their fields carry their type and range for the schema only.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import json
import os
import re
import types
import typing
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, ClassVar

from annotated_types import Ge, Gt, Le, Lt, MaxLen, MinLen
from pydantic import AllowInfNan, ConfigDict, GetCoreSchemaHandler, Strict, TypeAdapter, ValidationError
from pydantic.json_schema import GenerateJsonSchema
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

TASKS = ("multiclass", "binary", "multilabel", "regression")
MODES = ("fine_tune", "feature_extraction")
HEAD_LAYER_TYPES = (
    "global_average_pooling",
    "global_max_pooling",
    "flatten",
    "dropout",
    "dense",
    "batch_norm",
)
AUGMENTATIONS = ("random_flip", "random_rotation", "random_zoom", "random_contrast")
PREPROCESSING_MODES = ("auto", "preprocess_input", "rescale", "none")
BASE_SOURCES = ("application", "file", "model")
DATA_SOURCES = ("arrays", "tf.data", "pydataset", "directory", "demo")
LABEL_MODES = ("auto", "sparse", "one_hot")
FREEZE_KINDS = ("all_frozen", "all_trainable", "boundary", "explicit")
FEATURE_CACHES = ("auto", "memory", "disk")
FLIP_MODES = ("horizontal", "vertical", "horizontal_and_vertical")
DIRECTORY_LABEL_MODES = ("int", "categorical", "binary")
#: keras.applications families whose ``preprocess_input`` the config can name
#: (``model/assemble.py`` maps each to what it does; a test keeps the two equal).
PREPROCESS_FAMILIES = (
    "mobilenet", "mobilenet_v2", "mobilenet_v3", "resnet", "resnet_v2", "vgg16", "vgg19", "inception_v3",
    "inception_resnet_v2", "xception", "nasnet", "densenet", "efficientnet", "efficientnet_v2", "convnext",
    "regnet",
)  # fmt: skip
#: The Keras callbacks ``training.callbacks`` can hold (a test keeps the run record's reader equal).
CALLBACKS = ("EarlyStopping", "ReduceLROnPlateau", "ModelCheckpoint")
#: The ``keras.optimizers.schedules`` classes ``training.lr_schedule`` can name (they start from a rate).
SCHEDULES = ("CosineDecay", "CosineDecayRestarts", "ExponentialDecay", "InverseTimeDecay", "PolynomialDecay")
#: Metrics that only compare a classifier's outputs (argmax): the same on logits.
_ARGMAX_METRICS = (
    "accuracy", "acc", "sparse_categorical_accuracy", "categorical_accuracy",
    "sparse_top_k_categorical_accuracy", "top_k_categorical_accuracy",
)  # fmt: skip
#: What each metric name becomes when a classifier's head outputs logits (``head.from_logits``):
#: kept (a name that only compares outputs, such as argmax accuracy), a metric set to read
#: logits, or absent (the metric needs probabilities). By task group.
LOGIT_METRICS: dict[str, dict[str, str | dict[str, Any]]] = {
    "multiclass": {name: name for name in _ARGMAX_METRICS},
    "sigmoid": {
        **{
            name: {"class_name": "BinaryAccuracy", "config": {"name": name, "threshold": 0.0}}
            for name in ("accuracy", "acc", "binary_accuracy")
        },
        "auc": {"class_name": "AUC", "config": {"name": "auc", "from_logits": True}},
    },
}
#: Offline demo datasets by name (``data/datasets.py`` loads each; a test keeps the two equal).
DEMO_NAMES = ("digits",)

#: The JSON Schema of a saved config (draft 2020-12), shipped in the package. A saved
#: config may name it in a top-level ``"$schema"`` key, which ``from_dict`` ignores.
SCHEMA_FILE = Path(__file__).resolve().parent / "schema" / "transfer_config.schema.json"
SCHEMA_ID = "urn:transfer-widgets:schema:transfer-config:1"


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


def _is_json(text: str) -> bool:
    try:
        json.loads(text.removeprefix("\ufeff"))
    except ValueError:
        return False
    return True


class ConfigError(ValueError):
    """A config with problems: ``problems`` lists each one as a line naming its field,
    ``details`` the same as :class:`Problem` objects (field and message apart)."""

    def __init__(self, problems: Iterable[str | Problem]):
        items = list(problems)
        self.details = [p if isinstance(p, Problem) else Problem.parse(p) for p in items]
        self.problems = [p if isinstance(p, str) else str(p) for p in items]
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"TransferConfig has {len(self.problems)} problem(s):\n{lines}")


# -- field rules, read by pydantic ----------------------------------------------------------

_CHECK = "transfer_widgets.check"  # in the validation context: problems() rather than from_dict()


def _checking(info: core_schema.ValidationInfo) -> bool:
    return isinstance(info.context, dict) and bool(info.context.get(_CHECK))


def _failure(message: str) -> PydanticCustomError:
    return PydanticCustomError("config", "{message}", {"message": message})


def _container(tp: Any) -> type | None:
    """``list``, ``tuple`` or ``dict`` when ``tp`` is one (Annotated and Optional aside)."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is Annotated:
        return _container(args[0])
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return _container(inner[0]) if len(inner) == 1 else None
    return origin if origin in (list, tuple, dict) else None


class _Rule:
    """``Annotated`` metadata saying how one field is checked.

    ``from_dict`` keeps the field's value as it is (a JSON array becomes a tuple
    where the type is a tuple; a list or dict only has to be one); ``problems()``
    checks the value against the annotated type and its constraints and words any
    failure as ``<message>, got <value>`` (``got_type``: the value's type name), for
    a failure of the value itself or, with ``deep``, of anything in it.
    ``options``: the value must be one of these (an enum in the schema).
    ``message=None``: the type and range are for the schema only; a rule in
    :class:`_Rules` checks the field where it applies.
    """

    def __init__(
        self,
        message: str | None = None,
        *,
        options: tuple[Any, ...] | None = None,
        deep: bool = False,
        got_type: bool = False,
    ) -> None:
        self.message = message
        self.options = options
        self.deep = deep
        self.got_type = got_type

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        nullable = type(None) in typing.get_args(source)
        if self.options is None:
            schema = handler(source)
        else:
            schema = core_schema.literal_schema(list(self.options))
            if nullable:
                schema = core_schema.nullable_schema(schema)
        kind = _container(source)

        def validate(
            value: Any, inner: core_schema.ValidatorFunctionWrapHandler, info: core_schema.ValidationInfo
        ) -> Any:
            if value is None and nullable:
                return value
            if not _checking(info):
                return self._shape(value, kind)
            if self.message is None:
                return value
            try:
                return inner(self._shape(value, kind))
            except (ValidationError, PydanticCustomError) as exc:
                if isinstance(exc, ValidationError) and not self.deep and any(e["loc"] for e in exc.errors()):
                    raise
                got = type(value).__name__ if self.got_type else repr(value)
                raise _failure(f"{self.message}, got {got}") from None

        return core_schema.with_info_wrap_validator_function(validate, schema)

    @staticmethod
    def _shape(value: Any, kind: type | None) -> Any:
        if kind is None:
            return value
        if kind is dict:
            if not isinstance(value, dict):
                raise _failure(f"must be an object, got {type(value).__name__}")
            return dict(value)
        if not isinstance(value, (list, tuple) if kind is tuple else list):
            raise _failure(f"must be a list, got {type(value).__name__}")
        return kind(value)


def _one_of(options: tuple[Any, ...], message: str | None = None) -> _Rule:
    return _Rule(message or f"must be one of {', '.join(map(repr, options))}", options=options)


_LOOSE = _Rule()  # typed for the schema; checked where it applies by _Rules, or not at all

_Str = Annotated[str, Strict()]
_Dim = Annotated[int, Strict(), Gt(0)]
_Number = Annotated[float, Strict(), AllowInfNan(False)]
_PositiveInt = Annotated[int, Strict(), Gt(0), _Rule("must be a positive integer")]
_Count = Annotated[int, Strict(), Ge(0), _Rule("must be a non-negative integer")]
_PositiveNumber = Annotated[float, Strict(), AllowInfNan(False), Gt(0), _Rule("must be a positive number")]
_Flag = Annotated[bool, Strict(), _Rule("must be true or false")]
_LooseStr = Annotated[str | None, _LOOSE]
_LooseName = Annotated[str, Strict(), _LOOSE]


class _Spec:
    """What the config's dataclasses share: pydantic settings (unknown keys refused,
    descriptions from the field docstrings, an object re-checked field by field),
    and ``problems()``'s check that a part is an instance of its class."""

    __pydantic_config__: ClassVar[ConfigDict] = ConfigDict(
        extra="forbid", revalidate_instances="always", use_attribute_docstrings=True
    )

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        def validate(
            value: Any, inner: core_schema.ValidatorFunctionWrapHandler, info: core_schema.ValidationInfo
        ) -> Any:
            if _checking(info) and not isinstance(value, cls):
                article = "an" if cls.__name__[0] in "AEIOU" else "a"
                raise _failure(f"must be {article} {cls.__name__}, got {type(value).__name__}")
            return inner(value)

        return core_schema.with_info_wrap_validator_function(validate, handler(source))


# -- the config -------------------------------------------------------------------------------


@dataclass
class BaseSpec(_Spec):
    """Where the backbone comes from.

    ``source="application"``: ``keras.applications.<name>(include_top=False,
    weights=weights, input_shape=input_shape, **kwargs)`` where ``weights`` is
    ``"imagenet"``, None or a weights file path; ``source="file"``: a ``.keras`` /
    ``.h5`` model at ``path``; ``source="model"``: an in-memory model (``name``
    records its name, the model itself is passed to the controller).
    """

    source: Annotated[str, _one_of(BASE_SOURCES)] = "model"
    """``application`` (keras.applications), ``file`` (a saved model) or ``model`` (in memory)."""
    name: _LooseStr = None
    """The keras.applications model (``MobileNetV2``) for ``application``; the model's name otherwise."""
    weights: _LooseStr = "imagenet"
    """``"imagenet"``, None (random weights) or a weights file path, for ``application``."""
    path: _LooseStr = None
    """The ``.keras`` / ``.h5`` file, for ``file``."""
    input_shape: Annotated[
        Annotated[tuple[_Dim, ...], MinLen(1)] | None,
        _Rule("must be a tuple of positive integers", deep=True),
    ] = None
    """The base's input shape without the batch, ``[height, width, channels]``; None: the model's own."""
    kwargs: Annotated[dict[str, Any], _Rule("must be a dict", got_type=True)] = field(default_factory=dict)
    """More keyword arguments for the keras.applications constructor (``{"alpha": 0.35}``)."""


@dataclass
class AugmentationSpec(_Spec):
    """One augmentation layer: ``random_flip`` (``mode``), or ``random_rotation`` /
    ``random_zoom`` / ``random_contrast`` (``factor``)."""

    type: Annotated[str, _one_of(AUGMENTATIONS)]
    """The Keras augmentation layer."""
    factor: Annotated[Annotated[float, Strict(), Gt(0), Le(1)] | None, _LOOSE] = None
    """How strong, in (0, 1], for rotation, zoom and contrast."""
    mode: Annotated[str | None, _Rule(options=FLIP_MODES)] = None
    """Which way ``random_flip`` flips; None: both (Keras's default)."""


@dataclass
class PreprocessingSpec(_Spec):
    """How raw pixels reach the base.

    ``auto`` picks the right ``preprocess_input`` for a known applications family
    from the base's name (or nothing for families that preprocess inside the model,
    such as EfficientNet); ``preprocess_input`` forces ``family``'s;
    ``rescale`` multiplies by ``scale`` and adds ``offset``; ``none`` passes pixels as they are.
    """

    mode: Annotated[str, _one_of(PREPROCESSING_MODES)] = "auto"
    """``auto`` (from the base's family), ``preprocess_input`` (``family``'s), ``rescale`` or ``none``."""
    family: Annotated[str | None, _Rule(options=PREPROCESS_FAMILIES)] = None
    """The keras.applications family whose ``preprocess_input`` to use, for ``preprocess_input``."""
    scale: Annotated[_Number, _LOOSE] = 1.0 / 255.0
    """Pixels are multiplied by this (not 0), for ``rescale``."""
    offset: Annotated[_Number, _LOOSE] = 0.0
    """Then this is added, for ``rescale``."""
    augmentation: list[AugmentationSpec] = field(default_factory=list)
    """Augmentation layers, in order, applied in training only (not with cached features)."""


@dataclass
class HeadLayerSpec(_Spec):
    """One head layer: pooling, flatten, dropout (``rate``), dense (``units``,
    ``activation``, kernel penalties ``kernel_l1`` / ``kernel_l2``) or batch_norm."""

    type: Annotated[str, _one_of(HEAD_LAYER_TYPES)]
    """The kind of layer."""
    units: Annotated[_Dim | None, _LOOSE] = None
    """Output units, for ``dense``."""
    activation: _LooseStr = None
    """A Keras activation name (``relu``, ``gelu``, ...), for ``dense``; None: linear."""
    rate: Annotated[Annotated[float, Strict(), Ge(0), Lt(1)] | None, _LOOSE] = None
    """The fraction of inputs dropped, in [0, 1), for ``dropout``."""
    kernel_l1: Annotated[Annotated[float, Strict(), Ge(0)] | None, _LOOSE] = None
    """L1 penalty factor on the kernel (``kernel_regularizer=keras.regularizers.L1``), for ``dense``;
    None: no L1 penalty."""
    kernel_l2: Annotated[Annotated[float, Strict(), Ge(0)] | None, _LOOSE] = None
    """L2 penalty factor on the kernel (``kernel_regularizer=keras.regularizers.L2``; with ``kernel_l1``,
    ``L1L2``), for ``dense``; None: no L2 penalty."""


def _default_head_layers() -> list[HeadLayerSpec]:
    return [HeadLayerSpec("global_average_pooling"), HeadLayerSpec("dropout", rate=0.2)]


@dataclass
class HeadSpec(_Spec):
    """The new head: ``layers`` in order, then an output layer made from ``task``.

    multiclass: softmax over ``num_classes``; binary: one sigmoid unit;
    multilabel: ``num_classes`` sigmoid units; regression: ``num_classes`` linear
    outputs (1 by default). ``loss`` / ``metrics`` follow from the task when None;
    ``labels`` ``auto`` detects sparse vs one-hot labels from the data.
    ``class_names``: optional names of the outputs, one per class (two for binary).
    """

    layers: list[HeadLayerSpec] = field(default_factory=_default_head_layers)
    """The head's layers on top of the base, in order; the output layer follows from ``task``."""
    task: Annotated[str, _one_of(TASKS)] = "multiclass"
    """What the output layer predicts: ``multiclass`` (softmax), ``binary`` / ``multilabel`` (sigmoid)
    or ``regression`` (linear)."""
    num_classes: Annotated[_Dim | None, _LOOSE] = None
    """Classes (at least 2 for multiclass / multilabel, 1 or 2 for binary) or regression outputs;
    None: from the data."""
    loss: _LooseStr = None
    """A Keras loss name; None: the task's usual loss."""
    metrics: Annotated[list[_LooseName] | None, _Rule("must be a list of metric names")] = None
    """Keras metric names; None: the task's usual metrics."""
    labels: Annotated[str, _one_of(LABEL_MODES)] = "auto"
    """How labels are encoded: ``sparse`` class indices, ``one_hot`` rows, or ``auto`` (from the data)."""
    class_names: Annotated[list[Annotated[str, Strict(), MinLen(1)]] | None, _LOOSE] = None
    """Names of the outputs, unique and one per class (two for binary)."""
    loss_args: Annotated[dict[str, Any], _Rule("must be a dict", got_type=True)] = field(default_factory=dict)
    """Arguments of the loss (``{"label_smoothing": 0.1}``, ...): the loss (``loss``, or the task's)
    is then built from its ``keras.losses`` class with them."""
    from_logits: _Flag = False
    """The output layer is linear (logits, no softmax / sigmoid) and the loss takes
    ``from_logits=True``; thresholded metrics are adjusted to logits, and the views apply
    softmax / sigmoid to its outputs. Not for ``regression``."""


@dataclass
class FineTuneSpec(_Spec):
    """Two-phase fine-tuning: ``head_epochs`` with the base frozen, then ``epochs``
    with the base unfrozen from ``unfreeze_from`` (all of it when None) at
    ``learning_rate * lr_mult``."""

    head_epochs: _Count = 5
    """Epochs of the first phase, the base frozen."""
    epochs: _Count = 5
    """Epochs of the second phase, the base unfrozen."""
    unfreeze_from: Annotated[_Str | None, _Rule("must be a layer name or None")] = None
    """The first layer to unfreeze in the second phase; None: the whole base."""
    lr_mult: _PositiveNumber = 0.01
    """The second phase's learning rate as a multiple of ``training.learning_rate``: 0.01 turns
    Adam's 1e-3 into the 1e-5 the Keras transfer-learning guide fine-tunes with."""
    keep_bn_frozen: _Flag = False
    """BatchNorm layers stay frozen when the base is unfrozen. False, as in the Keras guide: its
    γ / β train while the base, called with ``training=False``, keeps BatchNorm in inference mode."""


@dataclass
class TrainingSpec(_Spec):
    """Optimizer and loop settings. ``base_training=False`` calls the base with
    ``training=False`` (BatchNorm in inference mode, the Keras guide's advice);
    ``restore_best`` puts back the weights of the best epoch on ``monitor``."""

    optimizer: Annotated[_Str, _LOOSE] = "adam"
    """A Keras optimizer, by name or class name (``adam``, ``SGD``, ``rmsprop``, ``AdamW``, ...)."""
    learning_rate: _PositiveNumber = 1e-3
    """The optimizer's learning rate (each phase's starting rate when ``lr_schedule`` is set)."""
    batch_size: _PositiveInt = 32
    """Examples per batch."""
    epochs: _Count = 5
    """Epochs to train (one phase)."""
    fine_tune: FineTuneSpec = field(default_factory=FineTuneSpec)
    """Two-phase fine-tuning settings."""
    base_training: _Flag = False
    """Call the base with ``training=True`` (BatchNorm statistics update); False is the usual advice."""
    restore_best: _Flag = False
    """Put back the weights of the best epoch on ``monitor`` after training."""
    monitor: Annotated[
        Annotated[str, Strict(), MinLen(1)], _Rule("must be a metric name such as 'val_loss'")
    ] = "val_loss"
    """The metric that picks the best epoch (``val_loss``, ``val_accuracy``, ...)."""
    nan_guard: _Flag = True
    """Stop training when the loss becomes NaN or infinite."""
    seed: Annotated[Annotated[int, Strict()] | None, _Rule("must be an integer or None")] = None
    """Random seed for reproducible runs; None: not seeded."""
    optimizer_args: Annotated[dict[str, Any], _Rule("must be a dict", got_type=True)] = field(
        default_factory=dict
    )
    """More arguments of the optimizer's constructor (``{"momentum": 0.9, "nesterov": true}``,
    ``weight_decay``, ``clipnorm``, ...); the rate is ``learning_rate``."""
    lr_schedule: Annotated[dict[str, Any] | None, _Rule("must be a dict or None", got_type=True)] = None
    """A ``keras.optimizers.schedules`` class that starts from a rate, ``{"class_name": "CosineDecay",
    "config": {"decay_steps": 1000}}``; each phase fills in ``initial_learning_rate`` with its rate
    (and scales ``warmup_target`` by ``fine_tune.lr_mult`` in the fine-tuning phase). Warm-up then
    cosine decay (one-cycle's shape): ``CosineDecay`` with ``warmup_steps`` and ``warmup_target``."""
    class_weight: Annotated[dict[Any, Any] | None, _Rule("must be a dict or None", got_type=True)] = None
    """Weights of the classes in the loss, by class index written as text (``{"0": 1.0, "1": 5.0}``)."""
    callbacks: Annotated[list[dict[str, Any]], _Rule("must be a list of callback dicts", deep=True)] = field(
        default_factory=list
    )
    """Keras callbacks every fit runs, ``{"class_name": "EarlyStopping", "config": {"patience": 3}}``:
    ``EarlyStopping``, ``ReduceLROnPlateau`` or ``ModelCheckpoint`` with their arguments."""
    mixed_precision: _Flag = False
    """Train with the ``mixed_float16`` policy (float16 compute, float32 variables, the output layer
    in float32, loss scaling): faster and lighter on GPUs with float16 units, slower on a CPU."""


@dataclass
class DataSpec(_Spec):
    """Where the data comes from: in-memory ``arrays`` / ``tf.data`` / ``pydataset``
    (passed to the controller), an image ``directory``
    (``image_dataset_from_directory`` arguments), or a ``demo`` dataset by name."""

    source: Annotated[str, _one_of(DATA_SOURCES)] = "arrays"
    """``arrays`` / ``tf.data`` / ``pydataset`` (passed to the controller), ``directory`` or ``demo``."""
    directory: _LooseStr = None
    """A folder with one sub-folder of images per class, for ``directory``."""
    image_size: Annotated[Annotated[tuple[_Dim, ...], MinLen(2), MaxLen(2)] | None, _LOOSE] = None
    """Images are resized to ``[height, width]`` pixels, for ``directory``."""
    validation_split: Annotated[
        Annotated[float, Strict(), AllowInfNan(False), Gt(0), Lt(1)] | None,
        _Rule("must be a number in (0, 1) or None"),
    ] = None
    """The fraction of the data held out for validation; None: no split."""
    label_mode: Annotated[str, _Rule(options=DIRECTORY_LABEL_MODES)] = "int"
    """Labels as ``int`` indices, ``categorical`` one-hot rows or ``binary``, for ``directory``."""
    seed: Annotated[Annotated[int, Strict()] | None, _LOOSE] = 0
    """Seed of the shuffle and of the validation split."""
    demo: Annotated[str | None, _Rule(options=DEMO_NAMES)] = None
    """The offline demo dataset, for ``demo``."""
    demo_kwargs: Annotated[dict[str, Any], _LOOSE] = field(default_factory=dict)
    """Keyword arguments for the demo dataset's loader."""


@dataclass
class FreezePlan(_Spec):
    """The base's trainable flags in their most compact form, reapplied by name.

    ``all_frozen``; ``all_trainable``; ``boundary`` (layers before ``boundary``
    frozen, from it on trainable); ``explicit`` (exactly the layers in
    ``trainable``). ``keep_bn_frozen``: BatchNorm layers stay frozen in bulk unfreezing.
    """

    kind: Annotated[str, _one_of(FREEZE_KINDS)] = "all_frozen"
    """``all_frozen``, ``all_trainable``, ``boundary`` or ``explicit``."""
    boundary: _LooseStr = None
    """The first trainable layer (a path in the base), for ``boundary``."""
    keep_bn_frozen: _Flag = True
    """BatchNorm layers stay frozen when layers are unfrozen in bulk."""
    trainable: Annotated[list[_LooseName], _LOOSE] = field(default_factory=list)
    """Paths of exactly the trainable layers, for ``explicit``."""


@dataclass
class TransferConfig(_Spec):
    """One experiment: base, preprocessing, head, training, mode, data, freeze plan.

    ``mode``: ``fine_tune`` trains end to end through the base; ``feature_extraction``
    runs the frozen base once, caches its features (``feature_cache``: memory, disk
    under ``cache_dir``, or ``auto`` by size) and trains the head on them.
    """

    base: BaseSpec = field(default_factory=BaseSpec)
    """Where the backbone comes from."""
    preprocessing: PreprocessingSpec = field(default_factory=PreprocessingSpec)
    """How raw pixels reach the base, and the augmentation."""
    head: HeadSpec = field(default_factory=HeadSpec)
    """The new head on top of the base."""
    training: TrainingSpec = field(default_factory=TrainingSpec)
    """Optimizer and training loop settings."""
    mode: Annotated[str, _one_of(MODES)] = "fine_tune"
    """``fine_tune`` (train through the base) or ``feature_extraction`` (cache the frozen base's features)."""
    feature_cache: Annotated[str, _one_of(FEATURE_CACHES)] = "auto"
    """Where ``feature_extraction`` mode caches features: ``memory``, ``disk`` or ``auto`` (by size)."""
    cache_dir: _LooseStr = None
    """The folder for features cached on disk (needed when ``feature_cache`` is ``disk``)."""
    data: DataSpec = field(default_factory=DataSpec)
    """Where the data comes from."""
    freeze: FreezePlan = field(default_factory=FreezePlan)
    """The base's trainable flags."""
    version: Annotated[int, _one_of((1,), "must be 1")] = 1
    """The config format's version."""

    # -- JSON ---------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> TransferConfig:
        """Build from a dict; unknown keys, missing required keys and a non-object or
        non-list where one belongs raise :class:`ConfigError`. Values of the wrong type
        are kept for :meth:`validate` to report. A top-level ``"$schema"`` is ignored."""
        if isinstance(data, dict) and "$schema" in data:
            data = {k: v for k, v in data.items() if k != "$schema"}
        try:
            config: TransferConfig = _adapter(cls).validate_python(data)
        except ValidationError as exc:
            raise ConfigError([_problem(err, cls) for err in exc.errors()]) from None
        return config

    def to_json(self, **kwargs: Any) -> str:
        kwargs.setdefault("indent", 2)
        return json.dumps(self.to_dict(), allow_nan=False, **kwargs)

    @classmethod
    def from_json(cls, text: str) -> TransferConfig:
        try:
            data = json.loads(text.removeprefix("\ufeff"))  # a byte-order mark some editors write
        except json.JSONDecodeError as exc:
            raise ConfigError([f"(json) not valid JSON: {exc}"]) from None
        if not isinstance(data, dict):
            raise ConfigError(
                [
                    f"(json) must be a JSON object ({{...}}) holding the config's sections, "
                    f"got {json.dumps(data)[:40]}"
                ]
            )
        return cls.from_dict(data)

    @classmethod
    def load(cls, source: TransferConfig | dict[str, Any] | str | os.PathLike[str]) -> TransferConfig:
        """A config from JSON text, the path of a JSON file, a dict, or a config (copied).
        A string is JSON text when it parses as JSON (a BOM allowed), else a path."""
        if isinstance(source, TransferConfig):
            return source.copy()
        if isinstance(source, dict):
            return cls.from_dict(source)
        if isinstance(source, str) and (_is_json(source) or source.lstrip("\ufeff \t\r\n").startswith("{")):
            return cls.from_json(source)
        if isinstance(source, (str, os.PathLike)):
            path = os.fspath(source)
            if not os.path.isfile(path):
                raise FileNotFoundError(
                    f"config: {path!r} is neither JSON text nor an existing file: pass a config, "
                    "a dict, JSON text or the path of a JSON file"
                )
            with open(path, encoding="utf-8-sig") as f:
                return cls.from_json(f.read())
        raise TypeError(
            f"config must be a TransferConfig, a dict, JSON text or a path, got {type(source).__name__}"
        )

    def copy(self) -> TransferConfig:
        return TransferConfig.from_dict(self.to_dict())

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """The JSON Schema (draft 2020-12) of a saved config, as in :data:`SCHEMA_FILE`."""
        schema = _adapter(cls).json_schema(schema_generator=_SchemaGenerator)
        docs = {
            part.__name__: inspect.cleandoc(part.__doc__ or "") for part in (cls, *_Spec.__subclasses__())
        }
        for name, part in schema[
            "$defs"
        ].items():  # class docstrings, whether this pydantic writes them or not
            schema["$defs"][name] = {"description": docs[name], **_without(part, "description")}
        properties = {
            "$schema": {"type": "string", "description": "The schema of this file (ignored when loading)."},
            **schema["properties"],
        }
        schema = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": SCHEMA_ID,
            "description": docs[cls.__name__],
            **_without(schema, "description", "properties"),
            "properties": properties,
        }
        text = json.dumps(schema).replace("``", "`")  # docstrings' ``code`` as Markdown's `code`
        return dict(json.loads(text))

    # -- validation -----------------------------------------------------------------

    def problems(self) -> list[Problem]:
        """Every problem in the config as :class:`Problem` (field, message), in field order; [] if none."""
        found = []
        try:
            _adapter(type(self)).validate_python(self, context={_CHECK: True})
        except ValidationError as exc:
            found = [_problem(err, type(self)) for err in exc.errors()]
        found += _Rules().run(self)
        return sorted(found, key=lambda p: _position(type(self), p.field))

    def validate(self) -> list[str]:
        """Every problem in the config, each a line starting with its field; [] if none."""
        return [str(p) for p in self.problems()]

    def check(self) -> TransferConfig:
        """Raise :class:`ConfigError` listing every problem; return self if none."""
        problems = self.problems()
        if problems:
            raise ConfigError(problems)
        return self


# -- pydantic's errors as problems -------------------------------------------------------------


_ADAPTERS: dict[type, TypeAdapter[Any]] = {}


def _adapter(cls: type) -> TypeAdapter[Any]:
    """pydantic's validator and schema for a config class, built on first use (~0.1 s)."""
    if cls not in _ADAPTERS:
        _ADAPTERS[cls] = TypeAdapter(cls)
    return _ADAPTERS[cls]


def _without(d: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k not in keys}


class _SchemaGenerator(GenerateJsonSchema):
    def field_title_should_be_set(self, schema: Any) -> bool:
        return False  # "Batch Size" over batch_size tells an editor's user nothing new


def _path(loc: tuple[int | str, ...]) -> str:
    text = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)
    return text.lstrip(".") or "(config)"


def _problem(err: Any, root: type) -> Problem:
    loc, kind, value = tuple(err["loc"]), err["type"], err.get("input")
    where = _path(loc)
    if kind == "config":
        return Problem(where, err["msg"])
    if kind in ("missing", "missing_argument"):
        return Problem(where, "is required")
    if kind in ("unexpected_keyword_argument", "extra_forbidden"):
        cls = _spec_at(root, loc[:-1])
        known = ", ".join(sorted(f.name for f in dataclasses.fields(cls))) if cls else ""
        return Problem(where, f"is not a known field (known: {known})")
    if kind in ("list_type", "tuple_type"):
        return Problem(where, f"must be a list, got {type(value).__name__}")
    if kind in ("dict_type", "dataclass_type", "dataclass_exact_type"):
        return Problem(where, f"must be an object, got {type(value).__name__}")
    return Problem(where, f"{err['msg'][:1].lower()}{err['msg'][1:]}, got {value!r}")


@functools.cache
def _parts(cls: type) -> dict[str, type | None]:
    """Each field of a spec class, with the spec class it holds (itself or in a list), if any."""
    hints = typing.get_type_hints(cls)
    return {f.name: _spec_in(hints[f.name]) for f in dataclasses.fields(cls)}


def _spec_in(tp: Any) -> type | None:
    if isinstance(tp, type) and issubclass(tp, _Spec):
        return tp
    return next((found for arg in typing.get_args(tp) if (found := _spec_in(arg))), None)


def _spec_at(root: type, loc: Iterable[int | str]) -> type | None:
    cls: type | None = root
    for part in loc:
        if isinstance(part, str):
            cls = _parts(cls).get(part) if cls else None
    return cls


def _position(root: type, path: str) -> tuple[int, ...]:
    """Where a field comes in the config, for problems in field order."""
    key: list[int] = []
    cls: type | None = root
    for name, index in re.findall(r"(\w+)|\[(\d+)\]", path):
        if index:
            key.append(int(index))
            continue
        names = list(_parts(cls)) if cls else []
        key.append(names.index(name) if name in names else len(names))
        cls = _parts(cls).get(name) if cls else None
    return tuple(key)


# -- rules that depend on other fields, or on Keras ----------------------------------------------


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and abs(v) < float("inf")


def optimizer_class(name: object) -> type | None:
    """The ``keras.optimizers`` class a name (``adam``, ``SGD``) means, or None."""
    import keras

    if not isinstance(name, str) or not name:
        return None
    try:
        return type(keras.optimizers.get(name))
    except (ValueError, TypeError):
        return None


#: The loss each task compiles with (sparse labels), to check ``head.loss_args`` against.
_TASK_LOSSES = {
    "multiclass": "sparse_categorical_crossentropy",
    "binary": "binary_crossentropy",
    "multilabel": "binary_crossentropy",
    "regression": "mse",
}


def logit_metric(name: object, task: str) -> str | dict[str, Any] | None:
    """What metric ``name`` becomes on a ``task`` head that outputs logits (:data:`LOGIT_METRICS`):
    the name itself, ``{"class_name", "config"}`` of a metric set to read logits, or None
    when it needs probabilities."""
    group = "multiclass" if task == "multiclass" else "sigmoid"
    found = LOGIT_METRICS[group].get(name) if isinstance(name, str) else None
    return dict(found, config=dict(found["config"])) if isinstance(found, dict) else found


def loss_class(name: object) -> type | None:
    """The ``keras.losses`` class a loss name means (``SparseCategoricalCrossentropy``, or a
    function name such as ``sparse_categorical_crossentropy`` / ``mse``), or None."""
    import keras

    if not isinstance(name, str) or not name:
        return None
    found = getattr(keras.losses, name, None)
    if isinstance(found, type) and issubclass(found, keras.losses.Loss):
        return found
    try:
        loss = keras.losses.get(name)
    except (ValueError, TypeError):
        return None
    if isinstance(loss, keras.losses.Loss):
        return type(loss)
    camel = "".join(part.capitalize() for part in getattr(loss, "__name__", "").split("_"))
    found = getattr(keras.losses, camel, None)
    return found if isinstance(found, type) and issubclass(found, keras.losses.Loss) else None


def _construct(cls: Any, kwargs: dict[str, Any]) -> str:
    """Why ``cls(**kwargs)`` fails ("" when it does not), naming the arguments it takes."""
    try:
        cls(**kwargs)
    except (TypeError, ValueError) as exc:
        takes = [p for p in inspect.signature(cls).parameters if p not in ("self", "kwargs", "name")]
        return f"{exc} (it takes {', '.join(takes)})"
    return ""


def _items(seq: object, cls: type) -> Iterator[tuple[int, Any]]:
    """The items of a list that are ``cls`` instances, with their index (problems() reports the rest)."""
    if isinstance(seq, (list, tuple)):
        yield from ((i, item) for i, item in enumerate(seq) if isinstance(item, cls))


class _Rules:
    """The rules the annotations cannot carry: a field that matters only for some
    ``source`` / ``mode`` / ``type``, and names that must resolve in Keras. A field
    may hold anything (hence ``Any``); a part that is not of its class is skipped
    (problems() reports it)."""

    def __init__(self) -> None:
        self.found: list[Problem] = []

    def add(self, field_name: str, message: str) -> None:
        self.found.append(Problem(field_name, message))

    def one_of(self, name: str, value: object, options: tuple[Any, ...]) -> None:
        if value not in options:
            self.add(name, f"must be one of {', '.join(map(repr, options))}, got {value!r}")

    def run(self, c: TransferConfig) -> list[Problem]:
        parts: tuple[tuple[Any, type, Callable[[Any], None]], ...] = (
            (c.base, BaseSpec, self.base),
            (c.preprocessing, PreprocessingSpec, self.preprocessing),
            (c.head, HeadSpec, self.head),
            (c.training, TrainingSpec, self.training),
            (c.data, DataSpec, self.data),
            (c.freeze, FreezePlan, self.freeze),
        )
        for part, cls, rule in parts:
            if isinstance(part, cls):
                rule(part)
        if c.feature_cache == "disk" and not c.cache_dir:
            self.add("cache_dir", "must name a directory when feature_cache is 'disk'")
        if c.mode == "feature_extraction" and getattr(c.preprocessing, "augmentation", None):
            self.add(
                "preprocessing.augmentation",
                "cannot apply to cached features in feature_extraction mode (the base runs once, before "
                "training); remove the augmentation or use mode='fine_tune'",
            )
        if c.mode == "feature_extraction" and getattr(c.training, "base_training", False):
            self.add(
                "training.base_training", "must be False in feature_extraction mode (the base is frozen)"
            )
        return self.found

    def base(self, b: Any) -> None:
        if b.source == "application":
            import keras

            if not isinstance(b.name, str) or not callable(getattr(keras.applications, b.name or "", None)):
                import difflib

                known = [n for n in dir(keras.applications) if n[:1].isupper()]
                close = difflib.get_close_matches(str(b.name), known, n=3)
                hint = f" (closest: {', '.join(close)})" if close else ""
                self.add("base.name", f"must name a keras.applications model, got {b.name!r}{hint}")
            if b.weights is not None and not isinstance(b.weights, str):
                self.add(
                    "base.weights", f"must be 'imagenet', None or a weights file path, got {b.weights!r}"
                )
        if b.source == "file" and not (isinstance(b.path, str) and b.path):
            self.add("base.path", "must be the path of a .keras or .h5 file when base.source is 'file'")

    def preprocessing(self, p: Any) -> None:
        if p.mode == "preprocess_input" and p.family not in PREPROCESS_FAMILIES:
            self.add(
                "preprocessing.family",
                f"must be one of {', '.join(sorted(PREPROCESS_FAMILIES))}, got {p.family!r}",
            )
        if p.mode == "rescale":
            if not _is_number(p.scale) or p.scale == 0:
                self.add("preprocessing.scale", f"must be a non-zero number, got {p.scale!r}")
            if not _is_number(p.offset):
                self.add("preprocessing.offset", f"must be a number, got {p.offset!r}")
        for i, a in _items(p.augmentation, AugmentationSpec):
            where = f"preprocessing.augmentation[{i}]"
            if a.type == "random_flip":
                if a.mode is not None and a.mode not in FLIP_MODES:
                    self.add(
                        f"{where}.mode",
                        f"must be 'horizontal', 'vertical' or 'horizontal_and_vertical', got {a.mode!r}",
                    )
            elif a.type in AUGMENTATIONS and (not _is_number(a.factor) or not 0 < a.factor <= 1):
                self.add(f"{where}.factor", f"must be a number in (0, 1], got {a.factor!r}")

    def head(self, h: Any) -> None:
        import keras

        for i, layer in _items(h.layers, HeadLayerSpec):
            where = f"head.layers[{i}]"
            if layer.type == "dense":
                if not _is_int(layer.units) or layer.units < 1:
                    self.add(f"{where}.units", f"must be a positive integer, got {layer.units!r}")
                if layer.activation is not None:
                    try:
                        keras.activations.get(layer.activation)
                    except (ValueError, TypeError):
                        self.add(
                            f"{where}.activation",
                            "must be a Keras activation name (relu, gelu, swish, tanh, ...), "
                            f"got {layer.activation!r}",
                        )
            for penalty in ("kernel_l1", "kernel_l2"):
                factor = getattr(layer, penalty)
                if factor is None:
                    continue
                if layer.type != "dense":
                    self.add(f"{where}.{penalty}", f"applies to dense layers only, not {layer.type!r}")
                elif not _is_number(factor) or factor < 0:
                    self.add(f"{where}.{penalty}", f"must be a non-negative number or None, got {factor!r}")
            if layer.type == "dropout" and (not _is_number(layer.rate) or not 0 <= layer.rate < 1):
                self.add(f"{where}.rate", f"must be a number in [0, 1), got {layer.rate!r}")
        n = h.num_classes
        if h.task in ("multiclass", "multilabel"):
            if n is not None and (not _is_int(n) or n < 2):
                self.add("head.num_classes", f"must be an integer >= 2 for a {h.task} task, got {n!r}")
        elif h.task in TASKS:
            if n is not None and (not _is_int(n) or n < 1):
                self.add("head.num_classes", f"must be a positive integer, got {n!r}")
            if h.task == "binary" and n not in (None, 1, 2):
                self.add("head.num_classes", f"must be 1 or 2 (or None) for a binary task, got {n!r}")
        if h.loss is not None:
            try:
                keras.losses.get(h.loss)
            except (ValueError, TypeError):
                self.add("head.loss", f"must be a Keras loss name, got {h.loss!r}")
        if h.from_logits is True:
            self.logits(h)
        if isinstance(h.loss_args, dict) and h.loss_args:
            name = h.loss if h.loss is not None else _TASK_LOSSES.get(h.task)
            cls = loss_class(name)
            if cls is None:
                self.add(
                    "head.loss",
                    f"must name a keras.losses class (or a loss function with one) to take head.loss_args, "
                    f"got {name!r}",
                )
            else:
                problem = _construct(cls, h.loss_args)
                if problem:
                    self.add("head.loss_args", f"are not arguments {cls.__name__} takes: {problem}")
        if isinstance(h.metrics, list):
            for i, m in enumerate(h.metrics):
                if m in ("accuracy", "acc"):
                    continue
                try:
                    keras.metrics.get(m)
                except (ValueError, TypeError):
                    self.add(f"head.metrics[{i}]", f"must be a Keras metric name, got {m!r}")
        if h.class_names is not None:
            self.class_names(h)

    def logits(self, h: Any) -> None:
        """A head that outputs logits: a classifier, a loss that takes them, metrics that read them."""
        if h.task == "regression":
            self.add("head.from_logits", "must be False for a regression task (its output is linear already)")
            return
        name = h.loss if h.loss is not None else _TASK_LOSSES.get(h.task)
        cls = loss_class(name)
        if cls is not None and "from_logits" not in inspect.signature(cls).parameters:
            self.add(
                "head.loss",
                f"must take from_logits when head.from_logits is True (a cross-entropy), got {name!r}",
            )
        if isinstance(h.loss_args, dict) and h.loss_args.get("from_logits", True) is not True:
            self.add(
                "head.loss_args",
                "must not set from_logits=False when head.from_logits is True: head.from_logits sets it",
            )
        if isinstance(h.metrics, list):
            group = "multiclass" if h.task == "multiclass" else "sigmoid"
            for i, m in enumerate(h.metrics):
                if isinstance(m, str) and logit_metric(m, h.task) is None:
                    self.add(
                        f"head.metrics[{i}]",
                        f"needs probabilities, which a head with head.from_logits does not output: use one "
                        f"of {', '.join(map(repr, LOGIT_METRICS[group]))}, got {m!r}",
                    )

    def class_names(self, h: Any) -> None:
        names = h.class_names
        if not isinstance(names, list) or not all(isinstance(n, str) and n.strip() for n in names):
            self.add("head.class_names", f"must be a list of non-empty names, got {names!r}")
            return
        if len(set(names)) != len(names):
            dupes = sorted({n for n in names if names.count(n) > 1})
            self.add("head.class_names", f"must be unique, got {', '.join(map(repr, dupes))} more than once")
        expected = None
        if h.task == "binary":
            expected = 2
        elif h.task in TASKS and _is_int(h.num_classes):
            expected = h.num_classes
        elif h.task == "regression" and h.num_classes is None:
            expected = 1
        if expected is not None and len(names) != expected:
            word = "name" if expected == 1 else "names"
            self.add("head.class_names", f"must have {expected} {word} (one per output), got {len(names)}")

    def training(self, t: Any) -> None:
        if isinstance(t.optimizer, str) and optimizer_class(t.optimizer) is not None:
            self.optimizer_args(t)
        elif isinstance(t.optimizer, (dict, str)):
            hint = (
                " (write its class name there, its other arguments in training.optimizer_args and "
                "its rate in training.learning_rate; FineTuneController.set('training.optimizer', ...) "
                "does that for an optimizer object or a serialised optimizer)"
                if isinstance(t.optimizer, dict)
                else ""
            )
            self.add(
                "training.optimizer",
                f"must be a Keras optimizer name (adam, sgd, rmsprop, adamw, ...), got {t.optimizer!r}{hint}",
            )
        else:
            self.add(
                "training.optimizer",
                f"must be a Keras optimizer name, got a {type(t.optimizer).__name__}: pass the object to "
                "FineTuneController.set('training.optimizer', optimizer), which records its class and "
                "arguments, or write its class name here and its arguments in training.optimizer_args",
            )
        if isinstance(t.lr_schedule, dict):
            self.lr_schedule(t.lr_schedule)
        if isinstance(t.class_weight, dict):
            for key, weight in t.class_weight.items():
                if not (isinstance(key, str) and key.isdigit()):
                    self.add(
                        "training.class_weight",
                        f"keys must be class indices written as text ('0', '1', ...), got {key!r}",
                    )
                if not _is_number(weight) or weight < 0:
                    self.add(
                        f"training.class_weight[{key!r}]", f"must be a non-negative number, got {weight!r}"
                    )
        if isinstance(t.callbacks, list):
            for i, spec in enumerate(t.callbacks):
                self.callback(f"training.callbacks[{i}]", spec)

    def optimizer_args(self, t: Any) -> None:
        if not isinstance(t.optimizer_args, dict):
            return
        if "learning_rate" in t.optimizer_args:
            self.add(
                "training.optimizer_args",
                "must not hold learning_rate: set training.learning_rate (and training.lr_schedule for a "
                f"schedule), got learning_rate={t.optimizer_args['learning_rate']!r}",
            )
            return
        cls = optimizer_class(t.optimizer)
        problem = _construct(cls, {"learning_rate": 1e-3, **t.optimizer_args})
        if problem and cls is not None:
            self.add("training.optimizer_args", f"are not arguments {cls.__name__} takes: {problem}")

    def lr_schedule(self, spec: dict[str, Any]) -> None:
        import keras

        where = "training.lr_schedule"
        name, args = spec.get("class_name"), spec.get("config", {})
        cls = getattr(keras.optimizers.schedules, name, None) if isinstance(name, str) else None
        starts = cls is not None and "initial_learning_rate" in inspect.signature(cls).parameters
        if set(spec) - {"class_name", "config"} or not isinstance(args, dict):
            self.add(where, 'must be {"class_name": <schedule class>, "config": {<arguments>}}')
        elif not starts:
            self.add(
                f"{where}.class_name",
                f"must name a keras.optimizers.schedules class that starts from initial_learning_rate "
                f"({', '.join(SCHEDULES)}), got {name!r}",
            )
        elif "initial_learning_rate" in args:
            self.add(
                f"{where}.config",
                "must not hold initial_learning_rate: each phase starts the schedule at its learning rate "
                "(training.learning_rate, times fine_tune.lr_mult in the fine-tuning phase)",
            )
        else:
            problem = _construct(cls, {"initial_learning_rate": 1e-3, **args})
            if problem:
                self.add(f"{where}.config", f"are not arguments {name} takes: {problem}")

    def callback(self, where: str, spec: Any) -> None:
        import keras

        if not isinstance(spec, dict) or set(spec) - {"class_name", "config"}:
            self.add(where, 'must be {"class_name": <callback class>, "config": {<arguments>}}')
            return
        name, args = spec.get("class_name"), spec.get("config", {})
        if name not in CALLBACKS:
            self.add(f"{where}.class_name", f"must be one of {', '.join(map(repr, CALLBACKS))}, got {name!r}")
        elif not isinstance(args, dict):
            self.add(f"{where}.config", f"must be a dict, got {type(args).__name__}")
        else:
            problem = _construct(getattr(keras.callbacks, name), args)
            if problem:
                self.add(f"{where}.config", f"are not arguments {name} takes: {problem}")

    def data(self, d: Any) -> None:
        if d.source == "directory":
            if not d.directory:
                self.add(
                    "data.directory",
                    "must name a folder of class sub-folders when data.source is 'directory'",
                )
            size = d.image_size
            if (
                not isinstance(size, (list, tuple))
                or len(size) != 2
                or not all(_is_int(s) and s > 0 for s in size)
            ):
                self.add("data.image_size", f"must be (height, width) in pixels, got {size!r}")
            self.one_of("data.label_mode", d.label_mode, DIRECTORY_LABEL_MODES)
        if d.source == "demo":
            self.one_of("data.demo", d.demo, DEMO_NAMES)

    def freeze(self, f: Any) -> None:
        if f.kind == "boundary" and not (isinstance(f.boundary, str) and f.boundary):
            self.add("freeze.boundary", "must name the first trainable layer when freeze.kind is 'boundary'")
        if f.kind == "explicit" and not (
            isinstance(f.trainable, (list, tuple)) and all(isinstance(p, str) for p in f.trainable)
        ):
            self.add("freeze.trainable", "must be a list of layer paths")
