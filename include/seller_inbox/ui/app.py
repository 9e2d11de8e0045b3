"""The Seller Inbox UI: a FastAPI app mounted into Airflow's API server by the plugin.

Pages (HTML, Chinese and English): ``kpis``, ``health``, ``approvals`` (with the kill switches
and the listen-mode shadow drafts), ``messages``; the same data as JSON under ``api/``; the gates'
Great Expectations Data Docs as files under ``data-docs/`` (``seller_inbox.data_docs``). Approve /
reject / kill switch are POSTs (form + CSRF token, or JSON with a Bearer token).

Protection. A plugin app is mounted with ``app.mount()`` and inherits none of the API server's
dependencies, so this app authenticates every route itself, with the API server's own code:
an app-wide dependency calls ``airflow.api_fastapi.core_api.security.get_user`` (the
dependency behind every ``/api/v2`` route: ``Authorization: Bearer <JWT>`` first, else the
``_token`` cookie the Airflow UI holds, validated by the configured auth manager's
``get_user_from_token``: signature, audience, expiry, revocation). Then the auth manager
decides: ``is_authorized_custom_view(resource_name="Seller Inbox")`` for every request, and for
approve / reject / the kill switch also ``is_authorized_dag(method="PUT", access_entity=HITL_DETAIL)``: the
right Airflow asks before a human answers a human-in-the-loop task. Without a valid login an
API route answers 401 and a page redirects to the auth manager's login URL.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from seller_inbox.ui import charts, i18n, queries

RESOURCE_NAME = "Seller Inbox"
TEMPLATES = Path(__file__).resolve().parent / "templates"
_env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]),
                   trim_blocks=True, lstrip_blocks=True)
_PROCESS_KEY = secrets.token_bytes(32)


class LoginRequired(Exception):
    def __init__(self, detail: str):
        self.detail = detail


class Refused(Exception):
    """A request the user may not make (403), or a form that failed the CSRF check."""

    def __init__(self, key: str, status: int = 403):
        self.key = key
        self.status = status


# ------------------------------------------------------------------ authentication
async def airflow_user(request: Request):
    """The logged-in Airflow user, validated exactly as the API server validates its own routes."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.core_api.security import bearer_scheme, get_user

    creds = await bearer_scheme(request)
    try:
        user = await get_user(request, None, creds)
    except HTTPException as exc:
        if exc.status_code in (401, 403):
            raise LoginRequired(str(exc.detail)) from None
        raise
    am = get_auth_manager()
    write = request.method not in ("GET", "HEAD", "OPTIONS")
    if not am.is_authorized_custom_view(method="POST" if write else "GET", resource_name=RESOURCE_NAME, user=user):
        raise Refused("forbidden")
    if write:
        from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity

        if not am.is_authorized_dag(method="PUT", access_entity=DagAccessEntity.HITL_DETAIL, user=user):
            raise Refused("forbidden")
    request.state.si_user = user
    request.state.si_bearer = bool(creds and creds.scheme.lower() == "bearer")
    return user


def _user_name(request: Request) -> str:
    u = request.state.si_user
    return u.get_name() or u.get_id()


def _csrf_key() -> bytes:
    try:
        from airflow.configuration import conf

        secret = conf.get("api", "secret_key", fallback="") or conf.get("api_auth", "jwt_secret", fallback="")
    except Exception:  # noqa: BLE001
        secret = ""
    return secret.encode() if secret else _PROCESS_KEY


def csrf_token(user: str, day: date | None = None) -> str:
    """Synchronizer token for the forms: HMAC of the user and the UTC day (valid today and tomorrow)."""
    day = day or datetime.now(timezone.utc).date()
    return hmac.new(_csrf_key(), f"seller-inbox-csrf|{user}|{day.isoformat()}".encode(), hashlib.sha256).hexdigest()[:40]


def _check_csrf(request: Request, supplied: str | None) -> None:
    if request.state.si_bearer:  # an explicit credential, not an ambient cookie: no CSRF risk
        return
    user = _user_name(request)
    today = datetime.now(timezone.utc).date()
    valid = (csrf_token(user, today), csrf_token(user, today - timedelta(days=1)))
    if not supplied or not any(hmac.compare_digest(supplied, v) for v in valid):
        raise Refused("csrf_failed")


