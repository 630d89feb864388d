"""Supervisor analytics in the console: /console/analytics (page) and /console/api/analytics/* (JSON, CSV, SVG).

The console's sign-in lives in `routes.console_router` as closures over its session signer and database,
so this router does not re-implement it: the console hands over a `ConsoleAccess` (who is signed in, how a
page is rendered with the console's security headers, which database), and the include is one line there.
Supervisors only: anyone else signed in gets 403; the API answers 401 before sign-in, the page redirects.

Charts are SVG files served as <img> (the console's CSP forbids inline SVG and styles); each sits beside a
table of the same numbers and a CSV of it. Reports are cached per range and data version (`bot.analytics`).
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, Response

from bot.analytics.charts import ChartCache
from bot.analytics.kpis import DAY, WEEK, Table
from bot.analytics.labels import PAGE_TEXT, column_label, language_of, table_title, value_in_words
from bot.analytics.queries import DayRange
from bot.analytics.service import Analytics, AnalyticsUnavailable, Report

DEFAULT_DAYS = 28
# An SVG document's own policy: its inline styles are matplotlib's, nothing in it may run or load.
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'"
CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ConsoleAccess:
    """What analytics borrows from the console router that includes it."""

    signed_in: Callable[[Request], Any]        # the agent (with .is_supervisor) or None
    page: Callable[..., Response]              # page(request, template, agent, **context), security headers set
    sign_in_redirect: Callable[[], Response]
    database_url: Callable[[], str]            # the application database (made on first use)
    tracker_store_url: str
    headers: dict[str, str]                    # the console's security headers, for non-HTML answers


def day_range(first: str | None, last: str | None, today: date) -> DayRange:
    """The requested range (ISO days, both included); by default the last 28 days to today."""
    try:
        end = date.fromisoformat(last) if last else today
        start = date.fromisoformat(first) if first else end - timedelta(days=DEFAULT_DAYS - 1)
        return DayRange(start, end)
    except ValueError as exc:
        raise HTTPException(400, f"from and to are days (YYYY-MM-DD), from before to: {exc}") from exc


def default_grain(days: DayRange) -> str:
    return DAY if (days.last - days.first).days < 31 else WEEK


def _csv_cell(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula is quoted with a leading apostrophe."""
    if isinstance(value, str) and value.startswith(CSV_FORMULA_START):
        return "'" + value
    return "" if value is None else value


def table_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([column.key for column in table.columns])
    writer.writerows([_csv_cell(value) for value in row] for row in table.rows)
    return out.getvalue()


def shown(value: Any, kind: str) -> str:
    """A cell as the page shows it: rates as percentages, empty for no value."""
    if value is None:
        return "–"
    if kind == "rate":
        return f"{value * 100:.1f}%"
    if kind == "seconds":
        return f"{value:,.0f}"
    return str(value)


