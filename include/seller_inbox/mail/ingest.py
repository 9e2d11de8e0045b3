"""Mailbox ingestion into the warehouse: exactly once, threaded, with SLA fields.

Per store and folder (``inbox``: buyer mails, Amazon notices, bounces; ``sent``: the seller's
own replies) and the run's window [start, end) on the mailbox's receive time:

1. list the folder's items in the window; items whose ``source_ref`` (``uidvalidity:uid``
   or Maildir unique name) is already in ``raw.mail_message`` are not fetched again;
2. parse + redact each new mail (``parser.parse_bytes``); failures go to ``ops.quarantine``
   with the reason, the rest of the batch lands;
3. per batch, in ONE transaction: ``raw.mail_message`` and ``core.message`` inserted with
   ``ON CONFLICT DO NOTHING`` on (store, Message-ID), threads created, seller replies
   attached to their buyer thread (In-Reply-To, else alias + order id, else the alias's
   latest thread), reply links and thread stats recomputed for the threads touched, and the
   folder's watermark (UIDVALIDITY, last UID) advanced. A crash mid-batch rolls the whole
   batch back; a rerun redoes it; nothing is lost or doubled. A mail whose values the
   database refuses (NUL, lone surrogate, an id over the index limit) is quarantined on its
   own: the batch is redone mail by mail in SAVEPOINTs and the others land;
4. if anything was quarantined: one ``mail_quarantined`` alert per store and day
   (``quarantine.alert_opened``); ``seller-inbox quarantine retry`` re-processes the items.

SLA: buyer messages get ``sla_due_at = received_at + 24 h``; ``first_reply_at`` and
``reply_message_id`` point at the first later ``seller_reply`` in the thread (auto-replies
never count). ``no_response_needed`` mirrors the mailbox keyword ``$NoResponseNeeded``
(IMAP keyword / Dovecot Maildir keyword) each time the window is read.
The statements writing ``core.message`` and ``core.thread`` are ``mail.messages``' (their
owner module, docs/data-dictionary.md).

Test hook: ``SELLER_INBOX_MAIL_CRASH_AFTER=N`` SIGKILLs the process after N mails were
parsed in this run (mid-batch, before its commit) - used by the crash/rerun test.
"""

from __future__ import annotations

import logging
import os
import signal
from datetime import datetime, timedelta, timezone
from typing import Iterable

from seller_inbox.domain import response_clock
from seller_inbox.mail import messages, quarantine
from seller_inbox.mail.parser import MailParseError, ParsedMail, parse_bytes, thread_key

log = logging.getLogger(__name__)
UTC = timezone.utc
BATCH_SIZE = 200
CRASH_ENV = "SELLER_INBOX_MAIL_CRASH_AFTER"
KNOWN_MARGIN = timedelta(days=3)
CORE_KINDS = ("buyer_message", "seller_reply", "amazon_notice", "auto_reply")


def ingest_mailbox(store, dsn: str, start: datetime, end: datetime, *, batch_size: int = BATCH_SIZE,
                   since_watermark: bool = False) -> dict:
    """Ingest the store's mailbox (Airflow connection ``store.connections.mailbox``) for [start, end).

    Returns counts: seen, stored, duplicates, quarantined (plus per-kind and per-folder detail).
    ``since_watermark=True`` (IMAP only) additionally limits each folder to UIDs above the
    stored watermark (cheap polling); the default re-reads the whole window so a backfill
    sees exactly that window.
    """
    from airflow.sdk import BaseHook

    from seller_inbox.mail.sources import folders_for, open_source

    conn = BaseHook.get_connection(store.connections.mailbox)
    source = open_source(conn)
    try:
        return ingest_source(store, dsn, source, start, end, folders=folders_for(store, conn.extra_dejson),
                             batch_size=batch_size, since_watermark=since_watermark)
    finally:
        source.close()


