"""Orders API 2026-01-01: searchOrders (paginationToken) and getOrder, with ``includedData``."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request

from seller_inbox.domain import marketplaces as mp
from seller_inbox_dev.sandbox import data as simdata
from seller_inbox_dev.sandbox.http import (
    Problem,
    Sim,
    decode_token,
    is_rdt,
    iso,
    money,
    multi,
    sim_of,
)
from seller_inbox_dev.sandbox.routes.order_query import (
    next_token,
    page_size,
    select,
    window,
)

router = APIRouter()
_STATUS_2026 = {"Pending": "PENDING", "Unshipped": "UNSHIPPED", "PartiallyShipped": "PARTIALLY_SHIPPED",
                "Shipped": "SHIPPED", "Canceled": "CANCELLED", "Unfulfillable": "UNFULFILLABLE",
                "PendingAvailability": "PENDING_AVAILABILITY"}
_SEARCH_PARAMS = ("createdAfter", "createdBefore", "lastUpdatedAfter", "lastUpdatedBefore", "marketplaceIds",
                  "fulfillmentStatuses", "fulfilledBy")
_INCLUDED = ("BUYER", "RECIPIENT", "PROCEEDS", "EXPENSE", "PROMOTION", "CANCELLATION", "FULFILLMENT",
             "PACKAGES", "TAX", "PAYMENT", "FULFILLMENT_ORDERS")


def included(request: Request) -> set[str]:
    inc = multi(request, "includedData")
    bad = [i for i in inc if i not in _INCLUDED]
    if bad:
        raise Problem(400, "InvalidInput", f"Invalid includedData value {bad[0]!r}.")
    return set(inc)


def _items_2026(o: simdata.SimOrder, inc: set[str]) -> list[dict]:
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
    return items


def order_2026(sim: Sim, o: simdata.SimOrder, inc: set[str], pii: bool) -> dict:
    m = mp.get(o.marketplace)
    programs = (["PRIME"] if o.is_prime else []) + (["AMAZON_BUSINESS"] if o.is_business_order else [])
    d: dict = {"orderId": o.amazon_order_id, "createdTime": iso(o.purchase_date),
               "lastUpdatedTime": iso(o.last_update_date), "programs": programs,
               "salesChannel": {"channelName": "AMAZON", "marketplaceId": m.marketplace_id,
                                "marketplaceName": "Amazon." + m.domain},
               "orderItems": _items_2026(o, inc)}
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
        pk = packages_2026(sim, o, sim.now())
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


def packages_2026(sim: Sim, o: simdata.SimOrder, t: datetime) -> list[dict]:
    """The model's ``OrderPackage`` list: merchant-fulfilled orders only, packages whose label
    exists at ``t``, with the status of that moment."""
    out = []
    for p in simdata.packages(o, sim.config.seed):
        st = simdata.package_status(o, p, t, sim.config.seed)
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


def _first_query(sim: Sim, request: Request, seller: str) -> dict:
    """The query of a first searchOrders page, validated."""
    mids = multi(request, "marketplaceIds") or sorted(sim.seller_marketplaces(seller))
    sim.check_marketplace(seller, mids, "marketplaceIds")
    q = window(sim, request, camel=True)
    rev = {v: k for k, v in _STATUS_2026.items()}
    statuses = []
    for s in multi(request, "fulfillmentStatuses"):
        if s not in rev:
            raise Problem(400, "InvalidInput", f"Invalid fulfillmentStatuses value {s!r}.")
        statuses.append(rev[s])
    channels = []
    for s in multi(request, "fulfilledBy"):
        if s not in ("MERCHANT", "AMAZON"):
            raise Problem(400, "InvalidInput", f"Invalid fulfilledBy value {s!r}.")
        channels.append("AFN" if s == "AMAZON" else "MFN")
    q.update(seller=seller, marketplaces=mids, statuses=statuses, channels=channels, ids=[],
             size=page_size(request, "maxResultsPerPage"), offset=0, asof=iso(sim.now()),
             params={n: multi(request, n) for n in _SEARCH_PARAMS if multi(request, n)})
    return q


@router.get("/orders/2026-01-01/orders")
def search_orders(request: Request):
    sim = sim_of(request)
    seller, info = sim.begin(request, "searchOrders", allow_rdt=True)
    inc = included(request)
    pt = request.query_params.get("paginationToken")
    if pt:
        q = decode_token(pt, seller)
        # the model: every other parameter must come again with the same values, except
        # maxResultsPerPage and includedData, which may change between pages
        for name in _SEARCH_PARAMS:
            if multi(request, name) != q["params"].get(name, []):
                raise Problem(400, "InvalidInput", f"{name} must have the same value as in the request "
                                                   f"that returned the paginationToken.")
        if request.query_params.get("maxResultsPerPage") is not None:
            q = {**q, "size": page_size(request, "maxResultsPerPage")}
    else:
        q = _first_query(sim, request, seller)
    rows = select(sim, seller, q)
    page = rows[q["offset"]:q["offset"] + q["size"]]
    body: dict = {"orders": [order_2026(sim, o, inc, is_rdt(info)) for o in page]}
    nxt = next_token(sim, seller, "searchOrders", pt, q, len(rows))
    if nxt:
        body["pagination"] = {"nextToken": nxt}
    body["lastUpdatedBefore" if q["mode"] == "updated" else "createdBefore"] = q["before"]
    return sim.ok("searchOrders", body)


@router.get("/orders/2026-01-01/orders/{order_id}")
def get_order_2026(order_id: str, request: Request):
    sim = sim_of(request)
    seller, info = sim.begin(request, "getOrder2026", allow_rdt=True)
    inc = included(request)
    o = sim.state.order(seller, order_id, sim.now())
    return sim.ok("getOrder2026", {"order": order_2026(sim, o, inc, is_rdt(info))})
