"""The lexical (BM25) side: term matrices, query syntax and its rewrites, record columns.

``BM25Side`` is what the API uses; the modules behind it:

- ``matrices``: per-field BM25 over the term matrices written at index time (plain queries);
- ``syntax``: Whoosh-parsed queries scored over the same matrices;
- ``rewrites``: what the parsed syntax is turned into before scoring;
- ``record_columns``: keyword and numeric fields (city, year, amount …) as arrays.
"""
from .bm25 import BM25Side, field_boosts

__all__ = ["BM25Side", "field_boosts"]
