"""The labels of the national forms (``data/forms.json``), and what a cell of a form says.

A form is read by its labels: ``项目名称`` says the next cell is the name, ``年初预算数`` names a money
column, ``产出指标`` opens a branch of the indicator tree. Labels are matched on a normal form of the
cell — spaces removed (vertical labels are spaced: ``绩 效 指 标``), full-width brackets and colons made
half-width, a trailing colon dropped — so one entry in the data file covers how provinces print it.
A cell may be a label and a value at once (``年度资金总额:50万``): ``label_of`` returns both.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ...files import data_json

_WIDE = str.maketrans({"（": "(", "）": ")", "：": ":", "，": ",", "；": ";", "［": "[", "］": "]", "　": ""})
_SPACE = re.compile(r"\s+")


def normal(text: str) -> str:
    """A cell's text as labels are compared: no spaces, half-width brackets and colons.

    >>> normal("资金情况 （万元）：")
    '资金情况(万元):'
    """
    return _SPACE.sub("", text.translate(_WIDE))


@dataclass(frozen=True)
class Label:
    """What a label cell says: its ``role`` (``name``, ``money_column``, ``level1`` …), the canonical
    form of the label (``key``), and the value written in the same cell after it (``rest``)."""

    role: str
    key: str
    text: str
    rest: str = ""


@lru_cache(maxsize=1)
def form_labels() -> dict:
    """The label data, loaded once."""
    return data_json("forms.json")


@lru_cache(maxsize=1)
def _table() -> dict[str, list[tuple[str, str]]]:
    """Normalised label text → [(role, key)], every role it can play (context chooses)."""
    data = form_labels()
    table: dict[str, list[tuple[str, str]]] = {}

    def add(text: str, role: str, key: str) -> None:
        entry = table.setdefault(normal(text).rstrip(":"), [])
        if (role, key) not in entry:
            entry.append((role, key))

    for field, variants in data["fields"].items():
        for variant in variants:
            add(variant, "ignored" if field == "ignored" else "field", field)
    money = data["money"]
    for variant in money["sections"]:
        add(variant, "money_section", variant)
    for column, variants in money["columns"].items():
        for variant in variants:
            add(variant, "money_column", column)
    for kind, variants in money["rows"].items():
        for variant in variants:
            add(variant, f"money_{kind}", normal(variant).rstrip(":"))
    goals = data["goals"]
    for kind in ("annual", "long", "actual", "blocks"):
        for variant in goals[kind]:
            add(variant, "goal_block" if kind == "blocks" else "goal", kind)
    indicators = data["indicators"]
    for variant in indicators["section"]:
        add(variant, "indicator_section", variant)
    for column, variants in indicators["header"].items():
        for variant in variants:
            add(variant, "indicator_column", column)
    for key, variants in indicators["level1"].items():
        for variant in variants:
            add(variant, "level1", key)
    for key, spec in indicators["level2"].items():
        for variant in spec["variants"]:
            add(variant, "level2", key)
    for variant in indicators["ends"]:
        add(variant, "end", variant)
    return table


@lru_cache(maxsize=1)
def _suffix() -> re.Pattern:
    return re.compile(form_labels()["indicators"]["label_suffixes"])


@lru_cache(maxsize=1)
def _prefixes() -> list[str]:
    """Labels that may start a cell followed by a colon and a value, longest first."""
    return sorted((text for text in _table() if len(text) >= 2), key=len, reverse=True)


def labels_of(text: str) -> list[Label]:
    """Every reading of a cell as a label (empty when it is a value).

    ``产出指标(70分)`` is ``产出指标`` (score suffixes are dropped); ``年度资金总额:50万`` is the
    label with ``rest`` ``50万``; ``资金情况(万元)`` is the money section, its unit in ``rest``.
    """
    key = normal(text)
    if not key:
        return []
    bare = key.rstrip(":")
    bare = form_labels()["vertical_labels"].get(bare, bare) if len(bare) == 1 else bare
    found = _table().get(bare)
    if found:
        return [Label(role, k, text) for role, k in found]
    stripped = _suffix().sub("", bare)
    if stripped != bare and stripped in _table():
        return [Label(role, k, text, bare[len(stripped):]) for role, k in _table()[stripped]]
    ends = [normal(e) for e in form_labels()["indicators"]["ends"]]
    if any(bare.startswith(end) for end in ends):
        return [Label("end", bare, text)]
    for prefix in _prefixes():
        if bare.startswith(prefix) and len(bare) > len(prefix):
            rest = bare[len(prefix):]
            if rest[0] in ":(" or prefix.endswith(":"):
                value = rest[1:] if rest[0] == ":" else rest
                return [Label(role, k, text, value) for role, k in _table()[prefix]]
    return []


def roles(text: str) -> set[str]:
    return {label.role for label in labels_of(text)}


def is_prompt(text: str) -> bool:
    """Is this cell the form's own instruction left unfilled (``对照年度目标,说明…(100字以内)``)?"""
    key = normal(text)
    return any(normal(marker) in key for marker in form_labels()["goals"]["prompts"])


def title_kind(line: str) -> tuple[str, str] | None:
    """(kind, scope) when ``line`` is a form's title: ``self_evaluation`` or ``goal_form``, ``unit`` or ``project``."""
    key = normal(line)
    if not key or len(key) > 60:
        return None
    titles = form_labels()["titles"]
    if any(normal(word) in key for word in titles["not_a_title"]):
        return None
    for kind in ("self_evaluation", "goal_form"):
        if any(normal(word) in key for word in titles[kind]):
            scope = "unit" if any(normal(word) in key for word in titles["unit_scope"]) else "project"
            return kind, scope
    return None


def level2_parents(key: str) -> list[str]:
    """The level-1 labels a level-2 label may stand under, the usual one first."""
    return form_labels()["indicators"]["level2"][key]["under"]


def all_label_texts() -> list[str]:
    """Every label's normal form, longest first (for finding labels inside undelimited text)."""
    return _prefixes()