def analytics_router(access: ConsoleAccess, analytics: Analytics | None = None,
                     now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> APIRouter:
    """The analytics page and API, to be included in the console router (paths relative to /console)."""
    state: dict[str, Any] = {"analytics": analytics}
    charts = ChartCache()
    router = APIRouter(include_in_schema=False)

    def service() -> Analytics:
        if state["analytics"] is None:
            state["analytics"] = Analytics(access.database_url(), access.tracker_store_url)
        return state["analytics"]

    def supervisor(request: Request) -> Any:
        agent = access.signed_in(request)
        if agent is None:
            raise HTTPException(401, "sign in first")
        if not agent.is_supervisor:
            raise HTTPException(403, "analytics are for supervisors")
        return agent

    def report_for(first: str | None, last: str | None, grain: str | None) -> Report:
        days = day_range(first, last, now().date())
        try:
            return service().report(days, grain or default_grain(days))
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from exc
        except AnalyticsUnavailable as exc:
            raise HTTPException(503, str(exc)) from exc

    def query(report: Report, **extra: str) -> str:
        return urlencode({"from": report.days.first.isoformat(), "to": report.days.last.isoformat(),
                          "grain": report.grain, **extra})

    def links(report: Report, table: Table, prefix: str) -> dict[str, str | None]:
        base = f"{prefix}/api/analytics/{table.key}"
        return {"csv_url": f"{base}.csv?{query(report)}",
                "chart_url": f"{base}.svg?{query(report)}" if table.chart else None,
                "chart_url_zh": f"{base}.svg?{query(report, lang='zh')}" if table.chart else None}

    def section(report: Report, table: Table, prefix: str, language: str) -> dict[str, Any]:
        """One KPI as the page shows it, in `language`: title, chart, table of the same numbers, CSV."""
        urls = links(report, table, prefix)
        return {"key": table.key, "title": table_title(table, language), "csv_url": urls["csv_url"],
                "chart_url": urls["chart_url_zh" if language == "zh" else "chart_url"],
                "columns": [{"label": column_label(column, language), "kind": column.kind}
                            for column in table.columns],
                "rows": [[shown(value_in_words(column, value, language), column.kind)
                          for value, column in zip(row, table.columns)] for row in table.rows]}

    def one_table(report: Report, key: str) -> Table:
        table = report.table(key)
        if table is None:
            raise HTTPException(404, f"no KPI table {key}")
        return table

    def answer(content: bytes | str, media_type: str, **headers: str) -> Response:
        response = Response(content, media_type=media_type)
        response.headers.update(access.headers)
        response.headers.update(headers)
        return response

    @router.get("/analytics")
    def analytics_page(request: Request) -> Response:
        agent = access.signed_in(request)
        if agent is None:
            return access.sign_in_redirect()
        if not agent.is_supervisor:
            raise HTTPException(403, "analytics are for supervisors")
        params = request.query_params
        report = report_for(params.get("from"), params.get("to"), params.get("grain"))
        prefix = request.url.path.rsplit("/analytics", 1)[0]
        language = language_of(params.get("lang"), getattr(agent, "language", None))
        sections = [section(report, table, prefix, language) for table in report.tables]
        return access.page(request, "analytics.html", agent, report=report, sections=sections,
                           language=language, text=PAGE_TEXT[language])

    @router.get("/api/analytics")
    def analytics_json(request: Request, grain: str | None = None) -> JSONResponse:
        supervisor(request)
        params = request.query_params
        report = report_for(params.get("from"), params.get("to"), grain)
        prefix = request.url.path.rsplit("/api/analytics", 1)[0]
        body = {
            "from": report.days.first.isoformat(), "to": report.days.last.isoformat(), "grain": report.grain,
            "tables": [{"key": t.key, "title": t.title,
                        "columns": [{"key": c.key, "label": c.label, "kind": c.kind} for c in t.columns],
                        "rows": [list(row) for row in t.rows], **links(report, t, prefix)}
                       for t in report.tables],
        }
        response = JSONResponse(body)
        response.headers.update(access.headers)
        return response

    @router.get("/api/analytics/{key}.csv")
    def analytics_csv(request: Request, key: str, grain: str | None = None) -> Response:
        supervisor(request)
        report = report_for(request.query_params.get("from"), request.query_params.get("to"), grain)
        table = one_table(report, key)
        filename = f"{key}_{report.days.first.isoformat()}_{report.days.last.isoformat()}.csv"
        return answer(table_csv(table), "text/csv; charset=utf-8",
                      **{"Content-Disposition": f'attachment; filename="{filename}"'})

    @router.get("/api/analytics/{key}.svg")
    def analytics_svg(request: Request, key: str, grain: str | None = None, lang: str = "en") -> Response:
        supervisor(request)
        report = report_for(request.query_params.get("from"), request.query_params.get("to"), grain)
        table = one_table(report, key)
        if table.chart is None:
            raise HTTPException(404, f"{key} has no chart")
        language = "zh" if lang == "zh" else "en"
        svg = charts.get((report.days, report.grain, report.version, key, language), table, language)
        return answer(svg, "image/svg+xml", **{"Content-Security-Policy": SVG_POLICY})

    return router
