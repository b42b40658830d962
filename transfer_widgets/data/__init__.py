"""Data: adapters that read what users pass (arrays, tf.data, PyDataset, folders),
and small demo datasets that work offline (``transfer_widgets.datasets``)."""

from . import datasets
from .adapters import DataInfo, describe, feature_batches, from_spec

__all__ = ["DataInfo", "datasets", "describe", "feature_batches", "from_spec"]
