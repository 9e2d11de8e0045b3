"""What every simulated API shares: responses in the models' shape, query parsing, page tokens,
and ``Sim`` (authentication, throttling, faults and clocks for a request)."""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal

from fastapi import Request
from fastapi.responses import JSONResponse

from seller_inbox.domain import marketplaces as mp
from seller_inbox_dev.sandbox import data as simdata
from seller_inbox_dev.sandbox.state import Problem, SandboxConfig, SandboxState


def iso(t: datetime | None) -> str | None:
    return None if t is None else t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(s: str) -> datetime:
    s = s.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
        return datetime.fromisoformat(s).replace(tzinfo=UTC)
    t = datetime.fromisoformat(s.replace("Z", "+00:00").replace(" ", "+"))
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def money(amount: Decimal, ccy: str, v0: bool = True) -> dict:
    amt = str(amount.quantize(Decimal(1) if ccy == "JPY" else Decimal("0.01")))
    return {"CurrencyCode": ccy, "Amount": amt} if v0 else {"amount": amt, "currencyCode": ccy}


def new_request_id() -> str:
    return str(uuid.uuid4())


def _headers(state: SandboxState, op: str | None, request_id: str | None = None) -> dict:
    h = {"x-amzn-RequestId": request_id or new_request_id()}
    if op is not None:
        h["x-amzn-RateLimit-Limit"] = f"{state.buckets.plan(op)[0]:g}"
    return h


def _ok(state: SandboxState, op: str, body: dict, status: int = 200, media: str = "application/json",
        request_id: str | None = None):
    return JSONResponse(body, status_code=status, headers=_headers(state, op, request_id), media_type=media)


def problem(state: SandboxState, op: str | None, p: Problem):
    err = {"code": p.code, "message": p.message}
    if p.details is not None:
        err["details"] = p.details
    headers = _headers(state, op if p.status in (200, 400, 404) else None)
    return JSONResponse({"errors": [err]}, status_code=p.status, headers=headers)


def multi(request: Request, name: str) -> list[str]:
    out: list[str] = []
    for v in request.query_params.getlist(name):
        out += [x for x in v.split(",") if x]
    return out


def date_param(request: Request, name: str) -> datetime | None:
    v = request.query_params.get(name)
    if v is None or v == "":
        return None
    try:
        return parse_iso(v)
    except ValueError:
        raise Problem(400, "InvalidInput", f"Invalid {name}: {v!r} is not an ISO 8601 date-time.") from None


def encode_token(d: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(d, separators=(",", ":")).encode()).decode()


def decode_token(s: str, seller_id: str) -> dict:
    try:
        d = json.loads(base64.urlsafe_b64decode(s.encode()))
    except Exception:
        raise Problem(400, "InvalidInput", "Invalid NextToken.") from None
    if d.get("seller") != seller_id:
        raise Problem(400, "InvalidInput", "Invalid NextToken.")
    return d


RESTRICTED = [re.compile(p) for p in (
    r"^/orders/v0/orders$",
    r"^/orders/v0/orders/[^/]+$",
    r"^/orders/v0/orders/[^/]+/buyerInfo$",
    r"^/orders/v0/orders/[^/]+/address$",
    r"^/orders/v0/orders/[^/]+/orderItems$",
    r"^/orders/v0/orders/[^/]+/orderItems/buyerInfo$",
    r"^/orders/2026-01-01/orders$",
    r"^/orders/2026-01-01/orders/[^/]+$",
)]


def resource_matches(resource_path: str, path: str) -> bool:
    if "{" in resource_path:
        rx = "^" + re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(resource_path)) + "$"
        return re.match(rx, path) is not None
    return resource_path == path


