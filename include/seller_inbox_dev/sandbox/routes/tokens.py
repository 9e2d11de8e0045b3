"""Tokens API 2021-03-01: ``createRestrictedDataToken`` for the restricted Orders resources."""

from __future__ import annotations

import re
import secrets
import time

from fastapi import APIRouter, Request

from seller_inbox_dev.sandbox.http import RESTRICTED, Problem, sim_of

RDT_TTL = 3600
router = APIRouter()


def _restricted_resources(body: dict | None) -> list[dict]:
    """The request's ``restrictedResources``, validated; each must name a restricted operation."""
    res = (body or {}).get("restrictedResources")
    if not isinstance(res, list) or not res:
        raise Problem(400, "InvalidRequest", "Request is missing or has invalid parameters",
                      "Resource not provided.")
    clean = []
    for r in res:
        if not isinstance(r, dict) or r.get("method") not in ("GET", "PUT", "POST", "DELETE") \
                or not isinstance(r.get("path"), str):
            raise Problem(400, "InvalidRequest", "Request is missing or has invalid parameters",
                          "Each restricted resource needs a method and a path.")
        generic = re.sub(r"\{[^}]*\}", "X", r["path"].split("?")[0])
        if not any(p.match(generic) for p in RESTRICTED):
            raise Problem(400, "InvalidRequest", "Request is missing or has invalid parameters",
                          f"{r['path']} is not a restricted operation.")
        clean.append({"method": r["method"], "path": r["path"].split("?")[0],
                      "dataElements": list(r.get("dataElements") or [])})
    return clean


@router.post("/tokens/2021-03-01/restrictedDataToken")
def create_rdt(request: Request, body: dict | None = None):
    sim = sim_of(request)
    seller, info = sim.begin(request, "createRestrictedDataToken")
    if info["kind"] != "access":
        raise Problem(403, "Unauthorized", "Access to requested resource is denied.")
    clean = _restricted_resources(body)
    tok = "Atz.sprdt|" + secrets.token_urlsafe(32)
    with sim.state.lock:
        sim.state.tokens[tok] = {"seller": seller, "kind": "rdt", "resources": clean,
                                 "expires": time.time() + RDT_TTL}
    return sim.ok("createRestrictedDataToken", {"restrictedDataToken": tok, "expiresIn": RDT_TTL})
