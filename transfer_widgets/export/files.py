"""Writing an export to disk: the script, and the in-memory base it loads."""

from __future__ import annotations

import os
from pathlib import Path

from .codegen import render_script
from .plan import ExperimentSnapshot, SnapshotSource, as_snapshot, plan_from_snapshot


def export_script(
    source: ExperimentSnapshot | SnapshotSource,
    path: str | os.PathLike[str],
    *,
    two_phase: bool | None = None,
    overwrite: bool = False,
) -> Path:
    """Write the experiment (a snapshot, or a controller's) as a script at ``path``; an
    in-memory base is saved beside it as ``<script name>_base.keras``. Returns the script's path.

    An existing file (the script or the base beside it) is replaced only with
    ``overwrite=True``; otherwise :class:`FileExistsError` names it and nothing is written."""
    path = Path(os.fspath(path))
    if path.suffix != ".py":
        raise ValueError(f"path must end in .py, got {str(path)!r}")
    base_file = f"{path.stem}_base.keras"
    snapshot = as_snapshot(source)
    plan = plan_from_snapshot(snapshot, two_phase=two_phase, base_file=base_file)
    text = render_script(plan)
    targets = [path] if plan.base_file is None else [path, path.with_name(plan.base_file)]
    existing = [str(p) for p in targets if p.exists()]
    if existing and not overwrite:
        raise FileExistsError(
            f"export_script would overwrite {', '.join(existing)}: pass overwrite=True to replace "
            "it, or choose another path."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    if plan.base_file is not None:
        snapshot.base_model.save(path.with_name(plan.base_file))
    path.write_text(text, encoding="utf-8")
    return path
