"""Model-side logic with no widgets: inspection, block grouping, freezing."""

from .freeze import freeze_all, freeze_up_to, set_many, set_trainable, toggle, unfreeze_all
from .freeze_plan import apply_freeze_plan, freeze_plan_from_model
from .inspect import LayerNode, ModelTree, UnknownLayerError, inspect_model

__all__ = [
    "LayerNode",
    "ModelTree",
    "UnknownLayerError",
    "apply_freeze_plan",
    "freeze_all",
    "freeze_plan_from_model",
    "freeze_up_to",
    "inspect_model",
    "set_many",
    "set_trainable",
    "toggle",
    "unfreeze_all",
]
