"""FineTuneController: the kernel-side engine that runs transfer learning.

It owns the assembled model (``inputs -> preprocessing -> base(training=False) ->
head``), recompiles with a fresh optimizer whenever the set of trainable weights
changed (Keras 3.15 silently skips a layer unfrozen after compile + fit, and an
optimizer built for one set of variables cannot take another), and runs ``fit``
in a background thread so the notebook stays responsive and Stop works.

States: ``idle`` -> ``running`` <-> ``paused``; ``stopping`` after :meth:`stop`;
then ``finished`` or ``failed`` (an exception, or a NaN loss). Every way a run ends
(stop, Ctrl-C, an exception or ``BaseException`` from a callback, the controller
dropped, interpreter exit) leaves the controller reusable with the weights of a
known good point: :mod:`.run_control` is that state machine. Edits while a run is
active are refused with :class:`ControllerBusyError`.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import json
import math
import os
import tempfile
import time
import traceback
import warnings
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

import keras
import numpy as np

from ..config import (
    AugmentationSpec,
    ConfigError,
    HeadLayerSpec,
    HeadSpec,
    TransferConfig,
)
from ..data.adapters import DataInfo, DataKind, describe, fit_arguments, from_spec, kind_of
from ..data.folders import check_image_folder
from ..export import ExperimentSnapshot, export_code, export_config, export_script
from ..model import freeze as freezing
from ..model.assemble import assemble, base_input_shape, load_base, preprocessing_layers
from ..model.freeze_plan import apply_freeze_plan, freeze_plan_from_model
from ..model.head import build_head, compile_metrics, default_loss, default_metrics
from ..model.inspect import LayerNode, ModelTree, check_model
from ..run_record import PhaseRecord, RunRecord, phase_schedule
from . import recipe
from .callbacks import BestWeights, LRSweep, RunCallback
from .events import Event, EventStream, RunKind, RunState, Stage
from .features import CachedFeatures, FeatureCache, disk_batches
from .lr_finder import LRFindResult, suggest_learning_rate
from .preflight import check_data, check_loss_and_metrics
from .run_control import Lifecycle, RunControl, exit_of


class ControllerBusyError(RuntimeError):
    """An edit or a second run asked for while a run is active."""


class TrainingError(RuntimeError):
    """A run that failed (raised by ``block=True`` runs; background runs set ``state``)."""


@dataclass
class _Phase:
    name: str
    epochs: int
    learning_rate: float
    before: Callable[[], None] | None = None  # e.g. unfreeze the base; runs on the training thread
    features: bool = False  # train the head on cached features
    schedule_scale: float = 1.0  # the schedule's warm-up target scales with the phase's rate


@dataclass
class _FitJob:
    """One phase's ``fit``, prepared by the controller and run by the training thread
    without holding the controller (so a dropped controller can be collected)."""

    model: keras.Model
    kwargs: dict[str, Any]
    run: RunCallback
    best: BestWeights | None
    mixed_precision: bool = False  # fit under the mixed_float16 policy (put back after)


class _NanLoss(Exception):
    """The NaN guard ended the run (its message says where and what was restored)."""


class FineTuneController:
    """Build, compile and train a transfer-learning model without blocking the notebook.

    ``base_model``: a Keras model, a ``keras.applications`` name (``"MobileNetV2"``)
    or a ``.keras`` / ``.h5`` path; or None to take ``config.base``. ``head``: a list
    of :class:`HeadLayerSpec` (or dicts). ``train_data`` / ``validation_data``:
    ``(x, y)`` arrays, a batched ``tf.data.Dataset`` or a ``keras.utils.PyDataset``;
    None takes ``config.data`` (image folder or demo dataset). ``strategy``: a
    ``tf.distribute`` strategy the model is built and compiled under.

    An in-memory base keeps its own trainable flags; a base the controller loads
    gets ``config.freeze`` (all frozen by default).
    """

    def __init__(
        self,
        base_model: Any = None,
        *,
        num_classes: int | None = None,
        head: Any = None,
        task: str | None = None,
        train_data: Any = None,
        validation_data: Any = None,
        config: TransferConfig | None = None,
        mode: str | None = None,
        strategy: Any = None,
    ):
        # A dict, JSON text or a path is loaded as from_config() does; anything else is refused.
        self._config = TransferConfig.load(config) if config is not None else TransferConfig()
        c = self._config
        _check_strategy(strategy)
        in_memory = None
        if isinstance(base_model, str):
            if base_model.endswith((".keras", ".h5")):
                c.base.source, c.base.path = "file", base_model
            else:
                c.base.source, c.base.name = "application", base_model
        elif base_model is not None:
            try:
                in_memory = check_model(base_model)
            except TypeError as exc:
                raise TypeError(f"base_model: {exc}") from None
            c.base.source, c.base.name = "model", in_memory.name
        if head is not None:
            c.head.layers = _head_layers(head)
        if task is not None:
            c.head.task = task
        if num_classes is not None:
            c.head.num_classes = num_classes
        if mode is not None:
            c.mode = mode
        if train_data is None and c.data.source in ("directory", "demo"):
            if c.data.source == "directory":
                check_image_folder(c.data.directory, c.head.num_classes)
            train_data, spec_val = from_spec(c.data, c.training.batch_size)
            validation_data = validation_data if validation_data is not None else spec_val
        elif train_data is not None:
            c.data.source = _data_kind(train_data, "train_data")
            if c.data.validation_split is not None:
                raise ConfigError(
                    [
                        f"data.validation_split ({c.data.validation_split}) applies to an image folder or a "
                        "demo dataset: with in-memory data pass validation_data=(x_val, y_val) instead"
                    ]
                )
        if validation_data is not None:
            _data_kind(validation_data, "validation_data")
        self.train_data = train_data
        self.validation_data = validation_data
        info = describe(train_data) if train_data is not None else None
        if c.head.num_classes is None and info is not None and c.head.task in ("multiclass", "multilabel"):
            c.head.num_classes = _infer_num_classes(info, "train_data")
        if (
            c.base.input_shape is None
            and c.base.source == "application"
            and info is not None
            and info.x is not None
        ):
            c.base.input_shape = tuple(int(d) for d in info.x.shape[1:])  # applications accept any size
        c.check()

        self.strategy = strategy
        self.events = EventStream()
        #: Complete epochs only, one row per epoch: epoch (Keras's, global), run, run_epoch
        #: (0-based within the run), phase, then the logged values.
        self.history: dict[str, list] = {}
        self.phases: list[dict[str, Any]] = []
        #: One record per fit / fine_tune / lr_find call: run (1, 2, ...), kind, phases,
        #: started / ended (time.time()), reason (completed / stopped / interrupted / exited /
        #: failed, see :mod:`.run_control`; None while running), start_epoch, planned_epochs,
        #: epochs (complete ones), partial (or None), weights (the good point the model's
        #: weights were left at: "start of run 2", "end of epoch 3", "best epoch 2 (val_loss)").
        self.runs: list[dict[str, Any]] = []
        #: Epochs cut short by a stop: run, phase, epoch, run_epoch, batches, steps, logs.
        #: They are never in ``history``.
        self.partial_epochs: list[dict[str, Any]] = []
        #: What the active run is doing (a ``stage`` event's ``stage``); None between runs.
        self.stage: Stage | None = None
        self._current_run: dict[str, Any] | None = None  # the run in progress
        #: What each fit / fine_tune run ran, phase by phase (:class:`RunRecord`), in run order:
        #: what an export renders.
        self.run_records: list[RunRecord] = []
        # The base's weights before the first run: an export starts from them, not the trained ones.
        self._initial_base_weights: list[np.ndarray] | None = None
        self._phase_record: tuple[PhaseRecord, int] | None = None  # the running phase and its start
        self.error: str | None = None
        self.error_traceback: str | None = None
        self.stop_reason: str | None = None
        # Keras callbacks every fit run adds (views such as the training monitor put theirs here).
        self.run_callbacks: list[keras.callbacks.Callback] = []
        self.compile_count = 0
        self._life = Lifecycle()
        # A controller dropped (or replaced by re-running its cell) stops its run.
        weakref.finalize(self, self._life.abandon)
        self._label_mode = "sparse" if c.head.labels == "auto" else c.head.labels
        self._compiled: dict[int, tuple] = {}  # id(model) -> signature it was compiled for
        self._features = FeatureCache(c.feature_cache, c.cache_dir)
        self._build(in_memory)
        self._built_for = _defining(c)  # what a later write to controller.config must not change
        # Flag changes made anywhere (a layer tree, `freeze_all(model)` in a cell) reach views as
        # "flags" events on self.events, the one stream a view subscribes to.
        self._unsubscribe_flags = freezing.subscribe(self._flags_changed)

    # -- building ---------------------------------------------------------------------

    def _scope(self) -> contextlib.AbstractContextManager[Any]:
        return self.strategy.scope() if self.strategy is not None else contextlib.nullcontext()

    def _build(self, in_memory: keras.Model | None) -> None:
        c = self._config
        if c.training.seed is not None:
            keras.utils.set_random_seed(c.training.seed)
        with self._scope():
            base = load_base(c.base, in_memory)
            if in_memory is not None and c.base.input_shape is not None:
                _check_input_shape(base, c.base.input_shape)
            if self.strategy is not None and in_memory is not None:
                base = _clone_into_scope(base)
            if c.base.source != "model":
                apply_freeze_plan(c.freeze, base)
            input_shape = base_input_shape(base, c.base.input_shape)
            if c.base.input_shape is None:
                c.base.input_shape = tuple(input_shape)
            feature_shape = tuple(base.compute_output_shape((None, *input_shape)))
            head = build_head(c.head, feature_shape)
            pre = preprocessing_layers(c.preprocessing, c.base.name or base.name)
            parts = assemble(base, head, pre, input_shape=input_shape, base_training=c.training.base_training)
        self.model: keras.Model = parts.model
        self.base_model: keras.Model = parts.base
        self.head: keras.Sequential = parts.head
        self._feature_model = parts.features
        self.input_shape = tuple(input_shape)
        #: What the base outputs per sample, the head's input (a feature map or a vector).
        self.feature_shape: tuple[int | None, ...] = feature_shape

    # -- state ------------------------------------------------------------------------

    @property
    def state(self) -> RunState:
        return self._life.state

    @property
    def _lock(self) -> Any:
        return self._life.lock

    @property
    def _control(self) -> RunControl:
        return self._life.control

    def _set_state(self, state: RunState, **extra: Any) -> None:
        with self._lock:  # stop() / pause() and the run's own end never interleave
            self._life.move(state)
            run = self._current_run
            if run is not None:
                extra["run"] = run["run"]
                if state in ("finished", "failed"):
                    self._close_run(run, "failed" if state == "failed" else extra.get("reason", "completed"))
        self.events.emit("state", state=state, **extra)

    def _begin_run(self, kind: RunKind, phases: list[str], planned: int | None) -> None:
        """Open the run's record, give it a fresh control and good point, announce it."""
        run = self._open_run(kind, phases, planned)
        self._life.begin(run["run"], self.model.name)
        self._set_state("running", task=kind)

    def _open_run(self, kind: RunKind, phases: list[str], planned: int | None) -> dict[str, Any]:
        run = {
            "run": len(self.runs) + 1,
            "kind": kind,
            "phases": phases,
            "started": time.time(),
            "ended": None,
            "reason": None,
            "start_epoch": self._completed_epochs(),
            "planned_epochs": planned,
            "epochs": 0,
            "partial": None,
            "weights": None,
        }
        self.runs.append(run)
        self._current_run = run
        return run

    def _close_run(self, run: dict[str, Any], reason: str) -> None:
        run["ended"] = time.time()
        run["reason"] = reason if reason != "lr_find" else "completed"
        run["weights"] = self._life.good.label  # the good point the model's weights are at
        if run["kind"] != "lr_find":
            run["epochs"] = self._completed_epochs() - run["start_epoch"]
        self._current_run = None
        self.stage = None

    def _set_stage(self, stage: Stage, phase: str | None = None) -> None:
        """Tell views what the run is doing now (delivered at once, kept in the log)."""
        self.stage = stage
        run = self._current_run["run"] if self._current_run is not None else None
        extra = {} if phase is None else {"phase": phase}
        self.events.emit("stage", stage=stage, run=run, **extra)

    @property
    def running(self) -> bool:
        return self._life.active

    @property
    def config(self) -> TransferConfig | ReadOnlyConfig:
        """The experiment's config, with ``freeze`` read from the base's current flags.

        While a run is active it is a :class:`ReadOnlyConfig`: fields read as usual,
        setting one raises :class:`ControllerBusyError` (change settings with
        :meth:`set` between runs)."""
        if self.running:
            return ReadOnlyConfig(self._config, "config", self)
        self._config.freeze = freeze_plan_from_model(self.base_model)
        return self._config

    def _refuse_if_running(self, what: str) -> None:
        if self.running:
            raise ControllerBusyError(
                f"Cannot {what} while a run is {self.state}: call controller.stop() and controller.wait(), "
                "or wait for the run to finish, then try again."
            )

    def _flags_changed(self, tree: ModelTree) -> None:
        """Freezing-API listener: tell views when flags of this controller's model changed
        (and warn when that happened behind the controller's back during a run)."""
        if not _holds(self.model, tree.model):
            return
        running = self.running
        self.events.emit("flags", running=running)
        if running:
            self.events.emit(
                "warning",
                message="Trainable flags changed during a run; they take effect at the "
                "next fit (the controller recompiles then).",
            )

    # -- editing (refused while running) ----------------------------------------------

    def edit_flags(
        self,
        operation: Callable[..., Any],
        target: ModelTree | keras.Model | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        """Run a freezing operation (``transfer_widgets.model.freeze``) on this controller's
        model, or on ``target`` (a :class:`ModelTree` of it, as a layer tree holds), and
        return its result; refused with :class:`ControllerBusyError` while a run is active.

        Every flag change a view makes goes through here, so none can slip into a run."""
        self._refuse_if_running("change trainable flags")
        target = self.model if target is None else target
        model = target.model if isinstance(target, ModelTree) else target
        if not _holds(self.model, model):
            raise ValueError(
                f"edit_flags: {model.name!r} is not part of this controller's model {self.model.name!r}"
            )
        return operation(target, *args, **kwargs)

    def freeze_all(self) -> None:
        """Freeze the whole base."""
        self.edit_flags(freezing.freeze_all, self.base_model)

    def unfreeze_all(self, keep_bn_frozen: bool = True) -> None:
        """Make the whole base trainable (BatchNorm kept frozen by default)."""
        self.edit_flags(freezing.unfreeze_all, self.base_model, keep_bn_frozen=keep_bn_frozen)

    def freeze_up_to(self, layer_name: str, keep_bn_frozen: bool = True) -> None:
        """Freeze the base before ``layer_name``; train it from there on."""
        self.edit_flags(freezing.freeze_up_to, self.base_model, layer_name, keep_bn_frozen=keep_bn_frozen)

    def set_trainable(self, path: str | LayerNode, flag: bool, keep_bn_frozen: bool = True) -> None:
        """Set one layer, block or sub-model of the assembled model trainable or frozen."""
        self.edit_flags(freezing.set_trainable, self.model, path, flag, keep_bn_frozen=keep_bn_frozen)

    def toggle(self, path: str | LayerNode, keep_bn_frozen: bool = True) -> bool:
        """Flip one node of the assembled model the way a checkbox does; returns the value set."""
        return bool(self.edit_flags(freezing.toggle, self.model, path, keep_bn_frozen=keep_bn_frozen))

    def set_many(self, paths: Sequence[str | LayerNode], flag: bool, keep_bn_frozen: bool = True) -> None:
        """Set several nodes of the assembled model at once (a shift-click range)."""
        self.edit_flags(freezing.set_many, self.model, list(paths), flag, keep_bn_frozen=keep_bn_frozen)

    def set(self, field_path: str, value: Any) -> None:
        """Change one setting by its dotted name (``"training.learning_rate"``), checked
        first: a bad value raises :class:`ConfigError` and changes nothing.

        ``training.*`` and the head settings that do not change the model
        (``head.class_names``, ``head.loss``, ``head.metrics``) can change on a built
        controller, keeping its weights and history; the others define the model: pass
        a changed config to :meth:`load_config` instead.
        """
        if not isinstance(field_path, str):
            raise ConfigError(
                [f"field_path must be a dotted name such as 'training.learning_rate', got {field_path!r}"]
            )
        self._refuse_if_running(f"change {field_path}")
        if not field_path.startswith(("training.", *(f"head.{k}" for k in _SETTABLE_HEAD))):
            raise ConfigError(
                [
                    f"{field_path} defines the model and cannot change with set(): edit a copy of "
                    "controller.config and pass it to controller.load_config(config)"
                ]
            )
        trial = self._config.copy()
        obj = trial
        *parents, last = field_path.split(".")
        for part in parents:
            obj = getattr(obj, part)
        if not hasattr(obj, last):
            raise ConfigError([f"{field_path} is not a known field"])
        if not _set_recipe(trial, field_path, value):
            setattr(obj, last, value)
        trial.check()
        self._check_settings(trial)
        self._config = trial
        if field_path == "training.seed" and value is not None:
            keras.utils.set_random_seed(value)  # the next run's shuffling, dropout and augmentation
        self._config_changed()

    def apply_head(self, head: HeadSpec, augmentation: list[AugmentationSpec] | None = None) -> None:
        """Replace the head (and, if given, the augmentation layers) and rebuild the
        assembled model on the same base, whose weights and trainable flags are kept.

        The config is checked first: a head with problems raises :class:`ConfigError`
        and changes nothing. The next fit compiles the new model afresh.
        """
        self._refuse_if_running("change the head")
        data = self._config.to_dict()
        data["head"] = dataclasses.asdict(head) if dataclasses.is_dataclass(head) else dict(head)
        if augmentation is not None:
            data["preprocessing"]["augmentation"] = [
                dataclasses.asdict(a) if dataclasses.is_dataclass(a) else dict(a) for a in augmentation
            ]
        trial = TransferConfig.from_dict(data).check()
        base = self.base_model
        with self._scope():
            new_head = build_head(trial.head, self.feature_shape)
            pre = preprocessing_layers(trial.preprocessing, trial.base.name or base.name)
            parts = assemble(
                base, new_head, pre, input_shape=self.input_shape, base_training=trial.training.base_training
            )
        self._config = trial
        self._built_for = _defining(trial)
        self.model, self.head, self._feature_model = parts.model, parts.head, parts.features
        self._compiled = {}
        self._label_mode = "sparse" if trial.head.labels == "auto" else trial.head.labels
        self._config_changed()

    def on_config_change(self, fn: Callable[[TransferConfig], Any]) -> Callable[[], None]:
        """Deprecated: subscribe to :attr:`events` and read ``controller.config`` on a
        ``config`` event. Calls ``fn(config)`` after the config changed; returns a
        function that unsubscribes."""
        warnings.warn(
            "FineTuneController.on_config_change is deprecated: use controller.events.subscribe() "
            "and handle events of type 'config'",
            DeprecationWarning,
            stacklevel=2,
        )

        def on_events(events: list[Event]) -> None:
            if any(e.get("type") == "config" for e in events):
                fn(self._config)

        return self.events.subscribe(on_events)

    def _config_changed(self) -> None:
        self.events.emit("config")

    # -- compile -------------------------------------------------------------------

    def _optimizer(self, learning_rate: float) -> keras.optimizers.Optimizer:
        """The config's optimizer with its arguments at a constant rate (the LR finder's)."""
        t = self._config.training
        return recipe.build_optimizer(t.optimizer, t.optimizer_args, learning_rate, None)

    def _compile_args(self) -> dict[str, Any]:
        spec = self._config.head
        loss = default_loss(spec, self._label_mode)
        return {
            "loss": keras.losses.get(loss) if isinstance(loss, dict) else loss,
            "metrics": compile_metrics(default_metrics(spec)),
        }

    def _ensure_compiled(
        self,
        model: keras.Model,
        learning_rate: float,
        phase: PhaseRecord | None = None,
        mixed_precision: bool = False,
    ) -> bool:
        """Compile ``model`` with a fresh optimizer (``phase``'s, else the config's) if its
        trainable set or compile settings changed since the last compile; else just set
        the learning rate. Returns True when it compiled."""
        args = self._compile_args()
        t = self._config.training
        optimizer = (
            (t.optimizer, t.optimizer_args, None)
            if phase is None
            else (phase.optimizer, phase.optimizer_args, phase.lr_schedule)
        )
        signature = (
            tuple(id(v) for v in model.trainable_weights),
            json.dumps(optimizer, sort_keys=True, default=str),
            json.dumps(default_loss(self._config.head, self._label_mode), sort_keys=True),
            json.dumps(default_metrics(self._config.head), sort_keys=True),
            mixed_precision,  # compiled under mixed_float16: a loss-scaling optimizer
        )
        if (
            self._compiled.get(id(model)) != signature
            or getattr(model, "optimizer", None) is None
            or optimizer[2] is not None  # a schedule restarts with each phase
        ):
            with self._scope():
                model.compile(
                    optimizer=recipe.build_optimizer(*optimizer[:2], learning_rate, optimizer[2]), **args
                )
            self._compiled[id(model)] = signature
            self.compile_count += 1
            return True
        model.optimizer.learning_rate.assign(learning_rate)
        return False

    # -- preflight -----------------------------------------------------------------------

    def preflight(self, features: bool = False) -> None:
        """Check the settings and the data against the model and the task; raise before
        any training. Settles whether labels are sparse or one-hot, which picks the loss."""
        self._check_settings(self._config)
        mode = self._checked_label_mode()
        if mode is not None:
            self._label_mode = mode
        spec = self._config.head
        check_loss_and_metrics(spec.task, spec.loss, spec.metrics, self._label_mode)

    def _check_settings(self, c: TransferConfig) -> None:
        """A config changed by writing to ``controller.config`` is checked like one passed
        in; a change to what defines the model (which a built model would ignore) is refused."""
        c.check()
        if c.training.batch_size > 2**31 - 1:
            raise ConfigError(
                [f"training.batch_size must be at most {2**31 - 1}, got {c.training.batch_size}"]
            )
        opt: Any = c.training.optimizer
        if not isinstance(opt, str):  # Keras would take a config dict, then only its class was used
            raise ConfigError(
                [
                    f"training.optimizer must be an optimizer name such as 'adam' or 'sgd', got "
                    f"{type(opt).__name__} {opt!r}; the learning rate is training.learning_rate"[:300]
                ]
            )
        if c.cache_dir is not None and not isinstance(c.cache_dir, (str, os.PathLike)):
            raise ConfigError([f"cache_dir must be a folder path or None, got {c.cache_dir!r}"])
        changed = [k for k, v in _defining(c).items() if self._built_for.get(k) != v]
        if changed:
            raise ConfigError(
                [
                    f"{name} was changed on controller.config after the model was built, so it would be "
                    "ignored: pass the config to controller.load_config(config) to rebuild the model "
                    "(or apply_head() for the head)"
                    for name in changed
                ]
            )
        if c.mode == "feature_extraction" and c.cache_dir is not None and c.feature_cache != "memory":
            _check_writable(c.cache_dir)

    def _checked_label_mode(self) -> str | None:
        """Check the data (raising as :meth:`preflight` does) and return the label mode
        the training data has (None when the task has none); changes nothing."""
        if self.train_data is None:
            raise ConfigError(
                [
                    "train_data is missing: pass train_data=(x, y), a tf.data.Dataset or a PyDataset, "
                    "or set config.data to a directory or demo dataset"
                ]
            )
        spec = self._config.head
        found = None
        for name, data in (("train_data", self.train_data), ("validation_data", self.validation_data)):
            if data is None:
                continue
            _check_dataset(data, name, len(self.input_shape))
            mode = check_data(
                describe(data, name),
                name,
                input_shape=self.input_shape,
                task=spec.task,
                num_classes=spec.num_classes,
                labels=spec.labels,
            )
            if name == "train_data":
                found = mode
        return found

    # -- running -------------------------------------------------------------------------

    def fit(
        self,
        epochs: int | None = None,
        learning_rate: float | None = None,
        *,
        block: bool = False,
        callbacks: list[keras.callbacks.Callback] | None = None,
        optimizer: Any = None,
        class_weight: dict[Any, float] | None = None,
    ) -> None:
        """Train for ``epochs`` more epochs in a background thread; returns at once
        (``block=True`` waits and raises :class:`TrainingError` if the run failed).

        ``optimizer`` (a name, a ``keras.optimizers`` object or its serialised dict) and
        ``class_weight`` apply to this run only, like ``epochs`` and ``learning_rate``;
        every setting the run used is kept in :attr:`run_records`."""
        t = self._config.training
        epochs_arg = epochs
        epochs = t.epochs if epochs is None else epochs
        _check_callbacks(callbacks)  # before anything reads them
        settings = self._run_settings(optimizer, class_weight, callbacks, learning_rate)
        lr = settings["learning_rate"]
        _check_run_args(
            **{"epochs" if epochs_arg is not None else "training.epochs": epochs},
            **{"learning_rate" if learning_rate is not None else "training.learning_rate": lr},
        )
        features = self._config.mode == "feature_extraction"
        self._start("fit", [_Phase("fit", epochs, lr, features=features)], callbacks, block, settings)

    def fine_tune(
        self,
        head_epochs: int | None = None,
        epochs: int | None = None,
        *,
        unfreeze_from: str | None = None,
        learning_rate: float | None = None,
        lr_mult: float | None = None,
        keep_bn_frozen: bool | None = None,
        block: bool = False,
        callbacks: list[keras.callbacks.Callback] | None = None,
        optimizer: Any = None,
        class_weight: dict[Any, float] | None = None,
    ) -> None:
        """Two phases in one history: the head with the base frozen, then the base
        unfrozen from ``unfreeze_from`` (all of it when None) at ``learning_rate * lr_mult``.

        Defaults (``training.fine_tune``) follow the Keras transfer-learning guide: the
        base keeps BatchNorm in inference mode (called with ``training=False``) while
        its γ / β train (``keep_bn_frozen=False``), at a hundredth of the rate (Adam
        1e-3 -> 1e-5). ``optimizer`` / ``class_weight`` as in :meth:`fit`."""
        f = self._config.training.fine_tune
        head_epochs = f.head_epochs if head_epochs is None else head_epochs
        epochs = f.epochs if epochs is None else epochs
        unfreeze_from = f.unfreeze_from if unfreeze_from is None else unfreeze_from
        _check_callbacks(callbacks)  # before anything reads them
        settings = self._run_settings(optimizer, class_weight, callbacks, learning_rate)
        lr = settings["learning_rate"]
        lr_mult = f.lr_mult if lr_mult is None else lr_mult
        keep_bn = f.keep_bn_frozen if keep_bn_frozen is None else keep_bn_frozen
        _check_run_args(epochs=epochs, head_epochs=head_epochs, learning_rate=lr, lr_mult=lr_mult)
        if unfreeze_from is not None:
            ModelTree(self.base_model).find(unfreeze_from)  # unknown names fail now, not mid-run
        base = self.base_model  # the phases hold the base, not the controller (see _train)

        def unfreeze() -> None:
            if unfreeze_from is None:
                freezing.unfreeze_all(base, keep_bn_frozen=keep_bn)
            else:
                freezing.freeze_up_to(base, unfreeze_from, keep_bn_frozen=keep_bn)

        features = self._config.mode == "feature_extraction"
        phases = [
            _Phase(
                "head",
                head_epochs,
                lr,
                before=lambda: freezing.freeze_all(base),
                features=features,
            ),
            _Phase("fine_tune", epochs, lr * lr_mult, before=unfreeze, schedule_scale=lr_mult),
        ]
        self._start("fine_tune", phases, callbacks, block, settings)

    def _run_settings(
        self, optimizer: Any, class_weight: Any, callbacks: Any, learning_rate: float | None
    ) -> dict[str, Any]:
        """The run-wide settings of a fit / fine_tune call, its arguments over the config's,
        checked before anything runs. An optimizer object's rate is the run's rate unless
        ``learning_rate`` says otherwise (two different rates are refused)."""
        t = self._config.training
        name, args, rate = t.optimizer, dict(t.optimizer_args), None
        if optimizer is not None:
            name, args, rate = recipe.optimizer_settings(optimizer)
            if rate is not None and learning_rate is not None and not math.isclose(rate, learning_rate):
                raise ConfigError(
                    [
                        f"optimizer has learning_rate={rate!r} but learning_rate={learning_rate!r} was "
                        "passed too: give the rate once"
                    ]
                )
        if learning_rate is None:
            learning_rate = rate if rate is not None else t.learning_rate
        cw = recipe.class_weight_setting(class_weight) if class_weight is not None else t.class_weight
        trial = self._config.copy()  # the run's own settings, checked as the config's would be
        trial.training.optimizer, trial.training.optimizer_args, trial.training.class_weight = name, args, cw
        problems = [
            p for p in trial.problems() if p.field.startswith(("training.optimizer", "training.class_weight"))
        ]
        if problems:
            raise ConfigError(problems)
        extra = [recipe.callback_settings(cb) for cb in callbacks or []]
        return {
            "learning_rate": learning_rate,
            "optimizer": name,
            "optimizer_args": args,
            "class_weight": None if cw is None else dict(cw),
            "callbacks": [*t.callbacks, *(s for s in extra if s is not None)],
            "unexported_callbacks": [
                type(cb).__name__ for cb, s in zip(callbacks or [], extra, strict=True) if s is None
            ],
        }

    def _start(
        self,
        kind: RunKind,
        phases: list[_Phase],
        callbacks: list[keras.callbacks.Callback] | None,
        block: bool,
        settings: dict[str, Any],
    ) -> None:
        with self._lock:
            self._refuse_if_running("start another run")
            self.preflight()
            if any(p.features for p in phases) and self._feature_model is None:
                raise ConfigError(
                    ["mode 'feature_extraction' needs a base without augmentation in front of it"]
                )
            self.error = self.error_traceback = self.stop_reason = None
            self._begin_run(kind, [p.name for p in phases if p.epochs > 0], sum(p.epochs for p in phases))
            self._record_run(kind, phases, settings)
            self._set_stage("preparing")  # a view shows this at once: building, compiling and
            # the first (tracing) step take seconds before any batch is reported
            every = list(callbacks or []) + recipe.build_callbacks(self._config.training.callbacks)
            self._life.start(_train, weakref.ref(self), self._life, phases, every)
        if block:
            self.wait()
            if self.state == "failed":
                raise TrainingError(self.error)

    def _record_run(self, kind: RunKind, phases: list[_Phase], settings: dict[str, Any]) -> None:
        """Keep what this run will run (:attr:`run_records`) and, at the first run, the
        base's weights as loaded."""
        if self._initial_base_weights is None:
            self._initial_base_weights = [np.array(w, copy=True) for w in self.base_model.get_weights()]
        t = self._config.training
        spec = self._config.head
        self.run_records.append(
            RunRecord(
                run=len(self.runs),
                kind=kind,
                phases=[
                    PhaseRecord(
                        name=p.name,
                        epochs=p.epochs,
                        learning_rate=p.learning_rate,
                        optimizer=settings["optimizer"],
                        optimizer_args=dict(settings["optimizer_args"]),
                        lr_schedule=phase_schedule(t.lr_schedule, p.learning_rate, p.schedule_scale),
                        features=p.features,
                    )
                    for p in phases
                ],
                batch_size=t.batch_size,
                seed=t.seed,
                loss=default_loss(spec, self._label_mode),
                metrics=default_metrics(spec),
                class_weight=settings["class_weight"],
                callbacks=settings["callbacks"],
                unexported_callbacks=settings["unexported_callbacks"],
                restore_best=t.restore_best,
                monitor=t.monitor,
                nan_guard=t.nan_guard,
                mixed_precision=t.mixed_precision,
            )
        )

    def _prepare_phase(
        self, index: int, phase: _Phase, callbacks: list[keras.callbacks.Callback]
    ) -> _FitJob | None:
        """Everything the run's phase ``index`` needs before its ``fit`` (None: a phase
        with no epochs). Feature caching ends early on a stop (:class:`.run_control.RunStopped`)."""
        record = self.run_records[-1]
        settings = record.phases[index]
        if phase.before is not None:
            phase.before()
        settings.freeze = freeze_plan_from_model(self.base_model)  # what the phase trains
        if phase.epochs <= 0:
            return None
        start = self._completed_epochs()
        self._phase_record = (settings, start)
        run_number = self._current_run["run"] if self._current_run is not None else None
        self.phases.append(
            {
                "name": phase.name,
                "run": run_number,
                "start_epoch": start,
                "end_epoch": start,  # complete epochs only: a partial one is not counted
                "learning_rate": phase.learning_rate,
            }
        )
        self.events.emit(
            "phase", phase=phase.name, run=run_number, start_epoch=start, learning_rate=phase.learning_rate
        )
        t = self._config.training
        if phase.features:
            model = self.head
            self._set_stage("caching_features", phase.name)
            train = self._feature_data(self.train_data)
            val = None if self.validation_data is None else self._feature_data(self.validation_data)
            fit_kwargs = self._feature_fit_arguments(train, t.batch_size)
            if val is not None:
                fit_kwargs["validation_data"] = (val.x, val.y)
        else:
            model = self.model
            fit_kwargs = fit_arguments(self.train_data, t.batch_size)
            if self.validation_data is not None:
                v = self.validation_data
                fit_kwargs["validation_data"] = tuple(v) if kind_of(v) == "arrays" else v
        self._set_stage("compiling", phase.name)
        with recipe.mixed_precision(model, record.mixed_precision):  # Keras wraps the optimizer
            self._ensure_compiled(model, phase.learning_rate, settings, record.mixed_precision)
        if record.class_weight is not None:
            fit_kwargs["class_weight"] = recipe.fit_class_weight(record.class_weight)
        current = self._current_run or {}
        run = RunCallback(
            self.events,
            _weakly(self._record),
            phase=phase.name,
            control=self._control,
            nan_guard=t.nan_guard,
            run=current.get("run", 0),
            run_start=current.get("start_epoch", start),
            run_epochs=current.get("planned_epochs"),
            record_partial=_weakly(self._record_partial),
            stage=_weakly(self._set_stage),
            good=self._life.good,
        )
        best = BestWeights(t.monitor, self.events, run=run) if t.restore_best else None
        self._set_stage("first_batch", phase.name)
        fit_kwargs.update(
            initial_epoch=start,
            epochs=start + phase.epochs,
            verbose=0,
            callbacks=[run, *([best] if best else []), *self.run_callbacks, *callbacks],
        )
        return _FitJob(model, fit_kwargs, run, best, mixed_precision=record.mixed_precision)

    def _phase_done(self, job: _FitJob) -> None:
        """Record where the phase ended; raise :class:`_NanLoss` when the NaN guard ended it."""
        self.phases[-1]["end_epoch"] = self._completed_epochs()
        self._close_phase_record()
        best = job.best
        if best is not None and best.restored and best.best_epoch is not None:
            label = f"best epoch {best.best_epoch + 1} ({best.monitor})"
            self._life.good.capture(job.model, label, best.best_epoch)
        if job.run.nan is not None:
            n = job.run.nan
            raise _NanLoss(
                f"Loss became {n['loss']} at epoch {n['epoch'] + 1}, batch {n['batch'] + 1}: "
                f"the run stopped and the weights from {n.get('restored_from', 'before')} were "
                "restored. Lower training.learning_rate or check the data for bad values."
            )

    def _close_phase_record(self) -> None:
        """The running phase's record (:attr:`run_records`) gets the complete epochs it ran."""
        if self._phase_record is not None:
            settings, start = self._phase_record
            settings.epochs_run = self._completed_epochs() - start
            self._phase_record = None

    def _end_run(self, exc: BaseException | None, where: str | None = None) -> None:
        """Close the run however it ended (see :func:`.run_control.exit_of`); the training
        thread has already put the good point's weights back."""
        state, reason = exit_of(exc, self._control)
        run = self._current_run
        if run is not None and self.phases and self.phases[-1]["run"] == run["run"]:
            self.phases[-1]["end_epoch"] = self._completed_epochs()
        self._close_phase_record()
        if state == "finished":
            self.stop_reason = reason
            self._set_state("finished", reason=reason)
        else:
            self._compiled.clear()  # the optimizer's slots may hold NaN or half an update: start fresh
            nan = isinstance(exc, _NanLoss)
            if nan:
                self.error, self.error_traceback = str(exc), None
            else:
                aside = "" if isinstance(exc, Exception) else " (raised during the run; the kernel lives on)"
                at = f" [during {where}]" if where else ""
                self.error = f"{type(exc).__name__}{at}: {exc}{aside}"
                self.error_traceback = "".join(traceback.format_exception(exc))
            self._set_state("failed", message=self.error)
            self.events.emit(
                "error",
                message=self.error,
                traceback=self.error_traceback,
                kind="nan" if nan else "exception",
            )
        self.events.flush()

    def _feature_data(self, data: Any) -> CachedFeatures:
        """The cached base outputs for ``data`` (computed on first use; a stop ends the
        computation at the next batch)."""
        return self._features.get(
            self._feature_model, data, self._config.training.batch_size, cancel=self._control.raise_if_stopped
        )

    @staticmethod
    def _feature_fit_arguments(entry: CachedFeatures, batch_size: int) -> dict[str, Any]:
        if entry.on_disk:
            return {"x": disk_batches(entry, batch_size), "shuffle": False}  # it shuffles itself
        return {"x": entry.x, "y": entry.y, "batch_size": batch_size, "shuffle": True}

    def _completed_epochs(self) -> int:
        return len(self.history.get("epoch", []))

    def _record(self, epoch: int, logs: dict[str, float], phase: str) -> None:
        """Append one completed epoch; every list keeps the same length (None for gaps)."""
        n = self._completed_epochs()
        run = self._current_run
        row: dict[str, Any] = {"epoch": epoch}
        if run is not None:
            row.update(run=run["run"], run_epoch=epoch - run["start_epoch"])
        row.update(phase=phase, **logs)
        for key in row:
            self.history.setdefault(key, [None] * n)
        for key, values in self.history.items():
            values.append(row.get(key))

    def _record_partial(self, info: dict[str, Any]) -> None:
        """Keep an epoch cut short by a stop apart from the history."""
        self.partial_epochs.append(info)
        if self._current_run is not None:
            self._current_run["partial"] = info

    def wait(self, timeout: float | None = None) -> RunState:
        """Block until the run ends (or ``timeout`` seconds pass); returns the state.
        Ctrl-C while waiting stops the run at the end of its batch, waits for it to
        end (state ``finished``, reason ``interrupted``) and is raised again."""
        self._life.join(timeout)
        return self.state

    def stop(self) -> None:
        """Stop at the end of the current batch. An epoch cut short this way is not in
        :attr:`history` (complete epochs only): it goes to :attr:`partial_epochs` and the
        run's record (``runs[-1]["partial"]``)."""
        with self._lock:
            if self.state in ("running", "paused"):
                self._control.stop()
                self._set_state("stopping")

    def pause(self) -> None:
        """Hold training between batches until :meth:`resume`."""
        with self._lock:
            if self.state == "running":
                self._control.pause()
                self._set_state("paused")

    def resume(self) -> None:
        with self._lock:
            if self.state == "paused":
                self._control.resume()
                self._set_state("running")

    # -- learning-rate finder --------------------------------------------------------------

    def lr_find(self, start: float = 1e-7, end: float = 10.0, steps: int = 100) -> LRFindResult:
        """Exponential learning-rate sweep; the model is left exactly as it was.

        Trains on a copy of the weights (restored afterwards, with the optimizer and
        its state) and returns an :class:`LRFindResult`: the losses and a suggested
        rate, the steepest descent of the smoothed loss (in log-lr) where it is still
        falling, before its minimum, so always inside ``[start, end]``
        (:mod:`~transfer_widgets.training.lr_finder` has the rule and its guards).
        When the loss never falls meaningfully (flat, or rising from the start)
        ``suggested`` is None and ``message`` says why and what to try; the
        ``lr_find`` event carries ``suggested``, and ``message`` when there is no
        suggestion. Runs in the calling thread; Ctrl-C (or ``stop()`` from another
        thread) ends it within a batch with the model put back, and a Ctrl-C is then
        raised again (state ``finished``, reason ``interrupted``).
        """
        if not (isinstance(start, (int, float)) and isinstance(end, (int, float)) and 0 < start < end):
            raise ValueError(f"lr_find needs 0 < start < end, got start={start!r}, end={end!r}")
        if not isinstance(steps, int) or steps < 2:
            raise ValueError(f"lr_find steps must be an integer >= 2, got {steps!r}")
        with self._lock:
            self._refuse_if_running("run the learning-rate finder")
            self.preflight()
            self._begin_run("lr_find", [], None)  # a fresh control: an earlier Stop does not end it
        features = self._config.mode == "feature_extraction"
        model = self.head if features else self.model
        saved_weights = model.get_weights()
        saved_optimizer = getattr(model, "optimizer", None) if id(model) in self._compiled else None
        saved_signature = self._compiled.pop(id(model), None)
        sweep = LRSweep(start, end, steps, control=self._control)
        failure: BaseException | None = None
        try:
            t = self._config.training
            if features:
                entry = self._feature_data(self.train_data)
                kwargs = self._feature_fit_arguments(entry, t.batch_size)
                n_batches = math.ceil(len(entry.x) / t.batch_size)
            else:
                kwargs = fit_arguments(self.train_data, t.batch_size)
                n_batches = _batches_per_epoch(self.train_data, t.batch_size)
            with self._scope():
                model.compile(optimizer=self._optimizer(start), **self._compile_args())
            model.fit(
                **kwargs, epochs=max(1, math.ceil(steps / max(1, n_batches))), verbose=0, callbacks=[sweep]
            )
        except BaseException as exc:  # noqa: BLE001 - every way out puts the model back, then re-raises
            failure = exc
        model.set_weights(saved_weights)
        # Both or neither: the optimizer is saved only for a model compiled here (in _compiled).
        if saved_optimizer is not None and saved_signature is not None:
            with self._scope():
                model.compile(optimizer=saved_optimizer, **self._compile_args())
            self._compiled[id(model)] = saved_signature
        if failure is not None:
            state, reason = exit_of(failure, self._control)
            if state == "failed":
                self.error = f"{type(failure).__name__}: {failure}"
                self.error_traceback = "".join(traceback.format_exception(failure))
                self._set_state("failed", message=self.error)
            else:
                self.stop_reason = reason
                self._set_state("finished", reason=reason)
            raise failure
        result = _suggest(sweep.lrs, sweep.losses)
        # ``message`` only when there is no suggestion (Event.message is a str).
        why = {} if result.message is None else {"message": result.message}
        self.events.emit(
            "lr_find",
            learning_rates=result.learning_rates,
            losses=result.losses,
            smoothed=result.smoothed,
            suggested=result.suggested,
            **why,
        )
        self._set_state("finished", reason="lr_find")
        return result

    # -- using the model ----------------------------------------------------------------

    def evaluate(self, data: Any) -> dict[str, float]:
        """Metrics of the assembled model on ``(x, y)`` / a dataset."""
        self._refuse_if_running("evaluate")
        self._ensure_compiled(self.model, self._config.training.learning_rate)
        kwargs = fit_arguments(data, self._config.training.batch_size, shuffle=False)
        kwargs.pop("shuffle", None)
        return {k: float(v) for k, v in self.model.evaluate(**kwargs, verbose=0, return_dict=True).items()}

    def predict(self, x: Any) -> np.ndarray:
        return self.model.predict(x, batch_size=self._config.training.batch_size, verbose=0)

    # -- saved experiments (rebuilt here; transfer_widgets.export renders) ------------------

    @classmethod
    def from_config(cls, config: Any, base_model: Any = None, **kwargs: Any) -> FineTuneController:
        """A controller for a saved experiment: ``config`` is a :class:`TransferConfig`, a
        dict, JSON text (``config.to_json()``) or a JSON file. An in-memory base or in-memory
        data must be passed again (``base_model=``, ``train_data=``); the freeze plan is applied."""
        cfg = TransferConfig.load(config)
        controller = cls(base_model, config=cfg, **kwargs)
        if base_model is not None and not isinstance(base_model, str):
            apply_freeze_plan(
                cfg.freeze, controller.base_model
            )  # a passed model keeps its own flags otherwise
        return controller

    def load_config(
        self, config: Any, base_model: Any = None, *, train_data: Any = None, validation_data: Any = None
    ) -> None:
        """Replace this controller's experiment with a saved one, in place, so every
        widget bound to the controller (layer tree, head designer, monitor, export
        panel) shows it: ``config`` as for :meth:`from_config`.

        The new experiment is built and checked first: a bad config raises
        :class:`ConfigError` naming the field and changes nothing. An in-memory base
        or in-memory data that is not passed again is kept from the current
        experiment. When the saved experiment has this one's base, preprocessing and
        head, the model is kept with its trained weights and the run history (only
        the flags and settings change); otherwise the model is rebuilt and the
        history starts afresh (the monitor clears).
        """
        self._refuse_if_running("load a config")
        cfg = TransferConfig.load(config)
        if base_model is None and cfg.base.source == "model":
            base_model = self.base_model
        if train_data is None and cfg.data.source not in ("directory", "demo"):
            train_data = self.train_data
            validation_data = self.validation_data if validation_data is None else validation_data
        fresh = type(self).from_config(
            cfg,
            base_model,
            train_data=train_data,
            validation_data=validation_data,
            strategy=self.strategy,
        )
        fresh._unsubscribe_flags()
        settings = ("_config", "train_data", "validation_data", "_label_mode", "_features", "_built_for")
        if _same_model(self, fresh):
            apply_freeze_plan(fresh._config.freeze, self.base_model)  # same layers: cannot fail
            for name in settings:
                setattr(self, name, getattr(fresh, name))
        else:
            for name in (
                *settings,
                "model",
                "base_model",
                "head",
                "_feature_model",
                "input_shape",
                "feature_shape",
                "_compiled",
                "history",
                "phases",
                "runs",
                "run_records",
                "_initial_base_weights",
                "partial_epochs",
                "error",
                "error_traceback",
                "stop_reason",
            ):
                setattr(self, name, getattr(fresh, name))
            self.events.log.clear()  # monitors made from now on start from the new experiment
            t = self._config.training
            self.events.emit("reset", batch_size=t.batch_size, monitor=t.monitor)
        self._config_changed()

    def export_snapshot(self) -> ExperimentSnapshot:
        """What the exporter renders, read from this controller without changing it: the
        config (flags read from the model), the label mode the data has, the layers built
        in front of the base and in the head, the base (and its weights before the first
        run), the trained model, and the record of every run."""
        config = self._config.copy()
        config.freeze = freeze_plan_from_model(self.base_model)
        label_mode = self._label_mode
        if self.train_data is not None:
            with contextlib.suppress(Exception):  # export what is known; the run reports data problems
                label_mode = self._checked_label_mode() or label_mode
        skip = (self.base_model, self.head)
        pre = [
            layer
            for layer in self.model.layers
            if all(layer is not s for s in skip) and type(layer).__name__ != "InputLayer"
        ]
        return ExperimentSnapshot(
            config=config,
            label_mode=label_mode,
            preprocessing_layers=pre,
            head_layers=list(self.head.layers),
            base_model=self.base_model,
            runs=copy.deepcopy(self.run_records),
            initial_base_weights=self._initial_base_weights,
            trained_model=self.model if self.run_records else None,
        )

    def export_code(
        self, kind: str = "script", *, two_phase: bool | None = None, run: int | None = None
    ) -> str:
        """The experiment as code: ``"script"``, ``"notebook"`` (ipynb JSON), ``"cell"`` or
        ``"json"``. The phases are those the last fit / fine_tune run ran (``run``: another
        run's number, from :attr:`run_records`); before any run, or with ``two_phase``
        True / False, those the config plans (head-then-fine-tune, or one fit)."""
        return export_code(self.export_snapshot(), kind, two_phase=two_phase, run=run)

    def export_config(self, run: int | None = None) -> TransferConfig:
        """The config that reproduces the last run (``run``: another run's number): the
        settings it ran with (epochs, rates, optimizer and arguments, schedule, class
        weights, callbacks, freeze plan, ...) written into this config, so that ``fit()`` /
        ``fine_tune()`` without arguments runs it again. Before any run, the config.
        ``export_code("json")`` (and the export panel's JSON) is the config as set."""
        return export_config(self.export_snapshot(), run)

    def export_script(
        self, path: Any, *, two_phase: bool | None = None, run: int | None = None, overwrite: bool = False
    ) -> Any:
        """Write the script to ``path`` (phases as :meth:`export_code`); an in-memory base is
        saved beside it as it was before the first run, and the trained model apart from it.
        Returns the path. An existing file is replaced only with ``overwrite=True`` (else
        :class:`FileExistsError`)."""
        return export_script(self.export_snapshot(), path, two_phase=two_phase, run=run, overwrite=overwrite)

    def __repr__(self) -> str:
        epochs = self._completed_epochs()
        return (
            f"<FineTuneController {self.model.name!r} base={self.base_model.name!r} state={self.state!r} "
            f"epochs={epochs} mode={self._config.mode!r}>"
        )


# -- the training thread -----------------------------------------------------------------


def _train(
    owner: weakref.ref[FineTuneController],
    life: Lifecycle,
    phases: list[_Phase],
    callbacks: list[keras.callbacks.Callback],
) -> None:
    """A run's thread. It holds the controller only between phases (``fit`` runs with
    none), so a controller dropped mid-run is collected and its run stops; however
    the run ends, the good point's weights are put back and the state leaves
    ``running`` (``BaseException`` included: nothing leaves the controller stuck)."""
    failure: BaseException | None = None
    job: _FitJob | None = None
    where: str | None = None  # the batch a failure came from
    try:
        for index, phase in enumerate(phases):
            ctl = owner()
            if ctl is None or life.control.stop_requested:
                break
            job = ctl._prepare_phase(index, phase, callbacks)
            del ctl
            if job is None:
                continue
            life.control.raise_if_stopped()  # a stop during caching or compiling
            with recipe.mixed_precision(job.model, job.mixed_precision):
                job.model.fit(**job.kwargs)
            ctl = owner()
            if ctl is None:
                break
            ctl._phase_done(job)
            del ctl
    except BaseException as exc:  # noqa: BLE001 - every way out of a run is handled in _end_run
        failure = exc
        if job is not None:
            where = job.run.position()
            job.run.epoch_failed()
    ctl = None
    try:
        life.good.restore()
        ctl = owner()
        if ctl is not None:
            ctl._end_run(failure, where)
    finally:
        with life.lock:
            if life.active:  # the controller was dropped (or closing the run itself failed)
                life.move("finished" if ctl is None else "failed")


def _weakly(method: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` held weakly: a no-op once its object is gone."""
    ref = weakref.WeakMethod(method)

    def call(*args: Any, **kwargs: Any) -> Any:
        bound = ref()
        return None if bound is None else bound(*args, **kwargs)

    return call


# -- helpers ---------------------------------------------------------------------------


class ReadOnlyConfig:
    """A view of a config (or one of its parts) whose fields read as usual and cannot
    be set: what ``controller.config`` returns while a run is active."""

    __slots__ = ("_owner", "_path", "_target")

    def __init__(self, target: Any, path: str, owner: FineTuneController) -> None:
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_path", path)
        object.__setattr__(self, "_owner", owner)

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return ReadOnlyConfig(value, f"{self._path}.{name}", self._owner)
        return value

    def __setattr__(self, name: str, value: Any) -> NoReturn:
        raise ControllerBusyError(
            f"Cannot change {self._path}.{name} while a run is {self._owner.state}: "
            "call controller.stop() and controller.wait(), or wait for the run to finish, "
            "then use controller.set()."
        )

    def __eq__(self, other: object) -> bool:
        return self._target == (other._target if isinstance(other, ReadOnlyConfig) else other)

    def __repr__(self) -> str:
        return f"<read-only while running: {self._target!r}>"


def _set_recipe(config: TransferConfig, field_path: str, value: Any) -> bool:
    """Set a training setting that may arrive as a Keras object (an optimizer, a schedule,
    callbacks) or in Keras's own form (class weights keyed by int) in the config's plain
    form, without loss; False when ``field_path`` is not one of them."""
    t = config.training
    if field_path == "training.optimizer" and not isinstance(value, str):
        t.optimizer, t.optimizer_args, rate = recipe.optimizer_settings(value)
        if rate is not None:
            t.learning_rate = rate
    elif field_path == "training.lr_schedule" and value is not None:
        t.lr_schedule, rate = recipe.schedule_settings(value)
        if rate is not None:
            t.learning_rate = rate
    elif field_path == "training.callbacks":
        t.callbacks = recipe.callbacks_settings(value)
    elif field_path == "training.class_weight":
        t.class_weight = recipe.class_weight_setting(value)
    else:
        return False
    return True


def _holds(model: keras.Model, other: Any) -> bool:
    """Whether ``other`` is ``model`` or a model nested anywhere inside it."""
    if other is model:
        return True
    stack = list(getattr(model, "layers", ()))
    while stack:
        layer = stack.pop()
        if layer is other:
            return True
        if isinstance(layer, keras.Model):
            stack.extend(layer.layers)
    return False


#: Head settings that do not change the model's structure (a rename keeps the trained weights).
_HEAD_SETTINGS = ("class_names", "loss", "metrics", "labels")
#: Those set() may change (``labels`` is settled from the data when the controller is made).
_SETTABLE_HEAD = ("class_names", "loss", "metrics")


def _defining(config: TransferConfig) -> dict[str, str]:
    """The settings a built model is made from, by dotted name, as JSON (tuples and lists alike)."""
    d = config.to_dict()
    head = {k: v for k, v in d["head"].items() if k not in _HEAD_SETTINGS}
    parts = {f"base.{k}": v for k, v in d["base"].items()}
    parts.update({f"preprocessing.{k}": v for k, v in d["preprocessing"].items()})
    parts.update({f"head.{k}": v for k, v in head.items()})
    parts["training.base_training"] = d["training"]["base_training"]
    return {k: json.dumps(v, sort_keys=True) for k, v in parts.items()}


def _same_model(current: FineTuneController, fresh: FineTuneController) -> bool:
    """Whether ``fresh`` assembles the same model as ``current`` (same base object or
    base spec, preprocessing, head structure and base training mode), so ``current``'s
    trained model can stand for it: class names, loss, learning rate, epochs and other
    settings that do not touch the structure may differ."""
    mine, theirs = _defining(current._config), _defining(fresh._config)
    same_specs = mine == theirs
    return same_specs and (fresh._config.base.source != "model" or fresh.base_model is current.base_model)


def _check_strategy(strategy: Any) -> None:
    if strategy is not None and not callable(getattr(strategy, "scope", None)):
        raise ConfigError(
            [
                f"strategy must be a tf.distribute.Strategy object (e.g. tf.distribute.MirroredStrategy()), "
                f"got {type(strategy).__name__} {strategy!r}"[:200]
            ]
        )


def _data_kind(data: Any, name: str) -> DataKind:
    """The data's kind, refusing what would fail deep inside Keras (x as nested lists, ...)."""
    try:
        kind = kind_of(data)
    except TypeError as exc:
        raise ConfigError(
            [f"{name} must be (x, y) arrays, a batched tf.data.Dataset or a PyDataset: {exc}"]
        ) from None
    if kind == "arrays":
        for part, value in zip(("x", "y"), data, strict=True):
            if value is not None and not hasattr(value, "shape"):
                raise ConfigError(
                    [
                        f"{name}.{part} is a {type(value).__name__}, not an array: pass a numpy array "
                        f"(np.asarray({part}, dtype='float32'))"
                    ]
                )
    return kind


def _check_dataset(data: Any, name: str, sample_rank: int) -> None:
    """A tf.data dataset that is not batched, or repeats forever, says so before a run."""
    if kind_of(data) != "tf.data":
        return
    import tensorflow as tf

    spec = data.element_spec
    x_spec = spec[0] if isinstance(spec, (tuple, list)) else spec
    rank = getattr(x_spec, "shape", None)
    if rank is not None and rank.rank is not None and rank.rank == sample_rank:
        raise ConfigError(
            [f"{name} is a tf.data.Dataset of single samples (not batched): call .batch(batch_size) on it"]
        )
    if int(data.cardinality()) == int(tf.data.INFINITE_CARDINALITY):
        raise ConfigError(
            [
                f"{name} repeats forever (.repeat() without a count): an epoch would never end; "
                "drop .repeat() or limit it with .take(n)"
            ]
        )


def _check_input_shape(base: keras.Model, wanted: Any) -> None:
    have = tuple(base.input_shape[1:]) if hasattr(base, "input_shape") else None
    if have is not None and tuple(wanted) != have and any(d is not None for d in have):
        raise ConfigError(
            [
                f"base.input_shape is {tuple(wanted)} but the in-memory base takes {have}: an in-memory "
                "model keeps its own input shape; leave base.input_shape unset or rebuild the base"
            ]
        )


def _check_writable(folder: str) -> None:
    try:
        os.makedirs(folder, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise ConfigError(
            [
                f"cache_dir {folder!r} cannot hold the feature cache ({exc.strerror or exc}): "
                "pick a writable folder"
            ]
        ) from None


def _head_layers(head: Any) -> list[HeadLayerSpec]:
    if isinstance(head, HeadSpec):
        return list(head.layers)
    if isinstance(head, (str, dict)) or not isinstance(head, (list, tuple)):
        hint = f": did you mean head=[{head!r}]?" if isinstance(head, (str, dict)) else ""
        raise ConfigError(
            [
                "head must be a list of layers (HeadLayerSpec, dicts or layer type names) or a HeadSpec, "
                f"got {type(head).__name__}{hint}"
            ]
        )
    out: list[HeadLayerSpec] = []
    for i, item in enumerate(head):
        if isinstance(item, HeadLayerSpec):
            out.append(item)
        elif isinstance(item, dict):
            try:
                out.append(HeadLayerSpec(**item))
            except TypeError as exc:
                raise ConfigError([f"head.layers[{i}] {exc}"]) from None
        elif isinstance(item, str):
            out.append(HeadLayerSpec(item))
        else:
            raise ConfigError(
                [
                    f"head.layers[{i}] must be a HeadLayerSpec, a dict or a layer type name, "
                    f"got {type(item).__name__}"
                ]
            )
    return out


def _infer_num_classes(info: DataInfo, name: str) -> int | None:
    """Classes from the labels: one-hot width, or the largest index + 1 unless that is far
    more than the labels that occur (one stray label would make a huge head)."""
    y = info.y
    if y is None or not hasattr(y, "ndim") or y.size == 0:
        return None
    if y.ndim == 2 and y.shape[1] > 1:
        return int(y.shape[1])
    if info.complete and np.issubdtype(y.dtype, np.integer):
        n = max(2, int(y.max()) + 1)
        distinct = len(np.unique(y))
        if n > 4 * distinct + 10:
            raise ConfigError(
                [
                    f"head.num_classes: the largest label in {name}.y is {int(y.max())}, which would make "
                    f"{n} classes, but only {distinct} distinct labels occur: pass num_classes= or fix "
                    "the labels"
                ]
            )
        return n
    return None


def _check_callbacks(callbacks: Any) -> None:
    if callbacks is None:
        return
    if not isinstance(callbacks, (list, tuple)):
        raise ConfigError(
            [f"callbacks must be a list of keras.callbacks.Callback, got {type(callbacks).__name__}"]
        )
    for i, cb in enumerate(callbacks):
        if not isinstance(cb, keras.callbacks.Callback):
            raise ConfigError(
                [f"callbacks[{i}] must be a keras.callbacks.Callback, got {type(cb).__name__} {cb!r}"[:200]]
            )


def _check_run_args(**values: Any) -> None:
    problems: list[str] = []
    for name, v in values.items():
        if name.endswith("epochs"):
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                problems.append(f"{name} must be a non-negative integer, got {v!r}")
        elif not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v) or v <= 0:
            problems.append(f"{name} must be a positive number, got {v!r}")
    if problems:
        raise ConfigError(problems)


def _batches_per_epoch(data: Any, batch_size: int) -> int:
    kind = kind_of(data)
    if kind == "arrays":
        return math.ceil(len(data[0]) / batch_size)
    if kind == "pydataset":
        return len(data)
    n = int(data.cardinality())
    return n if n > 0 else 1


def _clone_into_scope(base: keras.Model) -> keras.Model:
    """A copy of ``base`` whose variables belong to the current distribution scope."""
    plan = freeze_plan_from_model(base)
    clone = keras.models.clone_model(base)
    clone.set_weights(base.get_weights())
    apply_freeze_plan(plan, clone)
    return clone


def _suggest(lrs: list[float], losses: list[float]) -> LRFindResult:
    """The sweep's suggestion: the one rule in :func:`.lr_finder.suggest_learning_rate`."""
    return suggest_learning_rate(lrs, losses)
