"""Jupyter widgets: thin views over the model-side logic."""

from .data_view import DataView
from .export_panel import ExportPanel
from .head_designer import HeadDesigner
from .layer_tree import LayerTree
from .mistakes import Mistakes
from .training_monitor import TrainingMonitor

__all__ = ["DataView", "ExportPanel", "HeadDesigner", "LayerTree", "Mistakes", "TrainingMonitor"]
