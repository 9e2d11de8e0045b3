"""Every SP-API operation the client knows, gathered from the API modules (one table per API)."""

from __future__ import annotations

from seller_inbox.spapi import (
    messaging,
    orders_2026,
    orders_v0,
    reports,
    solicitations,
    tokens,
)
from seller_inbox.spapi.operation import Operation

OPERATIONS: dict[str, Operation] = {
    **orders_v0.OPERATIONS, **orders_2026.OPERATIONS, **tokens.OPERATIONS, **messaging.OPERATIONS,
    **solicitations.OPERATIONS, **reports.OPERATIONS,
}
