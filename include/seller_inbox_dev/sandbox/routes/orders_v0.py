"""Orders API v0: getOrders, getOrder, getOrderItems, and the restricted getOrderBuyerInfo / getOrderAddress."""

from __future__ import annotations

from decimal import Decimal

from fastapi import APIRouter, Request

from seller_inbox_dev.sandbox import data as simdata
from seller_inbox_dev.sandbox.http import (
    Problem,
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
_STATUSES = ("Pending", "Unshipped", "PartiallyShipped", "Shipped", "Canceled", "Unfulfillable",
             "InvoiceUnconfirmed", "PendingAvailability")


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


@router.get("/orders/v0/orders")
def get_orders(request: Request):
    sim = sim_of(request)
    seller, info = sim.begin(request, "getOrders", allow_rdt=True)
    nt = request.query_params.get("NextToken")
    if nt:
        q = decode_token(nt, seller)
    else:
        mids = multi(request, "MarketplaceIds")
        sim.check_marketplace(seller, mids, "MarketplaceIds")
        q = window(sim, request, camel=False)
        statuses = multi(request, "OrderStatuses")
        bad = [s for s in statuses if s not in _STATUSES]
        if bad:
            raise Problem(400, "InvalidInput", f"Invalid OrderStatuses value {bad[0]!r}.")
        q.update(seller=seller, marketplaces=mids, statuses=statuses,
                 channels=multi(request, "FulfillmentChannels"), ids=multi(request, "AmazonOrderIds"),
                 size=page_size(request, "MaxResultsPerPage"), offset=0, asof=iso(sim.now()))
    rows = select(sim, seller, q)
    page = rows[q["offset"]:q["offset"] + q["size"]]
    payload: dict = {"Orders": [order_v0(o, is_rdt(info)) for o in page]}
    nxt = next_token(sim, seller, "getOrders", nt, q, len(rows))
    if nxt:
        payload["NextToken"] = nxt
    payload["LastUpdatedBefore" if q["mode"] == "updated" else "CreatedBefore"] = q["before"]
    return sim.ok("getOrders", {"payload": payload})


@router.get("/orders/v0/orders/{order_id}")
def get_order(order_id: str, request: Request):
    sim = sim_of(request)
    seller, info = sim.begin(request, "getOrder", allow_rdt=True)
    o = sim.state.order(seller, order_id, sim.now())
    return sim.ok("getOrder", {"payload": order_v0(o, is_rdt(info))})


@router.get("/orders/v0/orders/{order_id}/orderItems")
def get_order_items(order_id: str, request: Request):
    sim = sim_of(request)
    seller, _ = sim.begin(request, "getOrderItems", allow_rdt=True)
    o = sim.state.order(seller, order_id, sim.now())
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
    return sim.ok("getOrderItems", {"payload": {"AmazonOrderId": o.amazon_order_id, "OrderItems": items}})


def _pii_only(request: Request, op: str, order_id: str) -> simdata.SimOrder:
    sim = sim_of(request)
    seller, info = sim.begin(request, op, allow_rdt=True)
    if not is_rdt(info):
        raise Problem(403, "Unauthorized", "Access to requested resource is denied.",
                      "This operation returns restricted data: call it with a Restricted Data Token.")
    return sim.state.order(seller, order_id, sim.now())


@router.get("/orders/v0/orders/{order_id}/buyerInfo")
def get_order_buyer_info(order_id: str, request: Request):
    o = _pii_only(request, "getOrderBuyerInfo", order_id)
    return sim_of(request).ok("getOrderBuyerInfo", {"payload": {
        "AmazonOrderId": o.amazon_order_id, "BuyerEmail": o.buyer.buyer_email, "BuyerName": o.buyer.buyer_name}})


@router.get("/orders/v0/orders/{order_id}/address")
def get_order_address(order_id: str, request: Request):
    o = _pii_only(request, "getOrderAddress", order_id)
    return sim_of(request).ok("getOrderAddress", {"payload": {
        "AmazonOrderId": o.amazon_order_id, "ShippingAddress": address_v0(o)}})
