"""The gates' Great Expectations Data Docs (``seller_inbox.data_docs``), served as files under
``/data-docs/``: only files inside the site, of the listed types, HTML under a strict CSP."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from seller_inbox.ui import i18n, web
from seller_inbox.ui.render import render

router = APIRouter()

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


@router.get("/data-docs", name="data_docs_root")
async def data_docs_root(request: Request):
    q = request.url.query  # the site's links are relative: its index must be served under a slash
    return RedirectResponse(web.path_for(request, "data_docs") + (f"?{q}" if q else ""), status_code=303)


@router.get("/data-docs/{rel:path}", name="data_docs")
async def data_docs_page(request: Request, rel: str):
    from seller_inbox import data_docs

    lang, site = web.lang(request), data_docs.site_dir()
    target = data_docs_file(site, rel or "index.html")
    if target is None:
        msg = (f"{i18n.t('data_docs_missing', lang)} {data_docs.BUILD_COMMAND} ({data_docs.ENV}={data_docs.root()})"
               if not (site / "index.html").is_file() else i18n.t("data_docs_not_found", lang))
        return render(request, "error.html", status=404, message=msg, lang=lang)
    try:
        body = await run_in_threadpool(target.read_bytes)
    except FileNotFoundError:  # pruned or replaced between the check and the read
        return render(request, "error.html", status=404, message=i18n.t("data_docs_not_found", lang), lang=lang)
    media = DATA_DOCS_TYPES[target.suffix.lower()]
    headers = {"X-Content-Type-Options": "nosniff",
               "Cache-Control": "no-store" if media.startswith("text/html") else "private, max-age=3600"}
    if media.startswith("text/html"):
        headers["Content-Security-Policy"] = DATA_DOCS_CSP
    return Response(body, media_type=media, headers=headers)
