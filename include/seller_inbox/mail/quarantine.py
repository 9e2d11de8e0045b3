"""The mail quarantine: what ingestion could not store, visible and recoverable.

A mail lands in ``ops.quarantine`` when the parser rejects it or the database refuses its
values (``ingest._store_batch`` isolates it from the rest of its batch). A row keeps where to
re-read the mail (store, source, folder role, item ref) and why it failed - never the raw
mail: the reason is one line, redacted and bounded.

- ``record`` / ``resolve``: called by ``ingest._store_batch`` inside its transaction;
- ``alert_opened``: one ``mail_quarantined`` row in ``ops.alert_log`` per store and UTC day
  (the alerts package fans it out to the store's channels);
- ``items`` / ``find``: what the CLI and the UI read;
- ``retry`` / ``retry_store``: re-read each item from its mailbox, parse it with the current
  parser and store it exactly as ingestion does; resolved items enter SLA tracking and KPIs.

Counts per store and day: the view ``ops.quarantine_daily`` (docs/data-dictionary.md).
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass

log = logging.getLogger(__name__)
MAX_REASON = 300
MAX_MESSAGE_ID = 300
ALERT_KIND = "mail_quarantined"
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")
_COLS = ("store_id", "source_ref", "source", "folder_role", "item_ref", "message_id", "received_at", "reason",
         "quarantined_at", "last_seen_at", "attempts", "status", "resolved_at")


class QuarantineError(ValueError):
    """A one-line problem for the person at the CLI (unknown store or ref, no mailbox)."""


def clean_reason(text: str, limit: int = MAX_REASON) -> str:
    """One line, printable, redacted, at most ``limit`` chars: safe to store and to show."""
    from seller_inbox.redaction import redact

    first = next((ln.strip() for ln in str(text).splitlines() if ln.strip()), "") or "unknown error"
    first = redact(_UNPRINTABLE.sub("?", first))
    return first if len(first) <= limit else first[: limit - 1] + "…"


def db_reason(exc: BaseException) -> str:
    """The reason for a mail the database refused: the error's first line (no DETAIL, no values)."""
    return clean_reason(f"database refused it: {exc}")


def _message_id(raw: bytes | None) -> str | None:
    """The Message-ID header, sniffed from a mail the parser could not read (bounded, printable)."""
    if not raw:
        return None
    m = re.search(rb"(?im)^message-id:\s*(<[^>\s]{1,%d}>)" % (MAX_MESSAGE_ID - 2), raw[:65536])
    return _UNPRINTABLE.sub("?", m.group(1).decode("ascii", "replace")) if m else None


def record(cur, store_id: str, source: str, bad: list, *, retry: bool = False) -> None:
    """Quarantine ``bad`` = [(MailItem, reason)] of one source. An ingestion rerun that fails
    the same way leaves the row as it was (reruns change nothing); a retry or a new reason
    counts an attempt."""
    from psycopg2.extras import execute_values

    if not bad:
        return
    changed = "" if retry else ("WHERE (q.reason, q.status) IS DISTINCT FROM (EXCLUDED.reason, 'open')")
    execute_values(
        cur,
        f"""INSERT INTO ops.quarantine AS q (store_id, source_ref, source, folder_role, item_ref, message_id,
                                              received_at, reason)
            VALUES %s
            ON CONFLICT (store_id, source_ref) DO UPDATE SET
                reason = EXCLUDED.reason, message_id = coalesce(EXCLUDED.message_id, q.message_id),
                folder_role = EXCLUDED.folder_role, received_at = coalesce(EXCLUDED.received_at, q.received_at),
                status = 'open', resolved_at = NULL, attempts = q.attempts + 1, last_seen_at = now()
            {changed}""",
        [(store_id, f"{source}/{it.source_ref}", source, it.role, it.source_ref, _message_id(it.raw),
          it.internal_date, clean_reason(reason)) for it, reason in bad])


def resolve(cur, store_id: str, source: str, refs: list[str], *, retry: bool = False) -> None:
    """Mark the open items of these item refs resolved: their mail is stored now."""
    if refs:
        cur.execute(
            f"""UPDATE ops.quarantine SET status = 'resolved', resolved_at = now(), last_seen_at = now()
                    {', attempts = attempts + 1' if retry else ''}
                WHERE store_id = %s AND source_ref = ANY(%s) AND status = 'open'""",
            (store_id, [f"{source}/{r}" for r in refs]))


def alert_opened(cur, store_id: str) -> bool:
    """One ``mail_quarantined`` alert per store and UTC day on which items were quarantined
    and are still open (written like auth/gates alerts: channel 'log', exactly once)."""
    cur.execute(
        """SELECT (now() AT TIME ZONE 'UTC')::date, reason FROM ops.quarantine
           WHERE store_id = %s AND status = 'open'
             AND (quarantined_at AT TIME ZONE 'UTC')::date = (now() AT TIME ZONE 'UTC')::date""", (store_id,))
    got = cur.fetchall()
    if not got:
        return False
    day = got[0][0].isoformat()
    top = Counter(_short(r[1]) for r in got).most_common(3)
    reasons = "; ".join(f"{r} ({n})" if n > 1 else r for r, n in top)
    msg = (f"{len(got)} mails could not be processed: {reasons}; "
           f"run `seller-inbox quarantine list --store {store_id}`")
    from seller_inbox.alerts import queue

    return queue(cur, store_id, ALERT_KIND, day, {"message": msg, "day": day, "count": len(got)})


