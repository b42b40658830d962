"""HeadDraft: the head designer's form as a plain Python object, tested without a front end.

A draft holds what the form shows, invalid values included: the head layers and the
augmentation layers (rows with an ``id`` each, so a view can name one), the task,
the class count and names, and the compile settings. Every edit is a method and is
all or nothing: an edit that is refused raises and changes nothing.

:meth:`HeadDraft.problems` checks the draft with the config's own validation (the
fields the draft owns, see :data:`OWN_FIELDS`), the draft's own rule (a multiclass or
multilabel head needs its class count) and :func:`~transfer_widgets.model.head.check_head_fits`
against the base's output shape, which the caller passes in (the draft never sees the
base). Each problem is a :class:`~transfer_widgets.config.Problem` naming its field.
Once there are none, :meth:`HeadDraft.to_config` is the experiment with this head and
:meth:`HeadDraft.preview` gives each head layer's output shape and parameters.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Final, Literal, TypedDict

from ..config import (
    AUGMENTATIONS,
    HEAD_LAYER_TYPES,
    AugmentationSpec,
    ConfigError,
    HeadLayerSpec,
    HeadSpec,
    Problem,
    TransferConfig,
)
from .head import (
    HEAD_PRESETS,
    TASK_ACTIVATIONS,
    TASK_METRICS,
    PreviewRow,
    check_head_fits,
    head_preview,
    task_loss,
)
from .head import task_units as _task_units

Section = Literal["layers", "augmentation"]

#: Activations the form offers for a dense layer (any Keras activation name is accepted).
ACTIVATIONS: Final[tuple[str, ...]] = ("relu", "gelu", "swish", "elu", "selu", "tanh", "sigmoid", "linear")
#: Optimizers the form offers (any Keras optimizer name is accepted).
OPTIMIZERS: Final[tuple[str, ...]] = ("adam", "adamw", "sgd", "rmsprop", "nadam", "adagrad")
#: Losses the form offers (any Keras loss name is accepted).
LOSSES: Final[tuple[str, ...]] = (
    "sparse_categorical_crossentropy",
    "categorical_crossentropy",
    "binary_crossentropy",
    "mse",
    "mae",
    "huber",
)
#: The fields a head layer of each type has (types not listed have none).
LAYER_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    "dense": ("units", "activation", "kernel_l1", "kernel_l2"),
    "dropout": ("rate",),
}
#: The fields an augmentation layer of each type has.
AUGMENTATION_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    "random_flip": ("mode",),
    "random_rotation": ("factor",),
    "random_zoom": ("factor",),
    "random_contrast": ("factor",),
}
#: What a head layer added from the palette starts with.
LAYER_DEFAULTS: Final[dict[str, dict[str, Any]]] = {
    "dense": {"units": 128, "activation": "relu"},
    "dropout": {"rate": 0.2},
}
#: What an augmentation layer added from the palette starts with.
AUGMENTATION_DEFAULTS: Final[dict[str, dict[str, Any]]] = {
    "random_flip": {"mode": "horizontal"},
    "random_rotation": {"factor": 0.1},
    "random_zoom": {"factor": 0.1},
    "random_contrast": {"factor": 0.1},
}
#: The compile settings the form edits (``optimizer`` / ``learning_rate`` are ``training.*``,
#: ``loss`` / ``metrics`` are ``head.*`` in the config; None for the last two: from the task).
COMPILE_FIELDS: Final[tuple[str, ...]] = ("optimizer", "learning_rate", "loss", "metrics")
#: The head settings the form edits besides its layers.
HEAD_FIELDS: Final[tuple[str, ...]] = ("task", "num_classes", "class_names")
#: The config fields a draft owns (with everything under them): problems elsewhere are not its to show.
OWN_FIELDS: Final[tuple[str, ...]] = (
    "head",
    "preprocessing.augmentation",
    "training.optimizer",
    "training.optimizer_args",  # checked against the optimizer the form picks
    "training.learning_rate",
)


def owns(field_path: str) -> bool:
    """Whether a problem at ``field_path`` (``head.layers[1].units``) is about what a draft edits."""
    return any(field_path == own or field_path.startswith((f"{own}.", f"{own}[")) for own in OWN_FIELDS)


@dataclass(frozen=True)
class _SectionInfo:
    noun: str
    types: tuple[str, ...]
    fields: dict[str, tuple[str, ...]]
    defaults: dict[str, dict[str, Any]]


_SECTIONS: Final[dict[str, _SectionInfo]] = {
    "layers": _SectionInfo("head layer", HEAD_LAYER_TYPES, LAYER_FIELDS, LAYER_DEFAULTS),
    "augmentation": _SectionInfo(
        "augmentation layer", AUGMENTATIONS, AUGMENTATION_FIELDS, AUGMENTATION_DEFAULTS
    ),
}


@dataclass
class DraftRow:
    """One layer as the form shows it: a draft-wide unique ``id``, its ``type`` and the
    values of its fields (those :data:`LAYER_FIELDS` / :data:`AUGMENTATION_FIELDS` name)."""

    id: int
    type: str
    values: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, **copy.deepcopy(self.values)}


class OutputLayer(TypedDict):
    units: Any
    activation: str


class CompileDefaults(TypedDict):
    loss: str | None
    metrics: list[str]


class RecipeNotes(TypedDict):
    """The config's settings the form does not edit but shows beside the fields they change,
    as text ("" when unset): the optimizer's other arguments, the learning-rate schedule,
    the class weights and the loss's arguments."""

    optimizer_args: str
    lr_schedule: str
    class_weight: str
    loss_args: str


