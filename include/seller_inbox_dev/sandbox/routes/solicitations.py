"""Solicitations API v1: getSolicitationActionsForOrder and the one solicitation, once per order,
5 to 30 days after delivery."""

from __future__ import annotations

import time
from datetime import datetime

from fastapi import APIRouter, Request

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
_CREATE = "createProductReviewAndSellerFeedbackSolicitation"


def solicitation_allowed(sim: Sim, seller: str, o: simdata.SimOrder, t: datetime) -> tuple[bool, str]:
    if (seller, o.amazon_order_id) in sim.state.solicitations:
        return False, "A solicitation was already sent for this order."
    if o.order_status == "Canceled":
        return False, "The order was canceled."
    w = simdata.solicitation_window(o, sim.config.seed)
    if w is None or t < w[0] - simdata.SOLICITATION_OPENS:
        return False, "The order has not been delivered."
    if not w[0] <= t <= w[1]:
        return False, (f"Solicitations are allowed from {iso(w[0])} to {iso(w[1])} "
                       f"(5 to 30 days after the delivery date).")
    return True, ""


@router.get("/solicitations/v1/orders/{order_id}")
def get_solicitation_actions(order_id: str, request: Request):
    sim = sim_of(request)
    seller, o, mid = sim.order_for(request, "getSolicitationActionsForOrder", order_id)
    ok, _ = solicitation_allowed(sim, seller, o, sim.now())
    names = [("productReviewAndSellerFeedback", "solicitations")] if ok else []
    return sim.ok("getSolicitationActionsForOrder",
                  hal_actions("/solicitations/v1", order_id, mid, names), media="application/hal+json")


@router.post("/solicitations/v1/orders/{order_id}/solicitations/productReviewAndSellerFeedback", status_code=201)
def create_solicitation(order_id: str, request: Request):
    sim = sim_of(request)
    seller, o, mid = sim.order_for(request, _CREATE, order_id)
    rid = new_request_id()
    with sim.state.lock:
        ok, why = solicitation_allowed(sim, seller, o, sim.now())
        if ok:
            sim.state.solicitations[(seller, order_id)] = {
                "seller_id": seller, "amazon_order_id": order_id, "marketplace_id": mid,
                "type": "solicitation", "kind": "productReviewAndSellerFeedback", "text": None,
                "attachments": [], "at": iso(sim.now()), "seq": time.monotonic_ns(), "request_id": rid}
    if not ok:
        raise Problem(403, "Unauthorized", why)
    return sim.ok(_CREATE, {}, status=201, request_id=rid)
