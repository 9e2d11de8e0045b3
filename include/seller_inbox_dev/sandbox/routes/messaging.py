"""Messaging API v1: getMessagingActionsForOrder, GetAttributes, and one POST route per message type."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime, timedelta

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from seller_inbox.domain import marketplaces as mp
from seller_inbox_dev.sandbox import data as simdata
from seller_inbox_dev.sandbox.http import (
    Problem,
    Sim,
    hal_actions,
    iso,
    new_request_id,
    sim_of,
)

router = APIRouter()

# Message types (the path segment after /messages/) -> operationId and the ``text`` maxLength of its
# request definition (None: no text), from messaging-api-model/messaging.json (e.g.
# CreateConfirmCustomizationDetailsRequest.text maxLength 800, CreateDigitalAccessKeyRequest 400).
MESSAGE_TYPES: dict[str, tuple[str, int | None]] = {
    "confirmCustomizationDetails": ("confirmCustomizationDetails", 800),
    "confirmDeliveryDetails": ("createConfirmDeliveryDetails", 2000),
    "legalDisclosure": ("createLegalDisclosure", None),
    "confirmOrderDetails": ("createConfirmOrderDetails", 2000),
    "confirmServiceDetails": ("createConfirmServiceDetails", 2000),
    "warranty": ("CreateWarranty", None),
    "digitalAccessKey": ("createDigitalAccessKey", 400),
    "unexpectedProblem": ("createUnexpectedProblem", 2000),
    "invoice": ("sendInvoice", None),
}
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_HTML = re.compile(r"<\s*/?\s*[a-zA-Z][^>]*>")


def message_actions(sim: Sim, o: simdata.SimOrder, t: datetime) -> list[str]:
    """The message types Amazon offers for ``o`` at ``t``: none once canceled or 30 days after
    the latest delivery date; order questions only before shipping; delivery arrangements
    only for merchant-fulfilled orders not yet delivered."""
    if o.order_status == "Canceled" or t > o.latest_delivery_date + timedelta(days=30):
        return []
    acts = ["unexpectedProblem", "legalDisclosure", "warranty", "invoice"]
    if o.order_status in ("Pending", "Unshipped"):
        acts.insert(0, "confirmOrderDetails")
    d = simdata.delivery(o, sim.config.seed)
    delivered = d is not None and d.delivered_at is not None and t >= d.delivered_at
    if o.fulfillment_channel == "MFN" and t < o.latest_delivery_date and not delivered:
        acts.insert(0, "confirmDeliveryDetails")
    return acts


@router.get("/messaging/v1/orders/{order_id}")
def get_messaging_actions(order_id: str, request: Request):
    sim = sim_of(request)
    _, o, mid = sim.order_for(request, "getMessagingActionsForOrder", order_id)
    names = [(n, "messages") for n in message_actions(sim, o, sim.now())]
    return sim.ok("getMessagingActionsForOrder", hal_actions("/messaging/v1", order_id, mid, names),
                  media="application/hal+json")


@router.get("/messaging/v1/orders/{order_id}/attributes")
def get_attributes(order_id: str, request: Request):
    sim = sim_of(request)
    _, o, _ = sim.order_for(request, "GetAttributes", order_id)
    lang = mp.get(o.marketplace).language
    # a few buyers browse in English on non-English marketplaces
    h = int(o.amazon_order_id[-2:])
    region = "GB" if o.marketplace == "UK" else o.marketplace
    locale = "en-GB" if (lang != "en" and h < 8) else f"{lang}-{region}"
    return sim.ok("GetAttributes", {"buyer": {"locale": locale}})


def _check_body(kind: str, limit: int | None, body: dict) -> None:
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


def send_message(kind: str, op: str, limit: int | None, order_id: str, request: Request, raw: bytes):
    sim = sim_of(request)
    seller, o, mid = sim.order_for(request, op, order_id)
    try:
        body = json.loads(raw or b"{}")
        assert isinstance(body, dict)
    except (ValueError, AssertionError):
        raise Problem(400, "InvalidInput", "The request body is not valid JSON.") from None
    if kind not in message_actions(sim, o, sim.now()):
        raise Problem(403, "Unauthorized", f"The {kind} message type is not available for order {order_id}.",
                      "Call getMessagingActionsForOrder for the message types allowed now.")
    _check_body(kind, limit, body)
    rid = new_request_id()
    rec = {"seller_id": seller, "amazon_order_id": order_id, "marketplace_id": mid, "type": "message",
           "kind": kind, "text": body.get("text"), "attachments": body.get("attachments") or [], "at": iso(sim.now()),
           "seq": time.monotonic_ns(), "request_id": rid}
    with sim.state.lock:
        sim.state.messages.append(rec)
    return sim.ok(op, {}, status=201, request_id=rid)


def _message_route(kind: str, op: str, limit: int | None):
    async def route(order_id: str, request: Request):
        raw = await request.body()
        return await run_in_threadpool(lambda: send_message(kind, op, limit, order_id, request, raw))
    route.__name__ = f"message_{kind}"
    return route


for _kind, (_op, _limit) in MESSAGE_TYPES.items():
    router.add_api_route(f"/messaging/v1/orders/{{order_id}}/messages/{_kind}", _message_route(_kind, _op, _limit),
                         methods=["POST"], status_code=201)
