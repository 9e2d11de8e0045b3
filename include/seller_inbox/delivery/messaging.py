"""Proactive messages through the Messaging API: queueing, the send and the crash check the
deliverer calls (docs/delivery.md).

Amazon lets a seller write first only with a message type that getMessagingActionsForOrder
offers for that order now (e.g. ``confirmDeliveryDetails`` while a merchant-fulfilled parcel is
on its way, ``unexpectedProblem``), in the buyer's language of preference (GetAttributes), in
plain text within the type's limit (``spapi.MESSAGE_KINDS``) and without e-mail addresses or
HTML. Each of those is checked at send time, not when the row was queued. Types that carry
documents (legal disclosure, warranty, invoice) need uploads and are not sent from the outbox.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from seller_inbox.delivery import outbox
from seller_inbox.delivery.solicitations import Journal, marketplace_id, result
from seller_inbox.spapi import MESSAGE_KINDS


def idempotency_key(store_id: str, order_id: str, kind: str) -> str:
    return f"proactive:{store_id}:{order_id}:{kind}"


def kind_of(row: dict) -> str:
    """The message type of an outbox row (the key's last part)."""
    return row["idempotency_key"].rsplit(":", 1)[-1]


def text_problem(kind: str, text: str | None) -> str | None:
    """Why ``text`` cannot go as a ``kind`` message (None: it can, as far as the API's limits go)."""
    if kind not in MESSAGE_KINDS:
        return f"unknown message type {kind!r}; types: {', '.join(MESSAGE_KINDS)}"
    limit = MESSAGE_KINDS[kind][1]
    if limit is None:
        return f"{kind} carries documents (uploads), not text: it is not sent from the outbox"
    if not text or not text.strip():
        return f"{kind} needs a text"
    if len(text) > limit:
        return f"{kind} text is {len(text)} characters; the limit is {limit}"
    return None


def queue_proactive(cur: Any, store_id: str, order_id: str, kind: str, *, marketplace: str, body: str,
                    locale: str, template: str | None = None, expires_at: datetime | None = None) -> bool:
    """Queue one proactive message of ``kind`` for an order (status ``queued``, mode ``auto``);
    True if a row was inserted, False if the order already has one of that type. A text the
    type can never carry raises ValueError naming the store, order and what to change."""
    why = text_problem(kind, body)
    if why:
        raise ValueError(f"store {store_id}: order {order_id}: {why}")
    return outbox.queue_proactive(cur, idempotency_key(store_id, order_id, kind), store_id, order_id,
                                  marketplace=marketplace, template=template, locale=locale, body=body,
                                  expires_at=expires_at)


def _language(locale: str | None) -> str:
    return (locale or "").replace("_", "-").split("-")[0].lower()


def send_proactive(client: Any, store: Any, row: dict) -> dict:
    """Send the row's text as its message type, once.

    ``not_offered``: Amazon does not offer the type for the order now (or refuses it with 403);
    ``failed``: the text breaks the type's limits or the linter, is not in the buyer's language
    of preference, Amazon rejects the request (400), or the outcome is unknown (5xx/timeout:
    never sent again, it may have reached the buyer); ``done_already``: accepted before. A 429
    after the client's own retries raises (nothing was sent; ``already_done`` says so).
    """
    from seller_inbox import compliance
    from seller_inbox.spapi import AccessDenied, SpApiNotFound, SpApiRequestError, SpApiThrottled, SpApiUnavailable

    key, oid, kind = row["idempotency_key"], row.get("order_id"), kind_of(row)
    mid = marketplace_id(store, row)
    if not oid or not mid:
        return result("failed", f"store {store.id}: message {key} has no order id or known marketplace")
    text = row.get("body")
    why = text_problem(kind, text)
    if why:
        return result("failed", why)
    journal = Journal(client)
    if journal.phase(key) == "accepted":
        return result("done_already", "Amazon accepted this message before")
    try:
        if kind not in client.get_messaging_actions(oid, mid):
            return result("not_offered", f"Amazon does not offer {kind} for the order now")
        locale = (client.get_attributes(oid, mid) or {}).get("locale")
    except SpApiNotFound:
        return result("not_offered", "Amazon does not know the order for this store")
    if locale and _language(locale) != _language(row.get("locale")):
        return result("failed", f"the buyer reads {locale}; the text is in {row.get('locale') or 'an unknown language'}:"
                                f" render it again in the buyer's language")
    findings = compliance.lint("", text, order_id=oid, kind="proactive", channel="messaging",
                               locale=locale or row.get("locale"), max_chars=MESSAGE_KINDS[kind][1])
    if findings:
        return result("failed", "compliance: " + ", ".join(f.code for f in findings))
    journal.begin(key, store.id, MESSAGE_KINDS[kind][0], oid)
    try:
        rid = client.send_message(kind, oid, mid, text=text)
    except AccessDenied as exc:
        journal.finish(key, "refused", detail=str(exc))
        return result("not_offered", f"Amazon refused {kind} for the order (403)")
    except SpApiThrottled as exc:
        journal.finish(key, "refused", detail=str(exc))
        raise
    except SpApiUnavailable as exc:
        journal.finish(key, "unknown", detail=str(exc))
        return result("failed", "outcome unknown (Amazon answered 5xx or timed out): not sent again because it "
                                "may have reached the buyer; check the order's messages in Seller Central")
    except SpApiRequestError as exc:
        journal.finish(key, "refused", detail=str(exc))
        return result("failed", f"Amazon rejected the {kind} message ({exc.status} {exc.code})")
    journal.finish(key, "accepted", rid)
    return result("sent", f"{kind} sent", rid)


def already_done(client: Any, store: Any, row: dict) -> bool | None:
    """After an interrupted send: True if Amazon accepted the message, False if it was never
    sent (send again), None if the request went out and its answer was lost — the Messaging API
    has no way to list what was sent, so that is left for a person (Seller Central)."""
    phase = Journal(client).phase(row["idempotency_key"])
    if phase == "accepted":
        return True
    if phase == "refused" or (phase is None and Journal(client).dsn):
        return False
    return None
