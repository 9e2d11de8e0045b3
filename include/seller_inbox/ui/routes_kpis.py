"""The KPI page (``/kpis``, the app's start page) and its JSON twin (``/api/kpis``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup

from seller_inbox import metrics
from seller_inbox.ui import charts, i18n, queries, web
from seller_inbox.ui.render import render

router = APIRouter()


def _kpi_charts(group: dict, lang: str) -> list[Markup]:
    days, s = group["days"], group["series"]

    def pts(col):
        return [(d, (s[d][col] if d in s else None)) for d in days]

    return [
        Markup(charts.bar_chart(i18n.t("buyer_messages", lang), pts("buyer_messages"), css="c-blue")),
        Markup(charts.line_chart(i18n.t("late_responses", lang), pts("late_responses"), css="c-orange")),
        Markup(charts.bar_chart(i18n.t("a_to_z_claims", lang), pts("a_to_z_claims"), css="c-red")),
        Markup(charts.line_chart(i18n.t("odr_chart", lang, target=_fmt_pct(metrics.ODR_TARGET)),
                                 [(d, group["odr_series"].get(d)) for d in days], css="c-purple",
                                 target=metrics.ODR_TARGET * 100)),
    ]


def _fmt_pct(x: float) -> str:
    return f"{x * 100:g}"


@router.get("/", name="index")
async def index(request: Request):
    q = request.url.query
    return RedirectResponse(web.path_for(request, "kpis") + (f"?{q}" if q else ""), status_code=303)


@router.get("/kpis", name="kpis", response_class=HTMLResponse)
async def kpis(request: Request):
    lang, store, days = web.lang(request), web.store_param(request), web.chart_days(request)
    data = await web.warehouse(queries.kpi_overview, store, days)
    stores = await web.warehouse(queries.store_ids)
    for gr in data["groups"]:
        gr["charts"] = _kpi_charts(gr, lang) if gr["days"] else []
        for r in gr["recon"]:
            r["not_comparable"] = None if r.get("comparable", True) or r.get("flagged") else _not_comparable(r, lang)
    return render(request, "kpis.html", lang=lang, data=data, days=days, day_choices=queries.CHART_DAYS,
                  stores=stores, names=queries.store_names(), period_metrics=_shown("store_daily"),
                  odr_metrics=_shown("order_defect_rate"), odr_target=metrics.ODR_TARGET,
                  recon_tolerance=metrics.RECONCILE_TOLERANCE)


def _when(t) -> str:
    return f"{t:%Y-%m-%d}" if (t.hour, t.minute) == (0, 0) else f"{t:%Y-%m-%d %H:%M} UTC"


def _not_comparable(r: dict, lang: str) -> str:
    """Why a reconciliation window is not compared yet: what the desk has read (ops.ingest_coverage),
    against what the window needs (orders over it, mail from its start until the report was made)."""
    from datetime import datetime, time, timedelta, timezone

    start = datetime.combine(r["window_start"], time(0), tzinfo=timezone.utc)
    until = {"orders": datetime.combine(r["window_end"] + timedelta(days=1), time(0), tzinfo=timezone.utc),
             "mail": r["report_made_at"]}
    parts = []
    for source in ("orders", "mail"):
        since, name = r.get(f"{source}_read_since"), i18n.t(f"source_{source}", lang)
        if since is None:
            end = until[source]
            parts.append(i18n.t("read_not_until", lang, source=name,
                                until=_when(end.astimezone(timezone.utc)) if end else "?"))
        elif since > start:
            parts.append(i18n.t("read_since", lang, source=name, since=_when(since.astimezone(timezone.utc))))
    return i18n.t("not_comparable", lang, sources=", ".join(parts), start=_when(start))


def _shown(table: str) -> list[metrics.Metric]:
    """The declared metrics the page shows (seller_inbox/metrics.py: ``ui`` and adding up over days)."""
    return [m for m in metrics.of(table) if m.ui and m.rollup]


@router.get("/api/kpis", name="api_kpis")
async def api_kpis(request: Request):
    data = await web.warehouse(queries.kpi_overview, web.store_param(request), web.chart_days(request))
    out = []
    for gr in data["groups"]:
        out.append({
            "store_id": gr["store_id"], "marketplace": gr["marketplace"],
            "windows": {str(k): web.jsonable(v) for k, v in gr["windows"].items()},
            "claims_60d": web.jsonable(gr["claims"]), "high_risk_period": gr["high_risk_period"],
            "high_risk_open": gr["high_risk_open"],
            "period": web.jsonable(gr["period"]), "odr": [web.jsonable(r) for r in gr["odr"]],
            "reconciliation": [web.jsonable(r) for r in gr["recon"]],
            "daily": [web.jsonable(gr["series"][d]) for d in gr["days"] if d in gr["series"]],
        })
    return {"start": web.jsonable(data["start"]), "end": web.jsonable(data["end"]), "groups": out}
