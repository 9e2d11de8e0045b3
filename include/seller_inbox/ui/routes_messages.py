"""The open buyer messages page (``/messages``, by time left on the 24-hour clock) and ``/api/messages``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from seller_inbox.ui import queries, web
from seller_inbox.ui.render import render

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
