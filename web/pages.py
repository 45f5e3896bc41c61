"""The pages: search (facets, totals chart, downloads), a project, a family, the families and the duplicates.

Each route reads its parameters (``web.params``), asks the open index (``web.index.LiveIndex``) and hands
plain values (``web.views``) to a template. A usage error on the search page is shown above the form
(the query stays in the box); elsewhere it is the error page with the CLI's line.
"""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from ..search import UsageError
from . import downloads, views
from .params import FilterArgs, filter_args, limit_of, limits, query_text, text, threshold_of, whole

router = APIRouter(include_in_schema=False)


def page(request: Request, name: str, context: dict, status: int = 200) -> HTMLResponse:
    return request.app.state.templates.TemplateResponse(request, name, context, status_code=status)


def _search(index, q: str, mode: str, limit: int, filters: FilterArgs, highlight: bool = True):
    return index.search(q, mode=mode, limit=limit, highlight=highlight, **filters.kwargs())


@router.get("/", response_class=HTMLResponse)
def search_page(request: Request, q: str = "", mode: str = "hybrid", limit: str | None = None, match: str = "default",
                filters: FilterArgs = Depends(filter_args)):
    """The search page: query box and mode, facets, the totals chart, the results and their downloads."""
    query, count = query_text(q), limit_of(limit)
    base = [("q", query), ("mode", mode if mode != "hybrid" else ""), ("match", match if match != "default" else "")]
    base += [("limit", str(count))] if limit else []
    context = {"q": query, "mode": mode, "match": match, "limit": count, "filters": filters, "hits": [], "facets": [],
               "chart": None, "totals": None, "problems": [], "error": None,
               "csv_url": views.url("/download.csv", base + filters.pairs()),
               "xlsx_url": views.url("/download.xlsx", base + filters.pairs()),
               "clear_url": views.url("/", base)}
    with request.app.state.index.use() as index:
        try:
            hits = _search(index, query, mode, count, filters)
            context["problems"] = list(index.problems)
            context["hits"] = [{"hit": h, "name": views.runs(h.record.name, h.highlights.get("name")),
                                "snippet": views.snippet_runs(h)} for h in hits]
            every = index.totals(query, by=views.BY, match=match, **filters.kwargs())
            context["problems"] += [p for p in index.problems if p not in context["problems"]]  # the total's notes
            context["totals"] = every
            context["chart"] = views.totals_chart(views.projected(every, ("year", "city")))
            context["facets"] = [views.facet(name, _facet_groups(index, query, match, filters, every, name), filters, base)
                                 for name in views.FACETS]
        except UsageError as exc:
            context["error"] = str(exc)
            return page(request, "search.html", context, status=400)
    return page(request, "search.html", context)


def _facet_groups(index, query: str, match: str, filters: FilterArgs, every, name: str):
    """A facet's groups: counted as if its own filter were not chosen (so the other values stay offered), from
    ``every`` (the page's totals by all facets) when it is not."""
    if views.chosen(filters, name) or (name == "year" and filters.years):
        return index.totals(query, by=(name,), match=match, **filters.kwargs(without=name)).groups
    return views.projected(every, (name,))


def _download(request: Request, q: str, mode: str, limit: str | None, filters: FilterArgs):
    with request.app.state.index.use() as index:
        return _search(index, query_text(q), mode, limit_of(limit), filters, highlight=False)


@router.get("/download.csv")
def download_csv(request: Request, q: str = "", mode: str = "hybrid", limit: str | None = None,
                 filters: FilterArgs = Depends(filter_args)):
    """The results of a search as CSV (the hits the page shows; ``limit`` up to 1000)."""
    body = downloads.csv_bytes(_download(request, q, mode, limit, filters))
    return Response(body, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="goalsearch.csv"'})


@router.get("/download.xlsx")
def download_xlsx(request: Request, q: str = "", mode: str = "hybrid", limit: str | None = None,
                  filters: FilterArgs = Depends(filter_args)):
    """The results of a search as an Excel workbook."""
    body = downloads.xlsx_bytes(_download(request, q, mode, limit, filters))
    return Response(body, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": 'attachment; filename="goalsearch.xlsx"'})


@router.get("/project/{record_id:path}", response_class=HTMLResponse)  # a name with "/" too
def project_page(request: Request, record_id: str):
    """A project: every field, the indicators (target beside actual), its family by year, similar projects."""
    shown = limits()["similar_shown"]
    with request.app.state.index.use() as index:
        record = index.find(query_text(record_id, "id"))
        family = index.family(record.id)
        other_cities = index.similar(record.id, limit=shown, other_cities=True)
        other_years = index.similar(record.id, limit=shown, other_years=True)
    return page(request, "project.html", {
        "record": record, "fields": views.fields(record), "family": family,
        "changed": dict(zip((m.id for m in family.members), family.goal_changed)),
        "chart": views.family_chart(family), "other_cities": other_cities, "other_years": other_years,
        "has_actual": any(i.actual for i in record.indicators)})


@router.get("/family/{family_id}", response_class=HTMLResponse)
def family_page(request: Request, family_id: str):
    """A family: its members year by year, the amounts chart, the goals that changed."""
    with request.app.state.index.use() as index:
        family = index.family(query_text(family_id, "id"))
    return page(request, "family.html", {"family": family, "chart": views.family_chart(family),
                                         "changed": dict(zip((m.id for m in family.members), family.goal_changed))})


@router.get("/families", response_class=HTMLResponse)
def families_page(request: Request, sort: str = "total", min_members: str | None = None, min_years: str | None = None,
                  limit: str | None = None, filters: FilterArgs = Depends(filter_args)):
    """The families, as ``goalsearch families`` lists them."""
    with request.app.state.index.use() as index:
        found = index.families(sort=sort, min_members=whole("min_members", min_members, 1) or 2,
                               min_years=whole("min_years", min_years, 1) or 2,
                               limit=limit_of(limit, 20, limits()["family_limit"]), **filters.kwargs())
    return page(request, "families.html", {"families": found, "sort": sort, "filters": filters})


@router.get("/duplicates", response_class=HTMLResponse)
def duplicates_page(request: Request, threshold: str | None = None, limit: str | None = None,
                    filters: FilterArgs = Depends(filter_args)):
    """Near-duplicate goals, as ``goalsearch duplicates`` lists them: pairs, then clusters."""
    share = threshold_of(threshold)
    with request.app.state.index.use() as index:
        found = index.duplicates(threshold=share, limit=limit_of(limit, 50, limits()["duplicate_limit"]),
                                 **filters.kwargs())
    return page(request, "duplicates.html", {"found": found, "threshold": text("threshold", threshold) or ""})


@router.get("/favicon.ico")
def favicon():
    """No icon (browsers ask for one on every site): an empty answer rather than a 404 in their console."""
    return Response(status_code=204)


@router.get("/api/docs", response_class=HTMLResponse)
def api_docs(request: Request):
    """The JSON API's OpenAPI documentation (Swagger UI, shipped in the package: no CDN, no inline script)."""
    return page(request, "api_docs.html", {})
