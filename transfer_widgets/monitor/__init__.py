"""Pure logic behind the training monitor, testable without a front end:
decimation (LTTB), smoothing, throughput / ETA, the event-fed monitor state,
confusion matrices and history export."""

from ..training.smoothing import RunningEMA, ema
from .decimate import lttb
from .format import format_learning_rate
from .history import history_to_csv, history_to_dataframe
from .state import MonitorState, Throughput, confusion_matrix, per_class_accuracy

__all__ = [
    "MonitorState",
    "RunningEMA",
    "Throughput",
    "confusion_matrix",
    "ema",
    "format_learning_rate",
    "history_to_csv",
    "history_to_dataframe",
    "lttb",
    "per_class_accuracy",
]