# ------------------------------------------------------------------ helpers
def _lang(request: Request) -> str:
    return i18n.pick_language(request.query_params.get("lang"), request.headers.get("accept-language"))


def _is_api(request: Request) -> bool:
    root = request.scope.get("root_path", "")
    path = request.url.path
    if root and path.startswith(root):
        path = path[len(root):]
    return path.startswith("/api/")


# Route paths by name. ``request.url_for`` cannot be used: in a mounted app the scope's
# router is the API server's, which does not know these names.
ROUTES = {"index": "/", "kpis": "/kpis", "health": "/health", "approvals": "/approvals", "messages": "/messages",
          "approve": "/approvals/approve", "reject": "/approvals/reject", "kill_switch": "/approvals/kill-switch",
          "data_docs": "/data-docs/"}

# What the Data Docs site holds, by suffix; anything else is not served.
DATA_DOCS_TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
                   ".js": "text/javascript; charset=utf-8", ".json": "application/json", ".png": "image/png",
                   ".gif": "image/gif", ".svg": "image/svg+xml", ".ico": "image/x-icon", ".otf": "font/otf",
                   ".ttf": "font/ttf", ".woff": "font/woff", ".woff2": "font/woff2"}
# GX's pages load their scripts from CDNs; they never fetch or post: an injected script could not call Airflow's API.
DATA_DOCS_CSP = "connect-src 'none'; form-action 'none'; frame-ancestors 'self'; base-uri 'none'; object-src 'none'"


def data_docs_file(site: Path, rel: str) -> Path | None:
    """The file of the Data Docs site that ``rel`` names, or None: outside the site (``..``, an
    absolute path, a symlink out), hidden (a writer's temporary file), or of a type not served."""
    if "\\" in rel or "\x00" in rel or any(p.startswith(".") for p in rel.split("/") if p):
        return None
    base = site.resolve()
    target = (base / rel).resolve()
    if not target.is_relative_to(base) or target.suffix.lower() not in DATA_DOCS_TYPES or not target.is_file():
        return None
    return target


def path_for(request: Request, name: str) -> str:
    """Absolute path of a route of this app, under whatever prefix it is mounted."""
    return request.scope.get("root_path", "").rstrip("/") + ROUTES[name]


def _store_param(request: Request) -> str | None:
    s = (request.query_params.get("store") or "").strip()
    return s or None


def _jsonable(v: Any) -> Any:
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, (datetime, date)):
        return v.isoformat()
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    return v


def fmt_rate(v, digits: int = 2) -> str:
    return "–" if v is None else f"{float(v) * 100:.{digits}f} %"


def fmt_minutes(v, lang: str) -> str:
    if v is None:
        return "–"
    v = float(v)
    if v >= 60:
        return f"{v / 60:.1f} {i18n.t('hours_short', lang)}"
    return f"{v:.0f} {i18n.t('minutes_short', lang)}"


def fmt_ts(v) -> str:
    if v is None:
        return "–"
    if isinstance(v, datetime):
        return v.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return str(v)


_env.filters.update(rate=fmt_rate, ts=fmt_ts)


def _render(request: Request, template: str, status: int = 200, **ctx) -> HTMLResponse:
    lang = ctx.pop("lang", None) or _lang(request)
    user = getattr(request.state, "si_user", None)
    name = (user.get_name() or user.get_id()) if user is not None else ""
    store = _store_param(request)
    nav_q = {"lang": lang, **({"store": store} if store else {})}

    def url(route: str, **q) -> str:
        from urllib.parse import urlencode

        path = path_for(request, route)
        q = {k: v for k, v in {**nav_q, **q}.items() if v not in (None, "")}
        return f"{path}?{urlencode(q)}" if q else path

    def lang_url(code: str) -> str:
        from urllib.parse import urlencode

        q = dict(request.query_params)
        q["lang"] = code
        return f"{request.url.path}?{urlencode(q)}"

    html = _env.get_template(template).render(
        L=i18n.labels(lang), lang=lang, t=lambda k, /, **kw: i18n.t(k, lang, **kw), user=name, url=url,
        lang_url=lang_url, store=store, page=template.removesuffix(".html"), chart_css=Markup(charts.CSS),
        minutes=lambda v: fmt_minutes(v, lang), csrf=csrf_token(name) if name else "",
        now=datetime.now(timezone.utc), **ctx)
    return HTMLResponse(html, status_code=status, headers={"Content-Language": "zh-CN" if lang == "zh" else "en",
                                                            "Cache-Control": "no-store"})


