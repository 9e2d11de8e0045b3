"""The approvals page (drafts waiting for a human, recent decisions, kill switches, listen-mode
shadow drafts), its form POSTs (approve / reject / kill switch, CSRF-checked) and the JSON API
(``/api/approvals``, approve / reject with a Bearer token)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from seller_inbox.ui import i18n, queries, web
from seller_inbox.ui.render import render
from seller_inbox.ui.security import check_csrf, user_name

router = APIRouter()
_FLASH = {"approved": "approved_ok", "rejected": "rejected_ok", "switch_on": "switch_on_ok",
          "switch_off": "switch_off_ok"}


async def _approvals_page(request: Request, status: int = 200, **extra):
    store = web.store_param(request)
    pending = await web.warehouse(queries.pending_approvals, store)
    recent = await web.warehouse(queries.recent_decisions, store)
    stores = await web.warehouse(queries.store_ids)
    switches = await web.warehouse(queries.kill_switches)
    shadow = await web.warehouse(queries.shadow_drafts, store)
    return render(request, "approvals.html", status=status, pending=pending, recent=recent, stores=stores,
                  names=queries.store_names(), switches=switches, shadow=shadow, **extra)


def _after(request: Request, done: str, key: str) -> RedirectResponse:
    from urllib.parse import urlencode

    q = {"lang": web.lang(request), "done": done, "key": key}
    if s := web.store_param(request):
        q["store"] = s
    return RedirectResponse(f"{web.path_for(request, 'approvals')}?{urlencode(q)}", status_code=303)


def _decision_error(request: Request, res: dict) -> tuple[int, str]:
    lang = web.lang(request)
    if res["error"] == "not_found":
        return 404, i18n.t("not_found", lang)
    if res["error"] == "not_pending":
        return 409, i18n.t("not_pending", lang, status=res.get("status"))
    return 422, i18n.t("approve_refused", lang)


async def _json_body(request: Request) -> dict:
    try:
        data = await request.json()
    except ValueError:
        raise HTTPException(400, "body must be JSON") from None
    if not isinstance(data, dict) or not data.get("key"):
        raise HTTPException(400, "JSON object with 'key' expected")
    return data


# ------------------------------------------------------------------ page and forms
@router.get("/approvals", name="approvals", response_class=HTMLResponse)
async def approvals(request: Request):
    lang = web.lang(request)
    done, key = request.query_params.get("done"), request.query_params.get("key", "")
    flash = i18n.t(_FLASH[done], lang, key=key) if done in _FLASH else None
    return await _approvals_page(request, flash=flash)


@router.post("/approvals/approve", name="approve")
async def approve(request: Request):
    form = await request.form()
    check_csrf(request, form.get("csrf_token"))
    key = str(form.get("key") or "")
    body = form.get("body")
    subject = form.get("subject")
    res = await web.warehouse(queries.approve, key, user_name(request),
                              subject=None if subject is None else str(subject),
                              body=None if body is None else str(body))
    if res["ok"]:
        return _after(request, "approved", key)
    status, msg = _decision_error(request, res)
    return await _approvals_page(request, status=status, error=msg, error_key=key,
                                 error_findings=res.get("findings") or [],
                                 edited={key: {"subject": res.get("subject"), "body": res.get("body")}}
                                 if res["error"] == "lint" else {})


@router.post("/approvals/reject", name="reject")
async def reject(request: Request):
    form = await request.form()
    check_csrf(request, form.get("csrf_token"))
    key = str(form.get("key") or "")
    res = await web.warehouse(queries.reject, key, user_name(request), str(form.get("reason") or ""))
    if res["ok"]:
        return _after(request, "rejected", key)
    status, msg = _decision_error(request, res)
    return await _approvals_page(request, status=status, error=msg, error_key=key, error_findings=[], edited={})


@router.post("/approvals/kill-switch", name="kill_switch")
async def kill_switch(request: Request):
    """Flip a kill switch (global or a store) from the approvals page: who may decide approvals
    may stop every send; audited with the user and reason (docs/delivery.md)."""
    form = await request.form()
    check_csrf(request, form.get("csrf_token"))
    scope, on = str(form.get("scope") or ""), form.get("on") == "1"
    res = await web.warehouse(queries.flip_kill_switch, scope, on, user_name(request), str(form.get("reason") or ""))
    if res["ok"]:
        return _after(request, "switch_on" if on else "switch_off", scope)
    return await _approvals_page(request, status=404, error=i18n.t("unknown_scope", web.lang(request)),
                                 error_key=scope, error_findings=[], edited={})


# ------------------------------------------------------------------ JSON API
@router.get("/api/approvals", name="api_approvals")
async def api_approvals(request: Request):
    store = web.store_param(request)
    shadow = await web.warehouse(queries.shadow_drafts, store)
    return {"pending": web.jsonable(await web.warehouse(queries.pending_approvals, store)),
            "kill_switches": web.jsonable(await web.warehouse(queries.kill_switches)),
            "shadow": {"days": shadow["days"], "threshold": shadow["threshold"], "summary": shadow["summary"]}}


@router.post("/api/approvals/approve", name="api_approve")
async def api_approve(request: Request):
    data = await _json_body(request)
    check_csrf(request, request.headers.get("x-csrf-token"))
    res = await web.warehouse(queries.approve, str(data["key"]), user_name(request),
                              subject=data.get("subject"), body=data.get("body"))
    if res["ok"]:
        return {"key": data["key"], "status": "approved", "decided_by": user_name(request)}
    status, msg = _decision_error(request, res)
    return JSONResponse(web.jsonable({"detail": msg, "error": res["error"], "findings": res.get("findings", [])}),
                        status_code=status)


@router.post("/api/approvals/reject", name="api_reject")
async def api_reject(request: Request):
    data = await _json_body(request)
    check_csrf(request, request.headers.get("x-csrf-token"))
    res = await web.warehouse(queries.reject, str(data["key"]), user_name(request), data.get("reason"))
    if res["ok"]:
        return {"key": data["key"], "status": "rejected", "decided_by": user_name(request)}
    status, msg = _decision_error(request, res)
    return JSONResponse({"detail": msg, "error": res["error"]}, status_code=status)
