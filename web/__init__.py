"""web: the local web page and JSON API of ``goalsearch serve`` (FastAPI, Jinja2 templates, ECharts vendored).

It imports only ``goalsearch.search`` (``tests/test_architecture.py``): a page is another view of
the Python API, as the CLI is. ``create_app(index_dir)`` builds the application; ``serve`` runs it
with uvicorn.
"""
from .app import create_app
from .server import serve

__all__ = ["create_app", "serve"]
