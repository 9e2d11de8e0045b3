"""classify_store_messages: classify a store's inbound core.message rows of an interval.

Idempotent: rows already classified by the current classifier version are left alone;
rows classified by another version (or never) are (re)classified. One UPDATE per batch
(``mail.messages.label``), in one transaction per batch.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime

log = logging.getLogger(__name__)

BATCH = 512


def classify_store_messages(store, dsn: str, start: datetime, end: datetime, *, force: bool = False,
                            batch_size: int = BATCH) -> dict:
    """Classify inbound messages of ``store`` received in [start, end); return counts.

    Returns ``{"store_id", "classified", "skipped", "by_intent", "by_risk", "low_confidence",
    "classifier_version"}``; ``skipped`` counts rows already done by this version.
    """
    from seller_inbox import warehouse
    from seller_inbox.classify.pipeline import classifier_version, classify_batch
    from seller_inbox.mail import messages

    version = classifier_version()
    by_intent: Counter = Counter()
    by_risk: Counter = Counter()
    low = 0
    done = 0
    conn = warehouse.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(
                """SELECT count(*) FROM core.message
                   WHERE store_id = %s AND direction = 'inbound' AND received_at >= %s AND received_at < %s
                     AND classifier_version = %s AND intent IS NOT NULL""",
                (store.id, start, end, version))
            skipped = 0 if force else cur.fetchone()[0]
        conn.commit()
        last_key: tuple | None = None
        while True:
            with conn.cursor() as cur:
                cur.execute(
                    f"""SELECT message_id, kind, subject, body_text, marketplace, language_hint, received_at
                        FROM core.message
                        WHERE store_id = %s AND direction = 'inbound' AND received_at >= %s AND received_at < %s
                          AND ({'TRUE' if force else 'classifier_version IS DISTINCT FROM %s OR intent IS NULL'})
                          AND (%s::timestamptz IS NULL OR (received_at, message_id) > (%s::timestamptz, %s::text))
                        ORDER BY received_at, message_id
                        LIMIT %s""",
                    (store.id, start, end, *(() if force else (version,)),
                     last_key[0] if last_key else None, last_key[0] if last_key else None,
                     last_key[1] if last_key else None, batch_size))
                rows = cur.fetchall()
            if not rows:
                break
            items = [_item(store, *row[:6]) for row in rows]
            results = classify_batch(items)
            values = []
            for r in results:
                if "error" in r:  # cannot happen for DB rows (body is text), but never crash a run
                    log.warning("store %s: message %s not classified: %s", store.id, r.get("id"), r["error"])
                    continue
                values.append((r["id"], r["intent"], r["risk"], r["language"], r["confidence"], r["low_confidence"]))
                by_intent[r["intent"]] += 1
                by_risk[r["risk"]] += 1
                low += bool(r["low_confidence"])
            with conn.cursor() as cur:
                messages.label(cur, store.id, version, values)
            conn.commit()
            done += len(values)
            last_key = (rows[-1][6], rows[-1][0])
            if len(rows) < batch_size:
                break
    finally:
        conn.close()
    out = {"store_id": store.id, "classified": done, "skipped": skipped, "by_intent": dict(sorted(by_intent.items())),
           "by_risk": dict(sorted(by_risk.items())), "low_confidence": low, "classifier_version": version}
    log.info("store %s: classified %d messages (%d already current): %s", store.id, done, skipped, out["by_risk"])
    return out


def _item(store, message_id, kind, subject, body, marketplace, language_hint) -> dict:
    """A stored message as the pipeline's input: the parser already cut the body to the buyer's
    words and decided the kind (sender rules run on it: the sender address is not stored).
    Without a marketplace of its own the parser's language hint, else the store's first
    marketplace, is the language fallback for short or Han-only text."""
    if not marketplace and not language_hint and store.marketplace_codes:
        marketplace = store.marketplace_codes[0]
    return {"id": message_id, "kind": kind, "subject": subject or "", "body": body or "", "parsed": True,
            "marketplace": marketplace, "language_hint": language_hint}

