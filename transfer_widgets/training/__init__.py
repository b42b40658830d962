"""Training: the controller (state machine, background fit), its callbacks and
event stream, preflight checks, and cached features for feature extraction."""

from .controller import ControllerBusyError, FineTuneController, LRFindResult, TrainingError
from .events import EventStream
from .preflight import PreflightError

__all__ = [
    "ControllerBusyError",
    "EventStream",
    "FineTuneController",
    "LRFindResult",
    "PreflightError",
    "TrainingError",
]
