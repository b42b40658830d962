"""A notebook cell that rebuilds an experiment inside the notebook it was exported from.

The other exports stand alone (a script loads its own data and base model). This one
runs in the live notebook, next to the objects the experiment was built from: it
names them as the notebook does (``base``, ``x_train``), or loads the copies the
export panel saved beside the notebook, and rebuilds the controller from the saved
config. Every value goes into the code through ``repr()`` or as a name checked to be
an identifier, never as raw text.
"""

from __future__ import annotations

import json
import keyword
import pprint
from dataclasses import dataclass

from ..config import TransferConfig


@dataclass(frozen=True)
class LiveSources:
    """Python expressions for what the config cannot rebuild by itself.

    ``base``: the in-memory base model (None when the config builds it: an application
    or a file); ``train`` / ``validation``: the data (None when the config loads it, or
    there is none); ``imports``: the import lines those expressions need.
    """

    base: str | None = None
    train: str | None = None
    validation: str | None = None
    imports: tuple[str, ...] = ()


def is_name(text: str) -> bool:
    """A plain Python variable name (what a reference to a notebook object may be)."""
    return text.isidentifier() and not keyword.iskeyword(text)


def live_cell(config: TransferConfig, sources: LiveSources, target: str = "rebuilt") -> str:
    """The cell: ``target = FineTuneController.from_config(config, base_model=..., ...)``."""
    if not is_name(target):
        raise ValueError(f"target must be a Python name, got {target!r}")
    # Through JSON: plain dicts, lists, str, numbers, bools and None, each written by repr().
    settings = pprint.pformat(json.loads(config.to_json()), width=100, sort_dicts=False)
    arguments = ["    config,"]
    for keyword_, value in (
        ("base_model", sources.base),
        ("train_data", sources.train),
        ("validation_data", sources.validation),
    ):
        if value is not None:
            arguments.append(f"    {keyword_}={value},")
    lines = [
        "# Rebuild the experiment shown in the export panel, in this notebook, from its own objects",
        "# (transfer-widgets). The controller's settings, head and freeze plan are the config below.",
        *sorted(set(sources.imports)),
        "from transfer_widgets import FineTuneController, TransferConfig",
        "",
        f"config = TransferConfig.from_dict({settings})",
        f"{target} = FineTuneController.from_config(",
        *arguments,
        ")",
        target,
    ]
    return "\n".join(lines) + "\n"
