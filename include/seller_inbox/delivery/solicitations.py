"""Review requests through the Solicitations API: the send and the crash check the deliverer calls
(docs/delivery.md), and the journal both SP-API channels write around a send.

Amazon allows one productReviewAndSellerFeedback solicitation per order, 5 to 30 days after
delivery, and offers it in getSolicitationActionsForOrder only while it may be sent: once it
was sent it is never offered again. So "not offered any more" after an interrupted send means
"done", a 403 or "already sent" answer counts as done and is never retried, and the exclusions
(return, refund, A-to-z claim, negative buyer message, opt-out) are checked again at send time.
"""

from __future__ import annotations

from typing import Any

from seller_inbox.domain import marketplaces as mp

OFFER = "productReviewAndSellerFeedback"        # the action name getSolicitationActionsForOrder lists
OPERATION = "createProductReviewAndSellerFeedbackSolicitation"


def result(status: str, reason: str = "", request_id: str | None = None) -> dict:
    """The answer of a channel send: status sent | done_already | not_offered | failed."""
    return {"status": status, "reason": reason, "request_id": request_id}


def marketplace_id(store: Any, row: dict) -> str | None:
    """The order's marketplace id: the row's marketplace, else the store's only marketplace."""
    code = row.get("marketplace")
    if code:
        try:
            return mp.get(code).marketplace_id
        except KeyError:
            return None
    return store.marketplaces[0].info.marketplace_id if len(store.marketplaces) == 1 else None


class Journal:
    """``ops.spapi_sends``: one row per outbox key, ``calling`` committed before the request and
    ``accepted`` / ``refused`` / ``unknown`` after, so a crash leaves a known state. Inactive
    (every answer None) when the client has no warehouse."""

    def __init__(self, client: Any):
        self.dsn = getattr(client, "dsn", None)

    def _run(self, sql: str, args: tuple) -> tuple | None:
        if not self.dsn:
            return None
        from seller_inbox import warehouse

        conn = warehouse.connect(self.dsn)
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(sql, args)
                return cur.fetchone() if cur.description else None
        finally:
            conn.close()

    def phase(self, key: str) -> str | None:
        r = self._run("SELECT phase FROM ops.spapi_sends WHERE idempotency_key = %s", (key,))
        return r[0] if r else None

    def begin(self, key: str, store_id: str, operation: str, order_id: str) -> None:
        self._run("""INSERT INTO ops.spapi_sends (idempotency_key, store_id, operation, order_id, phase)
                     VALUES (%s, %s, %s, %s, 'calling')
                     ON CONFLICT (idempotency_key) DO UPDATE SET phase = 'calling', started_at = now(),
                         finished_at = NULL, detail = NULL
                     WHERE ops.spapi_sends.phase <> 'accepted'""", (key, store_id, operation, order_id))

    def finish(self, key: str, phase: str, request_id: str | None = None, detail: str | None = None) -> None:
        self._run("""UPDATE ops.spapi_sends SET phase = %s, request_id = %s, detail = %s, finished_at = now()
                     WHERE idempotency_key = %s""", (phase, request_id, (detail or "")[:300] or None, key))


def _excluded(client: Any, store: Any, order_id: str) -> str | None:
    if not getattr(client, "dsn", None):
        return None
    from seller_inbox import warehouse
    from seller_inbox.delivery.review_scan import exclusion

    conn = warehouse.connect(client.dsn)
    try:
        with conn.cursor() as cur:
            return exclusion(cur, store.id, order_id)
    finally:
        conn.close()


def send_review_request(client: Any, store: Any, row: dict) -> dict:
    """Request a product review and seller feedback for ``row["order_id"]``, once.

    Returns ``result(...)``: ``sent`` with Amazon's request id; ``done_already`` when Amazon
    answers 403 / "already sent" or the journal shows it accepted; ``not_offered`` when the
    order is excluded now or Amazon does not offer it (outside 5-30 days after delivery, sent
    already); ``failed`` for a request Amazon rejects (400). Throttling after the client's own
    retries and an unknown outcome (5xx, timeout) raise: the deliverer settles the row through
    ``already_done`` on its next run.
    """
    from seller_inbox.spapi import (
        AccessDenied,
        SpApiNotFound,
        SpApiRequestError,
        SpApiThrottled,
        SpApiUnavailable,
    )

    key, oid = row["idempotency_key"], row.get("order_id")
    mid = marketplace_id(store, row)
    if not oid or not mid:
        return result("failed", f"store {store.id}: review request {key} has no order id or known marketplace")
    journal = Journal(client)
    if journal.phase(key) == "accepted":
        return result("done_already", "Amazon accepted this review request before")
    why = _excluded(client, store, oid)
    if why:
        return result("not_offered", f"excluded: {why}")
    try:
        offered = OFFER in client.get_solicitation_actions(oid, mid)
    except SpApiNotFound:
        return result("not_offered", "Amazon does not know the order for this store")
    if not offered:
        return result("not_offered", "Amazon does not offer a review request for the order now "
                                     "(outside 5-30 days after delivery, or sent already)")
    journal.begin(key, store.id, OPERATION, oid)
    try:
        rid = client.create_solicitation(oid, mid)
    except AccessDenied as exc:
        journal.finish(key, "refused", detail=str(exc))
        return result("done_already", "Amazon refused (403): sent already or no longer allowed; never retried")
    except SpApiThrottled as exc:
        journal.finish(key, "refused", detail=str(exc))   # a 429 was not processed: safe to send later
        raise
    except SpApiUnavailable as exc:
        journal.finish(key, "unknown", detail=str(exc))
        raise
    except SpApiRequestError as exc:
        journal.finish(key, "refused", detail=str(exc))
        if "already" in str(exc).lower():
            return result("done_already", "Amazon says a solicitation was already sent for the order")
        return result("failed", f"Amazon rejected the review request ({exc.status} {exc.code})")
    journal.finish(key, "accepted", rid)
    return result("sent", "review request created", rid)


def already_done(client: Any, store: Any, row: dict) -> bool | None:
    """After an interrupted send: did Amazon take this review request? True: yes (or it can no
    longer be sent, which counts as done); False: it was not taken, send again; None: cannot
    tell now (Amazon unreachable)."""
    from seller_inbox.spapi import SpApiError, SpApiNotFound

    phase = Journal(client).phase(row["idempotency_key"])
    if phase == "accepted":
        return True
    if phase == "refused":
        return False                     # the send maps Amazon's refusal again; nothing was created
    mid = marketplace_id(store, row)
    if not row.get("order_id") or not mid:
        return None
    if phase is None and Journal(client).dsn:
        return False                     # the request never started
    try:
        return OFFER not in client.get_solicitation_actions(row["order_id"], mid)
    except SpApiNotFound:
        return True                      # nothing can be sent for an order Amazon does not know
    except SpApiError:
        return None
