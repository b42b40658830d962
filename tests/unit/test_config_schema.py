"""The JSON Schema shipped in the package (transfer_widgets/schema/transfer_config.schema.json)
is what the config's annotations give, and saved configs validate against it."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema  # type: ignore[import-untyped, unused-ignore]
import pytest

from transfer_widgets.config import SCHEMA_FILE, SCHEMA_ID, ConfigError, TransferConfig

from ..scripts import load_script
from .test_config import full_config


@pytest.fixture(scope="module")
def gen() -> ModuleType:
    return load_script("generate_config_schema")


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return loaded


def test_schema_file_is_up_to_date(gen: ModuleType) -> None:
    assert gen.SCHEMA == SCHEMA_FILE
    committed = SCHEMA_FILE.read_text(encoding="utf-8")
    assert committed == gen.render(), (
        "the schema is out of date: run `python scripts/generate_config_schema.py`"
    )


def test_check_command_exit_code(gen: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    said: list[str] = []
    assert gen.main(["--check"], out=said.append) == 0
    stale = tmp_path / "transfer_config.schema.json"
    monkeypatch.setattr(gen, "SCHEMA", stale)
    assert gen.main(["--check"], out=said.append) == 1  # missing
    stale.write_text(gen.render() + " ", encoding="utf-8")
    assert gen.main(["--check"], out=said.append) == 1  # stale
    assert "out of date" in said[-1]
    assert gen.main([], out=said.append) == 0
    assert gen.main(["--check"], out=said.append) == 0


def test_schema_is_draft_2020_12_with_docs(schema: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == SCHEMA_ID
    assert schema["title"] == "TransferConfig" and schema["description"]
    units = schema["$defs"]["HeadLayerSpec"]["properties"]["units"]
    assert "dense" in units["description"]
    batch = schema["$defs"]["TrainingSpec"]["properties"]["batch_size"]
    assert batch["type"] == "integer" and batch["exclusiveMinimum"] == 0 and batch["default"] == 32
    assert schema["$defs"]["HeadSpec"]["properties"]["task"]["enum"] == [
        "multiclass",
        "binary",
        "multilabel",
        "regression",
    ]


def saved_configs() -> list[dict[str, Any]]:
    demo = TransferConfig()
    demo.data.source, demo.data.demo, demo.data.validation_split = "demo", "digits", 0.25
    demo.base.source, demo.base.name, demo.base.input_shape = "application", "MobileNetV2", (32, 32, 3)
    demo.preprocessing.mode, demo.preprocessing.family = "preprocess_input", "mobilenet_v2"
    demo.freeze.kind, demo.freeze.boundary = "boundary", "block_13_expand"
    demo.head.task, demo.head.num_classes, demo.head.class_names = "binary", 2, ["cat", "dog"]
    configs = [TransferConfig(), full_config(), demo]
    assert all(c.validate() == [] for c in configs)
    return [json.loads(c.to_json()) for c in configs]


def test_saved_configs_validate_against_the_schema(schema: dict[str, Any]) -> None:
    validator = jsonschema.Draft202012Validator(schema)
    for data in saved_configs():
        assert list(validator.iter_errors(data)) == []
        assert list(validator.iter_errors({"$schema": "./transfer_config.schema.json", **data})) == []


def test_schema_rejects_what_from_dict_or_validate_rejects(schema: dict[str, Any]) -> None:
    validator = jsonschema.Draft202012Validator(schema)
    for edit in (
        lambda d: d["head"].update(layres=[]),  # unknown key: from_dict
        lambda d: d["head"]["layers"][0].pop("type"),  # required key: from_dict
        lambda d: d["training"].update(batch_size=0),  # validate()
        lambda d: d["training"].update(nan_guard="yes"),
        lambda d: d["head"].update(task="segmentation"),
        lambda d: d.update(version=2),
    ):
        data = json.loads(TransferConfig().to_json())
        edit(data)
        assert list(validator.iter_errors(data)), data
        with pytest.raises(ConfigError):
            TransferConfig.from_dict(data).check()


def test_a_saved_config_may_name_its_schema() -> None:
    data = {"$schema": SCHEMA_FILE.as_uri(), **json.loads(full_config().to_json())}
    assert TransferConfig.from_dict(data) == full_config()
    assert "$schema" not in TransferConfig().to_json()  # saved files stay as they were; naming it is opt-in


def test_the_wheel_ships_the_schema() -> None:
    """hatchling's ``packages = ["transfer_widgets"]`` takes every file under the package
    that git does not ignore; the schema is one, inside the package folder."""
    package = Path(__file__).resolve().parents[2] / "transfer_widgets"
    assert SCHEMA_FILE.is_file() and SCHEMA_FILE.is_relative_to(package)
