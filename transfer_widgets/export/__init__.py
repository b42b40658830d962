"""Export: the experiment as code that reproduces it (script, notebook, cell) or as
JSON (``TransferConfig.to_json()``, loaded back by ``FineTuneController.from_config``).

- :mod:`.plan`: what is read from a controller (config, built layers) as plain data;
- :mod:`.codegen`: a plan rendered as code text;
- :mod:`.files`: the script written to disk with the in-memory base beside it;
- :mod:`.describe`: a model as plain data, to check a rebuilt model against the experiment;
- :mod:`.restore`: a controller rebuilt from a config.
"""

from __future__ import annotations

from .codegen import KINDS, render
from .files import export_script
from .plan import ExportPlan, LayerCall, plan_from_controller


def export_code(controller, kind: str = "script", *, two_phase: bool | None = None) -> str:
    """``controller``'s experiment as "script", "notebook" (JSON text), "cell" or "json"."""
    if kind == "json":
        return controller.config.to_json()
    if kind not in KINDS:
        raise ValueError(f"kind must be one of 'script', 'notebook', 'cell', 'json', got {kind!r}")
    return render(plan_from_controller(controller, two_phase=two_phase), kind)


__all__ = ["ExportPlan", "LayerCall", "export_code", "export_script", "plan_from_controller", "render"]
