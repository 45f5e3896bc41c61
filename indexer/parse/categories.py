"""Project categories from an ordered keyword rule set kept as package data.

Users ask for "IT operations projects" (``--category 运维``); the rules in
``data/categories.json`` decide, first match on the name, then on the goal.
"""
from __future__ import annotations

from functools import lru_cache

from ..files import data_json


@lru_cache(maxsize=1)
def category_rules() -> dict:
    """The rule set, loaded once."""
    return data_json("categories.json")


def categories() -> list[str]:
    """Every category name the rules can give, default last."""
    rules = category_rules()
    names = list(dict.fromkeys(rule["category"] for rule in rules["rules"]))
    return names + [rules["default"]]


def classify(name: str, goal: str = "") -> str:
    """The category of a project: first rule whose keyword is in the name, then in the goal.

    >>> classify("广州市人社数据中心2024年-2025年运维项目")
    '运维'
    >>> classify("市场中心业务用房物业管理费")
    '物业/场地'
    """
    rules = category_rules()
    for text in (name, goal):
        for rule in rules["rules"]:
            if any(keyword in text for keyword in rule["keywords"]):
                return rule["category"]
    return rules["default"]
