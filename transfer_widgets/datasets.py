"""Offline demo data for tutorials and tests, in one namespace: the digits and
their helpers (:mod:`transfer_widgets.data.datasets`) and the transfer-vs-scratch
demo experiment (:mod:`transfer_widgets.training.demo`), which needs the controller."""

from .data.datasets import (
    DEMO_SOURCES,
    DEMOS,
    few_per_class,
    load_digits,
    place_randomly,
    small_cnn,
    write_image_folder,
)
from .training.demo import transfer_demo

__all__ = [
    "DEMOS",
    "DEMO_SOURCES",
    "few_per_class",
    "load_digits",
    "place_randomly",
    "small_cnn",
    "transfer_demo",
    "write_image_folder",
]