class Sim:
    """The simulator as its routes see it: state, config, and the per-request rules."""

    def __init__(self, state: SandboxState):
        self.state: SandboxState = state
        self.config: SandboxConfig = state.config

    def ok(self, op: str, body: dict, status: int = 200, media: str = "application/json",
           request_id: str | None = None):
        return _ok(self.state, op, body, status, media, request_id)

    def begin(self, request: Request, op: str, *, allow_rdt: bool = False) -> tuple[str, dict]:
        """Authenticate, throttle and apply faults; return (seller_id, token info)."""
        state = self.state
        request.state.op = op
        token = request.headers.get("x-amz-access-token")
        info = state.tokens.get(token or "")
        if info is None:
            request.state.seller = "?"
            raise Problem(403, "Unauthorized", "Access to requested resource is denied.",
                          "The access token you provided is revoked, malformed or invalid.")
        seller = info["seller"]
        request.state.seller = seller
        if info["expires"] < time.time():
            raise Problem(403, "Unauthorized", "Access to requested resource is denied.",
                          "The access token you provided has expired.")
        if seller in state.revoked:
            raise Problem(403, "Unauthorized", "Access to requested resource is denied.",
                          "The access token you provided is revoked, malformed or invalid.")
        if info["kind"] == "rdt":
            path = request.url.path
            if not allow_rdt or not any(
                r["method"] == request.method and resource_matches(r["path"], path) for r in info["resources"]
            ):
                raise Problem(403, "Unauthorized", "Access to requested resource is denied.",
                              "The restricted data token does not cover this resource.")
        if not state.buckets.take(seller, op):
            raise Problem(429, "QuotaExceeded", "You exceeded your quota for the requested resource.")
        self._fault(seller, op)
        return seller, info

    def _fault(self, seller: str, op: str) -> None:
        """Apply the first fault that fires for this request (faults.py lists the kinds)."""
        state = self.state
        f = state.faults.draw(seller, op, ("throttle", "error", "timeout", "slow", "revoke", "deny"))
        if f is None:
            return
        if f.kind == "deny":
            raise Problem(403, "Unauthorized", "Access to requested resource is denied.",
                          "The request is not allowed for this order.")
        if f.kind == "revoke":
            state.revoke(seller)
            raise Problem(403, "Unauthorized", "Access to requested resource is denied.",
                          "The access token you provided is revoked, malformed or invalid.")
        if f.kind == "throttle":
            raise Problem(429, "QuotaExceeded", "You exceeded your quota for the requested resource.")
        if f.kind == "error":
            raise Problem(f.status, "InternalFailure" if f.status == 500 else "ServiceUnavailable",
                          "We encountered an internal error. Please try again.")
        time.sleep(f.delay)
        if f.kind == "timeout":
            raise Problem(503, "ServiceUnavailable", "Service temporarily unavailable. Please try again.")

    @staticmethod
    def real_now() -> datetime:
        return datetime.now(UTC)

    def now(self) -> datetime:
        """The data clock: real time, or the configured ``as_of`` (orders are shown as they were
        then, reproducibly); API freshness rules always use the real time."""
        t = self.real_now()
        return min(t, self.config.as_of) if self.config.as_of is not None else t

    def seller_marketplaces(self, seller: str) -> set[str]:
        return {mp.get(c).marketplace_id for c in self.state.sellers[seller].marketplaces}

    def check_marketplace(self, seller: str, ids: list[str], name: str) -> None:
        if not ids:
            raise Problem(400, "InvalidInput", f"Missing required parameter {name}.")
        bad = [i for i in ids if i not in self.seller_marketplaces(seller)]
        if bad:
            raise Problem(400, "InvalidInput", f"Invalid {name}: {bad[0]} is not a marketplace of this seller.")

    def order_for(self, request: Request, op: str, order_id: str) -> tuple[str, simdata.SimOrder, str]:
        """Authenticate, check the single ``marketplaceIds`` against the order (Messaging, Solicitations)."""
        seller, _ = self.begin(request, op)
        mids = multi(request, "marketplaceIds")
        if len(mids) != 1:
            raise Problem(400, "InvalidInput", "Exactly one marketplaceIds value is required.")
        o = self.state.order(seller, order_id, self.now())
        if o.marketplace_id != mids[0]:
            raise Problem(400, "InvalidInput", f"Order {order_id} does not belong to marketplace {mids[0]}.")
        return seller, o, mids[0]


def sim_of(request: Request) -> Sim:
    return request.app.state.sim


def is_rdt(info: dict) -> bool:
    return info["kind"] == "rdt"


def hal_actions(base: str, order_id: str, mid: str, names: list[str], schema: bool = True) -> dict:
    self_href = f"{base}/orders/{order_id}?marketplaceIds={mid}"
    links = [{"href": f"{base}/orders/{order_id}/{sub}/{n}?marketplaceIds={mid}", "name": n}
             for n, sub in names]
    embedded = []
    for link, (n, sub) in zip(links, names):
        e = {"_links": {"self": link}, "payload": {"name": n}}
        if schema:
            e["_links"]["schema"] = {"href": f"{base}/orders/{order_id}/{sub}/{n}/schema", "name": n}
        embedded.append(e)
    return {"_links": {"actions": links, "self": {"href": self_href}}, "_embedded": {"actions": embedded}}
