"""Group a container's layers into collapsible blocks by their names.

Keras applications name the layers of one block with a shared prefix
(``block_13_expand`` in MobileNetV2, ``conv4_block2_1_conv`` in ResNet50,
``block6a_se_excite`` in EfficientNet) or, in NASNet, a shared cell suffix
(``normal_add_1_5``). This module finds those runs from names alone, so a
150-layer backbone reads as about twenty rows. It is pure string work: no Keras.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import TypeAlias

MIN_BLOCK_SIZE = 3
MAX_NESTING = 2
#: In cell-suffix grouping, at most this many layers of another cell inside a cell's run
#: join it (NASNet builds the next cell's ``adjust_relu_1_stem_2`` amid ``stem_1``).
MAX_INTERLOPERS = 2
_AUTO_NAME = re.compile(r"(.+?)(?:_\d+)?", re.DOTALL)
_HAS_DIGIT = re.compile(r"\d")

#: A name's block key (:func:`prefix_key` or :func:`suffix_key`), or None.
KeyFunction: TypeAlias = Callable[[str], str | None]


@dataclass
class Group:
    """A run of consecutive items: a block (``label`` set) or a lone item."""

    items: list[int]
    label: str | None = None
    suffix: bool = False  # True when the label is a shared suffix (NASNet cells)
    children: list[Group] = field(default_factory=list)


@cache
def snake_case(class_name: str) -> str:
    """Keras's auto-name for a class: ``ReLU`` -> ``re_lu``, ``Conv2D`` -> ``conv2d``."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", class_name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def is_auto_name(name: str, class_name: str) -> bool:
    """True for names Keras made up (``activation_12``): they carry no block."""
    match = _AUTO_NAME.fullmatch(name)  # None only for an empty name, which Keras allows
    return match is not None and match.group(1) == snake_case(class_name)


def prefix_key(name: str) -> str | None:
    """The block a name belongs to by prefix, or None.

    The key runs up to the first token holding a digit (``block_13``, ``conv4``,
    ``block6a``) when more tokens follow; other names key on their first token
    (``stem_conv`` -> ``stem``).
    """
    tokens = name.split("_")
    if len(tokens) < 2:
        return None
    for i, token in enumerate(tokens[:-1]):
        if _HAS_DIGIT.search(token):
            return "_".join(tokens[: i + 1])
    return tokens[0]


def suffix_key(name: str) -> str | None:
    """The cell a name belongs to by suffix (NASNet's ``..._5``), or None."""
    tokens = name.split("_")
    if len(tokens) < 2 or not tokens[-1].isdigit():
        return None
    return tokens[-1]


def group_names(names: list[str], class_names: list[str]) -> list[Group]:
    """Group items (given by name and class) into blocks, keeping their order.

    Tries prefix and suffix grouping and keeps whichever shows fewer rows.
    """
    auto = [is_auto_name(n, c) for n, c in zip(names, class_names, strict=True)]
    by_prefix = _group(names, auto, prefix_key, suffix=False, depth=1)
    named = [n for n, a in zip(names, auto, strict=True) if not a]
    if sum(suffix_key(n) is not None for n in named) * 2 < len(named):
        return by_prefix  # too few cell suffixes to be worth a second grouping
    by_suffix = _group(names, auto, suffix_key, suffix=True, depth=MAX_NESTING)
    return by_suffix if len(by_suffix) < len(by_prefix) else by_prefix


def _group(
    names: list[str],
    auto: list[bool],
    key_of: KeyFunction,
    *,
    suffix: bool,
    depth: int,
    offset: str = "",
) -> list[Group]:
    # None marks a Keras-made name, which may join the block around it; a named
    # layer without a key gets a key of its own, so it stands alone.
    keys: list[str | None] = [
        None if a else key_of(n[len(offset) :]) or f"\0{i}"
        for i, (n, a) in enumerate(zip(names, auto, strict=True))
    ]
    _absorb_auto_named(keys)
    own_keys = list(keys)  # before bridging: the label comes from the cell's own layers
    if suffix:
        _bridge_interlopers(keys)
    groups: list[Group] = []
    i = 0
    while i < len(names):
        key = keys[i]
        j = i + 1
        while key is not None and j < len(names) and keys[j] == key:
            j += 1
        run = list(range(i, j))
        if key is not None and len(run) >= MIN_BLOCK_SIZE:  # a run of 2+ always has a key
            named = [names[k] for k in run if not auto[k] and own_keys[k] == key]
            digit_key = not suffix and _HAS_DIGIT.search(key)
            label = offset + key if digit_key else _common_affix(named, suffix)
            group = Group(run, label, suffix)
            if not suffix and depth < MAX_NESTING:
                group.children = _nest(run, label, names, auto, key_of, depth)
            groups.append(group)
        else:
            groups.extend(Group([k]) for k in run)
        i = j
    return groups


def _nest(
    items: list[int], label: str, names: list[str], auto: list[bool], key_of: KeyFunction, depth: int
) -> list[Group]:
    """Sub-blocks inside the block ``label`` of ``items`` (ResNet's ``conv4`` ->
    ``conv4_block2``), if any."""
    sub_names = [names[k] for k in items]
    sub_auto = [auto[k] for k in items]
    inner = _group(sub_names, sub_auto, key_of, suffix=False, depth=depth + 1, offset=label + "_")
    if sum(1 for g in inner if g.label) < 2:
        return []
    for g in inner:
        g.items = [items[k] for k in g.items]
        _remap(g.children, items)
    return inner


def _remap(groups: list[Group], items: list[int]) -> None:
    for g in groups:
        g.items = [items[k] for k in g.items]
        _remap(g.children, items)


def _absorb_auto_named(keys: list[str | None]) -> None:
    """Keras-named items (key None) between two items of one block join that block."""
    i = 0
    while i < len(keys):
        if keys[i] is None and i > 0 and keys[i - 1] is not None:
            j = i
            while j < len(keys) and keys[j] is None:
                j += 1
            if j < len(keys) and keys[j] == keys[i - 1]:
                for k in range(i, j):
                    keys[k] = keys[i - 1]
            i = j
        else:
            i += 1


def _bridge_interlopers(keys: list[str | None]) -> None:
    """A cell's run broken by at most :data:`MAX_INTERLOPERS` layers of another cell, then
    resumed, becomes one run: the layers in between are part of the cell's computation in
    the model's order, and the cell shows as one block instead of two of the same name."""
    i = 1
    while i < len(keys):
        key = keys[i - 1]
        if key is None or keys[i] == key:
            i += 1
            continue
        j = i
        while j < len(keys) and j - i < MAX_INTERLOPERS and keys[j] != key:
            j += 1
        start = i - 1
        while start > 0 and keys[start - 1] == key:
            start -= 1
        if j < len(keys) and keys[j] == key and i - start >= MIN_BLOCK_SIZE:
            for k in range(i, j):
                keys[k] = key
        i = max(i + 1, j)


def _common_affix(names: list[str], suffix: bool) -> str:
    """Longest shared run of whole ``_`` tokens at the start (or end) of names."""
    token_lists = [n.split("_") for n in names]
    if suffix:
        token_lists = [t[::-1] for t in token_lists]
    common: list[str] = []
    for tokens in zip(*token_lists, strict=False):  # up to the shortest name
        if any(t != tokens[0] for t in tokens):
            break
        common.append(tokens[0])
    if suffix:
        common.reverse()
    return "_".join(common)
