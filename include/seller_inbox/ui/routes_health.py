"""The store health page (``/health``: authorization, pipelines, data quality) and ``/api/health``."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from seller_inbox.ui import charts, i18n, queries, web
from seller_inbox.ui.render import render

router = APIRouter()


def _dq_charts(dq: dict, lang: str) -> list[Markup]:
    """One bar chart per level: expectations that did not hold, per day (data quality over time)."""
    from datetime import date, timedelta

    today = date.today()
    days = [today - timedelta(days=i) for i in range(queries.DQ_DAYS - 1, -1, -1)]
    out = []
    for level, css in (("error", "c-red"), ("quarantine", "c-orange"), ("warn", "c-blue")):
        by_day = {r["day"]: r["failed"] for r in dq["daily"] if r["level"] == level}
        out.append(Markup(charts.bar_chart(i18n.t(f"dq_failed_{level}", lang), [(d, by_day.get(d, 0)) for d in days],
                                           css=css)))
    return out


@router.get("/health", name="health", response_class=HTMLResponse)
async def health(request: Request):
    data = await web.warehouse(queries.store_health, web.store_param(request))
    stores = await web.warehouse(queries.store_ids)
    return render(request, "health.html", data=data, stores=stores, names=queries.store_names(),
                  dq_charts=_dq_charts(data["dq"], web.lang(request)),
                  dumps=lambda v: json.dumps(v, ensure_ascii=False, default=str))


@router.get("/api/health", name="api_health")
async def api_health(request: Request):
    return web.jsonable(await web.warehouse(queries.store_health, web.store_param(request)))
