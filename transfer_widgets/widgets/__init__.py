"""Jupyter widgets: thin views over the model-side logic."""

from .layer_tree import LayerTree

__all__ = ["LayerTree"]
