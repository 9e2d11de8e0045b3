"""Insert realistic core rows directly (for stage tests that should not depend on mail parsing)."""

from __future__ import annotations

from datetime import datetime, timedelta


def add_message(conn, store_id: str, message_id: str, received_at: datetime, *, kind="buyer_message",
                marketplace="US", order_id="111-0000001-0000001", intent="order_status", risk="low",
                language="en", confidence=0.95, low_confidence=False, body="Where is my package?",
                first_reply_at=None, no_response_needed=False, direction=None):
    with conn.cursor() as cur:
        cur.execute(
            """INSERT INTO core.message (store_id, message_id, kind, direction, marketplace, order_id,
                   subject, body_text, received_at, intent, risk, language, confidence, low_confidence,
                   classifier_version, classified_at, sla_due_at, first_reply_at, no_response_needed)
               VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,'test',now(),%s,%s,%s)""",
            (store_id, message_id, kind, direction or ("outbound" if kind == "seller_reply" else "inbound"),
             marketplace, order_id, "Order delivery inquiry", body, received_at, intent, risk, language,
             confidence, low_confidence, received_at + timedelta(hours=24), first_reply_at, no_response_needed),
        )


def add_order(conn, store_id: str, order_id: str, purchase: datetime, *, marketplace="US", status="Shipped"):
    with conn.cursor() as cur:
        cur.execute(
            """INSERT INTO raw.orders (amazon_order_id, store_id, marketplace, order_status, fulfillment_channel,
                   purchase_date, last_update_date, latest_ship_date, earliest_delivery_date, latest_delivery_date)
               VALUES (%s,%s,%s,%s,'MFN',%s,%s,%s,%s,%s)""",
            (order_id, store_id, marketplace, status, purchase, purchase, purchase + timedelta(days=1),
             purchase + timedelta(days=3), purchase + timedelta(days=5)),
        )