def ingest_source(store, dsn: str, source, start: datetime, end: datetime, *, folders: dict[str, str] | None = None,
                  batch_size: int = BATCH_SIZE, since_watermark: bool = False, salt: bytes | None = None) -> dict:
    """Same as ``ingest_mailbox`` with an already opened reader (``sources.MaildirSource``/``ImapSource``)."""
    from seller_inbox import warehouse
    from seller_inbox.mail.sources import FolderState
    from seller_inbox.redaction import installation_salt

    salt = salt or installation_salt()
    folders = folders or dict(store.mail_folders)
    start = start if start.tzinfo else start.replace(tzinfo=UTC)
    end = end if end.tzinfo else end.replace(tzinfo=UTC)
    crash_after = int(os.environ.get(CRASH_ENV) or 0)
    counts = {"seen": 0, "stored": 0, "duplicates": 0, "quarantined": 0, "skipped_known": 0,
              "kinds": {}, "folders": {}}
    parsed_total = 0
    pg = warehouse.connect(dsn)
    try:
        # inbox first so that replies in the same run find their buyer messages
        order = sorted(folders.items(), key=lambda kv: (kv[0] != "inbox", kv[0]))
        for role, folder in order:
            folder = source.resolve_folder(folder, role)
            src_name = f"{source.kind}:{folder}"
            with pg.cursor() as cur:
                # refs already stored near the window (header dates may differ from the mailbox's
                # receive time by a little; anything missed here is still deduplicated on Message-ID)
                cur.execute("SELECT source_ref FROM raw.mail_message WHERE store_id=%s AND source=%s "
                            "AND received_at >= %s AND received_at < %s",
                            (store.id, src_name, start - KNOWN_MARGIN, end + KNOWN_MARGIN))
                known = {r[0] for r in cur.fetchall()}
                cur.execute("SELECT uidvalidity, last_uid FROM ops.ingest_watermark WHERE store_id=%s AND source=%s",
                            (store.id, src_name))
                wm = cur.fetchone()
            pg.commit()
            state = FolderState(src_name)
            kwargs = {}
            if since_watermark and source.kind == "imap" and wm and wm[1] is not None:
                kwargs["after"] = (wm[0], int(wm[1]))
            fcounts = {"seen": 0, "stored": 0, "duplicates": 0, "quarantined": 0}
            batch: list = []
            nrn_known: dict[str, bool] = {}
            for item in source.scan(folder, role, start, end, known.__contains__, state, **kwargs):
                counts["seen"] += 1
                fcounts["seen"] += 1
                if item.raw is None:  # already stored: only keep its "no response needed" mark current
                    counts["duplicates"] += 1
                    counts["skipped_known"] += 1
                    fcounts["duplicates"] += 1
                    nrn_known[item.source_ref] = _is_nrn(item.flags)
                    continue
                batch.append(parse_item(item, salt, src_name, role))
                parsed_total += 1
                if crash_after and parsed_total >= crash_after:
                    os.kill(os.getpid(), signal.SIGKILL)
                if len(batch) >= batch_size:
                    _store_batch(pg, store, src_name, batch, state, counts, fcounts, final=False)
                    batch = []
            _store_batch(pg, store, src_name, batch, state, counts, fcounts, final=True)
            if nrn_known:
                _update_nrn(pg, store, src_name, nrn_known)
            counts["folders"][src_name] = fcounts
        if counts["quarantined"]:
            with pg, pg.cursor() as cur:
                quarantine.alert_opened(cur, store.id)
    finally:
        pg.close()
    log.info("mail ingest %s [%s, %s): %s", store.id, start, end, counts)
    return counts


def parse_item(item, salt: bytes, src_name: str, role: str) -> tuple:
    """``(item, ParsedMail, None)``, or ``(item, None, reason)`` when the parser rejects it."""
    try:
        return item, parse_bytes(item.raw, salt=salt, source=src_name, folder_role=role,
                                 internal_date=item.internal_date, flags=item.flags), None
    except MailParseError as exc:
        return item, None, exc.reason
    except Exception as exc:  # noqa: BLE001 - a parser bug must not lose the batch
        return item, None, f"parser error: {type(exc).__name__}: {exc}"


def _is_nrn(flags: Iterable[str]) -> bool:
    return any(f.strip("\\").lower() in ("$noresponseneeded", "noresponseneeded") for f in flags)


def _mail_errors() -> tuple[type[BaseException], ...]:
    """What the database (or psycopg2 adapting the values) raises for one mail's values: a NUL
    (ValueError / untranslatable character), a lone surrogate (UnicodeEncodeError / invalid
    JSON), an index row over the btree limit (ProgramLimitExceeded), a violated constraint."""
    import psycopg2
    from psycopg2 import errors

    return (psycopg2.DataError, psycopg2.IntegrityError, errors.ProgramLimitExceeded, ValueError)


