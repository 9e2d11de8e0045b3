"""Login with Amazon: ``POST /auth/o2/token`` (refresh_token and client_credentials grants)."""

from __future__ import annotations

import secrets
import time
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from seller_inbox_dev.sandbox.http import sim_of

ACCESS_TOKEN_TTL = 3600
router = APIRouter()


def _oauth_error(status: int, code: str, desc: str):
    return JSONResponse({"error_description": desc, "error": code}, status_code=status)


@router.post("/auth/o2/token")
async def lwa_token(request: Request):
    sim = sim_of(request)
    state, config = sim.state, sim.config
    request.state.op = "lwa"
    form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
    grant = form.get("grant_type")
    if grant not in ("refresh_token", "client_credentials"):
        return _oauth_error(400, "unsupported_grant_type", "The authorization grant type is not supported.")
    if not form.get("client_id") or not form.get("client_secret"):
        return _oauth_error(400, "invalid_request", "The request is missing a required parameter : client_id")
    if form["client_id"] != config.client_id or form["client_secret"] != config.client_secret:
        return _oauth_error(401, "invalid_client", "Client authentication failed")
    if grant == "client_credentials":
        tok = "Atc|" + secrets.token_urlsafe(24)
        with state.lock:
            state.tokens[tok] = {"seller": "*grantless*", "kind": "grantless",
                                 "expires": time.time() + ACCESS_TOKEN_TTL}
        return JSONResponse({"access_token": tok, "scope": form.get("scope", ""),
                             "token_type": "bearer", "expires_in": ACCESS_TOKEN_TTL})
    rt = form.get("refresh_token") or ""
    seller = rt.removeprefix("Atzr|sandbox-") if rt.startswith("Atzr|sandbox-") else None
    request.state.seller = seller or "?"
    if seller is None or seller not in state.sellers or seller in state.revoked:
        return _oauth_error(400, "invalid_grant", "The request has an invalid grant parameter : refresh_token")
    tok = "Atza|" + secrets.token_urlsafe(32)
    with state.lock:
        state.tokens[tok] = {"seller": seller, "kind": "access", "expires": time.time() + ACCESS_TOKEN_TTL}
    return JSONResponse({"access_token": tok, "refresh_token": rt, "token_type": "bearer",
                         "expires_in": ACCESS_TOKEN_TTL})
