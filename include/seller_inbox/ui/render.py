"""The UI's HTML: the Jinja environment over ``templates/``, its number and time filters, and
``render``, which gives every page the language, the user, links and the CSRF token."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from seller_inbox.ui import charts, i18n
from seller_inbox.ui.security import csrf_token
from seller_inbox.ui.web import lang as request_lang
from seller_inbox.ui.web import path_for, store_param

TEMPLATES = Path(__file__).resolve().parent / "templates"
_env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]),
                   trim_blocks=True, lstrip_blocks=True)


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


def render(request: Request, template: str, status: int = 200, **ctx) -> HTMLResponse:
    lang = ctx.pop("lang", None) or request_lang(request)
    user = getattr(request.state, "si_user", None)
    name = (user.get_name() or user.get_id()) if user is not None else ""
    store = store_param(request)
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
