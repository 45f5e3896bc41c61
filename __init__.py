"""goalsearch: search what Chinese governments promise to do with their money (部门预算, 绩效目标).

The Python API under a name of its own, so that a user's ``search.py`` or ``cli.py`` beside a script
cannot shadow it::

    from goalsearch import GoalSearch, index_paths, parse

``goalsearch.search`` (querying) and ``goalsearch.indexer`` (documents → records → index) hold the rest.
"""
from goalsearch.indexer import index_paths, parse, parse_paths
from goalsearch.search import GoalSearch, Hit

__all__ = ["GoalSearch", "Hit", "index_paths", "parse", "parse_paths"]