def _store_batch(pg, store, src_name: str, batch: list, state, counts: dict, fcounts: dict, *, final: bool,
                 retry: bool = False) -> None:
    """Store one batch and advance the watermark, all in one transaction.

    If the database refuses a mail's values, the batch is rolled back and redone mail by mail
    (a SAVEPOINT each): refused mails are quarantined with the database's reason, the rest
    lands and the watermark advances, so a rerun converges instead of failing the same way.
    ``retry=True`` (``quarantine.retry``): count an attempt on each item, leave the watermark.
    """
    errors = _mail_errors()
    try:
        got = _write_batch(pg, store, src_name, batch, state, final=final, retry=retry, isolate=None)
    except errors as exc:
        log.warning("store %s %s: the database refused a mail of this batch (%s); storing it mail by mail",
                    store.id, src_name, quarantine.clean_reason(exc))
        got = _write_batch(pg, store, src_name, batch, state, final=final, retry=retry, isolate=errors)
    for k in ("stored", "duplicates", "quarantined"):
        counts[k] += got[k]
        fcounts[k] += got[k]
    for k, n in got["kinds"].items():
        counts["kinds"][k] = counts["kinds"].get(k, 0) + n


def _write_batch(pg, store, src_name: str, batch: list, state, *, final: bool, retry: bool,
                 isolate: tuple | None) -> dict:
    """One transaction for the batch; ``isolate``: the errors that quarantine a single mail,
    each mail then inserted in its own SAVEPOINT. Returns this batch's counts."""
    sid = store.id
    good = [(it, p) for it, p, err in batch if p is not None]
    bad = [(it, err) for it, p, err in batch if p is None]
    with pg:  # one transaction
        with pg.cursor() as cur:
            # batches of one store are serialised (a backfill beside the scheduled run): each
            # recompute then sees the other's committed rows, so reply links never go stale
            cur.execute("SELECT pg_advisory_xact_lock(727200, hashtext(%s))", (sid,))
            # one row per Message-ID even when the same mail appears twice inside this batch
            uniq: dict[str, tuple] = {}
            for it, p in good:
                uniq.setdefault(p.message_id, (it, p))
            new_ids: set[str] = set()
            threads: set[str] = set()
            if isolate:
                refused: dict[str, str] = {}
                for mid, pair in uniq.items():
                    cur.execute("SAVEPOINT mail")
                    try:
                        ids, tids = _insert_mails(cur, sid, src_name, [pair])
                    except isolate as exc:
                        cur.execute("ROLLBACK TO SAVEPOINT mail")
                        refused[mid] = quarantine.db_reason(exc)
                        continue
                    cur.execute("RELEASE SAVEPOINT mail")
                    new_ids |= ids
                    threads |= tids
                bad += [(it, refused[p.message_id]) for it, p in good if p.message_id in refused]
                good = [(it, p) for it, p in good if p.message_id not in refused]
                uniq = {k: v for k, v in uniq.items() if k not in refused}
            elif uniq:
                new_ids, threads = _insert_mails(cur, sid, src_name, list(uniq.values()))
            kinds: dict[str, int] = {}
            for _, p in uniq.values():
                if p.message_id in new_ids:
                    kinds[p.kind] = kinds.get(p.kind, 0) + 1
            touched = set(threads)
            fresh = [p.message_id for _, p in uniq.values() if p.message_id in new_ids and p.kind in CORE_KINDS]
            if fresh:
                touched |= messages.attach_replies(cur, sid, fresh)
            quarantine.resolve(cur, sid, src_name, [it.source_ref for it, _ in good], retry=retry)
            quarantine.record(cur, sid, src_name, bad, retry=retry)
            if touched:
                messages.recompute_threads(cur, sid, sorted(touched))
            if (batch or final) and not retry:
                _advance_watermark(cur, sid, src_name, state, batch, final)
    return {"stored": len(new_ids), "duplicates": len(good) - len(new_ids), "quarantined": len(bad), "kinds": kinds}