def _warehouse(fn, *args, **kw):
    """Run fn(conn, ...) on a fresh warehouse connection (in a worker thread)."""
    def run():
        with queries.connect() as conn:
            return fn(conn, *args, **kw)

    return run_in_threadpool(run)


def _chart_days(request: Request) -> int:
    try:
        d = int(request.query_params.get("days", "30"))
    except ValueError:
        d = 30
    return d if d in queries.CHART_DAYS else 30


def _kpi_charts(group: dict, lang: str) -> list[Markup]:
    days, s = group["days"], group["series"]

    def pts(col):
        return [(d, (s[d][col] if d in s else None)) for d in days]

    return [
        Markup(charts.bar_chart(i18n.t("buyer_messages", lang), pts("buyer_messages"), css="c-blue")),
        Markup(charts.line_chart(i18n.t("late_responses", lang), pts("late_responses"), css="c-orange")),
        Markup(charts.bar_chart(i18n.t("a_to_z_claims", lang), pts("a_to_z_claims"), css="c-red")),
    ]


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


# ------------------------------------------------------------------ app
def create_app() -> FastAPI:
    app = FastAPI(title="Seller Inbox", docs_url=None, redoc_url=None, openapi_url=None,
                  dependencies=[Depends(airflow_user)])

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired):
        if _is_api(request):
            return JSONResponse({"detail": exc.detail}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
        from airflow.api_fastapi.app import get_auth_manager

        target = str(request.url) if request.method == "GET" else str(request.base_url.replace(path=path_for(request, "index")))
        return RedirectResponse(get_auth_manager().get_url_login(next_url=target), status_code=303)

    @app.exception_handler(Refused)
    async def _refused(request: Request, exc: Refused):
        lang = _lang(request)
        if _is_api(request):
            return JSONResponse({"detail": i18n.t(exc.key, lang)}, status_code=exc.status)
        return _render(request, "error.html", status=exc.status, message=i18n.t(exc.key, lang), lang=lang)

    @app.exception_handler(queries_error())
    async def _db_down(request: Request, exc: Exception):
        lang = _lang(request)
        msg = i18n.t("warehouse_down", lang, error=str(exc).strip().splitlines()[0][:200])
        if _is_api(request):
            return JSONResponse({"detail": msg}, status_code=503)
        return _render(request, "error.html", status=503, message=msg, lang=lang)

    @app.get("/", name="index")
    async def index(request: Request):
        q = request.url.query
        return RedirectResponse(path_for(request, "kpis") + (f"?{q}" if q else ""), status_code=303)

    # ---------------------------------------------------------- KPIs
    @app.get("/kpis", name="kpis", response_class=HTMLResponse)
    async def kpis(request: Request):
        lang, store, days = _lang(request), _store_param(request), _chart_days(request)
        data = await _warehouse(queries.kpi_overview, store, days)
        stores = await _warehouse(queries.store_ids)
        for gr in data["groups"]:
            gr["charts"] = _kpi_charts(gr, lang) if gr["days"] else []
        return _render(request, "kpis.html", lang=lang, data=data, days=days, day_choices=queries.CHART_DAYS,
                       stores=stores, names=queries.store_names())

    @app.get("/api/kpis", name="api_kpis")
    async def api_kpis(request: Request):
        data = await _warehouse(queries.kpi_overview, _store_param(request), _chart_days(request))
        out = []
        for gr in data["groups"]:
            out.append({
                "store_id": gr["store_id"], "marketplace": gr["marketplace"],
                "windows": {str(k): _jsonable(v) for k, v in gr["windows"].items()},
                "claims_60d": _jsonable(gr["claims"]), "high_risk_period": gr["high_risk_period"],
                "high_risk_open": gr["high_risk_open"],
                "daily": [_jsonable(gr["series"][d]) for d in gr["days"] if d in gr["series"]],
            })
        return {"start": _jsonable(data["start"]), "end": _jsonable(data["end"]), "groups": out}

    # ---------------------------------------------------------- store health
    @app.get("/health", name="health", response_class=HTMLResponse)
    async def health(request: Request):
        data = await _warehouse(queries.store_health, _store_param(request))
        stores = await _warehouse(queries.store_ids)
        return _render(request, "health.html", data=data, stores=stores, names=queries.store_names(),
                       dq_charts=_dq_charts(data["dq"], _lang(request)),
                       dumps=lambda v: json.dumps(v, ensure_ascii=False, default=str))

    @app.get("/api/health", name="api_health")
    async def api_health(request: Request):
        return _jsonable(await _warehouse(queries.store_health, _store_param(request)))

    # ---------------------------------------------------------- approvals
    async def _approvals_page(request: Request, status: int = 200, **extra):
        store = _store_param(request)
        pending = await _warehouse(queries.pending_approvals, store)
        recent = await _warehouse(queries.recent_decisions, store)
        stores = await _warehouse(queries.store_ids)
        switches = await _warehouse(queries.kill_switches)
        shadow = await _warehouse(queries.shadow_drafts, store)
        return _render(request, "approvals.html", status=status, pending=pending, recent=recent, stores=stores,
                       names=queries.store_names(), switches=switches, shadow=shadow, **extra)

    @app.get("/approvals", name="approvals", response_class=HTMLResponse)
    async def approvals(request: Request):
        lang = _lang(request)
        done, key = request.query_params.get("done"), request.query_params.get("key", "")
        flash = None
        if done in ("approved", "rejected", "switch_on", "switch_off"):
            flash = i18n.t({"approved": "approved_ok", "rejected": "rejected_ok", "switch_on": "switch_on_ok",
                            "switch_off": "switch_off_ok"}[done], lang, key=key)
        return await _approvals_page(request, flash=flash)

    def _after(request: Request, done: str, key: str) -> RedirectResponse:
        from urllib.parse import urlencode

        q = {"lang": _lang(request), "done": done, "key": key}
        if s := _store_param(request):
            q["store"] = s
        return RedirectResponse(f"{path_for(request, 'approvals')}?{urlencode(q)}", status_code=303)

    def _decision_error(request: Request, res: dict) -> tuple[int, str]:
        lang = _lang(request)
        if res["error"] == "not_found":
            return 404, i18n.t("not_found", lang)
        if res["error"] == "not_pending":
            return 409, i18n.t("not_pending", lang, status=res.get("status"))
        return 422, i18n.t("approve_refused", lang)

    @app.post("/approvals/approve", name="approve")
    async def approve(request: Request):
        form = await request.form()
        _check_csrf(request, form.get("csrf_token"))
        key = str(form.get("key") or "")
        body = form.get("body")
        subject = form.get("subject")
        res = await _warehouse(queries.approve, key, _user_name(request),
                               subject=None if subject is None else str(subject),
                               body=None if body is None else str(body))
        if res["ok"]:
            return _after(request, "approved", key)
        status, msg = _decision_error(request, res)
        return await _approvals_page(request, status=status, error=msg, error_key=key,
                                     error_findings=res.get("findings") or [],
                                     edited={key: {"subject": res.get("subject"), "body": res.get("body")}}
                                     if res["error"] == "lint" else {})

    @app.post("/approvals/reject", name="reject")
    async def reject(request: Request):
        form = await request.form()
        _check_csrf(request, form.get("csrf_token"))
        key = str(form.get("key") or "")
        res = await _warehouse(queries.reject, key, _user_name(request), str(form.get("reason") or ""))
        if res["ok"]:
            return _after(request, "rejected", key)
        status, msg = _decision_error(request, res)
        return await _approvals_page(request, status=status, error=msg, error_key=key, error_findings=[], edited={})

    @app.post("/approvals/kill-switch", name="kill_switch")
    async def kill_switch(request: Request):
        """Flip a kill switch (global or a store) from the approvals page: who may decide approvals
        may stop every send; audited with the user and reason (docs/delivery.md)."""
        form = await request.form()
        _check_csrf(request, form.get("csrf_token"))
        scope, on = str(form.get("scope") or ""), form.get("on") == "1"
        res = await _warehouse(queries.flip_kill_switch, scope, on, _user_name(request), str(form.get("reason") or ""))
        if res["ok"]:
            return _after(request, "switch_on" if on else "switch_off", scope)
        return await _approvals_page(request, status=404, error=i18n.t("unknown_scope", _lang(request)),
                                     error_key=scope, error_findings=[], edited={})

    @app.get("/api/approvals", name="api_approvals")
    async def api_approvals(request: Request):
        store = _store_param(request)
        shadow = await _warehouse(queries.shadow_drafts, store)
        return {"pending": _jsonable(await _warehouse(queries.pending_approvals, store)),
                "kill_switches": _jsonable(await _warehouse(queries.kill_switches)),
                "shadow": {"days": shadow["days"], "threshold": shadow["threshold"], "summary": shadow["summary"]}}

    async def _json_body(request: Request) -> dict:
        try:
            data = await request.json()
        except ValueError:
            raise HTTPException(400, "body must be JSON") from None
        if not isinstance(data, dict) or not data.get("key"):
            raise HTTPException(400, "JSON object with 'key' expected")
        return data

    @app.post("/api/approvals/approve", name="api_approve")
    async def api_approve(request: Request):
        data = await _json_body(request)
        _check_csrf(request, request.headers.get("x-csrf-token"))
        res = await _warehouse(queries.approve, str(data["key"]), _user_name(request),
                               subject=data.get("subject"), body=data.get("body"))
        if res["ok"]:
            return {"key": data["key"], "status": "approved", "decided_by": _user_name(request)}
        status, msg = _decision_error(request, res)
        return JSONResponse(_jsonable({"detail": msg, "error": res["error"], "findings": res.get("findings", [])}),
                            status_code=status)

    @app.post("/api/approvals/reject", name="api_reject")
    async def api_reject(request: Request):
        data = await _json_body(request)
        _check_csrf(request, request.headers.get("x-csrf-token"))
        res = await _warehouse(queries.reject, str(data["key"]), _user_name(request), data.get("reason"))
        if res["ok"]:
            return {"key": data["key"], "status": "rejected", "decided_by": _user_name(request)}
        status, msg = _decision_error(request, res)
        return JSONResponse({"detail": msg, "error": res["error"]}, status_code=status)

    # ---------------------------------------------------------- open messages
    @app.get("/messages", name="messages", response_class=HTMLResponse)
    async def messages(request: Request):
        risk = request.query_params.get("risk") or None
        rows = await _warehouse(queries.open_messages, _store_param(request), risk)
        stores = await _warehouse(queries.store_ids)
        overdue = sum(1 for r in rows if r["hours_left"] is not None and r["hours_left"] < 0)
        return _render(request, "messages.html", rows=rows, stores=stores, names=queries.store_names(),
                       overdue=overdue, risk=risk)

    @app.get("/api/messages", name="api_messages")
    async def api_messages(request: Request):
        rows = await _warehouse(queries.open_messages, _store_param(request), request.query_params.get("risk") or None)
        return {"messages": _jsonable(rows)}

    # ---------------------------------------------------------- GX Data Docs
    @app.get("/data-docs", name="data_docs_root")
    async def data_docs_root(request: Request):
        q = request.url.query  # the site's links are relative: its index must be served under a slash
        return RedirectResponse(path_for(request, "data_docs") + (f"?{q}" if q else ""), status_code=303)

    @app.get("/data-docs/{rel:path}", name="data_docs")
    async def data_docs_page(request: Request, rel: str):
        from seller_inbox import data_docs

        lang, site = _lang(request), data_docs.site_dir()
        target = data_docs_file(site, rel or "index.html")
        if target is None:
            msg = (f"{i18n.t('data_docs_missing', lang)} {data_docs.BUILD_COMMAND} ({data_docs.ENV}={data_docs.root()})"
                   if not (site / "index.html").is_file() else i18n.t("data_docs_not_found", lang))
            return _render(request, "error.html", status=404, message=msg, lang=lang)
        try:
            body = await run_in_threadpool(target.read_bytes)
        except FileNotFoundError:  # pruned or replaced between the check and the read
            return _render(request, "error.html", status=404, message=i18n.t("data_docs_not_found", lang), lang=lang)
        media = DATA_DOCS_TYPES[target.suffix.lower()]
        headers = {"X-Content-Type-Options": "nosniff",
                   "Cache-Control": "no-store" if media.startswith("text/html") else "private, max-age=3600"}
        if media.startswith("text/html"):
            headers["Content-Security-Policy"] = DATA_DOCS_CSP
        return Response(body, media_type=media, headers=headers)

    return app


def queries_error() -> type[Exception]:
    import psycopg2

    return psycopg2.OperationalError

