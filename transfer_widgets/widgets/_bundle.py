"""Base class for widgets whose front end is a built anywidget bundle in ``static/``,
and how a widget tells it was given a controller to follow."""

from __future__ import annotations

from pathlib import Path

import anywidget

STATIC = Path(__file__).resolve().parent.parent / "static"


class BundledWidget(anywidget.AnyWidget):
    """An anywidget whose ``_esm`` / ``_css`` come from ``static/<_bundle>.js|.css``.

    The bundles are built by ``npm run build`` in ``labextension/`` (``pip install .``
    runs it). They are read when the first widget is made, so a source checkout
    without them fails with that advice instead of showing an empty output.
    """

    _bundle: str = ""

    def __init__(self, **kwargs):
        cls = type(self)
        if "_esm" not in cls.__dict__:
            js, css = STATIC / f"{self._bundle}.js", STATIC / f"{self._bundle}.css"
            if not js.exists():
                raise RuntimeError(
                    f"The front-end bundle {js.name} is missing from {STATIC}. Build it with "
                    "`npm --prefix labextension ci && npm --prefix labextension run build`, "
                    "or install the package with `pip install .`, which builds it."
                )
            cls._esm = js.read_text(encoding="utf-8")
            if css.exists():
                cls._css = css.read_text(encoding="utf-8")
        super().__init__(**kwargs)


def is_controller(obj) -> bool:
    """True for a :class:`~transfer_widgets.FineTuneController` (or a stand-in with its API):
    widgets given one follow it rather than a fixed model."""
    return hasattr(obj, "apply_head") and hasattr(obj, "base_model") and hasattr(obj, "on_config_change")
