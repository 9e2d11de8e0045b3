"""Messaging API v1: which message types an order allows, buyer attributes, and sending one message.

Usage plans from the model ``messaging.json``. Sends are never retried on 5xx/timeouts (the
message may have been delivered); a 429 is (Amazon did not take it).
"""

from __future__ import annotations

from typing import Any

from seller_inbox.spapi.errors import SpApiRequestError
from seller_inbox.spapi.operation import table
from seller_inbox.spapi.paging import request_id

LIBRARY_API = "messaging"
_ORDER = "/messaging/v1/orders/{amazonOrderId}"
_POST = _ORDER + "/messages/"

OPERATIONS = table(
    ("getMessagingActionsForOrder", "messaging/v1", "GET", _ORDER, 1, 5),
    ("GetAttributes", "messaging/v1", "GET", _ORDER + "/attributes", 1, 5),
    ("confirmCustomizationDetails", "messaging/v1", "POST", _POST + "confirmCustomizationDetails", 1, 5),
    ("createConfirmDeliveryDetails", "messaging/v1", "POST", _POST + "confirmDeliveryDetails", 1, 5),
    ("createLegalDisclosure", "messaging/v1", "POST", _POST + "legalDisclosure", 1, 5),
    ("createConfirmOrderDetails", "messaging/v1", "POST", _POST + "confirmOrderDetails", 1, 5),
    ("createConfirmServiceDetails", "messaging/v1", "POST", _POST + "confirmServiceDetails", 1, 5),
    ("CreateWarranty", "messaging/v1", "POST", _POST + "warranty", 1, 5),
    ("createDigitalAccessKey", "messaging/v1", "POST", _POST + "digitalAccessKey", 1, 5),
    ("createUnexpectedProblem", "messaging/v1", "POST", _POST + "unexpectedProblem", 1, 5),
    ("sendInvoice", "messaging/v1", "POST", _POST + "invoice", 1, 5),
)

# Messaging kinds (the path segment after /messages/) -> operation and text limit (None: no text).
MESSAGE_KINDS: dict[str, tuple[str, int | None]] = {
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

# kind -> the python-amazon-sp-api Messaging method that sends it
_SEND = {
    "confirmCustomizationDetails": "confirm_customization_details",
    "confirmDeliveryDetails": "create_confirm_delivery_details",
    "legalDisclosure": "create_legal_disclosure",
    "confirmOrderDetails": "create_confirm_order_details",
    "confirmServiceDetails": "create_confirm_service_details",
    "warranty": "create_warranty",
    "digitalAccessKey": "create_digital_access_key",
    "unexpectedProblem": "create_unexpected_problem",
    "invoice": "send_invoice",
}


def action_names(payload: Any) -> list[str]:
    """The action names of a getMessagingActionsForOrder / getSolicitationActionsForOrder payload."""
    return [a.get("name") for a in ((payload or {}).get("_links") or {}).get("actions", [])]


class Messaging:
    """Client mixin: the Messaging calls."""

    def get_messaging_actions(self, order_id: str, marketplace_id: str) -> list[str]:
        res = self.call("getMessagingActionsForOrder",
                        lambda c: c.get_messaging_actions_for_order(order_id, marketplaceIds=marketplace_id),
                        api=LIBRARY_API, marketplace_id=marketplace_id)
        return action_names(res.payload)

    def get_attributes(self, order_id: str, marketplace_id: str) -> dict:
        res = self.call("GetAttributes", lambda c: c.get_attributes(order_id, marketplaceIds=marketplace_id),
                        api=LIBRARY_API, marketplace_id=marketplace_id)
        return (res.payload or {}).get("buyer", {})

    def send_message(self, kind: str, order_id: str, marketplace_id: str, text: str | None = None,
                     attachments: list[dict] | None = None, **body: Any) -> str | None:
        """Send one message of ``kind`` (a MESSAGE_KINDS key); return Amazon's request id.
        Never retried on 5xx/timeouts."""
        if kind not in MESSAGE_KINDS:
            raise SpApiRequestError(f"store {self.store_id}: unknown message kind {kind!r}; "
                                    f"kinds: {', '.join(MESSAGE_KINDS)}", store_id=self.store_id)
        op, limit = MESSAGE_KINDS[kind]
        if limit is not None and text is not None and len(text) > limit:
            raise SpApiRequestError(f"store {self.store_id}: {kind} text is {len(text)} characters; "
                                    f"the limit is {limit}.", store_id=self.store_id, operation=op)
        payload = dict(body)
        if text is not None:
            payload["text"] = text
        if attachments:
            payload["attachments"] = attachments
        method = _SEND[kind]
        # the library's messaging client puts its own marketplace (per client) into marketplaceIds
        res = self.call(op, lambda c: getattr(c, method)(order_id, body=payload),
                        api=LIBRARY_API, marketplace_id=marketplace_id, idempotent=False)
        return request_id(res)
