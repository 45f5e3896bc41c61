"""The web application: pages, the JSON API under ``/api/``, the shipped assets, and the rules every response keeps.

``create_app(index_dir)`` builds it for one index; ``app_from_environment`` is what uvicorn's workers
call (``goalsearch serve``), each in its own process with its own ``LiveIndex``.

Every response carries a Content-Security-Policy: scripts only from this server's ``/static/``
(no inline script, no ``eval``), no plugins, no framing. Templates escape every value (Jinja2's
autoescape), and document text never reaches a page any other way. Errors are one line:
JSON ``{"error": …}`` under ``/api/``, a page with that line elsewhere, in the CLI's words.
"""
from __future__ import annotations

import logging
import os
from contextlib import asynccontextmanager
from pathlib import Path

import jinja2
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException
from starlette.middleware.trustedhost import parse_host_header

from ..search import (AmbiguousRecord, GoalsearchError, IndexCorrupt, IndexLocked, IndexMissing, RecordNotFound,
                      UsageError)
from . import api, pages
from .index import LiveIndex
from .params import labels
from .views import money

HERE = Path(__file__).parent
INDEX_ENV = "GOALSEARCH_WEB_INDEX"  # how `goalsearch serve` tells its workers which index to open
HOSTS_ENV = "GOALSEARCH_WEB_HOSTS"  # and which Host headers to answer (comma-separated)
# A page on another site can point its own name at 127.0.0.1 (DNS rebinding) and read the answers: only
# requests addressed to this machine by these names, or to the address served on, are answered.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
log = logging.getLogger("goalsearch.web")
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
           "X-Frame-Options": "DENY"}


def templates() -> Jinja2Templates:
    """The page templates, every value escaped (autoescape on for all of them, whatever their name)."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals.update(labels=labels(), money=money)
    return Jinja2Templates(env=env)


def status_of(exc: GoalsearchError) -> int:
    """The HTTP status of an API error: the caller's mistake (400, 404, 409) or the server's index (503)."""
    if isinstance(exc, AmbiguousRecord):
        return 409
    if isinstance(exc, RecordNotFound):
        return 404
    if isinstance(exc, UsageError):
        return 400
    return 503 if isinstance(exc, (IndexMissing, IndexCorrupt, IndexLocked)) else 500


def error_body(exc: GoalsearchError) -> dict:
    """``{"error": the CLI's line}``, and for an ambiguous name the projects it matches."""
    body: dict = {"error": str(exc)}
    if isinstance(exc, AmbiguousRecord):
        body["candidates"] = [{"id": r.id, "name": r.name, "city": r.city, "year": r.year, "unit": r.unit}
                              for r in exc.candidates[:20]]
    return body


def host_names(host: str) -> set[str]:
    """The Host header names answered when serving on ``host``: the loopback names, and ``host`` itself
    (an address as it is written in a URL, ``[::1]`` for IPv6), plus ``GOALSEARCH_WEB_HOSTS``."""
    names = {*LOOPBACK_HOSTS, f"[{host}]" if ":" in host else host}
    names.update(name.strip().lower() for name in os.environ.get(HOSTS_ENV, "").split(",") if name.strip())
    return {name.lower() for name in names}


def create_app(index_dir: str | Path, hosts: set[str] | None = None) -> FastAPI:
    """The application serving the index at ``index_dir`` (read-only: nothing here writes to it), answering
    requests whose Host is one of ``hosts`` (default: this machine's loopback names)."""
    live = LiveIndex(Path(index_dir))
    hosts = hosts or host_names("127.0.0.1")

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        live.close()

    app = FastAPI(title="goalsearch", summary="Search Chinese department budgets: the JSON API of `goalsearch serve`.",
                  docs_url=None, redoc_url=None, openapi_url="/api/openapi.json", lifespan=lifespan)
    app.state.index = live
    app.state.templates = templates()

    @app.middleware("http")
    async def guarded(request: Request, call_next):
        """Every response, an error or a crash too, carries the security headers; a foreign Host gets 421."""
        parsed = parse_host_header(request.headers.get("host"))
        if parsed is None or parsed.host.lower() not in hosts:
            response = failure(request, 421, {"error": "this server answers only requests addressed to "
                                                        f"{', '.join(sorted(hosts))} (see goalsearch serve -h)"})
        else:
            try:
                response = await call_next(request)
            except Exception as exc:  # noqa: BLE001 — the one place an unexpected error becomes one line
                log.exception("error serving %s", request.url.path)
                status = 503 if isinstance(exc, OSError) else 500
                response = failure(request, status, {"error": f"internal error ({type(exc).__name__}); see the server's log"})
        response.headers.update(HEADERS)
        return response

    def failure(request: Request, status: int, body: dict):
        if request.url.path.startswith("/api/"):
            return JSONResponse(body, status_code=status)
        return app.state.templates.TemplateResponse(request, "error.html", {"status": status, **body},
                                                    status_code=status)

    @app.exception_handler(GoalsearchError)
    async def goalsearch_error(request: Request, exc: GoalsearchError):
        return failure(request, status_of(exc), error_body(exc))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        log.exception("error serving %s", request.url.path)  # the traceback for the log, one line for the caller
        return failure(request, 500, {"error": f"internal error ({type(exc).__name__}); see the server's log"})

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {"loc": ("request",), "msg": "invalid"}
        name = str(first["loc"][-1]) if first.get("loc") else "request"
        return failure(request, 400, {"error": f"Invalid value for '{name}': {first['msg']}"})

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        message = {404: "no such page", 405: "method not allowed: the server is read-only"}.get(exc.status_code, exc.detail)
        return failure(request, exc.status_code, {"error": message})

    app.include_router(api.router)
    app.include_router(pages.router)
    app.add_middleware(HeadAsGet)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    return app


class HeadAsGet:
    """Answer HEAD wherever GET is answered: a monitor's or a proxy's health check asks HEAD, and FastAPI's routes
    take only the methods they name (405). The request goes on as GET and the body is dropped; the status and
    headers, Content-Length included, are GET's (RFC 9110, 9.3.2). Plain ASGI, so it holds whatever the router does."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body"):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)


def app_from_environment() -> FastAPI:
    """The application for a uvicorn worker: the index named by ``GOALSEARCH_WEB_INDEX`` and the host names of
    ``GOALSEARCH_WEB_HOSTS`` (both set by ``goalsearch serve``)."""
    return create_app(os.environ.get(INDEX_ENV, "index"), host_names("127.0.0.1"))
