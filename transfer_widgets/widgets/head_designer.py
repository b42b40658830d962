"""HeadDesigner: the new head on top of a backbone, edited as an ordered list of layers.

A view over a :class:`~transfer_widgets.model.head_draft.HeadDraft`, which holds what
the form shows (invalid values included), makes every edit and names every problem.
When the draft is valid it becomes the head: with a controller, the controller's config
and model (:meth:`FineTuneController.apply_head`); on its own, :attr:`HeadDesigner.head_spec`.

Everything the view shows travels in one ``state`` trait; the front end sends
intents (add, remove, move, set a field, pick a preset) as custom messages and
gets ``{"type": "error", "message": ...}`` back when one is refused.
"""

from __future__ import annotations

import copy
import traceback
from collections.abc import Callable
from typing import Any

import keras
import traitlets

from ..config import AUGMENTATIONS, HEAD_LAYER_TYPES, TASKS, HeadSpec, Problem, TransferConfig
from ..model.assemble import base_input_shape
from ..model.head import HEAD_PRESETS, count_weights
from ..model.head_draft import (
    ACTIVATIONS,
    AUGMENTATION_DEFAULTS,
    AUGMENTATION_FIELDS,
    COMPILE_FIELDS,
    HEAD_FIELDS,
    LAYER_DEFAULTS,
    LAYER_FIELDS,
    LOSSES,
    OPTIMIZERS,
    HeadDraft,
    Section,
)
from ..model.inspect import ModelTree, check_model, format_shape
from ..training.controller import ReadOnlyConfig
from ..training.events import ACTIVE, Event, has_event, last_state
from ._bundle import BundledWidget, Controller, is_controller
from .static_html import StaticFallback, head_html

# Re-exported: these lived here before the draft took them (scripts/generate_contract.py reads them).
PRESETS = HEAD_PRESETS
__all__ = [
    "ACTIVATIONS",
    "AUGMENTATION_DEFAULTS",
    "AUGMENTATION_FIELDS",
    "COMPILE_FIELDS",
    "HEAD_FIELDS",
    "LAYER_DEFAULTS",
    "LAYER_FIELDS",
    "LOSSES",
    "OPTIMIZERS",
    "PRESETS",
    "HeadDesigner",
]


