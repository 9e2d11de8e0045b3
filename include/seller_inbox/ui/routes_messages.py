"""The open buyer messages page (``/messages``, by time left on the 24-hour clock), one message
(``/message?store=&id=``: its redacted text, labels and the form that corrects intent/risk, a
CSRF-checked POST recorded as desk feedback, ``classify.feedback``) and their JSON twins."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from seller_inbox.domain import taxonomy as tx
from seller_inbox.ui import i18n, queries, web
from seller_inbox.ui.render import render
from seller_inbox.ui.security import check_csrf, user_name

router = APIRouter()


@router.get("/messages", name="messages", response_class=HTMLResponse)
async def messages(request: Request):
    risk = request.query_params.get("risk") or None
    rows = await web.warehouse(queries.open_messages, web.store_param(request), risk)
    stores = await web.warehouse(queries.store_ids)
    overdue = sum(1 for r in rows if r["hours_left"] is not None and r["hours_left"] < 0)
    return render(request, "messages.html", rows=rows, stores=stores, names=queries.store_names(),
                  overdue=overdue, risk=risk)


@router.get("/api/messages", name="api_messages")
async def api_messages(request: Request):
    rows = await web.warehouse(queries.open_messages, web.store_param(request), request.query_params.get("risk") or None)
    return {"messages": web.jsonable(rows)}


# ------------------------------------------------------------------ one message, label correction
def _ids(request: Request, form=None) -> tuple[str, str]:
    src = form if form is not None else request.query_params
    return str(src.get("store") or "").strip(), str(src.get("id") or "").strip()


async def _message_page(request: Request, store: str, message_id: str, status: int = 200, **extra):
    msg = await web.warehouse(queries.message_detail, store, message_id) if store and message_id else None
    if msg is None:
        return render(request, "error.html", status=404, message=i18n.t("label_no_message", web.lang(request)))
    return render(request, "message.html", status=status, m=msg, intents=tx.INTENTS, risks=tx.RISKS, **extra)


@router.get("/message", name="message", response_class=HTMLResponse)
async def message(request: Request):
    store, message_id = _ids(request)
    done = request.query_params.get("done")
    flash = i18n.t("label_saved", web.lang(request)) if done == "label" else None
    return await _message_page(request, store, message_id, flash=flash)


@router.post("/message/label", name="message_label")
async def message_label(request: Request):
    """Correct a message's intent/risk (who may approve replies may do this: the app's write check)."""
    form = await request.form()
    check_csrf(request, form.get("csrf_token"))
    store, message_id = _ids(request, form)
    res = await web.warehouse(queries.correct_label, store, message_id, str(form.get("intent") or ""),
                              str(form.get("risk") or ""), user_name(request))
    if not res["ok"]:
        status = 404 if res["error"] == "label_no_message" else 422
        return await _message_page(request, store, message_id, status=status,
                                   error=i18n.t(res["error"], web.lang(request)))
    q = urlencode({"lang": web.lang(request), "store": store, "id": message_id, "done": "label"})
    return RedirectResponse(f"{web.path_for(request, 'message')}?{q}", status_code=303)


@router.get("/api/message", name="api_message")
async def api_message(request: Request):
    store, message_id = _ids(request)
    msg = await web.warehouse(queries.message_detail, store, message_id) if store and message_id else None
    if msg is None:
        return JSONResponse({"detail": i18n.t("label_no_message", web.lang(request))}, status_code=404)
    return {"message": web.jsonable(msg)}


@router.post("/api/message/label", name="api_message_label")
async def api_message_label(request: Request):
    """JSON ``{store, id, intent, risk}`` with a Bearer token (or the cookie and ``X-CSRF-Token``)."""
    try:
        data = await request.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return JSONResponse({"detail": "JSON object with store, id, intent and risk expected"}, status_code=400)
    check_csrf(request, request.headers.get("x-csrf-token"))
    res = await web.warehouse(queries.correct_label, str(data.get("store") or ""), str(data.get("id") or ""),
                              str(data.get("intent") or ""), str(data.get("risk") or ""), user_name(request))
    if not res["ok"]:
        return JSONResponse({"detail": i18n.t(res["error"], web.lang(request)), "error": res["error"]},
                            status_code=404 if res["error"] == "label_no_message" else 422)
    return web.jsonable(dict(res))
