"""Everything SP-API in one module: the operation table, connection parsing, typed errors,
client-side token buckets shared per store and operation, retries with jitter, the
``ops.api_calls`` log and the Airflow hook ``SpApiHook`` over python-amazon-sp-api.

Importing this module costs only the standard library: python-amazon-sp-api, psycopg2 and
Airflow are imported inside the functions that need them.
"""

from __future__ import annotations

import json
import logging
import os
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable, Iterator

log = logging.getLogger(__name__)
UTC = timezone.utc


# --------------------------------------------------------------------------- operations
@dataclass(frozen=True)
class Operation:
    name: str        # our key (the model's operationId; the 2026 getOrder is "getOrder2026")
    api: str
    method: str
    path: str        # template as in the model
    rate: float      # requests per second (the model's usage plan)
    burst: int


def _ops(*rows: tuple) -> dict[str, Operation]:
    return {r[0]: Operation(*r) for r in rows}


# Usage plans as documented in the official models (selling-partner-api-models, 2026-08).
OPERATIONS: dict[str, Operation] = _ops(
    ("getOrders", "orders/v0", "GET", "/orders/v0/orders", 0.0167, 20),
    ("getOrder", "orders/v0", "GET", "/orders/v0/orders/{orderId}", 0.5, 30),
    ("getOrderBuyerInfo", "orders/v0", "GET", "/orders/v0/orders/{orderId}/buyerInfo", 0.5, 30),
    ("getOrderAddress", "orders/v0", "GET", "/orders/v0/orders/{orderId}/address", 0.5, 30),
    ("getOrderItems", "orders/v0", "GET", "/orders/v0/orders/{orderId}/orderItems", 0.5, 30),
    ("getOrderItemsBuyerInfo", "orders/v0", "GET", "/orders/v0/orders/{orderId}/orderItems/buyerInfo", 0.5, 30),
    ("searchOrders", "orders/2026-01-01", "GET", "/orders/2026-01-01/orders", 0.0056, 20),
    ("getOrder2026", "orders/2026-01-01", "GET", "/orders/2026-01-01/orders/{orderId}", 0.5, 30),
    ("createRestrictedDataToken", "tokens/2021-03-01", "POST", "/tokens/2021-03-01/restrictedDataToken", 1, 10),
    ("getMessagingActionsForOrder", "messaging/v1", "GET", "/messaging/v1/orders/{amazonOrderId}", 1, 5),
    ("GetAttributes", "messaging/v1", "GET", "/messaging/v1/orders/{amazonOrderId}/attributes", 1, 5),
    ("confirmCustomizationDetails", "messaging/v1", "POST",
     "/messaging/v1/orders/{amazonOrderId}/messages/confirmCustomizationDetails", 1, 5),
    ("createConfirmDeliveryDetails", "messaging/v1", "POST",
     "/messaging/v1/orders/{amazonOrderId}/messages/confirmDeliveryDetails", 1, 5),
    ("createLegalDisclosure", "messaging/v1", "POST",
     "/messaging/v1/orders/{amazonOrderId}/messages/legalDisclosure", 1, 5),
    ("createConfirmOrderDetails", "messaging/v1", "POST",
     "/messaging/v1/orders/{amazonOrderId}/messages/confirmOrderDetails", 1, 5),
    ("createConfirmServiceDetails", "messaging/v1", "POST",
     "/messaging/v1/orders/{amazonOrderId}/messages/confirmServiceDetails", 1, 5),
    ("CreateWarranty", "messaging/v1", "POST", "/messaging/v1/orders/{amazonOrderId}/messages/warranty", 1, 5),
    ("createDigitalAccessKey", "messaging/v1", "POST",
     "/messaging/v1/orders/{amazonOrderId}/messages/digitalAccessKey", 1, 5),
    ("createUnexpectedProblem", "messaging/v1", "POST",
     "/messaging/v1/orders/{amazonOrderId}/messages/unexpectedProblem", 1, 5),
    ("sendInvoice", "messaging/v1", "POST", "/messaging/v1/orders/{amazonOrderId}/messages/invoice", 1, 5),
    ("getSolicitationActionsForOrder", "solicitations/v1", "GET", "/solicitations/v1/orders/{amazonOrderId}", 1, 5),
    ("createProductReviewAndSellerFeedbackSolicitation", "solicitations/v1", "POST",
     "/solicitations/v1/orders/{amazonOrderId}/solicitations/productReviewAndSellerFeedback", 1, 5),
    ("createReport", "reports/2021-06-30", "POST", "/reports/2021-06-30/reports", 0.0167, 15),
    ("getReport", "reports/2021-06-30", "GET", "/reports/2021-06-30/reports/{reportId}", 2, 15),
    ("getReportDocument", "reports/2021-06-30", "GET", "/reports/2021-06-30/documents/{reportDocumentId}", 0.0167, 15),
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

# Orders API freshness: data only up to about two minutes before now.
ORDERS_FRESHNESS = timedelta(minutes=2)
