"""Export: the experiment as code that reproduces it (script, notebook, cell) or as
JSON (``TransferConfig.to_json()``, loaded back by ``FineTuneController.from_config``).

Export renders what a controller hands it (``controller.export_snapshot()``) and
never imports the controller:

- :mod:`.plan`: the snapshot type, and the plan read from it as plain data;
- :mod:`.codegen`: a plan rendered as code text;
- :mod:`.files`: the script written to disk with the in-memory base beside it;
- :mod:`.describe`: a model as plain data, to check a rebuilt model against the experiment.
"""

from __future__ import annotations

from ..config import TransferConfig
from .codegen import KINDS, render
from .files import export_script
from .plan import (
    ExperimentSnapshot,
    ExportPlan,
    LayerCall,
    SnapshotSource,
    as_snapshot,
    pick_run,
    plan_from_controller,
    plan_from_snapshot,
    run_config,
)


def export_code(
    source: ExperimentSnapshot | SnapshotSource,
    kind: str = "script",
    *,
    two_phase: bool | None = None,
    run: int | None = None,
) -> str:
    """The experiment (a snapshot, or a controller's) as "script", "notebook" (JSON text),
    "cell" or "json"; the code trains with the phases of the last run (``run``: another
    run's number) or, before any run or with ``two_phase``, the config's plan. "json" is
    the config as set (what ``load_config`` restores); :func:`export_config` gives a run's."""
    snapshot = as_snapshot(source)
    if kind == "json":
        return snapshot.config.to_json()
    if kind not in KINDS:
        raise ValueError(f"kind must be one of 'script', 'notebook', 'cell', 'json', got {kind!r}")
    return render(plan_from_snapshot(snapshot, two_phase=two_phase, run=run), kind)


def export_config(source: ExperimentSnapshot | SnapshotSource, run: int | None = None) -> TransferConfig:
    """The config that reproduces the last run (``run``: the run with that number): its
    effective settings written into the config (:func:`~.plan.run_config`); before any
    run, the config as set."""
    snapshot = as_snapshot(source)
    record = pick_run(snapshot.runs, run)
    return snapshot.config.copy() if record is None else run_config(snapshot.config, record)


__all__ = [
    "ExperimentSnapshot",
    "ExportPlan",
    "LayerCall",
    "SnapshotSource",
    "export_code",
    "export_config",
    "export_script",
    "plan_from_controller",
    "plan_from_snapshot",
    "render",
]
