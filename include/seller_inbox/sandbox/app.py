"""The SP-API simulator as a FastAPI application.

Paths, parameters, field names, status codes and ``errors`` bodies follow the official models
(Orders v0 and 2026-01-01, Tokens 2021-03-01, Messaging v1, Solicitations v1, Reports
2021-06-30) and LWA. Every operation draws from its own token bucket per seller (rate and
burst of the model's usage plan) and answers 429 ``QuotaExceeded`` beyond it; 2xx/400/404
carry ``x-amzn-RateLimit-Limit``, 429 never does.

Test controls live under ``/_sandbox/`` (not part of Amazon's API): sellers, faults,
revocation, recorded mutations, per-operation statistics, reset.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from seller_inbox.domain import marketplaces as mp
from seller_inbox.sandbox import CLIENT_ID, CLIENT_SECRET
from seller_inbox.sandbox import data as simdata
from seller_inbox.sandbox.buckets import BucketBook
from seller_inbox.sandbox.faults import FaultBook
from seller_inbox.spapi import MESSAGE_KINDS, ORDERS_FRESHNESS

UTC = timezone.utc
ACCESS_TOKEN_TTL = 3600
RDT_TTL = 3600
REPORT_TYPES = ("GET_V2_SELLER_PERFORMANCE_REPORT",)


def iso(t: datetime | None) -> str | None:
    return None if t is None else t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(s: str) -> datetime:
    s = s.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
        return datetime.fromisoformat(s).replace(tzinfo=UTC)
    t = datetime.fromisoformat(s.replace("Z", "+00:00").replace(" ", "+"))
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def money(amount: Decimal, ccy: str, v0: bool = True) -> dict:
    amt = str(amount.quantize(Decimal("1") if ccy == "JPY" else Decimal("0.01")))
    return {"CurrencyCode": ccy, "Amount": amt} if v0 else {"amount": amt, "currencyCode": ccy}


@dataclass
class SandboxConfig:
    seed: int = 42
    extra_sellers: int = 0
    sellers: tuple[str, ...] = ()          # further seller ids to accept (profiles derived)
    time_scale: float = 1.0                # multiplies every bucket rate, divides report durations
    rate_overrides: dict = field(default_factory=dict)  # operation -> (rate, burst)
    orders_per_day: int | None = None      # override every seller's daily volume
    # busy sellers: seller id -> mean orders per UTC day, winning over ``orders_per_day`` (windows
    # of hundreds of orders to page through; same seed, same orders)
    seller_orders_per_day: dict = field(default_factory=dict)
    report_queue_seconds: float = 20.0     # IN_QUEUE for this long (real seconds / time_scale)
    report_processing_seconds: float = 40.0
    fault_seed: int = 0
    as_of: datetime | None = None          # pin the data clock (reproducible demos); None = real time
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET


class Problem(Exception):
    """An error response in the models' shape."""

    def __init__(self, status: int, code: str, message: str, details: str | None = None):
        self.status, self.code, self.message, self.details = status, code, message, details


class SandboxState:
    def __init__(self, config: SandboxConfig):
        self.config = config
        self.buckets = BucketBook(config.time_scale, config.rate_overrides)
        self.faults = FaultBook(config.fault_seed)
        self.lock = threading.Lock()
        self.sellers = {s.seller_id: s for s in simdata.sellers(config.extra_sellers)}
        for sid in (*config.sellers, *config.seller_orders_per_day):
            self.sellers.setdefault(sid, simdata.seller_profile(sid))
        self.revoked: set[str] = set()
        self.tokens: dict[str, dict] = {}
        self.messages: list[dict] = []
        self.solicitations: dict[tuple[str, str], dict] = {}
        self.reports: dict[str, dict] = {}
        self.documents: dict[str, bytes] = {}
        self.stats: Counter = Counter()
        self._report_seq = 50000000000 + config.seed * 1000

    # ---- controls used by tests (also over HTTP under /_sandbox/)
    def revoke(self, seller_id: str) -> None:
        with self.lock:
            self.revoked.add(seller_id)

    def restore(self, seller_id: str) -> None:
        with self.lock:
            self.revoked.discard(seller_id)

    def add_seller(self, seller_id: str) -> None:
        with self.lock:
            self.sellers.setdefault(seller_id, simdata.seller_profile(seller_id))

    def mutations(self, seller_id: str | None = None) -> list[dict]:
        with self.lock:
            rows = list(self.messages) + list(self.solicitations.values())
        rows = [r for r in rows if seller_id in (None, r["seller_id"])]
        return sorted(rows, key=lambda r: r["at"])

    def stat(self, seller_id: str | None = None, operation: str | None = None,
             status: int | None = None) -> int:
        with self.lock:
            return sum(n for (s, o, st), n in self.stats.items()
                       if seller_id in (None, s) and operation in (None, o) and status in (None, st))

    def reset(self, time_scale: float | None = None, rate_overrides: dict | None = None) -> None:
        with self.lock:
            self.faults.clear()
            self.revoked.clear()
            self.messages.clear()
            self.solicitations.clear()
            self.reports.clear()
            self.documents.clear()
            self.stats.clear()
        if time_scale is not None:
            self.config.time_scale = float(time_scale)
        self.buckets.reset(time_scale, rate_overrides)

    # ---- data access
    def volume(self, seller_id: str) -> int | None:
        """The seller's mean orders per day here (None: its profile's own volume)."""
        return self.config.seller_orders_per_day.get(seller_id, self.config.orders_per_day)

    def order(self, seller_id: str, order_id: str, now: datetime) -> simdata.SimOrder:
        o = simdata.find_order(seller_id, order_id, self.config.seed, orders_per_day=self.volume(seller_id))
        o = o.as_of(now) if o is not None else None
        if o is None:
            raise Problem(404, "NotFound", f"Order {order_id} was not found for this seller.")
        return o

    def orders_between(self, seller_id: str, start: datetime, end: datetime, as_of: datetime):
        return simdata.generate_orders(seller_id, start, end, self.config.seed, as_of=as_of,
                                       orders_per_day=self.volume(seller_id))


