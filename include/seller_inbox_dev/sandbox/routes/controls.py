"""Test controls under ``/_sandbox/`` (not part of Amazon's API): sellers, revocation, faults,
recorded mutations, per-operation statistics, reset."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from seller_inbox_dev.sandbox.http import sim_of

router = APIRouter(prefix="/_sandbox")


@router.get("/sellers")
def list_sellers(request: Request):
    sim = sim_of(request)
    state, config = sim.state, sim.config
    return {"sellers": [
        {"seller_id": s.seller_id, "name": s.name, "region": s.region, "marketplaces": list(s.marketplaces),
         "refresh_token": f"Atzr|sandbox-{s.seller_id}", "revoked": s.seller_id in state.revoked}
        for s in state.sellers.values()],
        "client_id": config.client_id, "client_secret": config.client_secret}


@router.post("/sellers/{seller_id}/revoke")
def revoke(seller_id: str, request: Request):
    sim_of(request).state.revoke(seller_id)
    return {"revoked": seller_id}


@router.post("/sellers/{seller_id}/restore")
def restore(seller_id: str, request: Request):
    sim_of(request).state.restore(seller_id)
    return {"restored": seller_id}


@router.post("/faults")
def add_fault(body: dict, request: Request):
    try:
        f = sim_of(request).state.faults.add(**body)
    except (TypeError, ValueError) as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    return f.to_dict()


@router.get("/faults")
def list_faults(request: Request):
    return {"faults": sim_of(request).state.faults.list()}


@router.delete("/faults")
def clear_faults(request: Request):
    sim_of(request).state.faults.clear()
    return {"faults": []}


@router.get("/mutations")
def mutations(request: Request, seller_id: str | None = None):
    return {"mutations": sim_of(request).state.mutations(seller_id)}


@router.get("/stats")
def stats(request: Request):
    state = sim_of(request).state
    with state.lock:
        rows = [{"seller_id": s, "operation": o, "status": st, "count": n}
                for (s, o, st), n in sorted(state.stats.items(), key=str)]
    return {"stats": rows}


@router.post("/reset")
def reset(request: Request, body: dict | None = None):
    state = sim_of(request).state
    body = body or {}
    state.reset(body.get("time_scale"), body.get("rate_overrides"))
    return {"reset": True, "time_scale": state.config.time_scale}
