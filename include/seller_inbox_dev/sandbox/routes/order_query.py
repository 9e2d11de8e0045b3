"""What both Orders APIs share: the created/updated window, selecting orders, page sizes and tokens."""

from __future__ import annotations

from datetime import timedelta

from fastapi import Request

from seller_inbox_dev.sandbox import data as simdata
from seller_inbox_dev.sandbox.http import (
    Problem,
    Sim,
    date_param,
    encode_token,
    iso,
    parse_iso,
)

# ordersV0.json (getOrders CreatedBefore/LastUpdatedBefore) and orders_2026-01-01.json (searchOrders
# createdBefore/lastUpdatedBefore): "at least two minutes before" the time of the request
ORDERS_FRESHNESS = timedelta(minutes=2)


def window(sim: Sim, request: Request, camel: bool) -> dict:
    """Validate the created/updated window parameters (v0 names or 2026 names)."""
    names = ("createdAfter", "createdBefore", "lastUpdatedAfter", "lastUpdatedBefore") if camel else \
        ("CreatedAfter", "CreatedBefore", "LastUpdatedAfter", "LastUpdatedBefore")
    ca, cb, ua, ub = (date_param(request, n) for n in names)
    limit = sim.real_now() - ORDERS_FRESHNESS
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
    if after < sim.real_now() - timedelta(days=731):
        raise Problem(400, "InvalidInput", "Orders older than two years cannot be requested.")
    return {"mode": mode, "after": iso(after), "before": iso(before)}


def select(sim: Sim, seller: str, q: dict) -> list[simdata.SimOrder]:
    after, before, as_of = parse_iso(q["after"]), parse_iso(q["before"]), parse_iso(q["asof"])
    eps = timedelta(seconds=1)
    if q["mode"] == "created":
        rows = sim.state.orders_between(seller, after, before + eps, as_of)
    else:
        rows = [o for o in sim.state.orders_between(seller, after - simdata.MAX_UPDATE_LAG, before + eps, as_of)
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


def next_token(sim: Sim, seller: str, op: str, token: str | None, q: dict, total: int) -> str | None:
    """The token of the page after ``q``'s, only while more orders remain (Amazon: none on the
    last page); the ``repeat_token`` fault answers the request's own token again."""
    if token and sim.state.faults.draw(seller, op, ("repeat_token",)) is not None:
        return token
    if q["offset"] + q["size"] < total:
        return encode_token({**q, "offset": q["offset"] + q["size"]})
    return None
