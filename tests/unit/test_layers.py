"""The package's structure: imports point one way (scripts/check_layers.py), and the
names config.py lists for lower-level modules match what those modules provide."""

from __future__ import annotations

from transfer_widgets import config
from transfer_widgets.data.datasets import DEMOS
from transfer_widgets.model.assemble import PREPROCESS_FAMILIES

from ..scripts import load_script


def _checker():
    return load_script("check_layers")


def test_imports_point_one_way_with_no_cycle():
    problems, between = _checker().problems()
    assert problems == []
    assert ("widgets", "training") in between  # the check reads real imports


def test_the_check_finds_an_upward_import_and_a_cycle(tmp_path, monkeypatch):
    checker = _checker()
    package = tmp_path / "transfer_widgets"
    (package / "model").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "config.py").write_text("from .model import head\n")
    (package / "model" / "__init__.py").write_text("")
    (package / "model" / "head.py").write_text("def f():\n    from ..config import X\n")
    monkeypatch.setattr(checker, "ROOT", package)
    problems, _ = checker.problems()
    assert any(
        "config (config) imports transfer_widgets.model.head (model), a higher layer" in p for p in problems
    )
    assert any(p.startswith("import cycle of 2 modules") for p in problems)


def test_config_names_the_preprocessing_families_assemble_knows():
    assert set(config.PREPROCESS_FAMILIES) == set(PREPROCESS_FAMILIES)


def test_config_names_the_demos_data_loads():
    assert set(config.DEMO_NAMES) == set(DEMOS)
