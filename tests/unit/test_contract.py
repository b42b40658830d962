"""The TypeScript contract (labextension/src/widgets/shared/contract.ts) is what the
Python definitions give, and those definitions match what the widgets send."""

from __future__ import annotations

import json
import typing
from pathlib import Path
from types import ModuleType
from typing import Any, Literal, TypedDict

import pytest

from transfer_widgets.model import inspect as model_inspect
from transfer_widgets.widgets import protocol
from transfer_widgets.widgets.layer_tree import _state_code
from transfer_widgets.widgets.protocol import FlagCode

from ..scripts import load_script


@pytest.fixture(scope="module")
def gen() -> ModuleType:
    return load_script("generate_contract")


def test_contract_ts_is_up_to_date(gen: ModuleType) -> None:
    committed = gen.CONTRACT.read_text(encoding="utf-8")
    assert committed == gen.render(), "contract.ts is out of date: run `python scripts/generate_contract.py`"


def test_check_fails_on_a_stale_or_missing_file(gen: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "contract.ts"
    assert not gen.check(path)
    path.write_text(gen.render().replace("MIXED: 2", "MIXED: 3"), encoding="utf-8")
    assert not gen.check(path)
    path.write_text(gen.render(), encoding="utf-8")
    assert gen.check(path)


def test_check_command_exit_code(gen: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    said: list[str] = []
    assert gen.main(["--check"], out=said.append) == 0
    monkeypatch.setattr(gen, "CONTRACT", tmp_path / "contract.ts")
    assert gen.main(["--check"], out=said.append) == 1
    assert "out of date" in said[-1]
    assert gen.main([], out=said.append) == 0
    assert gen.main(["--check"], out=said.append) == 0


def test_every_export_reaches_typescript(gen: ModuleType) -> None:
    text = gen.render()
    for name in protocol.__all__:
        assert f"export type {name} " in text or f"export interface {name} " in text, name
    assert "export const FlagCode = { FROZEN: 0, TRAINABLE: 1, MIXED: 2 } as const;" in text


def test_flag_codes_are_what_the_layer_tree_sends() -> None:
    assert [_state_code(False), _state_code(True), _state_code(None)] == [0, 1, 2]
    assert [FlagCode.of(False), FlagCode.of(True), FlagCode.of(None)] == [
        FlagCode.FROZEN,
        FlagCode.TRAINABLE,
        FlagCode.MIXED,
    ]
    assert json.dumps([_state_code(None)]) == "[2]"  # plain JSON numbers on the wire


def test_node_kinds_match_the_inspector() -> None:
    kinds = {model_inspect.MODEL, model_inspect.BLOCK, model_inspect.LAYER}
    assert set(typing.get_args(protocol.NodeKind)) == kinds


class _Inner(TypedDict):
    a: int


@pytest.mark.parametrize(
    ("hint", "ts"),
    [
        (int, "number"),
        (float | None, "number | null"),
        (int | float | str, "number | string"),
        (list[str | None], "(string | null)[]"),
        (dict[str, list[bool]], "Record<string, boolean[]>"),
        (Literal["a", "b's"], "'a' | 'b\\'s'"),
        (Literal[1, True] | None, "1 | true | null"),
        (Any, "unknown"),
        (list[_Inner], "Inner[]"),
    ],
)
def test_type_conversion(gen: ModuleType, hint: Any, ts: str) -> None:
    assert gen._Converter({"Inner": _Inner})(hint) == ts


def test_unknown_types_are_refused(gen: ModuleType) -> None:
    with pytest.raises(TypeError, match="no TypeScript type"):
        gen._Converter({})(set[int])
