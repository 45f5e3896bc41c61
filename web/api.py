"""The JSON API under ``/api/``: the Python API's verbs, one route each, answering with their ``to_dict()``.

Parameters carry the CLI's option names (``q`` is the query) and bounds (``web.params``); errors are
``{"error": …}`` with the CLI's one line (``web.app``). Every route only reads.
"""
from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request

from .params import FilterArgs, filter_args, limit_of, limits, query_text, text, threshold_of, whole

router = APIRouter(prefix="/api", tags=["api"])


def flag(value: str | None) -> bool:
    """A yes/no parameter: ``1``, ``true``, ``yes`` or ``on`` (a checked box) is yes."""
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


@router.get("/search")
def search(request: Request, q: str = "", mode: str = "hybrid", limit: str | None = None, group: str | None = None,
           fusion: str | None = None, filters: FilterArgs = Depends(filter_args)) -> dict:
    """Search by words and meaning (``goalsearch search``); an empty ``q`` lists the filtered projects by amount."""
    query = query_text(q)
    with request.app.state.index.use() as index:
        hits = index.search(query, mode=mode, limit=limit_of(limit, 10), group=text("group", group),
                            fusion=text("fusion", fusion), **filters.kwargs())
        return {"query": query, "problems": list(index.problems), "hits": [h.to_dict() for h in hits]}


@router.get("/similar")
def similar(request: Request, id: str | None = None, text_: str | None = Query(None, alias="text"),
            other_cities: str | None = None, other_years: str | None = None, include_family: str | None = None,
            mode: str = "hybrid", limit: str | None = None, fusion: str | None = None,
            filters: FilterArgs = Depends(filter_args)) -> dict:
    """Projects most like a stored one (``id``: an id or exact name) or like a description (``text``)."""
    with request.app.state.index.use() as index:
        hits = index.similar(text("id", id), text=query_text(text_, "text") or None, limit=limit_of(limit, 10),
                             other_cities=flag(other_cities), other_years=flag(other_years),
                             include_family=flag(include_family), mode=mode, fusion=text("fusion", fusion),
                             **filters.kwargs())
        return {"problems": list(index.problems), "hits": [h.to_dict() for h in hits]}


@router.get("/show/{id_or_name:path}")  # a name may hold "/" (%2F is decoded before routing)
def show(request: Request, id_or_name: str) -> dict:
    """One record in full (an id, an id prefix of 6 or more characters, or an exact name)."""
    with request.app.state.index.use() as index:
        return index.find(query_text(id_or_name, "id_or_name")).to_dict()


@router.get("/family/{id_or_name:path}")
def family(request: Request, id_or_name: str) -> dict:
    """The family of a project (id, exact name or family id): members by year, amounts and changes."""
    with request.app.state.index.use() as index:
        return index.family(query_text(id_or_name, "id_or_name")).to_dict()


@router.get("/families")
def families(request: Request, sort: str = "total", min_members: str | None = None, min_years: str | None = None,
             limit: str | None = None, filters: FilterArgs = Depends(filter_args)) -> list[dict]:
    """Project families that recur across budget years, with their amounts year by year."""
    with request.app.state.index.use() as index:
        found = index.families(sort=sort, min_members=whole("min_members", min_members, 1) or 2,
                               min_years=whole("min_years", min_years, 1) or 2,
                               limit=limit_of(limit, 20, limits()["family_limit"]), **filters.kwargs())
        return [f.to_dict() for f in found]


@router.get("/duplicates")
def duplicates(request: Request, threshold: str | None = None, limit: str | None = None,
               filters: FilterArgs = Depends(filter_args)) -> dict:
    """Near-duplicate goals of different units, departments or cities."""
    share = threshold_of(threshold)
    with request.app.state.index.use() as index:
        found = index.duplicates(threshold=share, limit=limit_of(limit, 50, limits()["duplicate_limit"]),
                                 **filters.kwargs())
        return found.to_dict()


@router.get("/totals")
def totals(request: Request, q: str = "", by: list[str] = Query(["year"]), match: str = "default",
           filters: FilterArgs = Depends(filter_args)) -> dict:
    """The projects that match a query, counted and summed (万元) per group (``by``: year, city, department, unit,
    category, kind), with the ids behind each number and the rule that decided which projects match."""
    with request.app.state.index.use() as index:
        return index.totals(query_text(q), by=[b for b in by if b.strip()] or ["year"], match=match,
                            **filters.kwargs()).to_dict()


@router.get("/stats")
def stats(request: Request) -> dict:
    """Records by city, year, department and category; files and rows accounted for; sizes; the model."""
    with request.app.state.index.use() as index:
        return index.stats().to_dict()
