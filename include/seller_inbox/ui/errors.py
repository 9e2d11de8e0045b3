"""How the UI answers a missing login (401 for the API, else the auth manager's login page),
a refusal (403 / CSRF) and an unreachable warehouse (503): JSON under ``api/``, a page elsewhere."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse

from seller_inbox.ui import i18n, web
from seller_inbox.ui.render import render
from seller_inbox.ui.security import LoginRequired, Refused


async def login_required(request: Request, exc: LoginRequired):
    if web.is_api(request):
        return JSONResponse({"detail": exc.detail}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
    from airflow.api_fastapi.app import get_auth_manager

    target = str(request.url) if request.method == "GET" else str(request.base_url.replace(path=web.path_for(request, "index")))
    return RedirectResponse(get_auth_manager().get_url_login(next_url=target), status_code=303)


async def refused(request: Request, exc: Refused):
    lang = web.lang(request)
    if web.is_api(request):
        return JSONResponse({"detail": i18n.t(exc.key, lang)}, status_code=exc.status)
    return render(request, "error.html", status=exc.status, message=i18n.t(exc.key, lang), lang=lang)


async def db_down(request: Request, exc: Exception):
    lang = web.lang(request)
    msg = i18n.t("warehouse_down", lang, error=str(exc).strip().splitlines()[0][:200])
    if web.is_api(request):
        return JSONResponse({"detail": msg}, status_code=503)
    return render(request, "error.html", status=503, message=msg, lang=lang)


def queries_error() -> type[Exception]:
    import psycopg2

    return psycopg2.OperationalError


def add_handlers(app: FastAPI) -> None:
    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(Refused, refused)
    app.add_exception_handler(queries_error(), db_down)
