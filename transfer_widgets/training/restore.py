"""A controller rebuilt from a saved config (JSON text, a JSON file, a dict or a
:class:`TransferConfig`)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from ..config import TransferConfig
from ..model.freeze_plan import apply_freeze_plan


class _Controller(Protocol):
    """What this module needs of a controller (imported from .controller it would make a cycle)."""

    base_model: Any


_C = TypeVar("_C", bound=_Controller)


def load_config(config: Any) -> TransferConfig:
    """``config`` as a :class:`TransferConfig`: JSON text, a path to a JSON file, a dict, or one already."""
    if isinstance(config, TransferConfig):
        return config.copy()
    if isinstance(config, dict):
        return TransferConfig.from_dict(config)
    if isinstance(config, os.PathLike) or (isinstance(config, str) and not config.lstrip().startswith("{")):
        with open(os.fspath(config), encoding="utf-8") as f:
            return TransferConfig.from_json(f.read())
    if isinstance(config, str):
        return TransferConfig.from_json(config)
    raise TypeError(
        f"config must be a TransferConfig, a dict, JSON text or a path, got {type(config).__name__}"
    )


def controller_from_config(cls: Callable[..., _C], config: Any, base_model: Any = None, **kwargs: Any) -> _C:
    """``cls(base_model, config=...)`` with the config's freeze plan on the base.

    A config whose base was in memory (``base.source == "model"``) needs that
    model again as ``base_model``; ``train_data`` / ``validation_data`` likewise
    for in-memory data."""
    cfg = load_config(config)
    controller = cls(base_model, config=cfg, **kwargs)
    if base_model is not None and not isinstance(base_model, str):
        apply_freeze_plan(cfg.freeze, controller.base_model)  # a passed model keeps its own flags otherwise
    return controller
