"""transfer-widgets: see a Keras model, choose what trains, fine-tune it in Jupyter."""

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
    "LayerNode",
    "LayerTree",
    "ModelTree",
    "UnknownLayerError",
    "freeze_all",
    "freeze_up_to",
    "inspect_model",
    "set_trainable",
    "unfreeze_all",
]


def _jupyter_labextension_paths():
    """Where JupyterLab finds the prebuilt plugin (used by `jupyter labextension develop`)."""
    return [{"src": "labextension", "dest": "transfer-widgets"}]


def __getattr__(name):
    # The widget pulls in anywidget/ipywidgets; import it only when asked for.
    if name == "LayerTree":
        from .widgets.layer_tree import LayerTree

        return LayerTree
    raise AttributeError(f"module 'transfer_widgets' has no attribute {name!r}")