# --------------------------------------------------------------------------- helpers
def _request_id() -> str:
    return str(uuid.uuid4())


def _headers(state: SandboxState, op: str | None, request_id: str | None = None) -> dict:
    h = {"x-amzn-RequestId": request_id or _request_id()}
    if op is not None:
        h["x-amzn-RateLimit-Limit"] = f"{state.buckets.plan(op)[0]:g}"
    return h


def _ok(state: SandboxState, op: str, body: dict, status: int = 200, media: str = "application/json",
        request_id: str | None = None):
    return JSONResponse(body, status_code=status, headers=_headers(state, op, request_id), media_type=media)


def _problem(state: SandboxState, op: str | None, p: Problem):
    err = {"code": p.code, "message": p.message}
    if p.details is not None:
        err["details"] = p.details
    headers = _headers(state, op if p.status in (200, 400, 404) else None)
    return JSONResponse({"errors": [err]}, status_code=p.status, headers=headers)


def _multi(request: Request, name: str) -> list[str]:
    out: list[str] = []
    for v in request.query_params.getlist(name):
        out += [x for x in v.split(",") if x]
    return out


def _date_param(request: Request, name: str) -> datetime | None:
    v = request.query_params.get(name)
    if v is None or v == "":
        return None
    try:
        return parse_iso(v)
    except ValueError:
        raise Problem(400, "InvalidInput", f"Invalid {name}: {v!r} is not an ISO 8601 date-time.") from None


def _encode_token(d: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(d, separators=(",", ":")).encode()).decode()


def _decode_token(s: str, seller_id: str) -> dict:
    try:
        d = json.loads(base64.urlsafe_b64decode(s.encode()))
    except Exception:
        raise Problem(400, "InvalidInput", "Invalid NextToken.") from None
    if d.get("seller") != seller_id:
        raise Problem(400, "InvalidInput", "Invalid NextToken.")
    return d


_RESTRICTED = [re.compile(p) for p in (
    r"^/orders/v0/orders$",
    r"^/orders/v0/orders/[^/]+$",
    r"^/orders/v0/orders/[^/]+/buyerInfo$",
    r"^/orders/v0/orders/[^/]+/address$",
    r"^/orders/v0/orders/[^/]+/orderItems$",
    r"^/orders/v0/orders/[^/]+/orderItems/buyerInfo$",
    r"^/orders/2026-01-01/orders$",
    r"^/orders/2026-01-01/orders/[^/]+$",
)]


def _resource_matches(resource_path: str, path: str) -> bool:
    if "{" in resource_path:
        rx = "^" + re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(resource_path)) + "$"
        return re.match(rx, path) is not None
    return resource_path == path


