"""transfer-widgets: see a Keras model, choose what trains, fine-tune it in Jupyter."""

from typing import Any

from .config import ConfigError, TransferConfig
from .model import (
    LayerNode,
    ModelTree,
    UnknownLayerError,
    freeze_all,
    freeze_up_to,
    inspect_model,
    set_trainable,
    unfreeze_all,
)

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "ControllerBusyError",
    "DataView",
    "ExportPanel",
    "FineTuneController",
    "HeadDesigner",
    "Interpretation",
    "LayerNode",
    "LayerTree",
    "Mistakes",
    "ModelTree",
    "PreflightError",
    "TrainingError",
    "TrainingMonitor",
    "TransferConfig",
    "TransferStudio",
    "UnknownLayerError",
    "datasets",
    "freeze_all",
    "freeze_up_to",
    "inspect_model",
    "set_trainable",
    "unfreeze_all",
]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """Where JupyterLab finds the prebuilt plugin (used by `jupyter labextension develop`)."""
    return [{"src": "labextension", "dest": "transfer-widgets"}]


def __getattr__(name: str) -> Any:
    # The controller and the demo data pull in TensorFlow's training stack; import them when asked for.
    if name in ("FineTuneController", "ControllerBusyError", "PreflightError", "TrainingError"):
        from . import training

        return getattr(training, name)
    if name == "datasets":
        import importlib

        return importlib.import_module(".datasets", __name__)
    # The widget pulls in anywidget/ipywidgets; import it only when asked for.
    if name == "LayerTree":
        from .widgets.layer_tree import LayerTree

        return LayerTree
    if name == "HeadDesigner":
        from .widgets.head_designer import HeadDesigner

        return HeadDesigner
    if name == "ExportPanel":
        from .widgets.export_panel import ExportPanel

        return ExportPanel
    if name == "DataView":
        from .widgets.data_view import DataView

        return DataView
    if name == "Interpretation":
        from .analysis import Interpretation

        return Interpretation
    if name == "Mistakes":
        from .widgets.mistakes import Mistakes

        return Mistakes
    if name == "TrainingMonitor":
        from .widgets.training_monitor import TrainingMonitor

        return TrainingMonitor
    if name == "TransferStudio":
        from .widgets.studio import TransferStudio

        return TransferStudio
    raise AttributeError(f"module 'transfer_widgets' has no attribute {name!r}")
