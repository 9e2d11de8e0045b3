"""Contract tests: the simulator over real HTTP, every implemented operation's success and error
responses validated against the project's own JSON Schemas (``seller_inbox_dev.sandbox.schemas``)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import httpx
import jsonschema
import pytest

from seller_inbox_dev.sandbox import schemas
from seller_inbox.domain import marketplaces as mp
from seller_inbox_dev.sandbox.data import delivery, generate_orders, package_status, packages, solicitation_window
from seller_inbox.spapi import OPERATIONS

UTC = timezone.utc
SCALE = 100.0
SELLER, DE, FR = "A2DEMOEUHOME", "A1PA6795UKMFR9", "A13V1IB3VIYZZH"


@pytest.fixture(scope="module")
def sim():
    from seller_inbox_dev.sandbox.server import start

    h = start(time_scale=SCALE, orders_per_day=15, report_queue_seconds=0.3 * SCALE,
              report_processing_seconds=0.3 * SCALE)
    yield h
    h.stop()


@pytest.fixture
def api(sim):
    sim.state.reset()
    tok = token(sim, SELLER).json()["access_token"]
    with httpx.Client(base_url=sim.url, headers={"x-amz-access-token": tok}, timeout=10) as c:
        yield c


def token(sim, seller, secret="sandbox-secret", grant="refresh_token"):
    return httpx.post(sim.lwa_url, data={"grant_type": grant, "refresh_token": f"Atzr|sandbox-{seller}",
                                         "client_id": "sandbox-client", "client_secret": secret})


def check(op: str, r: httpx.Response, status: int) -> dict:
    assert r.status_code == status, (op, r.status_code, r.text[:300])
    body = r.json()
    schemas.validate(op, status, body)
    if op != "lwaToken":
        rate = r.headers.get("x-amzn-RateLimit-Limit")
        if status in (200, 201, 202, 400, 404):
            assert rate is not None and abs(float(rate) - OPERATIONS[op].rate * SCALE) < 1e-6, (op, rate)
        if status == 429:
            assert rate is None
        assert r.headers.get("x-amzn-RequestId")
    return body


def orders(sim, days=3):
    end = datetime.now(UTC) - timedelta(days=8)
    return generate_orders(SELLER, end - timedelta(days=days), end, 42, orders_per_day=15)


def window():
    end = (datetime.now(UTC) - timedelta(days=8)).strftime("%Y-%m-%dT%H:%M:%SZ")
    start = (datetime.now(UTC) - timedelta(days=15)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return start, end


def test_lwa(sim):
    check("lwaToken", token(sim, SELLER), 200)
    body = check("lwaToken", token(sim, "A9UNKNOWNSELLER"), 400)
    assert body["error"] == "invalid_grant"
    assert check("lwaToken", token(sim, SELLER, secret="nope"), 401)["error"] == "invalid_client"
    assert check("lwaToken", token(sim, SELLER, grant="password"), 400)["error"] == "unsupported_grant_type"
    sim.state.revoke(SELLER)
    try:
        assert check("lwaToken", token(sim, SELLER), 400)["error"] == "invalid_grant"
    finally:
        sim.state.restore(SELLER)


def test_get_orders(sim, api):
    start, end = window()
    body = check("getOrders", api.get("/orders/v0/orders", params={
        "MarketplaceIds": f"{DE},{FR}", "LastUpdatedAfter": start, "LastUpdatedBefore": end,
        "MaxResultsPerPage": 20}), 200)
    page1 = body["payload"]["Orders"]
    assert len(page1) == 20 and body["payload"]["LastUpdatedBefore"] == end
    assert {o["MarketplaceId"] for o in page1} <= {DE, FR}
    page2 = check("getOrders", api.get("/orders/v0/orders", params={
        "MarketplaceIds": f"{DE},{FR}", "NextToken": body["payload"]["NextToken"]}), 200)["payload"]["Orders"]
    assert page2 and not {o["AmazonOrderId"] for o in page1} & {o["AmazonOrderId"] for o in page2}
    check("getOrders", api.get("/orders/v0/orders", params={"MarketplaceIds": DE, "CreatedAfter": start}), 200)
    # errors
    check("getOrders", api.get("/orders/v0/orders", params={"LastUpdatedAfter": start}), 400)
    check("getOrders", api.get("/orders/v0/orders", params={"MarketplaceIds": DE}), 400)
    check("getOrders", api.get("/orders/v0/orders", params={"MarketplaceIds": "ATVPDKIKX0DER",
                                                             "CreatedAfter": start}), 400)
    check("getOrders", api.get("/orders/v0/orders", params={"MarketplaceIds": DE, "CreatedAfter": start,
                                                             "LastUpdatedAfter": start}), 400)
    fresh = (datetime.now(UTC) - timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = check("getOrders", api.get("/orders/v0/orders", params={
        "MarketplaceIds": DE, "LastUpdatedAfter": start, "LastUpdatedBefore": fresh}), 400)
    assert "two minutes" in body["errors"][0]["message"]
    check("getOrders", api.get("/orders/v0/orders", params={"MarketplaceIds": DE, "CreatedAfter": "yesterday"}), 400)
    check("getOrders", api.get("/orders/v0/orders", params={"MarketplaceIds": DE, "CreatedAfter": start,
                                                             "MaxResultsPerPage": 101}), 400)
    check("getOrders", httpx.get(sim.url + "/orders/v0/orders", params={"MarketplaceIds": DE, "CreatedAfter": start},
                                 headers={"x-amz-access-token": "Atza|forged"}), 403)


def test_fault_and_throttle_bodies(sim, api):
    start, _ = window()
    q = {"MarketplaceIds": DE, "CreatedAfter": start, "MaxResultsPerPage": 1}
    sim.state.faults.add("error", SELLER, "getOrders", status=500, count=1)
    sim.state.faults.add("error", SELLER, "getOrders", status=503, count=1)
    sim.state.faults.add("throttle", SELLER, "getOrders", count=1)
    check("getOrders", api.get("/orders/v0/orders", params=q), 500)
    check("getOrders", api.get("/orders/v0/orders", params=q), 503)
    check("getOrders", api.get("/orders/v0/orders", params=q), 429)
    # and a real bucket overflow: burst 20 at Amazon's shape
    codes = [api.get("/orders/v0/orders", params=q) for _ in range(OPERATIONS["getOrders"].burst + 5)]
    assert any(r.status_code == 429 for r in codes)
    for r in codes:
        check("getOrders", r, r.status_code)


def test_get_order_and_items(sim, api):
    o = orders(sim)[0]
    body = check("getOrder", api.get(f"/orders/v0/orders/{o.amazon_order_id}"), 200)["payload"]
    assert body["AmazonOrderId"] == o.amazon_order_id and body["OrderStatus"] == o.order_status
    check("getOrder", api.get("/orders/v0/orders/302-0000000-0000000"), 404)
    items = check("getOrderItems", api.get(f"/orders/v0/orders/{o.amazon_order_id}/orderItems"), 200)
    assert [i["ASIN"] for i in items["payload"]["OrderItems"]] == [i.asin for i in o.items]
    check("getOrderItems", api.get("/orders/v0/orders/302-0000000-0000000/orderItems"), 404)
    # another seller's order is not found
    other = generate_orders("A1DEMOUSOUTDOOR", datetime.now(UTC) - timedelta(days=9),
                            datetime.now(UTC) - timedelta(days=8), 42, orders_per_day=15)[0]
    check("getOrder", api.get(f"/orders/v0/orders/{other.amazon_order_id}"), 404)


def test_restricted_data(sim, api):
    o = orders(sim)[0]
    check("getOrderBuyerInfo", api.get(f"/orders/v0/orders/{o.amazon_order_id}/buyerInfo"), 403)
    check("getOrderAddress", api.get(f"/orders/v0/orders/{o.amazon_order_id}/address"), 403)
    check("createRestrictedDataToken", api.post("/tokens/2021-03-01/restrictedDataToken", json={}), 400)
    check("createRestrictedDataToken", api.post("/tokens/2021-03-01/restrictedDataToken", json={
        "restrictedResources": [{"method": "GET", "path": "/messaging/v1/orders/1"}]}), 400)
    rdt = check("createRestrictedDataToken", api.post("/tokens/2021-03-01/restrictedDataToken", json={
        "restrictedResources": [
            {"method": "GET", "path": "/orders/v0/orders/{orderId}/buyerInfo"},
            {"method": "GET", "path": f"/orders/v0/orders/{o.amazon_order_id}/address"},
            {"method": "GET", "path": f"/orders/v0/orders/{o.amazon_order_id}",
             "dataElements": ["buyerInfo", "shippingAddress"]}]}), 200)
    assert rdt["expiresIn"] == 3600
    h = {"x-amz-access-token": rdt["restrictedDataToken"]}
    info = check("getOrderBuyerInfo", httpx.get(sim.url + f"/orders/v0/orders/{o.amazon_order_id}/buyerInfo",
                                                headers=h), 200)
    assert info["payload"]["BuyerEmail"] == o.buyer.buyer_email
    check("getOrderAddress", httpx.get(sim.url + f"/orders/v0/orders/{o.amazon_order_id}/address", headers=h), 200)
    r = httpx.get(sim.url + f"/orders/v0/orders/{o.amazon_order_id}", headers=h)
    assert r.status_code == 200
    schemas.GET_ORDER_200 and jsonschema.validate(r.json(), schemas.GET_ORDER_200)
    assert r.json()["payload"]["BuyerInfo"]["BuyerName"] == o.buyer.buyer_name
    # the RDT covers only its resources
    check("getOrderItems", httpx.get(sim.url + f"/orders/v0/orders/{o.amazon_order_id}/orderItems", headers=h), 403)


def test_orders_2026(sim, api):
    start, end = window()
    q = {"lastUpdatedAfter": start, "lastUpdatedBefore": end, "marketplaceIds": DE}
    body = check("searchOrders", api.get("/orders/2026-01-01/orders", params={
        **q, "includedData": "FULFILLMENT,PROCEEDS", "maxResultsPerPage": 10}), 200)
    assert len(body["orders"]) == 10 and body["pagination"]["nextToken"]
    assert all("fulfillment" in o and "buyer" not in o for o in body["orders"])
    # the next page: the same parameters again (includedData and maxResultsPerPage may change)
    nxt = check("searchOrders", api.get("/orders/2026-01-01/orders", params={
        **q, "paginationToken": body["pagination"]["nextToken"]}), 200)
    assert nxt["orders"] and not {o["orderId"] for o in nxt["orders"]} & {o["orderId"] for o in body["orders"]}
    assert all("fulfillment" not in o for o in nxt["orders"])
    bare = check("searchOrders", api.get("/orders/2026-01-01/orders", params={
        "paginationToken": body["pagination"]["nextToken"]}), 400)
    assert "same value" in bare["errors"][0]["message"]
    check("searchOrders", api.get("/orders/2026-01-01/orders", params={"createdAfter": start,
                                                                        "includedData": "EVERYTHING"}), 400)
    check("searchOrders", api.get("/orders/2026-01-01/orders", params={"marketplaceIds": DE}), 400)
    oid = body["orders"][0]["orderId"]
    got = check("getOrder2026", api.get(f"/orders/2026-01-01/orders/{oid}", params={"includedData": "FULFILLMENT"}),
                200)
    assert got["order"]["orderId"] == oid
    check("getOrder2026", api.get("/orders/2026-01-01/orders/302-0000000-0000000"), 404)


def test_messaging(sim, api):
    os_ = orders(sim)
    o = next(x for x in os_ if x.marketplace == "DE" and x.order_status == "Shipped")
    body = check("getMessagingActionsForOrder",
                 api.get(f"/messaging/v1/orders/{o.amazon_order_id}", params={"marketplaceIds": DE}), 200)
    names = [a["name"] for a in body["_links"]["actions"]]
    assert "unexpectedProblem" in names and "confirmOrderDetails" not in names
    check("getMessagingActionsForOrder", api.get(f"/messaging/v1/orders/{o.amazon_order_id}"), 400)
    check("getMessagingActionsForOrder",
          api.get(f"/messaging/v1/orders/{o.amazon_order_id}", params={"marketplaceIds": FR}), 400)
    check("getMessagingActionsForOrder",
          api.get("/messaging/v1/orders/302-0000000-0000000", params={"marketplaceIds": DE}), 404)
    attrs = check("GetAttributes", api.get(f"/messaging/v1/orders/{o.amazon_order_id}/attributes",
                                           params={"marketplaceIds": DE}), 200)
    assert attrs["buyer"]["locale"] in ("de-DE", "en-GB")
    url = f"/messaging/v1/orders/{o.amazon_order_id}/messages/unexpectedProblem"
    check("createUnexpectedProblem", api.post(url, params={"marketplaceIds": DE}, json={"text": "x" * 2001}), 400)
    check("createUnexpectedProblem", api.post(url, params={"marketplaceIds": DE},
                                              json={"text": "Write to me at me@example.com"}), 400)
    check("createUnexpectedProblem", api.post(url, params={"marketplaceIds": DE}, json={"text": "<b>hi</b>"}), 400)
    check("createConfirmOrderDetails", api.post(
        f"/messaging/v1/orders/{o.amazon_order_id}/messages/confirmOrderDetails",
        params={"marketplaceIds": DE}, json={"text": "Please confirm the colour."}), 403)
    assert sim.state.mutations(SELLER) == []
    sent_r = api.post(url, params={"marketplaceIds": DE}, json={"text": "Your parcel is delayed by one day."})
    check("createUnexpectedProblem", sent_r, 201)
    check("createLegalDisclosure", api.post(
        f"/messaging/v1/orders/{o.amazon_order_id}/messages/legalDisclosure", params={"marketplaceIds": DE},
        json={"attachments": [{"uploadDestinationId": "u1", "fileName": "terms.pdf"}]}), 201)
    sent = sim.state.mutations(SELLER)
    assert [(m["kind"], m["amazon_order_id"]) for m in sent] == [("unexpectedProblem", o.amazon_order_id),
                                                                  ("legalDisclosure", o.amazon_order_id)]
    assert sent[0]["request_id"] == sent_r.headers["x-amzn-RequestId"]
    assert httpx.get(sim.url + "/_sandbox/mutations", params={"seller_id": SELLER}).json()["mutations"] == sent
    # delivery arrangements: only merchant-fulfilled orders not yet delivered
    now = datetime.now(UTC)
    # 8 to 2 days back: 4 to 2 held no DE parcel still on its way at some hours (e.g. 2027-08-26 15:30)
    recent = generate_orders(SELLER, now - timedelta(days=8), now - timedelta(days=2), 42, orders_per_day=15)
    seen = set()
    for x in [*os_, *recent]:
        if x.marketplace != "DE" or x.order_status != "Shipped":
            continue
        time.sleep(0.03)   # 5 at once, then 100/s here: stay inside the bucket
        names = [a["name"] for a in check("getMessagingActionsForOrder", api.get(
            f"/messaging/v1/orders/{x.amazon_order_id}", params={"marketplaceIds": DE}), 200)["_links"]["actions"]]
        d = delivery(x, 42)
        open_ = x.fulfillment_channel == "MFN" and now < x.latest_delivery_date and not (
            d.delivered_at is not None and now >= d.delivered_at)
        assert ("confirmDeliveryDetails" in names) == open_, x.amazon_order_id
        seen.add(open_)
        if not open_:
            r = api.post(f"/messaging/v1/orders/{x.amazon_order_id}/messages/confirmDeliveryDetails",
                         params={"marketplaceIds": DE}, json={"text": "Wann dürfen wir liefern?"})
            check("createConfirmDeliveryDetails", r, 403)
    assert seen == {True, False}


def test_solicitations(sim, api):
    now = datetime.now(UTC)
    cands = generate_orders(SELLER, now - timedelta(days=30), now - timedelta(days=8), 42, orders_per_day=15)

    def window_is(o, pred):
        w = solicitation_window(o, 42)
        return o.marketplace == "DE" and pred(w)

    o = next(x for x in cands if window_is(x, lambda w: w is not None and w[0] <= now <= w[1]))
    path = f"/solicitations/v1/orders/{o.amazon_order_id}"
    body = check("getSolicitationActionsForOrder", api.get(path, params={"marketplaceIds": DE}), 200)
    assert [a["name"] for a in body["_links"]["actions"]] == ["productReviewAndSellerFeedback"]
    create = path + "/solicitations/productReviewAndSellerFeedback"
    op = "createProductReviewAndSellerFeedbackSolicitation"
    r = api.post(create, params={"marketplaceIds": DE})
    check(op, r, 201)
    once = check(op, api.post(create, params={"marketplaceIds": DE}), 403)     # once per order
    assert "already" in once["errors"][0]["message"]
    assert check("getSolicitationActionsForOrder", api.get(path, params={"marketplaceIds": DE}),
                 200)["_links"]["actions"] == []
    check(op, api.post(create), 400)                                            # marketplaceIds required
    # too early: delivered less than 5 days ago
    recent = next(x for x in cands + generate_orders(SELLER, now - timedelta(days=8), now - timedelta(days=3), 42,
                                                      orders_per_day=15)
                  if window_is(x, lambda w: w is not None and w[0] - timedelta(days=5) <= now < w[0]))
    early = check(op, api.post(f"/solicitations/v1/orders/{recent.amazon_order_id}/solicitations/"
                               "productReviewAndSellerFeedback", params={"marketplaceIds": DE}), 403)
    assert "5 to 30 days after the delivery date" in early["errors"][0]["message"]
    assert check("getSolicitationActionsForOrder", api.get(f"/solicitations/v1/orders/{recent.amazon_order_id}",
                                                           params={"marketplaceIds": DE}), 200)["_links"]["actions"] == []
    # too late: more than 30 days after delivery (three days: one day held no DE order at some hours)
    old = next(x for x in generate_orders(SELLER, now - timedelta(days=62), now - timedelta(days=59), 42,
                                          orders_per_day=15) if x.marketplace == "DE")
    check(op, api.post(f"/solicitations/v1/orders/{old.amazon_order_id}/solicitations/"
                       "productReviewAndSellerFeedback", params={"marketplaceIds": DE}), 403)
    # never delivered: never offered
    lost = next((x for x in generate_orders(SELLER, now - timedelta(days=60), now - timedelta(days=10), 42,
                                            orders_per_day=15)
                 if x.order_status == "Shipped" and solicitation_window(x, 42) is None), None)
    assert lost is not None
    mid = mp.get(lost.marketplace).marketplace_id
    check(op, api.post(f"/solicitations/v1/orders/{lost.amazon_order_id}/solicitations/"
                       "productReviewAndSellerFeedback", params={"marketplaceIds": mid}), 403)
    sent = [m for m in sim.state.mutations(SELLER) if m["type"] == "solicitation"]
    assert len(sent) == 1 and sent[0]["request_id"] == r.headers["x-amzn-RequestId"]


def test_packages(sim, api):
    """Orders 2026-01-01 ``packages``: merchant-fulfilled orders only, tracking as the model names
    it, statuses that move with time, the same for the same seed."""
    start, end = window()
    q = {"lastUpdatedAfter": start, "lastUpdatedBefore": end, "marketplaceIds": DE}
    body = check("searchOrders", api.get("/orders/2026-01-01/orders", params={
        **q, "includedData": "FULFILLMENT,PACKAGES", "maxResultsPerPage": 100}), 200)
    mfn = [o for o in body["orders"] if o["fulfillment"]["fulfilledBy"] == "MERCHANT"
           and o["fulfillment"]["fulfillmentStatus"] == "SHIPPED"]
    afn = [o for o in body["orders"] if o["fulfillment"]["fulfilledBy"] == "AMAZON"]
    assert mfn and afn and all("packages" not in o for o in afn)
    for o in mfn:
        assert o["packages"], o["orderId"]
        for p in o["packages"]:
            assert p["carrier"] in ("DHL", "Hermes", "DPD") and p["trackingNumber"] and p["shipTime"]
            assert p["packageStatus"]["status"] in ("DELIVERED", "IN_TRANSIT", "UNDELIVERABLE")
            items = {i["orderItemId"] for i in o["orderItems"]}
            assert {i["orderItemId"] for i in p["packageItems"]} <= items
    # without PACKAGES there are none; the same order again gives the same packages
    bare = check("searchOrders", api.get("/orders/2026-01-01/orders", params={**q, "includedData": "FULFILLMENT"}), 200)
    assert all("packages" not in o for o in bare["orders"])
    one = check("getOrder2026", api.get(f"/orders/2026-01-01/orders/{mfn[0]['orderId']}",
                                        params={"includedData": "PACKAGES"}), 200)["order"]
    assert one["packages"] == mfn[0]["packages"]
    # the status follows the data clock: in transit on the way, delivered after the delivery
    o = next(x for x in orders(sim, days=7) if x.fulfillment_channel == "MFN" and x.order_status == "Shipped"
             and delivery(x, 42).delivered_at is not None)
    p = packages(o, 42)[0]
    d = delivery(o, 42).delivered_at
    assert package_status(o, p, p.ship_time + timedelta(hours=1), 42)[0] == "IN_TRANSIT"
    assert package_status(o, p, d, 42) == ("DELIVERED", "DELIVERED")
    assert package_status(o, p, p.created_time - timedelta(seconds=1), 42) is None


def test_reports(sim, api):
    check("createReport", api.post("/reports/2021-06-30/reports", json={"reportType": "GET_NOPE",
                                                                        "marketplaceIds": [DE]}), 400)
    check("createReport", api.post("/reports/2021-06-30/reports", json={
        "reportType": "GET_V2_SELLER_PERFORMANCE_REPORT"}), 400)
    rid = check("createReport", api.post("/reports/2021-06-30/reports", json={
        "reportType": "GET_V2_SELLER_PERFORMANCE_REPORT", "marketplaceIds": [DE]}), 202)["reportId"]
    seen = []
    for _ in range(40):
        rep = check("getReport", api.get(f"/reports/2021-06-30/reports/{rid}"), 200)
        if not seen or seen[-1] != rep["processingStatus"]:
            seen.append(rep["processingStatus"])
        if rep["processingStatus"] == "DONE":
            break
        time.sleep(0.05)
    assert seen == ["IN_QUEUE", "IN_PROGRESS", "DONE"]
    check("getReport", api.get("/reports/2021-06-30/reports/1"), 404)
    doc = check("getReportDocument", api.get(f"/reports/2021-06-30/documents/{rep['reportDocumentId']}"), 200)
    content = httpx.get(doc["url"]).json()
    odr = content["performanceMetrics"][0]["orderDefectRate"]
    assert content["performanceMetrics"][0]["marketplaceId"] == DE and set(odr) == {"afn", "mfn"}
    assert {"orderCount", "claims", "chargebacks", "negativeFeedback", "rate", "targetValue",
            "reportingDateRange"} <= set(odr["afn"])
    check("getReportDocument", api.get("/reports/2021-06-30/documents/amzn1.spdoc.nope"), 404)
    # FATAL when configured
    sim.state.faults.add("report_fatal", SELLER, "createReport", count=1)
    rid = check("createReport", api.post("/reports/2021-06-30/reports", json={
        "reportType": "GET_V2_SELLER_PERFORMANCE_REPORT", "marketplaceIds": [DE]}), 202)["reportId"]
    sim.state.faults.add("report_cancelled", SELLER, "createReport", count=1)
    rid2 = check("createReport", api.post("/reports/2021-06-30/reports", json={
        "reportType": "GET_V2_SELLER_PERFORMANCE_REPORT", "marketplaceIds": [DE]}), 202)["reportId"]
    time.sleep(0.7)
    fatal = check("getReport", api.get(f"/reports/2021-06-30/reports/{rid}"), 200)
    assert fatal["processingStatus"] == "FATAL" and fatal["reportDocumentId"]
    err = httpx.get(check("getReportDocument", api.get(
        f"/reports/2021-06-30/documents/{fatal['reportDocumentId']}"), 200)["url"]).json()
    assert "errorDetails" in err
    cancelled = check("getReport", api.get(f"/reports/2021-06-30/reports/{rid2}"), 200)
    assert cancelled["processingStatus"] == "CANCELLED" and "reportDocumentId" not in cancelled


def test_schemas_can_fail():
    """The schemas are strict enough to catch casing and shape mistakes."""
    good = {"payload": {"AmazonOrderId": "302-1234567-1234567", "OrderItems": [
        {"ASIN": "B012345678", "OrderItemId": "1", "QuantityOrdered": 1}]}}
    schemas.validate("getOrderItems", 200, good)
    bad_cases = [
        {"payload": {"amazonOrderId": "302-1234567-1234567", "OrderItems": []}},
        {"payload": {**good["payload"], "OrderItems": [{"Asin": "B012345678", "OrderItemId": "1",
                                                         "QuantityOrdered": 1}]}},
        {"payload": {**good["payload"], "OrderItems": [{"ASIN": "B012345678", "OrderItemId": "1",
                                                         "QuantityOrdered": "1"}]}},
        {"errors": "boom"},
    ]
    for bad in bad_cases:
        with pytest.raises(jsonschema.ValidationError):
            schemas.validate("getOrderItems", 200, bad)
    with pytest.raises(jsonschema.ValidationError):
        schemas.validate("getReport", 200, {"reportId": "1", "reportType": "X", "createdTime": "2026-01-01T00:00:00Z",
                                            "processingStatus": "WAITING"})
    with pytest.raises(jsonschema.ValidationError):   # buyer data never in a plain getOrders page
        schemas.validate("getOrders", 200, {"payload": {"Orders": [{
            "AmazonOrderId": "302-1234567-1234567", "PurchaseDate": "2026-01-01T00:00:00Z",
            "LastUpdateDate": "2026-01-01T00:00:00Z", "OrderStatus": "Shipped", "BuyerInfo": {"BuyerName": "x"}}]}})


def test_client_and_simulator_usage_plans_agree():
    """The client's plans (seller_inbox.spapi) and the simulator's (sandbox/rates.py, read from the
    models) are kept apart on purpose; they must agree operation by operation."""
    from seller_inbox_dev.sandbox.rates import RATES

    assert sorted(OPERATIONS) == sorted(RATES)
    for name, op in OPERATIONS.items():
        assert (op.rate, op.burst) == RATES[name], (name, (op.rate, op.burst), RATES[name])


def test_the_simulator_serves_every_client_operation():
    """Each operation in the client's table has a route with its method and path in the simulator
    (but getOrderItemsBuyerInfo: the client knows its plan, nothing calls it, the simulator has no route)."""
    import re

    from seller_inbox_dev.sandbox.app import SandboxConfig, create_app

    shape = lambda p: re.sub(r"\{[^}]+\}", "{}", p)  # noqa: E731 - path parameter names differ
    served = {(m, shape(r.path)) for r in create_app(SandboxConfig()).routes for m in getattr(r, "methods", ())}
    missing = [n for n, op in OPERATIONS.items() if (op.method, shape(op.path)) not in served]
    assert missing == ["getOrderItemsBuyerInfo"]


def test_client_and_simulator_message_types_and_freshness_agree():
    """Message types, their text limits and the Orders freshness rule: the client's and the
    simulator's own (read from the models) are the same."""
    from seller_inbox_dev.sandbox.routes.messaging import MESSAGE_TYPES
    from seller_inbox_dev.sandbox.routes.order_query import ORDERS_FRESHNESS as SIM_FRESHNESS
    from seller_inbox.spapi import MESSAGE_KINDS, ORDERS_FRESHNESS

    assert MESSAGE_KINDS == MESSAGE_TYPES
    assert ORDERS_FRESHNESS == SIM_FRESHNESS
