"""The shapes of the JSON a generation stores, checked before anything uses it.

A manifest or a record read from an index is data someone else may have written: valid JSON
of the wrong shape (``[]`` for a manifest, ``"checksums": [1, 2]``, a record whose name is a
number) crashed the code that trusted it, far from the file. Each shape is a JSON Schema in
``indexer/data/<name>.schema.json`` (draft 7), compiled once per process by fastjsonschema
(Python code generated from the schema: a record checks in about 6 µs).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Callable

import fastjsonschema

from ..files import data_json


@lru_cache(maxsize=None)
def _validator(name: str) -> Callable[[object], object]:
    return fastjsonschema.compile(data_json(f"{name}.schema.json"))


def schema_problem(name: str, value: object) -> str | None:
    """What is wrong with ``value`` as ``data/<name>.schema.json`` describes it (one line), or None."""
    try:
        _validator(name)(value)
    except fastjsonschema.JsonSchemaValueException as exc:
        where = exc.name.removeprefix("data.").removeprefix("data") or "the whole file"
        message = exc.message.removeprefix(exc.name).strip()
        return f"{where} {message}"[:120]
    except RecursionError:
        return "nested too deep"
    return None
