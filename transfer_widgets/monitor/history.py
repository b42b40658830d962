"""The controller's history (a dict of equal-length lists) as CSV or a DataFrame.

Columns come as ``epoch`` (Keras's, across runs), ``run``, ``run_epoch`` (0-based
within the run), ``phase``, then the logged values; rows are complete epochs only."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    import pandas as pd

#: Column name -> one value per epoch (None for a gap), as ``controller.history`` keeps it.
History: TypeAlias = Mapping[str, Sequence[Any]]


def _columns(history: History) -> list[str]:
    first = [k for k in ("epoch", "run", "run_epoch", "phase") if k in history]
    return first + [k for k in history if k not in first]


def history_to_csv(history: History, path: str | os.PathLike[str] | None = None) -> str:
    """The history as CSV text (one row per epoch, empty cells for gaps); also
    written to ``path`` when given."""
    cols = _columns(history)
    rows = max((len(v) for v in history.values()), default=0)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(cols)
    for i in range(rows):
        row: list[object] = []
        for c in cols:
            values = history[c]
            v = values[i] if i < len(values) else None
            row.append("" if v is None else (repr(v) if isinstance(v, float) else v))
        writer.writerow(row)
    text = buf.getvalue()
    if path is not None:
        with open(path, "w", newline="") as f:
            f.write(text)
    return text


def history_to_dataframe(history: History) -> pd.DataFrame:
    """The history as a pandas DataFrame (raises ImportError naming pandas if it is missing)."""
    try:
        import pandas as pd
    except ImportError as exc:  # pragma: no cover - pandas is installed in the test env
        raise ImportError(
            "history_to_dataframe needs pandas: pip install pandas (or use history_to_csv / the plain dict)"
        ) from exc
    return pd.DataFrame({c: history[c] for c in _columns(history)})
