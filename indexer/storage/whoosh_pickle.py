"""Whoosh's pickles, read through an allow-list so a tampered index cannot run code.

Whoosh stores its table of contents (``_MAIN_<n>.toc``: the schema, with our jieba
analyzer, and the segment list) and a few small records (term info, column extras) as
pickles, and ``pickle`` calls whatever a pickle names. The manifest's checksums live in
the same folder, so they stop accidents, not someone who can write the index and
update a checksum. This module replaces the ``load``/``loads`` that Whoosh's modules
imported with a ``pickle.Unpickler`` whose ``find_class`` only returns the classes a
Whoosh schema with our analyzer needs (``data/whoosh_pickle.json``), the recipe of
the Python docs' "Restricting Globals". Anything else raises ``UnsafePickle``.

What this does not stop: an allowed class rebuilt with hostile state (a huge regular
expression, absurd sizes) can still make a search slow or fail; it cannot call
``os.system`` or import a module.
"""
from __future__ import annotations

import io
import pickle
import types
from functools import lru_cache

from ..errors import IndexCorrupt
from ..files import data_json


class UnsafePickle(IndexCorrupt, pickle.UnpicklingError):
    """A Whoosh pickle names something outside the allow-list (the index was tampered with)."""


@lru_cache(maxsize=1)
def _data() -> dict:
    return data_json("whoosh_pickle.json")


@lru_cache(maxsize=1)
def allowed() -> dict[str, frozenset[str]]:
    return {module: frozenset(names) for module, names in _data()["allowed"].items()}


def renamed(module: str) -> str:
    """Where a module an older goalsearch pickled (``indexer.analyzer``) lives now."""
    return _data()["renamed"].get(module, module)


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickles only the allowed classes and functions."""

    def find_class(self, module: str, name: str):
        module = renamed(module)
        if name in allowed().get(module, ()):
            return super().find_class(module, name)
        raise UnsafePickle(f"a full-text (Whoosh) file of the index asks to run {module}.{name}, which an index never "
                           "needs (tampered?); it was not run; run `goalsearch index --rebuild`")


def loads(data: bytes, **_ignored):
    return RestrictedUnpickler(io.BytesIO(data)).load()


def load(file, **_ignored):
    return RestrictedUnpickler(file).load()


_installed = False


def install() -> None:
    """Make every Whoosh module that unpickles use the restricted unpickler (idempotent)."""
    global _installed
    if _installed:
        return
    import whoosh.codec.whoosh3 as whoosh3
    import whoosh.columns as columns
    import whoosh.filedb.structfile as structfile
    import whoosh.formats as formats
    import whoosh.index as whoosh_index

    whoosh_index.pickle = types.SimpleNamespace(loads=loads, dumps=pickle.dumps, PicklingError=pickle.PicklingError,
                                                UnpicklingError=pickle.UnpicklingError)
    structfile.load = load
    for module in (whoosh3, columns, formats):
        module.loads = loads
    _installed = True
