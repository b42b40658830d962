"""Writing an export to disk: the script, the in-memory base it starts from, and
the model the session trained (kept apart, for reference)."""

from __future__ import annotations

import os
from pathlib import Path

import keras

from .codegen import render_script
from .plan import ExperimentSnapshot, SnapshotSource, as_snapshot, plan_from_snapshot


def export_script(
    source: ExperimentSnapshot | SnapshotSource,
    path: str | os.PathLike[str],
    *,
    two_phase: bool | None = None,
    run: int | None = None,
    overwrite: bool = False,
) -> Path:
    """Write the experiment (a snapshot, or a controller's) as a script at ``path``. An
    in-memory base is saved beside it as ``<script name>_base.keras`` with the weights it
    had before the session's first run (the script's starting point); when the script
    renders a run, the model that run trained is saved as ``<script name>_trained.keras``,
    which the script names but never reads. Returns the script's path.

    An existing file (the script or a model beside it) is replaced only with
    ``overwrite=True``; otherwise :class:`FileExistsError` names it and nothing is written."""
    path = Path(os.fspath(path))
    if path.suffix != ".py":
        raise ValueError(f"path must end in .py, got {str(path)!r}")
    snapshot = as_snapshot(source)
    plan = plan_from_snapshot(
        snapshot,
        two_phase=two_phase,
        run=run,
        base_file=f"{path.stem}_base.keras",
        trained_file=f"{path.stem}_trained.keras",
    )
    text = render_script(plan)
    trained_model = snapshot.trained_model
    trained = plan.trained_file if trained_model is not None else None
    targets = [path] + [path.with_name(f) for f in (plan.base_file, trained) if f is not None]
    existing = [str(p) for p in targets if p.exists()]
    if existing and not overwrite:
        raise FileExistsError(
            f"export_script would overwrite {', '.join(existing)}: pass overwrite=True to replace "
            "it, or choose another path."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    if plan.base_file is not None:
        base_as_loaded(snapshot).save(path.with_name(plan.base_file))
    if trained is not None and trained_model is not None:
        trained_model.save(path.with_name(trained))
    path.write_text(text, encoding="utf-8")
    return path


def base_as_loaded(snapshot: ExperimentSnapshot) -> keras.Model:
    """The base with the weights it had before the session's first run (the live base
    itself when nothing has trained it), without touching the live one."""
    base = snapshot.base_model
    if snapshot.initial_base_weights is None:
        return base
    copy = keras.models.clone_model(base)
    copy.set_weights(snapshot.initial_base_weights)
    copy.trainable = base.trainable
    return copy
