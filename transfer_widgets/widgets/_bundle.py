"""Base class for widgets whose front end is a built anywidget bundle in ``static/``,
what a controller offers the widgets that follow it, and the one subscription
each widget holds."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import anywidget
import keras

from ..config import TransferConfig
from ..model import freeze
from ..model.inspect import LayerNode, ModelTree
from ..training.controller import ReadOnlyConfig
from ..training.events import EventStream, Subscriber

STATIC = Path(__file__).resolve().parent.parent / "static"


@runtime_checkable
class Controller(Protocol):
    """What a widget uses of a :class:`~transfer_widgets.FineTuneController`: widgets given
    one follow it (its model, config and runs) rather than a fixed model."""

    model: keras.Model
    base_model: keras.Model
    events: EventStream
    input_shape: tuple[int, ...]
    feature_shape: tuple[int | None, ...]

    @property
    def config(self) -> TransferConfig | ReadOnlyConfig: ...

    @property
    def running(self) -> bool: ...

    @property
    def state(self) -> str: ...

    def edit_flags(
        self,
        operation: Callable[..., Any],
        target: ModelTree | keras.Model | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> Any: ...

    def set_many(self, paths: Sequence[str | LayerNode], flag: bool, keep_bn_frozen: bool = True) -> None: ...

    def apply_head(self, head: Any, augmentation: Any = None) -> None: ...

    def set(self, field_path: str, value: Any) -> None: ...

    def load_config(
        self, config: Any, base_model: Any = None, *, train_data: Any = None, validation_data: Any = None
    ) -> None: ...

    def export_code(self, kind: str = "script", *, two_phase: bool | None = None) -> str: ...


def read_static(name: str) -> str:
    """A built front-end file from ``static/``, or an error that says how to build it."""
    path = STATIC / name
    if not path.exists():
        raise RuntimeError(
            f"The front-end bundle {name} is missing from {STATIC}. Build it with "
            "`npm --prefix labextension ci && npm --prefix labextension run build`, "
            "or install the package with `pip install .`, which builds it."
        )
    return path.read_text(encoding="utf-8")


def is_controller(obj: object) -> bool:
    """True for a :class:`~transfer_widgets.FineTuneController` (or anything with its API)."""
    return isinstance(obj, Controller)


class BundledWidget(anywidget.AnyWidget):
    """An anywidget whose ``_esm`` / ``_css`` come from ``static/<_bundle>.js|.css``.

    The bundles are built by ``npm run build`` in ``labextension/`` (``pip install .``
    runs it). They are read when the first widget is made, so a source checkout
    without them fails with that advice instead of showing an empty output.

    A widget is told about changes through one subscription (:meth:`_follow`),
    dropped in one place (:meth:`close`).
    """

    _bundle: str = ""
    _unsubscribe: Callable[[], None] | None = None

    def __init__(self, **kwargs: Any):
        cls = type(self)
        if "_esm" not in cls.__dict__:
            cls._esm = read_static(f"{self._bundle}.js")
            css = STATIC / f"{self._bundle}.css"
            if css.exists():
                cls._css = css.read_text(encoding="utf-8")
        super().__init__(**kwargs)

    def _follow(
        self,
        controller: Controller | None,
        on_events: Subscriber,
        on_flags: freeze.FlagListener | None = None,
    ) -> None:
        """Subscribe once: to the controller's event stream (runs, flag and config
        changes all arrive there), or without a controller to the freezing API's flag
        changes (``on_flags``, a bound method: it is held weakly)."""
        if controller is not None:
            self._unsubscribe = controller.events.subscribe(on_events)
        elif on_flags is not None:
            self._unsubscribe = freeze.subscribe(on_flags)

    def close(self) -> None:
        unsubscribe, self._unsubscribe = self._unsubscribe, None
        if unsubscribe is not None:  # also after a failed __init__
            unsubscribe()
        super().close()