# --------------------------------------------------------------------------- app
def create_app(config: SandboxConfig | None = None) -> FastAPI:
    config = config or SandboxConfig()
    state = SandboxState(config)
    app = FastAPI(title="seller-inbox SP-API simulator", docs_url="/_sandbox/docs",
                  openapi_url="/_sandbox/openapi.json", redoc_url=None)
    app.state.sandbox = state

    @app.exception_handler(Problem)
    async def _on_problem(request: Request, exc: Problem):
        r = _problem(state, getattr(request.state, "op", None), exc)
        if request.url.path.startswith(("/messaging/", "/solicitations/")):
            r.headers["content-type"] = "application/hal+json"
        return r

    @app.middleware("http")
    async def _count(request: Request, call_next):
        response = await call_next(request)
        op = getattr(request.state, "op", None)
        if op is not None:
            with state.lock:
                state.stats[(getattr(request.state, "seller", "?"), op, response.status_code)] += 1
        return response

    def begin(request: Request, op: str, *, allow_rdt: bool = False) -> tuple[str, dict]:
        """Authenticate, throttle and apply faults; return (seller_id, token info)."""
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
                r["method"] == request.method and _resource_matches(r["path"], path) for r in info["resources"]
            ):
                raise Problem(403, "Unauthorized", "Access to requested resource is denied.",
                              "The restricted data token does not cover this resource.")
        if not state.buckets.take(seller, op):
            raise Problem(429, "QuotaExceeded", "You exceeded your quota for the requested resource.")
        f = state.faults.draw(seller, op, ("throttle", "error", "timeout", "slow", "revoke", "deny"))
        if f is not None:
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
        return seller, info

    def real_now() -> datetime:
        return datetime.now(UTC)

    def now() -> datetime:
        """The data clock: real time, or the configured ``as_of`` (orders are shown as they were
        then, reproducibly); API freshness rules always use the real time."""
        t = real_now()
        return min(t, config.as_of) if config.as_of is not None else t

    def seller_marketplaces(seller: str) -> set[str]:
        return {mp.get(c).marketplace_id for c in state.sellers[seller].marketplaces}

    def check_marketplace(seller: str, ids: list[str], name: str) -> None:
        if not ids:
            raise Problem(400, "InvalidInput", f"Missing required parameter {name}.")
        bad = [i for i in ids if i not in seller_marketplaces(seller)]
        if bad:
            raise Problem(400, "InvalidInput", f"Invalid {name}: {bad[0]} is not a marketplace of this seller.")

    # ------------------------------------------------------------------ LWA
    @app.post("/auth/o2/token")
    async def lwa_token(request: Request):
        request.state.op = "lwa"
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        grant = form.get("grant_type")

        def oauth_error(status: int, code: str, desc: str):
            return JSONResponse({"error_description": desc, "error": code}, status_code=status)

        if grant not in ("refresh_token", "client_credentials"):
            return oauth_error(400, "unsupported_grant_type", "The authorization grant type is not supported.")
        if not form.get("client_id") or not form.get("client_secret"):
            return oauth_error(400, "invalid_request", "The request is missing a required parameter : client_id")
        if form["client_id"] != config.client_id or form["client_secret"] != config.client_secret:
            return oauth_error(401, "invalid_client", "Client authentication failed")
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
            return oauth_error(400, "invalid_grant", "The request has an invalid grant parameter : refresh_token")
        tok = "Atza|" + secrets.token_urlsafe(32)
        with state.lock:
            state.tokens[tok] = {"seller": seller, "kind": "access", "expires": time.time() + ACCESS_TOKEN_TTL}
        return JSONResponse({"access_token": tok, "refresh_token": rt, "token_type": "bearer",
                             "expires_in": ACCESS_TOKEN_TTL})

    # ------------------------------------------------------------------ Orders v0
    def order_v0(o: simdata.SimOrder, pii: bool) -> dict:
        d = {
            "AmazonOrderId": o.amazon_order_id,
            "PurchaseDate": iso(o.purchase_date),
            "LastUpdateDate": iso(o.last_update_date),
            "OrderStatus": o.order_status,
            "FulfillmentChannel": o.fulfillment_channel,
            "SalesChannel": o.sales_channel,
            "ShipServiceLevel": o.ship_service_level,
            "NumberOfItemsShipped": o.items_shipped,
            "NumberOfItemsUnshipped": o.items_unshipped,
            "PaymentMethod": "Other",
            "PaymentMethodDetails": ["Standard"],
            "MarketplaceId": o.marketplace_id,
            "ShipmentServiceLevelCategory": "Expedited" if o.ship_service_level == "Expedited" else
            ("NextDay" if o.ship_service_level == "NextDay" else "Standard"),
            "OrderType": "StandardOrder",
            "EarliestShipDate": iso(o.earliest_ship_date),
            "LatestShipDate": iso(o.latest_ship_date),
            "EarliestDeliveryDate": iso(o.earliest_delivery_date),
            "LatestDeliveryDate": iso(o.latest_delivery_date),
            "IsBusinessOrder": o.is_business_order,
            "IsPrime": o.is_prime,
            "IsPremiumOrder": False,
            "IsGlobalExpressEnabled": False,
            "IsReplacementOrder": False,
            "IsSoldByAB": False,
            "IsISPU": False,
            "IsAccessPointOrder": False,
            "HasRegulatedItems": False,
        }
        if o.order_status not in ("Pending", "Canceled"):
            d["OrderTotal"] = money(o.order_total, o.currency)
        if pii:
            d["BuyerInfo"] = {"BuyerEmail": o.buyer.buyer_email, "BuyerName": o.buyer.buyer_name}
            d["ShippingAddress"] = address_v0(o)
        return d

    def address_v0(o: simdata.SimOrder) -> dict:
        b = o.buyer
        return {"Name": b.buyer_name, "AddressLine1": b.address_line1, "City": b.city,
                "PostalCode": b.postal_code, "CountryCode": b.country_code, "AddressType": "Residential"}

    def is_rdt(info: dict) -> bool:
        return info["kind"] == "rdt"

    def window(request: Request, camel: bool) -> dict:
        """Validate the created/updated window parameters (v0 names or 2026 names)."""
        names = ("createdAfter", "createdBefore", "lastUpdatedAfter", "lastUpdatedBefore") if camel else \
            ("CreatedAfter", "CreatedBefore", "LastUpdatedAfter", "LastUpdatedBefore")
        ca, cb, ua, ub = (_date_param(request, n) for n in names)
        limit = real_now() - ORDERS_FRESHNESS
        if ca is None and ua is None:
            raise Problem(400, "InvalidInput", f"Either {names[0]} or {names[2]} must be specified.")
        if ca is not None and (ua is not None or ub is not None):
            raise Problem(400, "InvalidInput", f"{names[2]} and {names[3]} cannot be set when {names[0]} is set.")
        if ua is not None and cb is not None:
            raise Problem(400, "InvalidInput", f"{names[0]} and {names[1]} cannot be set when {names[2]} is set.")
        mode = "created" if ca is not None else "updated"
        after = ca if ca is not None else ua
        before = cb if mode == "created" else ub
        if before is None:
            before = limit
        elif before > limit + timedelta(seconds=1):
            raise Problem(400, "InvalidInput",
                          f"{names[1] if mode == 'created' else names[3]} must be at least two minutes before the current time.")
        if after > before:
            raise Problem(400, "InvalidInput", f"{names[0] if mode == 'created' else names[2]} must be before "
                                               f"{names[1] if mode == 'created' else names[3]}.")
        if after < real_now() - timedelta(days=731):
            raise Problem(400, "InvalidInput", "Orders older than two years cannot be requested.")
        return {"mode": mode, "after": iso(after), "before": iso(before)}

    def select(seller: str, q: dict) -> list[simdata.SimOrder]:
        after, before, as_of = parse_iso(q["after"]), parse_iso(q["before"]), parse_iso(q["asof"])
        eps = timedelta(seconds=1)
        if q["mode"] == "created":
            rows = state.orders_between(seller, after, before + eps, as_of)
        else:
            rows = [o for o in state.orders_between(seller, after - simdata.MAX_UPDATE_LAG, before + eps, as_of)
                    if after <= o.last_update_date <= before]
            rows.sort(key=lambda o: (o.last_update_date, o.amazon_order_id))
        mids = set(q["marketplaces"])
        rows = [o for o in rows if o.marketplace_id in mids]
        if q.get("statuses"):
            rows = [o for o in rows if o.order_status in q["statuses"]]
        if q.get("channels"):
            rows = [o for o in rows if o.fulfillment_channel in q["channels"]]
        if q.get("ids"):
            rows = [o for o in rows if o.amazon_order_id in q["ids"]]
        return rows

    def page_size(request: Request, name: str) -> int:
        v = request.query_params.get(name)
        if v is None:
            return 100
        try:
            n = int(v)
        except ValueError:
            n = 0
        if not 1 <= n <= 100:
            raise Problem(400, "InvalidInput", f"{name} must be between 1 and 100.")
        return n

    def next_token(seller: str, op: str, token: str | None, q: dict, total: int) -> str | None:
        """The token of the page after ``q``'s, only while more orders remain (Amazon: none on the
        last page); the ``repeat_token`` fault answers the request's own token again."""
        if token and state.faults.draw(seller, op, ("repeat_token",)) is not None:
            return token
        if q["offset"] + q["size"] < total:
            return _encode_token({**q, "offset": q["offset"] + q["size"]})
        return None

    @app.get("/orders/v0/orders")
    def get_orders(request: Request):
        seller, info = begin(request, "getOrders", allow_rdt=True)
        nt = request.query_params.get("NextToken")
        if nt:
            q = _decode_token(nt, seller)
        else:
            mids = _multi(request, "MarketplaceIds")
            check_marketplace(seller, mids, "MarketplaceIds")
            q = window(request, camel=False)
            statuses = _multi(request, "OrderStatuses")
            bad = [s for s in statuses if s not in ("Pending", "Unshipped", "PartiallyShipped", "Shipped", "Canceled",
                                                    "Unfulfillable", "InvoiceUnconfirmed", "PendingAvailability")]
            if bad:
                raise Problem(400, "InvalidInput", f"Invalid OrderStatuses value {bad[0]!r}.")
            q.update(seller=seller, marketplaces=mids, statuses=statuses,
                     channels=_multi(request, "FulfillmentChannels"), ids=_multi(request, "AmazonOrderIds"),
                     size=page_size(request, "MaxResultsPerPage"), offset=0, asof=iso(now()))
        rows = select(seller, q)
        page = rows[q["offset"]:q["offset"] + q["size"]]
        payload: dict = {"Orders": [order_v0(o, is_rdt(info)) for o in page]}
        nxt = next_token(seller, "getOrders", nt, q, len(rows))
        if nxt:
            payload["NextToken"] = nxt
        payload["LastUpdatedBefore" if q["mode"] == "updated" else "CreatedBefore"] = q["before"]
        return _ok(state, "getOrders", {"payload": payload})

    @app.get("/orders/v0/orders/{order_id}")
    def get_order(order_id: str, request: Request):
        seller, info = begin(request, "getOrder", allow_rdt=True)
        o = state.order(seller, order_id, now())
        return _ok(state, "getOrder", {"payload": order_v0(o, is_rdt(info))})

    @app.get("/orders/v0/orders/{order_id}/orderItems")
    def get_order_items(order_id: str, request: Request):
        seller, info = begin(request, "getOrderItems", allow_rdt=True)
        o = state.order(seller, order_id, now())
        items = []
        for it in o.items:
            shipped = it.quantity if o.order_status == "Shipped" else 0
            items.append({
                "ASIN": it.asin, "SellerSKU": it.seller_sku, "OrderItemId": it.order_item_id, "Title": it.title,
                "QuantityOrdered": it.quantity, "QuantityShipped": shipped,
                "ProductInfo": {"NumberOfItems": "1"},
                "ItemPrice": money(it.item_price, o.currency),
                "ItemTax": money(Decimal(0), o.currency),
                "PromotionDiscount": money(Decimal(0), o.currency),
                "IsGift": "false", "ConditionId": "New", "ConditionSubtypeId": "New",
                "IsTransparency": False, "SerialNumberRequired": False,
            })
        return _ok(state, "getOrderItems", {"payload": {"AmazonOrderId": o.amazon_order_id, "OrderItems": items}})

    def pii_only(request: Request, op: str, order_id: str) -> tuple[str, simdata.SimOrder]:
        seller, info = begin(request, op, allow_rdt=True)
        if not is_rdt(info):
            raise Problem(403, "Unauthorized", "Access to requested resource is denied.",
                          "This operation returns restricted data: call it with a Restricted Data Token.")
        return seller, state.order(seller, order_id, now())

    @app.get("/orders/v0/orders/{order_id}/buyerInfo")
    def get_order_buyer_info(order_id: str, request: Request):
        _, o = pii_only(request, "getOrderBuyerInfo", order_id)
        return _ok(state, "getOrderBuyerInfo", {"payload": {
            "AmazonOrderId": o.amazon_order_id, "BuyerEmail": o.buyer.buyer_email, "BuyerName": o.buyer.buyer_name}})

    @app.get("/orders/v0/orders/{order_id}/address")
    def get_order_address(order_id: str, request: Request):
        _, o = pii_only(request, "getOrderAddress", order_id)
        return _ok(state, "getOrderAddress", {"payload": {
            "AmazonOrderId": o.amazon_order_id, "ShippingAddress": address_v0(o)}})

    # ------------------------------------------------------------------ Orders 2026-01-01
    _STATUS_2026 = {"Pending": "PENDING", "Unshipped": "UNSHIPPED", "PartiallyShipped": "PARTIALLY_SHIPPED",
                    "Shipped": "SHIPPED", "Canceled": "CANCELLED", "Unfulfillable": "UNFULFILLABLE",
                    "PendingAvailability": "PENDING_AVAILABILITY"}
    _SEARCH_PARAMS = ("createdAfter", "createdBefore", "lastUpdatedAfter", "lastUpdatedBefore", "marketplaceIds",
                      "fulfillmentStatuses", "fulfilledBy")
    _INCLUDED = ("BUYER", "RECIPIENT", "PROCEEDS", "EXPENSE", "PROMOTION", "CANCELLATION", "FULFILLMENT",
                 "PACKAGES", "TAX", "PAYMENT", "FULFILLMENT_ORDERS")

    def included(request: Request) -> set[str]:
        inc = _multi(request, "includedData")
        bad = [i for i in inc if i not in _INCLUDED]
        if bad:
            raise Problem(400, "InvalidInput", f"Invalid includedData value {bad[0]!r}.")
        return set(inc)

    def order_2026(o: simdata.SimOrder, inc: set[str], pii: bool) -> dict:
        m = mp.get(o.marketplace)
        items = []
        for it in o.items:
            item = {"orderItemId": it.order_item_id, "quantityOrdered": it.quantity,
                    "product": {"asin": it.asin, "title": it.title, "sellerSku": it.seller_sku,
                                "price": {"unitPrice": money(it.item_price / it.quantity, o.currency, v0=False)}}}
            if "FULFILLMENT" in inc:
                done = it.quantity if o.order_status == "Shipped" else 0
                item["fulfillment"] = {"quantityFulfilled": done, "quantityUnfulfilled": it.quantity - done}
            if "PROCEEDS" in inc:
                item["proceeds"] = {"proceedsTotal": money(it.item_price, o.currency, v0=False)}
            items.append(item)
        programs = (["PRIME"] if o.is_prime else []) + (["AMAZON_BUSINESS"] if o.is_business_order else [])
        d: dict = {"orderId": o.amazon_order_id, "createdTime": iso(o.purchase_date),
                   "lastUpdatedTime": iso(o.last_update_date), "programs": programs,
                   "salesChannel": {"channelName": "AMAZON", "marketplaceId": m.marketplace_id,
                                    "marketplaceName": "Amazon." + m.domain},
                   "orderItems": items}
        if "FULFILLMENT" in inc:
            d["fulfillment"] = {
                "fulfillmentStatus": _STATUS_2026[o.order_status],
                "fulfilledBy": "AMAZON" if o.fulfillment_channel == "AFN" else "MERCHANT",
                "fulfillmentServiceLevel": {"Expedited": "EXPEDITED", "NextDay": "NEXT_DAY"}.get(
                    o.ship_service_level, "STANDARD"),
                "shipByWindow": {"earliestDateTime": iso(o.earliest_ship_date),
                                 "latestDateTime": iso(o.latest_ship_date)},
                "deliverByWindow": {"earliestDateTime": iso(o.earliest_delivery_date),
                                    "latestDateTime": iso(o.latest_delivery_date)},
            }
        if "PROCEEDS" in inc and o.order_status != "Canceled":
            d["proceeds"] = {"grandTotal": money(o.order_total, o.currency, v0=False)}
        if "PACKAGES" in inc:
            pk = packages_2026(o, now())
            if pk:
                d["packages"] = pk
        if pii and "BUYER" in inc:
            d["buyer"] = {"buyerName": o.buyer.buyer_name, "buyerEmail": o.buyer.buyer_email}
        if pii and "RECIPIENT" in inc:
            b = o.buyer
            d["recipient"] = {"deliveryAddress": {"name": b.buyer_name, "addressLine1": b.address_line1,
                                                  "city": b.city, "postalCode": b.postal_code,
                                                  "countryCode": b.country_code}}
        return d

    def packages_2026(o: simdata.SimOrder, t: datetime) -> list[dict]:
        """The model's ``OrderPackage`` list: merchant-fulfilled orders only, packages whose label
        exists at ``t``, with the status of that moment."""
        out = []
        for p in simdata.packages(o, config.seed):
            st = simdata.package_status(o, p, t, config.seed)
            if st is None:
                continue
            d = {"packageReferenceId": p.package_reference_id, "createdTime": iso(p.created_time),
                 "packageStatus": {"status": st[0], "detailedStatus": st[1]},
                 "carrier": p.carrier, "shippingService": p.shipping_service, "trackingNumber": p.tracking_number,
                 "packageItems": [{"orderItemId": i, "quantity": q} for i, q in p.items]}
            if t >= p.ship_time:
                d["shipTime"] = iso(p.ship_time)
            out.append(d)
        return out

    @app.get("/orders/2026-01-01/orders")
    def search_orders(request: Request):
        seller, info = begin(request, "searchOrders", allow_rdt=True)
        inc = included(request)
        pt = request.query_params.get("paginationToken")
        if pt:
            q = _decode_token(pt, seller)
            # the model: every other parameter must come again with the same values, except
            # maxResultsPerPage and includedData, which may change between pages
            for name in _SEARCH_PARAMS:
                if _multi(request, name) != q["params"].get(name, []):
                    raise Problem(400, "InvalidInput", f"{name} must have the same value as in the request "
                                                       f"that returned the paginationToken.")
            if request.query_params.get("maxResultsPerPage") is not None:
                q = {**q, "size": page_size(request, "maxResultsPerPage")}
        else:
            mids = _multi(request, "marketplaceIds") or sorted(seller_marketplaces(seller))
            check_marketplace(seller, mids, "marketplaceIds")
            q = window(request, camel=True)
            rev = {v: k for k, v in _STATUS_2026.items()}
            statuses = []
            for s in _multi(request, "fulfillmentStatuses"):
                if s not in rev:
                    raise Problem(400, "InvalidInput", f"Invalid fulfillmentStatuses value {s!r}.")
                statuses.append(rev[s])
            channels = []
            for s in _multi(request, "fulfilledBy"):
                if s not in ("MERCHANT", "AMAZON"):
                    raise Problem(400, "InvalidInput", f"Invalid fulfilledBy value {s!r}.")
                channels.append("AFN" if s == "AMAZON" else "MFN")
            q.update(seller=seller, marketplaces=mids, statuses=statuses, channels=channels, ids=[],
                     size=page_size(request, "maxResultsPerPage"), offset=0, asof=iso(now()),
                     params={n: _multi(request, n) for n in _SEARCH_PARAMS if _multi(request, n)})
        rows = select(seller, q)
        page = rows[q["offset"]:q["offset"] + q["size"]]
        body: dict = {"orders": [order_2026(o, inc, is_rdt(info)) for o in page]}
        nxt = next_token(seller, "searchOrders", pt, q, len(rows))
        if nxt:
            body["pagination"] = {"nextToken": nxt}
        body["lastUpdatedBefore" if q["mode"] == "updated" else "createdBefore"] = q["before"]
        return _ok(state, "searchOrders", body)

    @app.get("/orders/2026-01-01/orders/{order_id}")
    def get_order_2026(order_id: str, request: Request):
        seller, info = begin(request, "getOrder2026", allow_rdt=True)
        inc = included(request)
        o = state.order(seller, order_id, now())
        return _ok(state, "getOrder2026", {"order": order_2026(o, inc, is_rdt(info))})

    # ------------------------------------------------------------------ Tokens
    @app.post("/tokens/2021-03-01/restrictedDataToken")
    def create_rdt(request: Request, body: dict | None = None):
        seller, info = begin(request, "createRestrictedDataToken")
        if info["kind"] != "access":
            raise Problem(403, "Unauthorized", "Access to requested resource is denied.")
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
            if not any(p.match(generic) for p in _RESTRICTED):
                raise Problem(400, "InvalidRequest", "Request is missing or has invalid parameters",
                              f"{r['path']} is not a restricted operation.")
            clean.append({"method": r["method"], "path": r["path"].split("?")[0],
                          "dataElements": list(r.get("dataElements") or [])})
        tok = "Atz.sprdt|" + secrets.token_urlsafe(32)
        with state.lock:
            state.tokens[tok] = {"seller": seller, "kind": "rdt", "resources": clean,
                                 "expires": time.time() + RDT_TTL}
        return _ok(state, "createRestrictedDataToken", {"restrictedDataToken": tok, "expiresIn": RDT_TTL})

    # ------------------------------------------------------------------ Messaging
    def order_for(request: Request, op: str, order_id: str) -> tuple[str, simdata.SimOrder, str]:
        seller, _ = begin(request, op)
        mids = _multi(request, "marketplaceIds")
        if len(mids) != 1:
            raise Problem(400, "InvalidInput", "Exactly one marketplaceIds value is required.")
        o = state.order(seller, order_id, now())
        if o.marketplace_id != mids[0]:
            raise Problem(400, "InvalidInput", f"Order {order_id} does not belong to marketplace {mids[0]}.")
        return seller, o, mids[0]

    def message_actions(o: simdata.SimOrder, t: datetime) -> list[str]:
        """The message types Amazon offers for ``o`` at ``t``: none once canceled or 30 days after
        the latest delivery date; order questions only before shipping; delivery arrangements
        only for merchant-fulfilled orders not yet delivered."""
        if o.order_status == "Canceled" or t > o.latest_delivery_date + timedelta(days=30):
            return []
        acts = ["unexpectedProblem", "legalDisclosure", "warranty", "invoice"]
        if o.order_status in ("Pending", "Unshipped"):
            acts.insert(0, "confirmOrderDetails")
        d = simdata.delivery(o, config.seed)
        delivered = d is not None and d.delivered_at is not None and t >= d.delivered_at
        if o.fulfillment_channel == "MFN" and t < o.latest_delivery_date and not delivered:
            acts.insert(0, "confirmDeliveryDetails")
        return acts

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

    @app.get("/messaging/v1/orders/{order_id}")
    def get_messaging_actions(order_id: str, request: Request):
        _, o, mid = order_for(request, "getMessagingActionsForOrder", order_id)
        names = [(n, "messages") for n in message_actions(o, now())]
        return _ok(state, "getMessagingActionsForOrder", hal_actions("/messaging/v1", order_id, mid, names),
                   media="application/hal+json")

    @app.get("/messaging/v1/orders/{order_id}/attributes")
    def get_attributes(order_id: str, request: Request):
        _, o, _ = order_for(request, "GetAttributes", order_id)
        lang = mp.get(o.marketplace).language
        # a few buyers browse in English on non-English marketplaces
        h = int(o.amazon_order_id[-2:])
        region = "GB" if o.marketplace == "UK" else o.marketplace
        locale = "en-GB" if (lang != "en" and h < 8) else f"{lang}-{region}"
        return _ok(state, "GetAttributes", {"buyer": {"locale": locale}})

    _EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
    _HTML = re.compile(r"<\s*/?\s*[a-zA-Z][^>]*>")

    def make_message_route(kind: str, op: str, limit: int | None):
        async def route(order_id: str, request: Request):
            raw = await request.body()
            return await _run_sync(lambda: send_message(kind, op, limit, order_id, request, raw))
        route.__name__ = f"message_{kind}"
        app.post(f"/messaging/v1/orders/{{order_id}}/messages/{kind}", status_code=201)(route)

    def send_message(kind: str, op: str, limit: int | None, order_id: str, request: Request, raw: bytes):
        seller, o, mid = order_for(request, op, order_id)
        try:
            body = json.loads(raw or b"{}")
            assert isinstance(body, dict)
        except (ValueError, AssertionError):
            raise Problem(400, "InvalidInput", "The request body is not valid JSON.") from None
        if kind not in message_actions(o, now()):
            raise Problem(403, "Unauthorized", f"The {kind} message type is not available for order {order_id}.",
                          "Call getMessagingActionsForOrder for the message types allowed now.")
        text = body.get("text")
        if limit is not None:
            if not isinstance(text, str) or not text.strip():
                raise Problem(400, "InvalidInput", "Missing required field text.")
            if len(text) > limit:
                raise Problem(400, "InvalidInput", f"text exceeds the maximum length of {limit} characters.")
            if _HTML.search(text) or _EMAIL.search(text):
                raise Problem(400, "InvalidInput", "text must not contain HTML or e-mail addresses.")
        elif kind in ("legalDisclosure", "invoice", "warranty") and not body.get("attachments") and kind != "warranty":
            raise Problem(400, "InvalidInput", "Missing required field attachments.")
        rid = _request_id()
        rec = {"seller_id": seller, "amazon_order_id": order_id, "marketplace_id": mid, "type": "message",
               "kind": kind, "text": text, "attachments": body.get("attachments") or [], "at": iso(now()),
               "seq": time.monotonic_ns(), "request_id": rid}
        with state.lock:
            state.messages.append(rec)
        return _ok(state, op, {}, status=201, request_id=rid)

    for _kind, (_op, _limit) in MESSAGE_KINDS.items():
        make_message_route(_kind, _op, _limit)

    # ------------------------------------------------------------------ Solicitations
    def solicitation_allowed(seller: str, o: simdata.SimOrder, t: datetime) -> tuple[bool, str]:
        if (seller, o.amazon_order_id) in state.solicitations:
            return False, "A solicitation was already sent for this order."
        if o.order_status == "Canceled":
            return False, "The order was canceled."
        w = simdata.solicitation_window(o, config.seed)
        if w is None or t < w[0] - simdata.SOLICITATION_OPENS:
            return False, "The order has not been delivered."
        if not w[0] <= t <= w[1]:
            return False, (f"Solicitations are allowed from {iso(w[0])} to {iso(w[1])} "
                           f"(5 to 30 days after the delivery date).")
        return True, ""

    @app.get("/solicitations/v1/orders/{order_id}")
    def get_solicitation_actions(order_id: str, request: Request):
        seller, o, mid = order_for(request, "getSolicitationActionsForOrder", order_id)
        ok, _ = solicitation_allowed(seller, o, now())
        names = [("productReviewAndSellerFeedback", "solicitations")] if ok else []
        return _ok(state, "getSolicitationActionsForOrder",
                   hal_actions("/solicitations/v1", order_id, mid, names), media="application/hal+json")

    @app.post("/solicitations/v1/orders/{order_id}/solicitations/productReviewAndSellerFeedback", status_code=201)
    def create_solicitation(order_id: str, request: Request):
        seller, o, mid = order_for(request, "createProductReviewAndSellerFeedbackSolicitation", order_id)
        rid = _request_id()
        with state.lock:
            ok, why = solicitation_allowed(seller, o, now())
            if ok:
                state.solicitations[(seller, order_id)] = {
                    "seller_id": seller, "amazon_order_id": order_id, "marketplace_id": mid,
                    "type": "solicitation", "kind": "productReviewAndSellerFeedback", "text": None,
                    "attachments": [], "at": iso(now()), "seq": time.monotonic_ns(), "request_id": rid}
        if not ok:
            raise Problem(403, "Unauthorized", why)
        return _ok(state, "createProductReviewAndSellerFeedbackSolicitation", {}, status=201, request_id=rid)

    # ------------------------------------------------------------------ Reports
    def report_view(r: dict) -> dict:
        scale = max(state.config.time_scale, 1e-9)
        age = time.monotonic() - r["t0"]
        q, p = state.config.report_queue_seconds / scale, state.config.report_processing_seconds / scale
        d = {"reportId": r["reportId"], "reportType": r["reportType"], "marketplaceIds": r["marketplaceIds"],
             "createdTime": r["createdTime"], "processingStatus": "IN_QUEUE"}
        for k in ("dataStartTime", "dataEndTime"):
            if r.get(k):
                d[k] = r[k]
        if r.get("cancelled"):
            d["processingStatus"] = "CANCELLED"
            return d
        if age >= q:
            d["processingStatus"] = "IN_PROGRESS"
            d["processingStartTime"] = iso(r["created"] + timedelta(seconds=q))
        if age >= q + p:
            d["processingEndTime"] = iso(r["created"] + timedelta(seconds=q + p))
            d["processingStatus"] = r["outcome"]
            if r["outcome"] in ("DONE", "FATAL"):
                d["reportDocumentId"] = r["documentId"]
        return d

    @app.post("/reports/2021-06-30/reports", status_code=202)
    def create_report(request: Request, body: dict | None = None):
        seller, _ = begin(request, "createReport")
        body = body or {}
        rtype, mids = body.get("reportType"), body.get("marketplaceIds")
        if rtype not in REPORT_TYPES:
            raise Problem(400, "InvalidInput", "Invalid input", f"Unsupported reportType {rtype!r}.")
        if not isinstance(mids, list) or not mids:
            raise Problem(400, "InvalidInput", "Invalid input", "marketplaceIds is required.")
        check_marketplace(seller, mids, "marketplaceIds")
        f = state.faults.draw(seller, "createReport", ("report_fatal", "report_cancelled"))
        outcome = "DONE" if f is None else ("FATAL" if f.kind == "report_fatal" else "CANCELLED")
        with state.lock:
            state._report_seq += 1
            rid = str(state._report_seq)
        t = now()
        doc_id = f"amzn1.spdoc.1.4.na.{uuid.uuid4()}"
        r = {"reportId": rid, "seller": seller, "reportType": rtype, "marketplaceIds": mids,
             "createdTime": iso(t), "created": t, "t0": time.monotonic(), "outcome": outcome,
             "documentId": doc_id, "dataStartTime": body.get("dataStartTime"), "dataEndTime": body.get("dataEndTime")}
        content = performance_report(seller, mids, t) if outcome == "DONE" else {
            "errorDetails": "The report could not be generated: an internal error occurred."}
        with state.lock:
            state.reports[rid] = r
            state.documents[doc_id] = json.dumps(content, indent=1).encode()
        return _ok(state, "createReport", {"reportId": rid}, status=202)

    @app.get("/reports/2021-06-30/reports/{report_id}")
    def get_report(report_id: str, request: Request):
        seller, _ = begin(request, "getReport")
        r = state.reports.get(report_id)
        if r is None or r["seller"] != seller:
            raise Problem(404, "NotFound", "Invalid input", f"Report {report_id} not found.")
        return _ok(state, "getReport", report_view(r))

    @app.get("/reports/2021-06-30/documents/{document_id}")
    def get_report_document(document_id: str, request: Request):
        seller, _ = begin(request, "getReportDocument")
        r = next((r for r in state.reports.values() if r["documentId"] == document_id and r["seller"] == seller), None)
        if r is None or report_view(r).get("reportDocumentId") != document_id:
            raise Problem(404, "NotFound", "Invalid input", f"Report document {document_id} not found.")
        host, port = request.scope.get("server") or ("127.0.0.1", 80)
        base = f"{request.url.scheme}://{host}:{port}"
        return _ok(state, "getReportDocument", {"reportDocumentId": document_id,
                                                "url": f"{base}/_sandbox/documents/{document_id}"})

    @app.get("/_sandbox/documents/{document_id}")
    def download_document(document_id: str):
        content = state.documents.get(document_id)
        if content is None:
            return Response(b"<Error><Code>NoSuchKey</Code></Error>", status_code=404, media_type="application/xml")
        return Response(content, media_type="application/json; charset=UTF-8")

    def performance_report(seller: str, mids: list[str], t: datetime) -> dict:
        import random as _r
        rng = _r.Random(f"{state.config.seed}:{seller}:{t.date().isoformat()}")
        end = t.date() - timedelta(days=1)
        start = end - timedelta(days=59)
        rng_range = {"reportingDateFrom": f"{start.isoformat()}T00:00:00Z", "reportingDateTo": f"{end.isoformat()}T23:59:59Z"}

        def odr(orders: int) -> dict:
            claims, cb, neg = rng.randint(0, max(1, orders // 300)), rng.randint(0, 1), rng.randint(0, max(1, orders // 200))
            defects = claims + cb + neg
            return {"reportingDateRange": rng_range, "status": "GOOD" if defects / max(orders, 1) < 0.01 else "BAD",
                    "targetValue": 0.01, "targetCondition": "LESS_THAN", "orderCount": orders,
                    "rate": round(defects / max(orders, 1), 5),
                    "orderWithDefects": {"count": defects, "status": "GOOD"},
                    "claims": {"count": claims, "status": "GOOD"}, "chargebacks": {"count": cb, "status": "GOOD"},
                    "negativeFeedback": {"count": neg, "status": "GOOD"}}

        metrics = []
        for mid in mids:
            n = rng.randint(800, 3000)
            afn = int(n * state.sellers[seller].afn_share)
            metrics.append({"marketplaceId": mid, "orderDefectRate": {"afn": odr(afn), "mfn": odr(n - afn)},
                            "accountHealthRating": {"ahrStatus": "GREAT", "ahrScore": rng.randint(200, 1000)}})
        return {"accountStatuses": [{"marketplaceId": m, "status": "NORMAL"} for m in mids],
                "performanceMetrics": metrics}

    # ------------------------------------------------------------------ sandbox controls
    @app.get("/_sandbox/sellers")
    def list_sellers():
        return {"sellers": [
            {"seller_id": s.seller_id, "name": s.name, "region": s.region, "marketplaces": list(s.marketplaces),
             "refresh_token": f"Atzr|sandbox-{s.seller_id}", "revoked": s.seller_id in state.revoked}
            for s in state.sellers.values()],
            "client_id": config.client_id, "client_secret": config.client_secret}

    @app.post("/_sandbox/sellers/{seller_id}/revoke")
    def revoke(seller_id: str):
        state.revoke(seller_id)
        return {"revoked": seller_id}

    @app.post("/_sandbox/sellers/{seller_id}/restore")
    def restore(seller_id: str):
        state.restore(seller_id)
        return {"restored": seller_id}

    @app.post("/_sandbox/faults")
    def add_fault(body: dict):
        try:
            f = state.faults.add(**body)
        except (TypeError, ValueError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return f.to_dict()

    @app.get("/_sandbox/faults")
    def list_faults():
        return {"faults": state.faults.list()}

    @app.delete("/_sandbox/faults")
    def clear_faults():
        state.faults.clear()
        return {"faults": []}

    @app.get("/_sandbox/mutations")
    def mutations(seller_id: str | None = None):
        return {"mutations": state.mutations(seller_id)}

    @app.get("/_sandbox/stats")
    def stats():
        with state.lock:
            rows = [{"seller_id": s, "operation": o, "status": st, "count": n}
                    for (s, o, st), n in sorted(state.stats.items(), key=str)]
        return {"stats": rows}

    @app.post("/_sandbox/reset")
    def reset(body: dict | None = None):
        body = body or {}
        state.reset(body.get("time_scale"), body.get("rate_overrides"))
        return {"reset": True, "time_scale": state.config.time_scale}

    return app


async def _run_sync(fn):
    from starlette.concurrency import run_in_threadpool
    return await run_in_threadpool(fn)