class HeadDesigner(StaticFallback, BundledWidget):
    """Design the head on top of a backbone: layers, task, classes and compile settings.

    ``HeadDesigner(controller)`` edits the controller's config and rebuilds its
    model whenever the head is valid; ``HeadDesigner(base_model)`` works on its own
    and gives :attr:`head_spec` / :attr:`config` (``input_shape=`` for a base that takes
    any image size). Every edit is also a method here,
    so a notebook can drive the designer from Python.
    """

    _bundle = "head_designer"

    state = traitlets.Dict(
        help="Everything the form shows: the draft's rows, problems, preview, compile settings and options"
    ).tag(sync=True)
    read_only = traitlets.Bool(False, help="Show the head without letting it be edited").tag(sync=True)
    disabled = traitlets.Bool(False, help="True while the controller trains: edits are refused").tag(
        sync=True
    )

    def __init__(
        self,
        source: Any,
        *,
        num_classes: int | None = None,
        task: str | None = None,
        read_only: bool = False,
        config: TransferConfig | None = None,
        input_shape: tuple[int, ...] | None = None,
        **kwargs: Any,
    ) -> None:
        self.controller: Controller | None = source if is_controller(source) else None
        if self.controller is not None:
            self._follow_base()
            config = self.controller.config.copy()
        else:
            base = check_model(source)
            # A base that takes any image size needs input_shape= for the preview.
            shape = tuple(base_input_shape(base, input_shape))
            self._set_base(base, shape, tuple(base.compute_output_shape((None, *shape))))
        self._applied = (config or TransferConfig()).copy()  # the head as last applied
        if task is not None:
            self._applied.head.task = task
        if num_classes is not None:
            self._applied.head.num_classes = num_classes
        self._draft = HeadDraft(self._feature_shape, self._applied)
        self._applying = False
        super().__init__(read_only=read_only, **kwargs)
        if self.controller is not None:
            self.disabled = self.controller.running
        self._follow(self.controller, self._on_events, on_flags=self._flags_changed)
        self._update()
        self.on_msg(self._on_front_end_msg)

    def _set_base(
        self, base: keras.Model, input_shape: tuple[int, ...], feature_shape: tuple[int | None, ...]
    ) -> None:
        self._base, self._input_shape, self._feature_shape = base, input_shape, feature_shape

    def _follow_base(self) -> None:
        """Take the controller's base and its shapes (the controller works out what the base outputs)."""
        assert self.controller is not None
        c = self.controller
        self._set_base(c.base_model, tuple(c.input_shape), tuple(c.feature_shape))

    # -- public API ------------------------------------------------------------------

    def static_html(self) -> str:
        """The head as a list with output shapes, for pages without a widget manager."""
        return head_html(self.state)

    def static_text(self) -> str:
        names = [r["name"] for r in self.state.get("preview") or []]
        return f"HeadDesigner on {self.state['base']['name']!r}: " + (
            " → ".join(names) or "head not valid yet"
        )

    @property
    def draft(self) -> HeadDraft:
        """The form's content, edits and checks (see :class:`HeadDraft`)."""
        return self._draft

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
        return copy.deepcopy(self._applied.head)

    @property
    def config(self) -> TransferConfig | ReadOnlyConfig:
        """The config with this head, augmentation and compile settings (the controller's, with one:
        read-only while it trains)."""
        if self.controller is not None:
            return self.controller.config
        return self._applied.copy()

    def add_layer(self, type: str, index: int | None = None, **fields: Any) -> None:
        """Insert a head layer (``dense``, ``dropout``, ...) at ``index`` (the end by default)."""
        self._edit(lambda: self._draft.add_layer(type, index, **fields))

    def remove_layer(self, index: int) -> None:
        self._edit(lambda: self._draft.remove_layer(index))

    def move_layer(self, index: int, to: int) -> None:
        """Move the layer at ``index`` so that it ends up at ``to``."""
        self._edit(lambda: self._draft.move_layer(index, to))

    def set_layer(self, index: int, **fields: Any) -> None:
        """Change fields of one head layer (``units=64``, ``activation="gelu"``, ``rate=0.3``)."""
        self._edit(lambda: self._draft.set_layer(index, **fields))

    def add_augmentation(self, type: str, index: int | None = None, **fields: Any) -> None:
        """Insert an augmentation layer (runs before the base, in training only)."""
        self._edit(lambda: self._draft.add_augmentation(type, index, **fields))

    def remove_augmentation(self, index: int) -> None:
        self._edit(lambda: self._draft.remove_augmentation(index))

    def move_augmentation(self, index: int, to: int) -> None:
        self._edit(lambda: self._draft.move_augmentation(index, to))

    def set_augmentation(self, index: int, **fields: Any) -> None:
        self._edit(lambda: self._draft.set_augmentation(index, **fields))

    def set_task(self, task: str, num_classes: Any = ...) -> None:
        """Set the task (multiclass, binary, multilabel, regression); the output layer follows."""
        self._edit(lambda: self._draft.set_task(task, num_classes))

    def set_classes(self, num_classes: Any = ..., class_names: Any = ...) -> None:
        """Set the number of classes (or outputs) and / or the class names (None: no names)."""
        self._edit(lambda: self._draft.set_classes(num_classes, class_names))

    def set_compile(self, **fields: Any) -> None:
        """Set ``optimizer``, ``learning_rate``, ``loss`` and / or ``metrics`` (None: from the task)."""
        self._edit(lambda: self._draft.set_compile(**fields))

    def preset(self, name: str) -> None:
        """Replace the head layers with a preset (see ``transfer_widgets.model.head.HEAD_PRESETS``)."""
        self._edit(lambda: self._draft.apply_preset(name))

    def refresh(self) -> None:
        """Show the controller's current config (after editing ``controller.config`` by hand)."""
        if self.controller is not None:
            self._applied = self.controller.config.copy()
        self._draft.load(self._applied)
        self._update()

    # -- editing ---------------------------------------------------------------------

    def _locked_reason(self) -> str | None:
        if self.read_only:
            return "This head designer is read-only; set designer.read_only = False to edit it."
        if self.disabled or (self.controller is not None and self.controller.running):
            return "The head cannot change while the model trains: stop the run or wait for it to finish."
        return None

    def _edit(self, change: Callable[[], object]) -> None:
        reason = self._locked_reason()
        if reason:
            raise RuntimeError(reason)
        change()  # the draft changes all or nothing
        self._update()

    # -- draft -> head, state ------------------------------------------------------------

    def _update(self) -> None:
        """Apply the draft when it is valid, then show it."""
        if self._draft.valid and not (self.controller is not None and self.controller.running):
            self._apply(self._draft.to_config())
        self._show()

    def _apply(self, trial: TransferConfig) -> None:
        if self.controller is None:
            self._applied = trial
            return
        current = self.controller.config
        self._applying = True
        try:
            if (
                trial.head != current.head
                or trial.preprocessing.augmentation != current.preprocessing.augmentation
            ):
                self.controller.apply_head(trial.head, trial.preprocessing.augmentation)
            for name in ("optimizer", "learning_rate"):
                value = getattr(trial.training, name)
                if value != getattr(self.controller.config.training, name):
                    self.controller.set(f"training.{name}", value)
        finally:
            self._applying = False
        self._applied = self.controller.config.copy()

    def _on_events(self, events: list[Event]) -> None:
        """The controller's changes: a run starts or ends, its config or its flags changed."""
        state = last_state(events)
        if state is not None:
            self.disabled = state in ACTIVE
        if has_event(events, "config") and not self._applying:
            self._config_changed()
        elif has_event(events, "flags"):
            self._show()  # the model's trainable count changed

    def _flags_changed(self, tree: ModelTree) -> None:
        """Without a controller: a freezing operation on the base changed its trainable count."""
        if any(node.layer is self._base for node in tree.nodes if node.kind == "model"):
            self._show()

    def _config_changed(self) -> None:
        assert self.controller is not None
        if self.controller.base_model is not self._base:  # a loaded config brought another base
            self._follow_base()
            self._draft.feature_shape = self._feature_shape
        self.refresh()

    def _show(self) -> None:
        self.state = self._payload(self._draft.problems())

    def _payload(self, problems: list[Problem]) -> dict[str, Any]:
        d = self._draft
        errors: dict[str, str] = {}
        for p in problems:
            errors[p.field] = f"{errors[p.field]}; {p.message}" if p.field in errors else p.message
        preview = d.preview() if not problems else None
        base_total = int(self._base.count_params())
        base_trainable = count_weights(self._base.trainable_weights)
        rows = head_totals = model_totals = None
        if preview is not None:
            rows = [
                {
                    "name": r["name"],
                    "shape": format_shape(r["output_shape"]),
                    "params": r["params"],
                    "trainable": r["trainable"],
                }
                for r in preview.rows
            ]
            head_totals = {"total": preview.total, "trainable": preview.trainable}
            model_totals = {
                "total": base_total + preview.total,
                "trainable": base_trainable + preview.trainable,
            }
        return {
            "base": {
                "name": self._base.name,
                "input_shape": format_shape((None, *self._input_shape)),
                "output_shape": format_shape(self._feature_shape),
                "params": base_total,
                "trainable": base_trainable,
            },
            **d.as_dict(),
            "defaults": d.default_compile(),
            "recipe": d.recipe(),
            "output": d.output(),
            "preview": rows,
            "head_totals": head_totals,
            "model_totals": model_totals,
            "errors": errors,
            "problems": [str(p) for p in problems],
            "applied": not problems,
            "controller": self.controller is not None,
            "options": {
                "layers": list(HEAD_LAYER_TYPES),
                "augmentation": list(AUGMENTATIONS),
                "tasks": list(TASKS),
                "activations": list(ACTIVATIONS),
                "optimizers": list(OPTIMIZERS),
                "losses": list(LOSSES),
                "presets": [
                    {"name": p.name, "label": p.label, "description": p.description}
                    for p in HEAD_PRESETS.values()
                ],
            },
        }

    # -- messages from the front end ---------------------------------------------------

    def _on_front_end_msg(self, _widget: Any, msg: dict[str, Any], _buffers: Any) -> None:
        try:
            self._handle(msg)
        except Exception as exc:  # noqa: BLE001 - shown in the widget, never raised into the comm
            message = str(exc) or type(exc).__name__
            if isinstance(exc, KeyError):
                message = f"Missing or unknown {message} in the message from the view."
            self.send({"type": "error", "message": message, "traceback": traceback.format_exc()})

    def _handle(self, msg: dict[str, Any]) -> None:
        kind = msg.get("type")
        if kind == "hello":
            self.send({"type": "ok"})
            return
        d = self._draft
        section: Section = "augmentation" if msg.get("section") == "augmentation" else "layers"
        if kind == "add":
            self._edit(lambda: d.add(section, msg["layer"], msg.get("index")))
        elif kind == "remove":
            index = self._by_id(section, msg["id"])
            self._edit(lambda: d.remove(section, index))
        elif kind == "move":
            index = self._by_id(section, msg["id"])
            self._edit(lambda: d.move(section, index, msg["to"]))
        elif kind == "set":
            index = self._by_id(section, msg["id"])
            fields = {msg["field"]: msg["value"]}
            self._edit(lambda: d.set_fields(section, index, **fields))
        elif kind == "field":
            name, value = msg["field"], msg["value"]
            self._edit(lambda: d.set_field(name, value))
        elif kind == "preset":
            self.preset(msg["name"])
        else:
            raise ValueError(f"Unknown head designer message type {kind!r}.")
        self.send({"type": "ok"})

    def _by_id(self, section: Section, row_id: Any) -> int:
        try:
            return self._draft.index_of(section, row_id)
        except ValueError as exc:
            raise ValueError(f"{exc}: this view is out of date; re-run the cell.") from None
