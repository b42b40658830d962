"""HeadDesigner: the new head on top of a backbone, edited as an ordered list of layers.

A thin view over :mod:`transfer_widgets.config` and :mod:`transfer_widgets.model.head`.
The widget keeps a *draft* (what the form shows, invalid values included) and
checks it with the config's own validation plus :func:`check_head_fits`. When the
draft is valid it becomes the head: with a controller, the controller's config and
model (:meth:`FineTuneController.apply_head`); on its own, :attr:`head_spec`.

Everything the view shows travels in one ``state`` trait; the front end sends
intents (add, remove, move, set a field, pick a preset) as custom messages and
gets ``{"type": "error", "message": ...}`` back when one is refused.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import re
import traceback
from typing import Any

import traitlets

from ..config import (
    AUGMENTATIONS,
    HEAD_LAYER_TYPES,
    TASKS,
    AugmentationSpec,
    ConfigError,
    HeadLayerSpec,
    HeadSpec,
    TransferConfig,
)
from ..model import freeze
from ..model.assemble import base_input_shape
from ..model.head import build_head, check_head_fits, default_loss, default_metrics, output_activation, output_units
from ..model.inspect import format_shape
from ..training.events import ACTIVE, last_state
from ._bundle import BundledWidget, is_controller

LAYER_FIELDS = {"dense": ("units", "activation"), "dropout": ("rate",)}
AUGMENTATION_FIELDS = {"random_flip": ("mode",), "random_rotation": ("factor",), "random_zoom": ("factor",),
                       "random_contrast": ("factor",)}
LAYER_DEFAULTS = {"dense": {"units": 128, "activation": "relu"}, "dropout": {"rate": 0.2}}
AUGMENTATION_DEFAULTS = {"random_flip": {"mode": "horizontal"}, "random_rotation": {"factor": 0.1},
                         "random_zoom": {"factor": 0.1}, "random_contrast": {"factor": 0.1}}
COMPILE_FIELDS = ("optimizer", "learning_rate", "loss", "metrics")
HEAD_FIELDS = ("task", "num_classes", "class_names")
ACTIVATIONS = ("relu", "gelu", "swish", "elu", "selu", "tanh", "sigmoid", "linear")
OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop", "nadam", "adagrad")
LOSSES = ("sparse_categorical_crossentropy", "categorical_crossentropy", "binary_crossentropy",
          "mse", "mae", "huber")
PRESETS = {
    "keras_guide": ("Keras guide", "global average pooling, dropout 0.2, output"),
    "teachable_machine": ("Teachable Machine", "global average pooling on a feature map, dense 100 relu, output"),
    "linear_probe": ("Linear probe", "global average pooling, output"),
}
#: Fields the designer owns; problems elsewhere in the config are not its to show.
_OWN = re.compile(r"^(head\.|preprocessing\.augmentation|training\.(optimizer|learning_rate)\b)")
_PROBLEM = re.compile(r"^(\S+)\s+(.*)$", re.S)


class HeadDesigner(BundledWidget):
    """Design the head on top of a backbone: layers, task, classes and compile settings.

    ``HeadDesigner(controller)`` edits the controller's config and rebuilds its
    model whenever the head is valid; ``HeadDesigner(base_model)`` works on its own
    and gives :attr:`head_spec` / :attr:`config` (``input_shape=`` for a base that takes
    any image size). Every edit is also a method here,
    so a notebook can drive the designer from Python.
    """

    _bundle = "head_designer"

    state = traitlets.Dict().tag(sync=True)
    read_only = traitlets.Bool(False).tag(sync=True)
    disabled = traitlets.Bool(False).tag(sync=True)  # True while the controller trains

    def __init__(self, source: Any, *, num_classes: int | None = None, task: str | None = None,
                 read_only: bool = False, config: TransferConfig | None = None,
                 input_shape: tuple[int, ...] | None = None, **kwargs):
        self.controller = source if is_controller(source) else None
        if self.controller is not None:
            self._base = self.controller.base_model
            self._input_shape = tuple(self.controller.input_shape)
            config = self.controller.config
        else:
            from ..model.inspect import check_model

            self._base = check_model(source)
            # A base that takes any image size needs input_shape= for the preview.
            self._input_shape = tuple(base_input_shape(self._base, input_shape))
        self._config = (config or TransferConfig()).copy()
        if task is not None:
            self._config.head.task = task
        if num_classes is not None:
            self._config.head.num_classes = num_classes
        self._feature_shape = tuple(self._base.compute_output_shape((None, *self._input_shape)))
        self._next_id = 0
        self._draft = self._draft_from(self._config)
        self._applying = False
        self._unsubscribe: list = []
        super().__init__(read_only=read_only, **kwargs)
        if self.controller is not None:
            self.disabled = self.controller.running
            self._unsubscribe.append(self.controller.on_config_change(self._config_changed))
            self._unsubscribe.append(self.controller.events.subscribe(self._events))
        self._update()
        self.on_msg(self._on_front_end_msg)
        freeze.watch(self)

    # -- public API ------------------------------------------------------------------

    @property
    def problems(self) -> list[str]:
        """What is wrong with the head as the form shows it ([] when it is applied)."""
        return list(self.state.get("problems", []))

    @property
    def valid(self) -> bool:
        return not self.state.get("problems")

    @property
    def head_spec(self) -> HeadSpec:
        """The head as last applied (the draft once it is valid)."""
        return copy.deepcopy(self._config.head)

    @property
    def config(self) -> TransferConfig:
        """The config with this head, augmentation and compile settings (the controller's, with one)."""
        return self.controller.config if self.controller is not None else self._config.copy()

    def add_layer(self, type: str, index: int | None = None, **fields) -> None:
        """Insert a head layer (``dense``, ``dropout``, ...) at ``index`` (the end by default)."""
        self._edit(self._add, "layers", type, index, fields)

    def remove_layer(self, index: int) -> None:
        self._edit(lambda: self._draft["layers"].pop(self._index("layers", index)))

    def move_layer(self, index: int, to: int) -> None:
        """Move the layer at ``index`` so that it ends up at ``to``."""
        self._edit(self._move, "layers", index, to)

    def set_layer(self, index: int, **fields) -> None:
        """Change fields of one head layer (``units=64``, ``activation="gelu"``, ``rate=0.3``)."""
        self._edit(self._set_fields, "layers", index, fields)

    def add_augmentation(self, type: str, index: int | None = None, **fields) -> None:
        """Insert an augmentation layer (runs before the base, in training only)."""
        self._edit(self._add, "augmentation", type, index, fields)

    def remove_augmentation(self, index: int) -> None:
        self._edit(lambda: self._draft["augmentation"].pop(self._index("augmentation", index)))

    def move_augmentation(self, index: int, to: int) -> None:
        self._edit(self._move, "augmentation", index, to)

    def set_augmentation(self, index: int, **fields) -> None:
        self._edit(self._set_fields, "augmentation", index, fields)

    def set_task(self, task: str, num_classes: Any = ...) -> None:
        """Set the task (multiclass, binary, multilabel, regression); the output layer follows."""
        self._edit(self._set_task, task, num_classes)

    def set_classes(self, num_classes: Any = ..., class_names: Any = ...) -> None:
        """Set the number of classes (or outputs) and / or the class names (None: no names)."""
        def change():
            if num_classes is not ...:
                self._draft["num_classes"] = num_classes
            if class_names is not ...:
                self._draft["class_names"] = class_names
        self._edit(change)

    def set_compile(self, **fields) -> None:
        """Set ``optimizer``, ``learning_rate``, ``loss`` and / or ``metrics`` (None: from the task)."""
        unknown = sorted(set(fields) - set(COMPILE_FIELDS))
        if unknown:
            raise ValueError(f"Unknown compile setting(s) {', '.join(unknown)}; known: {', '.join(COMPILE_FIELDS)}")
        self._edit(lambda: self._draft.update(fields))

    def preset(self, name: str) -> None:
        """Replace the head layers with a preset: ``keras_guide``, ``teachable_machine`` or ``linear_probe``."""
        if name not in PRESETS:
            raise ValueError(f"Unknown preset {name!r}; known: {', '.join(PRESETS)}")
        self._edit(lambda: self._draft.update(layers=[self._row(spec) for spec in self._preset_layers(name)]))

    def refresh(self) -> None:
        """Show the controller's current config (after editing ``controller.config`` by hand)."""
        if self.controller is not None:
            self._config = self.controller.config.copy()
        self._draft = self._draft_from(self._config)
        self._update()

    def close(self) -> None:
        freeze.unwatch(self)
        for unsubscribe in getattr(self, "_unsubscribe", ()):  # also after a failed __init__
            unsubscribe()
        self._unsubscribe = []
        super().close()

    def flags_changed(self, tree) -> None:
        """Freezing-API hook: the base's flags changed, so the model's trainable count did."""
        if any(node.layer is self._base for node in tree.nodes if node.kind == "model"):
            self._update()

    # -- editing ---------------------------------------------------------------------

    def _locked_reason(self) -> str | None:
        if self.read_only:
            return "This head designer is read-only; set designer.read_only = False to edit it."
        if self.disabled or (self.controller is not None and self.controller.running):
            return "The head cannot change while the model trains: stop the run or wait for it to finish."
        return None

    def _edit(self, change, *args) -> None:
        reason = self._locked_reason()
        if reason:
            raise RuntimeError(reason)
        before = copy.deepcopy(self._draft)
        try:
            change(*args)
        except Exception:
            self._draft = before
            raise
        self._update()

    def _index(self, section: str, index: Any) -> int:
        rows = self._draft[section]
        if not isinstance(index, int) or isinstance(index, bool) or not -len(rows) <= index < len(rows):
            raise IndexError(f"No {_section_name(section)} at index {index!r} (there are {len(rows)}).")
        return index % len(rows)

    def _add(self, section: str, type: str, index: int | None, fields: dict) -> None:
        known = HEAD_LAYER_TYPES if section == "layers" else AUGMENTATIONS
        if type not in known:
            raise ValueError(f"Unknown {_section_name(section)} type {type!r}; known: {', '.join(known)}")
        rows = self._draft[section]
        index = len(rows) if index is None else index
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index <= len(rows):
            raise IndexError(f"Cannot insert at index {index!r} (0 to {len(rows)}).")
        defaults = LAYER_DEFAULTS if section == "layers" else AUGMENTATION_DEFAULTS
        row = {"id": self._new_id(), "type": type, **defaults.get(type, {})}
        rows.insert(index, row)
        self._set_fields(section, index, fields)

    def _move(self, section: str, index: int, to: int) -> None:
        rows = self._draft[section]
        index = self._index(section, index)
        if not isinstance(to, int) or isinstance(to, bool) or not 0 <= to < len(rows):
            raise IndexError(f"Cannot move to index {to!r} (0 to {len(rows) - 1}).")
        rows.insert(to, rows.pop(index))

    def _set_fields(self, section: str, index: int, fields: dict) -> None:
        row = self._draft[section][self._index(section, index)]
        allowed = (LAYER_FIELDS if section == "layers" else AUGMENTATION_FIELDS).get(row["type"], ())
        for name, value in fields.items():
            if name not in allowed:
                have = f"fields: {', '.join(allowed)}" if allowed else "no fields"
                raise ValueError(f"A {row['type']} layer has no field {name!r} ({have}).")
            row[name] = value

    def _set_task(self, task: str, num_classes: Any) -> None:
        d = self._draft
        if num_classes is ...:
            # Binary has one output whatever the count was; the count comes back with another task.
            if d["num_classes"] is not None and d["task"] != "binary":
                self._last_classes = d["num_classes"]
            if task == "binary":
                num_classes = None
            elif d["task"] == "binary" or d["num_classes"] is None:
                num_classes = getattr(self, "_last_classes", None) if task != "regression" else None
            else:
                num_classes = d["num_classes"]
        d["task"], d["num_classes"] = task, num_classes

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _row(self, spec) -> dict[str, Any]:
        fields = LAYER_FIELDS if isinstance(spec, HeadLayerSpec) else AUGMENTATION_FIELDS
        return {"id": self._new_id(), "type": spec.type,
                **{name: getattr(spec, name) for name in fields.get(spec.type, ())}}

    def _preset_layers(self, name: str) -> list[HeadLayerSpec]:
        pool = [HeadLayerSpec("global_average_pooling")] if len(self._feature_shape) == 4 else []
        if name == "keras_guide":
            return [*pool, HeadLayerSpec("dropout", rate=0.2)]
        if name == "teachable_machine":
            # Teachable Machine's base ends in pooling; a 4-D feature map needs it here.
            return [*pool, HeadLayerSpec("dense", units=100, activation="relu")]
        return pool

    # -- draft <-> config ----------------------------------------------------------------

    def _draft_from(self, config: TransferConfig) -> dict[str, Any]:
        h, t = config.head, config.training
        return {
            "layers": [self._row(spec) for spec in h.layers],
            "augmentation": [self._row(spec) for spec in config.preprocessing.augmentation],
            "task": h.task,
            "num_classes": h.num_classes,
            "class_names": list(h.class_names) if h.class_names is not None else None,
            "optimizer": t.optimizer,
            "learning_rate": t.learning_rate,
            "loss": h.loss,
            "metrics": list(h.metrics) if h.metrics is not None else None,
        }

    def _trial(self) -> TransferConfig:
        d = self._draft
        trial = self._config.copy()
        trial.head = dataclasses.replace(
            trial.head,
            layers=[HeadLayerSpec(r["type"], units=r.get("units"), activation=r.get("activation"), rate=r.get("rate"))
                    for r in d["layers"]],
            task=d["task"], num_classes=d["num_classes"], class_names=copy.deepcopy(d["class_names"]),
            loss=d["loss"], metrics=copy.deepcopy(d["metrics"]),
        )
        trial.preprocessing.augmentation = [AugmentationSpec(r["type"], factor=r.get("factor"), mode=r.get("mode"))
                                            for r in d["augmentation"]]
        trial.training.optimizer, trial.training.learning_rate = d["optimizer"], d["learning_rate"]
        return trial

    def _check(self, trial: TransferConfig) -> list[str]:
        """The draft's problems, each starting with its field, as the config names them."""
        problems = [p for p in trial.validate() if _OWN.match(p)]
        h = trial.head
        if h.task in ("multiclass", "multilabel") and h.num_classes is None:
            problems.append(f"head.num_classes must be set for a {h.task} task (the output layer has one unit "
                            "per class)")
        if not any(p.startswith("head.layers") for p in problems):
            problems += check_head_fits(h, self._feature_shape)
        return problems

    # -- state -----------------------------------------------------------------------------

    def _update(self) -> None:
        trial = self._trial()
        problems = self._check(trial)
        if not problems and not (self.controller is not None and self.controller.running):
            self._apply(trial)
        self.state = self._payload(trial, problems)

    def _apply(self, trial: TransferConfig) -> None:
        if self.controller is None:
            self._config = trial
            return
        current = self.controller.config
        self._applying = True
        try:
            if (trial.head != current.head
                    or trial.preprocessing.augmentation != current.preprocessing.augmentation):
                self.controller.apply_head(trial.head, trial.preprocessing.augmentation)
            for name in ("optimizer", "learning_rate"):
                if getattr(trial.training, name) != getattr(self.controller.config.training, name):
                    self.controller.set(f"training.{name}", getattr(trial.training, name))
        finally:
            self._applying = False
        self._config = self.controller.config.copy()

    def _config_changed(self, config: TransferConfig) -> None:
        if self._applying:
            return
        if self.controller.base_model is not self._base:  # a loaded config brought another base
            self._base = self.controller.base_model
            self._input_shape = tuple(self.controller.input_shape)
            self._feature_shape = tuple(self._base.compute_output_shape((None, *self._input_shape)))
        self._config = config.copy()
        self._draft = self._draft_from(self._config)
        self._update()

    def _events(self, events: list[dict]) -> None:
        state = last_state(events)
        if state is not None:
            self.disabled = state in ACTIVE

    def _payload(self, trial: TransferConfig, problems: list[str]) -> dict[str, Any]:
        d = self._draft
        errors: dict[str, str] = {}
        for p in problems:
            m = _PROBLEM.match(p)
            field, message = (m.group(1), m.group(2)) if m else ("head", p)
            errors[field] = f"{errors[field]}; {message}" if field in errors else message
        preview, head_totals = self._preview(trial) if not problems else (None, None)
        base_total = int(self._base.count_params())
        base_trainable = _count(self._base.trainable_weights)
        h = trial.head
        output = None
        try:
            output = {"units": output_units(h), "activation": output_activation(h)}
        except (ConfigError, KeyError, TypeError):
            pass
        try:
            default_compile = {"loss": default_loss(dataclasses.replace(h, loss=None)),
                               "metrics": default_metrics(dataclasses.replace(h, metrics=None))}
        except KeyError:
            default_compile = {"loss": None, "metrics": []}
        model = None
        if head_totals is not None:
            model = {"total": base_total + head_totals["total"],
                     "trainable": base_trainable + head_totals["trainable"]}
        return {
            "base": {"name": self._base.name, "input_shape": format_shape((None, *self._input_shape)),
                     "output_shape": format_shape(self._feature_shape), "params": base_total,
                     "trainable": base_trainable},
            "layers": copy.deepcopy(d["layers"]),
            "augmentation": copy.deepcopy(d["augmentation"]),
            "task": d["task"], "num_classes": d["num_classes"], "class_names": copy.deepcopy(d["class_names"]),
            "optimizer": d["optimizer"], "learning_rate": d["learning_rate"], "loss": d["loss"],
            "metrics": copy.deepcopy(d["metrics"]),
            "defaults": default_compile,
            "output": output,
            "preview": preview,
            "head_totals": head_totals,
            "model_totals": model,
            "errors": errors,
            "problems": problems,
            "applied": not problems,
            "controller": self.controller is not None,
            "options": {"layers": list(HEAD_LAYER_TYPES), "augmentation": list(AUGMENTATIONS), "tasks": list(TASKS),
                        "activations": list(ACTIVATIONS), "optimizers": list(OPTIMIZERS), "losses": list(LOSSES),
                        "presets": [{"name": k, "label": v[0], "description": v[1]} for k, v in PRESETS.items()]},
        }

    def _preview(self, trial: TransferConfig) -> tuple[list[dict[str, Any]], dict[str, int]]:
        head = build_head(trial.head, self._feature_shape)
        rows = []
        for layer in head.layers:
            rows.append({"name": layer.name, "shape": format_shape(tuple(layer.output.shape)),
                         "params": _count(layer.weights), "trainable": _count(layer.trainable_weights)})
        totals = {"total": sum(r["params"] for r in rows), "trainable": sum(r["trainable"] for r in rows)}
        return rows, totals

    # -- messages from the front end ---------------------------------------------------

    def _on_front_end_msg(self, _widget, msg: dict[str, Any], _buffers) -> None:
        try:
            self._handle(msg)
        except Exception as exc:  # shown in the widget, never raised into the comm
            message = str(exc) or type(exc).__name__
            if isinstance(exc, KeyError):
                message = f"Missing or unknown {message} in the message from the view."
            self.send({"type": "error", "message": message, "traceback": traceback.format_exc()})

    def _handle(self, msg: dict[str, Any]) -> None:
        kind = msg.get("type")
        if kind == "hello":
            self.send({"type": "ok"})
            return
        section = "augmentation" if msg.get("section") == "augmentation" else "layers"
        if kind == "add":
            self._edit(self._add, section, msg["layer"], msg.get("index"), {})
        elif kind == "remove":
            index = self._by_id(section, msg["id"])
            self._edit(lambda: self._draft[section].pop(index))
        elif kind == "move":
            self._edit(self._move, section, self._by_id(section, msg["id"]), msg["to"])
        elif kind == "set":
            self._edit(self._set_fields, section, self._by_id(section, msg["id"]), {msg["field"]: msg["value"]})
        elif kind == "field" and msg.get("field") == "task":
            self._edit(self._set_task, msg["value"], ...)
        elif kind == "field":
            name = msg["field"]
            if name not in HEAD_FIELDS + COMPILE_FIELDS:
                raise ValueError(f"Unknown field {name!r}.")
            self._edit(lambda: self._draft.__setitem__(name, msg["value"]))
        elif kind == "preset":
            self.preset(msg["name"])
        else:
            raise ValueError(f"Unknown head designer message type {kind!r}.")
        self.send({"type": "ok"})

    def _by_id(self, section: str, row_id: Any) -> int:
        for i, row in enumerate(self._draft[section]):
            if row["id"] == row_id:
                return i
        raise ValueError(f"No {_section_name(section)} with id {row_id!r}: this view is out of date; re-run the cell.")


def _section_name(section: str) -> str:
    return "head layer" if section == "layers" else "augmentation layer"


def _count(weights) -> int:
    return int(sum(math.prod(w.shape) for w in weights))