def _arguments(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in values.items())


@dataclass(frozen=True)
class HeadPreview:
    """The built head, layer by layer (output layer last), and its parameter totals."""

    rows: list[PreviewRow]
    total: int
    trainable: int


def _is_index(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class HeadDraft:
    """The head as a form shows it, with every edit as a method.

    ``HeadDraft(feature_shape, config)``: ``feature_shape`` is the base's output shape
    (``(None, 7, 7, 1280)``), ``config`` the experiment the draft starts from (its head,
    augmentation, optimizer and learning rate fill the form; the rest is kept as is).
    Rows are addressed by index (``remove("layers", 0)``) or found by id (:meth:`index_of`).
    """

    def __init__(self, feature_shape: Sequence[int | None], config: TransferConfig | None = None) -> None:
        self._feature_shape: tuple[int | None, ...] = tuple(feature_shape)
        self._next_id = 0
        self._last_classes: Any = None  # the class count a binary task set aside
        self._rows: dict[str, list[DraftRow]] = {"layers": [], "augmentation": []}
        self._fields: dict[str, Any] = {}
        self._config = TransferConfig()
        self._checked: list[Problem] | None = None
        self.load(config if config is not None else TransferConfig())

    # -- reading ------------------------------------------------------------------------------

    @property
    def feature_shape(self) -> tuple[int | None, ...]:
        """The base's output shape the head is checked and previewed against."""
        return self._feature_shape

    @feature_shape.setter
    def feature_shape(self, shape: Sequence[int | None]) -> None:
        self._feature_shape = tuple(shape)
        self._checked = None

    @property
    def layers(self) -> list[dict[str, Any]]:
        """The head layers as rows (``{"id", "type", **fields}``), copies."""
        return self.rows("layers")

    @property
    def augmentation(self) -> list[dict[str, Any]]:
        """The augmentation layers as rows, copies."""
        return self.rows("augmentation")

    def rows(self, section: Section) -> list[dict[str, Any]]:
        return [row.as_dict() for row in self._section_rows(section)]

    def value(self, name: str) -> Any:
        """One of :data:`HEAD_FIELDS` / :data:`COMPILE_FIELDS` as the form shows it (a copy)."""
        if name not in self._fields:
            raise ValueError(f"Unknown field {name!r}.")
        return copy.deepcopy(self._fields[name])

    def as_dict(self) -> dict[str, Any]:
        """Everything the form shows: ``layers``, ``augmentation`` and every field (copies)."""
        return {"layers": self.layers, "augmentation": self.augmentation, **copy.deepcopy(self._fields)}

    # -- to and from a config -------------------------------------------------------------------

    def load(self, config: TransferConfig) -> None:
        """Show ``config``'s head, augmentation and compile settings (new rows get new ids)."""
        self._config = config.copy()
        h, t = self._config.head, self._config.training
        self._rows = {
            "layers": [self._row("layers", spec) for spec in h.layers],
            "augmentation": [
                self._row("augmentation", spec) for spec in self._config.preprocessing.augmentation
            ],
        }
        self._fields = {
            "task": h.task,
            "num_classes": h.num_classes,
            "class_names": list(h.class_names) if h.class_names is not None else None,
            "optimizer": t.optimizer,
            "learning_rate": t.learning_rate,
            "loss": h.loss,
            "metrics": list(h.metrics) if h.metrics is not None else None,
        }
        self._checked = None

    def to_config(self) -> TransferConfig:
        """The config the draft was loaded from, with the draft's head, augmentation,
        optimizer and learning rate: invalid values included (see :meth:`problems`)."""
        trial = self._config.copy()
        f = copy.deepcopy(self._fields)
        head = trial.head
        head.layers = [HeadLayerSpec(type=r.type, **copy.deepcopy(r.values)) for r in self._rows["layers"]]
        head.task, head.num_classes, head.class_names = f["task"], f["num_classes"], f["class_names"]
        head.loss, head.metrics = f["loss"], f["metrics"]
        trial.preprocessing.augmentation = [
            AugmentationSpec(type=r.type, **copy.deepcopy(r.values)) for r in self._rows["augmentation"]
        ]
        trial.training.optimizer, trial.training.learning_rate = f["optimizer"], f["learning_rate"]
        return trial

    def head_spec(self) -> HeadSpec:
        """The draft's head as a :class:`HeadSpec` (check :meth:`problems` first)."""
        return self.to_config().head

    # -- checking and previewing ------------------------------------------------------------------

    def problems(self) -> list[Problem]:
        """What is wrong with the draft, each naming its field; [] when it can be applied."""
        if self._checked is None:
            self._checked = self._check()
        return list(self._checked)

    @property
    def valid(self) -> bool:
        return not self.problems()

    def _check(self) -> list[Problem]:
        try:
            trial = self.to_config()
        except ConfigError as err:  # a config that cannot hold the values at all
            return [p for p in err.details if owns(p.field)] or list(err.details)
        problems = [p for p in trial.problems() if owns(p.field)]
        h = trial.head
        if h.task in ("multiclass", "multilabel") and h.num_classes is None:
            # The config allows None (a controller infers the count from its data); a head built here cannot.
            problems.append(
                Problem(
                    "head.num_classes",
                    f"must be set for a {h.task} task (the output layer has one unit per class)",
                )
            )
        if not any(p.field.startswith("head.layers") for p in problems):
            problems += check_head_fits(h, self._feature_shape)
        return problems

    def preview(self) -> HeadPreview | None:
        """Each layer of the head built on the feature shape (output layer last), with
        parameter totals; None while the draft has problems."""
        if self.problems():
            return None
        rows = head_preview(self.head_spec(), self._feature_shape)
        return HeadPreview(
            rows, total=sum(r["params"] for r in rows), trainable=sum(r["trainable"] for r in rows)
        )

    def output(self) -> OutputLayer | None:
        """The output layer the task makes (units as given), or None when the task cannot say."""
        task, num_classes = self._fields["task"], self._fields["num_classes"]
        try:
            logits = self._config.head.from_logits is True and task != "regression"
            activation = "linear" if logits else TASK_ACTIVATIONS[task]
            return OutputLayer(units=_task_units(task, num_classes), activation=activation)
        except (ConfigError, KeyError, TypeError):
            return None

    def default_compile(self) -> CompileDefaults:
        """The loss and metrics the task compiles with when the draft names none."""
        task = self._fields["task"]
        try:
            return CompileDefaults(loss=task_loss(task), metrics=list(TASK_METRICS[task]))
        except (KeyError, TypeError):
            return CompileDefaults(loss=None, metrics=[])

    def recipe(self) -> RecipeNotes:
        """The recipe settings around the form's compile fields, as :class:`RecipeNotes`."""
        t, h = self._config.training, self._config.head
        schedule = t.lr_schedule if isinstance(t.lr_schedule, dict) else None
        weights = t.class_weight if isinstance(t.class_weight, dict) else {}
        shown = ""
        if schedule:
            shown = f"{schedule.get('class_name')}({_arguments(schedule.get('config') or {})})"
        return RecipeNotes(
            optimizer_args=_arguments(t.optimizer_args) if isinstance(t.optimizer_args, dict) else "",
            lr_schedule=shown,
            class_weight=", ".join(f"{k}: {v!r}" for k, v in weights.items()),
            loss_args=_arguments(h.loss_args) if isinstance(h.loss_args, dict) else "",
        )

    # -- edits ---------------------------------------------------------------------------------------

    @contextmanager
    def _edit(self) -> Iterator[None]:
        """All or nothing: an edit that raises leaves the draft as it was."""
        saved = (copy.deepcopy(self._rows), copy.deepcopy(self._fields), self._next_id, self._last_classes)
        try:
            yield
        except BaseException:
            self._rows, self._fields, self._next_id, self._last_classes = saved
            raise
        finally:
            self._checked = None

    def add(self, section: Section, type: str, index: int | None = None, **fields: Any) -> int:
        """Insert a layer of ``type`` at ``index`` (the end by default) with its defaults and
        ``fields``; returns its id."""
        info, rows = self._info(section), self._section_rows(section)
        if type not in info.types:
            raise ValueError(f"Unknown {info.noun} type {type!r}; known: {', '.join(info.types)}")
        at = len(rows) if index is None else index
        if not _is_index(at) or not 0 <= at <= len(rows):
            raise IndexError(f"Cannot insert at index {at!r} (0 to {len(rows)}).")
        with self._edit():
            row = DraftRow(self._new_id(), type, copy.deepcopy(info.defaults.get(type, {})))
            rows.insert(at, row)
            self._set_values(section, at, fields)
        return row.id

    def remove(self, section: Section, index: int) -> None:
        at = self._index(section, index)
        with self._edit():
            self._section_rows(section).pop(at)

    def move(self, section: Section, index: int, to: int) -> None:
        """Move the row at ``index`` so that it ends up at ``to``."""
        rows = self._section_rows(section)
        at = self._index(section, index)
        if not _is_index(to) or not 0 <= to < len(rows):
            raise IndexError(f"Cannot move to index {to!r} (0 to {len(rows) - 1}).")
        with self._edit():
            rows.insert(to, rows.pop(at))

    def set_fields(self, section: Section, index: int, **fields: Any) -> None:
        """Change fields of one row (``units=64``, ``rate=0.3``, ``factor=0.2``...)."""
        with self._edit():
            self._set_values(section, index, fields)

    def index_of(self, section: Section, row_id: Any) -> int:
        """The index of the row with ``row_id``."""
        for i, row in enumerate(self._section_rows(section)):
            if row.id == row_id:
                return i
        raise ValueError(f"No {self._info(section).noun} with id {row_id!r}")

    def add_layer(self, type: str, index: int | None = None, **fields: Any) -> int:
        return self.add("layers", type, index, **fields)

    def remove_layer(self, index: int) -> None:
        self.remove("layers", index)

    def move_layer(self, index: int, to: int) -> None:
        self.move("layers", index, to)

    def set_layer(self, index: int, **fields: Any) -> None:
        self.set_fields("layers", index, **fields)

    def add_augmentation(self, type: str, index: int | None = None, **fields: Any) -> int:
        return self.add("augmentation", type, index, **fields)

    def remove_augmentation(self, index: int) -> None:
        self.remove("augmentation", index)

    def move_augmentation(self, index: int, to: int) -> None:
        self.move("augmentation", index, to)

    def set_augmentation(self, index: int, **fields: Any) -> None:
        self.set_fields("augmentation", index, **fields)

    def set_task(self, task: Any, num_classes: Any = ...) -> None:
        """Set the task; without ``num_classes`` the count follows: binary has one output
        whatever the count was, and the count comes back with a task that has classes."""
        with self._edit():
            f = self._fields
            if num_classes is ...:
                if f["num_classes"] is not None and f["task"] != "binary":
                    self._last_classes = f["num_classes"]
                if task == "binary":
                    num_classes = None
                elif f["task"] == "binary" or f["num_classes"] is None:
                    num_classes = self._last_classes if task != "regression" else None
                else:
                    num_classes = f["num_classes"]
            f["task"], f["num_classes"] = task, num_classes

    def set_classes(self, num_classes: Any = ..., class_names: Any = ...) -> None:
        """Set the number of classes (or outputs) and / or the class names (None: no names)."""
        with self._edit():
            if num_classes is not ...:
                self._fields["num_classes"] = num_classes
            if class_names is not ...:
                self._fields["class_names"] = copy.deepcopy(class_names)

    def set_compile(self, **fields: Any) -> None:
        """Set ``optimizer``, ``learning_rate``, ``loss`` and / or ``metrics`` (None: from the task)."""
        unknown = sorted(set(fields) - set(COMPILE_FIELDS))
        if unknown:
            raise ValueError(
                f"Unknown compile setting(s) {', '.join(unknown)}; known: {', '.join(COMPILE_FIELDS)}"
            )
        with self._edit():
            self._fields.update(copy.deepcopy(fields))

    def set_field(self, name: str, value: Any) -> None:
        """Set one of :data:`HEAD_FIELDS` / :data:`COMPILE_FIELDS` as the form does (``task``
        as :meth:`set_task`, so the class count follows)."""
        if name == "task":
            self.set_task(value)
            return
        if name not in HEAD_FIELDS + COMPILE_FIELDS:
            raise ValueError(f"Unknown field {name!r}.")
        with self._edit():
            self._fields[name] = copy.deepcopy(value)

    def apply_preset(self, name: str) -> None:
        """Replace the head layers with a preset's (:data:`~transfer_widgets.model.head.HEAD_PRESETS`)."""
        if name not in HEAD_PRESETS:
            raise ValueError(f"Unknown preset {name!r}; known: {', '.join(HEAD_PRESETS)}")
        with self._edit():
            self._rows["layers"] = [
                self._row("layers", spec) for spec in HEAD_PRESETS[name].layers_for(self._feature_shape)
            ]

    # -- helpers ---------------------------------------------------------------------------------------

    @staticmethod
    def _info(section: str) -> _SectionInfo:
        if section not in _SECTIONS:
            raise ValueError(f"Unknown section {section!r}; known: {', '.join(_SECTIONS)}")
        return _SECTIONS[section]

    def _section_rows(self, section: str) -> list[DraftRow]:
        self._info(section)
        return self._rows[section]

    def _index(self, section: str, index: Any) -> int:
        rows = self._section_rows(section)
        if not _is_index(index) or not -len(rows) <= index < len(rows):
            raise IndexError(f"No {self._info(section).noun} at index {index!r} (there are {len(rows)}).")
        return int(index) % len(rows)

    def _set_values(self, section: str, index: Any, fields: dict[str, Any]) -> None:
        row = self._section_rows(section)[self._index(section, index)]
        allowed = self._info(section).fields.get(row.type, ())
        for name, value in fields.items():
            if name not in allowed:
                have = f"fields: {', '.join(allowed)}" if allowed else "no fields"
                raise ValueError(f"A {row.type} layer has no field {name!r} ({have}).")
            row.values[name] = copy.deepcopy(value)

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _row(self, section: str, spec: HeadLayerSpec | AugmentationSpec) -> DraftRow:
        names = self._info(section).fields.get(spec.type, ())
        return DraftRow(
            self._new_id(), spec.type, {name: copy.deepcopy(getattr(spec, name)) for name in names}
        )