def _short(reason: str, limit: int = 80) -> str:
    return reason if len(reason) <= limit else reason[: limit - 1] + "…"


# ------------------------------------------------------------------ reading
def items(conn, store_id: str | None = None, *, include_resolved: bool = False) -> list[dict]:
    """Quarantined items, open ones only unless ``include_resolved``, latest first."""
    with conn.cursor() as cur:
        cur.execute(
            f"""SELECT {', '.join(_COLS)} FROM ops.quarantine
                WHERE (%(s)s::text IS NULL OR store_id = %(s)s) AND (%(all)s OR status = 'open')
                ORDER BY store_id, last_seen_at DESC, source_ref""", {"s": store_id, "all": include_resolved})
        out = [dict(zip(_COLS, r)) for r in cur.fetchall()]
    conn.rollback()
    return out


def find(conn, store_id: str, ref: str) -> dict:
    """The item named by its full ``source_ref`` (``maildir:INBOX/<name>``) or its item ref
    alone when that is unambiguous; QuarantineError otherwise."""
    with conn.cursor() as cur:
        cur.execute(f"SELECT {', '.join(_COLS)} FROM ops.quarantine WHERE store_id = %s "
                    "AND (source_ref = %s OR item_ref = %s) ORDER BY source_ref = %s DESC, source_ref",
                    (store_id, ref, ref, ref))
        got = [dict(zip(_COLS, r)) for r in cur.fetchall()]
    conn.rollback()
    if not got:
        raise QuarantineError(f"store {store_id!r}: no quarantined mail {ref!r} "
                              f"(see `seller-inbox quarantine list --store {store_id} --all`)")
    if len(got) > 1 and got[0]["source_ref"] != ref:
        raise QuarantineError(f"store {store_id!r}: {ref!r} is in several folders ("
                              + ", ".join(g["source_ref"] for g in got) + "); give the full ref")
    return got[0]


# ------------------------------------------------------------------ retry
@dataclass
class RetryResult:
    source_ref: str
    outcome: str       # resolved, failed, gone, skipped
    detail: str


def retry(store, dsn: str, source, refs: list[str] | None = None, *, salt: bytes | None = None) -> list[RetryResult]:
    """Re-process the store's open items (or exactly ``refs``) from ``source``, an opened
    ``sources.MaildirSource``/``ImapSource`` of the store's mailbox."""
    from seller_inbox import warehouse
    from seller_inbox.mail.ingest import _store_batch, parse_item
    from seller_inbox.mail.sources import FolderState
    from seller_inbox.redaction import installation_salt

    salt = salt or installation_salt()
    roles = {folder: role for role, folder in dict(store.mail_folders).items()}
    pg = warehouse.connect(dsn)
    try:
        todo = [find(pg, store.id, r) for r in refs] if refs else items(pg, store.id)
        out: list[RetryResult] = []
        for q in todo:
            ref = q["source_ref"]
            if q["status"] != "open":
                out.append(RetryResult(ref, "skipped", "already resolved"))
                continue
            kind, _, folder = q["source"].partition(":")
            item = source.fetch(folder, q["folder_role"] or roles.get(folder, "inbox"), q["item_ref"]) \
                if kind == source.kind else None
            if item is None:
                where = (f"no longer in {q['source']}" if kind == source.kind
                         else f"the store's mailbox is {source.kind} now, not {kind}")
                with pg, pg.cursor() as cur:
                    cur.execute("UPDATE ops.quarantine SET attempts = attempts + 1, last_seen_at = now() "
                                "WHERE store_id = %s AND source_ref = %s", (store.id, ref))
                out.append(RetryResult(ref, "gone", f"source gone: {where}"))
                continue
            counts = {"stored": 0, "duplicates": 0, "quarantined": 0, "kinds": {}}
            fcounts = {"stored": 0, "duplicates": 0, "quarantined": 0}
            _store_batch(pg, store, q["source"], [parse_item(item, salt, q["source"], item.role)],
                         FolderState(q["source"]), counts, fcounts, final=False, retry=True)
            if counts["quarantined"]:
                now = find(pg, store.id, ref)
                out.append(RetryResult(ref, "failed", now["reason"]))
            else:
                out.append(RetryResult(ref, "resolved", "stored" if counts["stored"] else "already stored (duplicate)"))
        return out
    finally:
        pg.close()


def retry_store(store, dsn: str, refs: list[str] | None = None) -> list[RetryResult]:
    """``retry`` on the store's mailbox connection (``store.connections.mailbox``)."""
    from airflow.sdk import BaseHook

    from seller_inbox.mail.sources import open_source

    try:
        conn = BaseHook.get_connection(store.connections.mailbox)
        source = open_source(conn)
    except Exception as exc:  # noqa: BLE001 - any failure to reach the mailbox is one line for the user
        raise QuarantineError(f"store {store.id!r}: cannot open mailbox connection {store.connections.mailbox!r}: "
                              f"{clean_reason(exc)}") from None
    try:
        return retry(store, dsn, source, refs)
    finally:
        source.close()
