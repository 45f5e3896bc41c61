"""Mending a query as Whoosh's parser read it, before it is searched, and reading its words.

Three things the parser does are not what a user of this index means: ``A NOT B`` with
OR-ed words reads as "A, or anything without B"; an unreadable part (``year:abc``) becomes
a query matching nothing, silently; and ``city:深圳市`` looks for a label the index does not
keep (it keeps 深圳, as ``--city`` takes it). ``wanted_words`` gives the semantic side
what the query asks for, without its field names, operators and excluded words.
"""
from __future__ import annotations

from whoosh.query import AndNot, BinaryQuery, CompoundQuery, Not, NullQuery, Or, Phrase, Query, Term

from ...indexer import city_label


def exclusions_apply(query: Query) -> Query:
    """Make ``A NOT B`` mean A without B.

    Words are OR-ed (``OrGroup``), so Whoosh's parser reads ``A NOT B`` as ``Or([A, Not(B)])``:
    A, or anything without B, which is nearly the whole index. In every OR that has both
    positive and negated parts, the negated parts become an exclusion of the rest.
    """
    if isinstance(query, Not):  # A NOT (B NOT C): the inner OR sits inside the outer Not
        return Not(exclusions_apply(query.query))
    if isinstance(query, BinaryQuery):
        return query.apply(exclusions_apply)
    if not isinstance(query, CompoundQuery):
        return query
    children = [exclusions_apply(child) for child in query.subqueries]
    if isinstance(query, Or):
        positive = [c for c in children if not isinstance(c, Not)]
        negative = [c.query for c in children if isinstance(c, Not)]
        if positive and negative:
            kept = positive[0] if len(positive) == 1 else Or(positive, boost=query.boost)
            return AndNot(kept, negative[0] if len(negative) == 1 else Or(negative))
    rebuilt = query.copy()
    rebuilt.subqueries = children
    return rebuilt


def without_unreadable(query: Query) -> tuple[Query | None, bool]:
    """The query without the parts Whoosh's parser could not read, and whether there were any.

    The parser turns ``year:abc`` or an unclosed ``year:[2024 TO`` into a NullQuery that
    matches nothing, so ``year:abc AND 运维`` found nothing and said nothing.
    """
    if query == NullQuery:
        return None, True
    if isinstance(query, BinaryQuery):
        (a, lost_a), (b, lost_b) = without_unreadable(query.a), without_unreadable(query.b)
        if not (lost_a or lost_b):
            return query, False
        if a is None or b is None:
            return a, True
        return type(query)(a, b), True
    if isinstance(query, CompoundQuery):
        parts = [without_unreadable(child) for child in query.subqueries]
        if not any(lost for _, lost in parts):
            return query, False
        kept = [part for part, _ in parts if part is not None]
        if not kept:
            return None, True
        rebuilt = query.copy()
        rebuilt.subqueries = kept
        return rebuilt, True
    if isinstance(query, Not):
        inner, lost = without_unreadable(query.query)
        return (None if inner is None else Not(inner)), lost
    return query, False


def city_labels(query: Query) -> Query:
    """``city:深圳市`` means ``city:深圳``: the index keeps cities as ``--city`` takes them."""
    def label(node: Query) -> Query:
        if isinstance(node, Term) and node.fieldname == "city" and isinstance(node.text, str):
            return Term("city", city_label(node.text), boost=node.boost)
        return node
    return query.accept(label)


def wanted_words(query: Query, text_fields: tuple[str, ...]) -> list[str]:
    """The words a query asks for in text fields, in order, once each: not the excluded ones
    (``NOT 等保``), not keyword or numeric values (``year:2026``)."""
    words: list[str] = []

    def walk(node: Query) -> None:
        if isinstance(node, Not):
            return
        if isinstance(node, AndNot):
            walk(node.a)
        elif isinstance(node, Phrase) and node.fieldname in text_fields:
            words.append("".join(node.words))
        elif hasattr(node, "fieldname") and hasattr(node, "text") and node.fieldname in text_fields:
            words.append(str(node.text))  # Term, Prefix, Wildcard
        else:
            for child in node.children():
                walk(child)

    walk(query)
    return list(dict.fromkeys(word for word in words if word))