def _insert_mails(cur, sid: str, src_name: str, pairs: list[tuple]) -> tuple[set[str], set[str]]:
    """Insert [(MailItem, ParsedMail)] (distinct Message-IDs) into raw.mail_message and, for the
    core kinds, core.thread / core.message. Returns (Message-IDs new here, thread ids created)."""
    from psycopg2.extras import Json, execute_values

    rows = [(sid, p.message_id, src_name, it.source_ref, p.received_at, p.kind, p.subject,
             Json(p.to_dict()), p.size_bytes) for it, p in pairs]
    res = execute_values(
        cur,
        """INSERT INTO raw.mail_message (store_id, message_id, source, source_ref, received_at, kind,
                                         subject, parsed, size_bytes) VALUES %s
           ON CONFLICT (store_id, message_id) DO NOTHING RETURNING message_id""",
        rows, page_size=500, fetch=True)
    new_ids = {r[0] for r in res}
    fresh = [p for _, p in pairs if p.message_id in new_ids and p.kind in CORE_KINDS]
    threads: dict[str, tuple] = {}
    if fresh:
        msg_rows = []
        for p in fresh:
            tid = None
            if p.buyer_alias:
                tid = thread_key(sid, p.buyer_alias, p.order_id)
                threads.setdefault(tid, (tid, sid, p.marketplace, p.buyer_alias, p.order_id))
            msg_rows.append((
                sid, p.message_id, tid, p.kind, p.direction, p.marketplace, p.order_id, p.asin,
                p.buyer_alias, p.in_reply_to, p.topic, p.subject, p.text, p.language,
                Json(p.attachments), p.received_at, p.no_response_needed,
                response_clock.due_at(p.received_at) if p.kind == "buyer_message" else None))
        if threads:
            messages.insert_threads(cur, list(threads.values()))
        messages.insert_messages(cur, msg_rows)
        _keep_for_delivery(cur, sid, fresh)
    return new_ids, set(threads)


def _keep_for_delivery(cur, sid: str, fresh: list) -> None:
    """What the deliverer needs from new mail: each buyer thread's alias (encrypted; replies go
    to it) and buyers an Amazon bounce says opted out (nothing more is sent to them)."""
    from seller_inbox.delivery import aliases, crypto

    buyers = [p for p in fresh if p.kind == "buyer_message" and p.alias_plain and p.buyer_alias]
    if buyers:
        try:
            ring = crypto.keyring()
        except crypto.CryptoNotConfigured as exc:
            log.warning("store %s: buyer aliases are not kept, replies will read them from the mailbox (%s)", sid, exc)
            ring = None
        if ring is not None:
            for p in buyers:
                aliases.remember(cur, sid, thread_key(sid, p.buyer_alias, p.order_id), p.alias_plain,
                                 now=p.received_at, ring=ring)
    for p in fresh:
        if p.opted_out and p.buyer_alias:
            aliases.mark_opted_out(cur, sid, p.buyer_alias, f"Amazon bounce {p.message_id[:80]}: buyer opted out")


def _advance_watermark(cur, sid: str, src_name: str, state, batch: list, final: bool) -> None:
    uids = [it.uid for it, _, _ in batch if it.uid is not None]
    last = max(uids) if uids else None
    if final and state.max_uid is not None:
        last = max(last or 0, state.max_uid)
    cur.execute(
        """INSERT INTO ops.ingest_watermark AS w (store_id, source, uidvalidity, last_uid, updated_at)
           VALUES (%s, %s, %s, %s, now())
           ON CONFLICT (store_id, source) DO UPDATE SET
             last_uid = CASE WHEN w.uidvalidity IS DISTINCT FROM EXCLUDED.uidvalidity THEN EXCLUDED.last_uid
                             ELSE GREATEST(w.last_uid, EXCLUDED.last_uid) END,
             uidvalidity = EXCLUDED.uidvalidity, updated_at = now()
           WHERE (w.uidvalidity, w.last_uid) IS DISTINCT FROM
                 (EXCLUDED.uidvalidity, CASE WHEN w.uidvalidity IS DISTINCT FROM EXCLUDED.uidvalidity
                                             THEN EXCLUDED.last_uid ELSE GREATEST(w.last_uid, EXCLUDED.last_uid) END)""",
        (sid, src_name, state.uidvalidity, last))


def _update_nrn(pg, store, src_name: str, marks: dict[str, bool]) -> None:
    """Mirror the mailbox's "no response needed" keyword onto already stored messages."""
    with pg, pg.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(727200, hashtext(%s))", (store.id,))
        touched = messages.mirror_no_response_needed(cur, store.id, src_name, marks)
        if touched:
            messages.recompute_threads(cur, store.id, touched)

