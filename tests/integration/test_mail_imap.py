"""IMAP ingestion against a real Dovecot (installed and started by tests/servers/dovecot.py)."""

from __future__ import annotations

import imaplib
import os
import subprocess
import sys
from datetime import timedelta, timezone
from pathlib import Path

import pytest

from seller_inbox_dev.demo.mail import upload_maildir_to_imap, write_demo_mail
from seller_inbox.mail.ingest import ingest_mailbox
from tests.servers.dovecot import dovecot_server  # noqa: F401 - pytest fixture

from .test_mail_support import buyer_mail, make_store, one, reply_mail, rows, t

UTC = timezone.utc


def _append_maildir(imap: imaplib.IMAP4, maildir: Path, mailbox: dict | None = None) -> int:
    """Deliver a demo Maildir to Dovecot with the project's own uploader (idempotent)."""
    srv = mailbox["server"]
    c = upload_maildir_to_imap(maildir, srv.host, srv.port, mailbox["user"], mailbox["pw"])
    again = upload_maildir_to_imap(maildir, srv.host, srv.port, mailbox["user"], mailbox["pw"])
    assert again == {"appended": 0, "existing": c["appended"]}
    return c["appended"]


@pytest.fixture
def mailbox(dovecot_server, monkeypatch):  # noqa: F811
    """A fresh IMAP user per test, wired as the store's Airflow connection."""
    user, pw = dovecot_server.new_user()
    conn_id = f"mailbox_{user}"
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", dovecot_server.connection_json(user, pw))
    imap = imaplib.IMAP4(dovecot_server.host, dovecot_server.port)
    imap.login(user, pw)
    yield {"imap": imap, "conn_id": conn_id, "user": user, "pw": pw, "server": dovecot_server}
    imap.logout()


def test_imap_window_twice_overlap_watermark_and_read_only(db, warehouse_dsn, tmp_path, mailbox):
    store = make_store("us-outdoor", mailbox_conn=mailbox["conn_id"])
    start, mid, end = t("2026-11-10T00:00:00"), t("2026-11-11T12:00:00"), t("2026-11-13T00:00:00")
    total = write_demo_mail(tmp_path / "demo", [store], start, end, seed=11)[store.id]["written"]
    assert _append_maildir(mailbox["imap"], tmp_path / "demo" / store.id, mailbox) == total

    a = ingest_mailbox(store, warehouse_dsn, start, mid)
    assert a["stored"] == a["seen"] > 0 and a["quarantined"] == 0
    again = ingest_mailbox(store, warehouse_dsn, start, mid)
    assert again["stored"] == 0 and again["duplicates"] == again["seen"] == a["seen"]
    overlap = ingest_mailbox(store, warehouse_dsn, mid - timedelta(hours=20), end)
    assert overlap["duplicates"] > 0
    assert a["stored"] + overlap["stored"] == total
    assert one(db, "SELECT count(*) FROM raw.mail_message") == total
    # exactly the window: the internal date decides, to the second
    assert one(db, "SELECT count(*) FROM raw.mail_message WHERE source_ref !~ '^[0-9]+:[0-9]+$'") == 0
    wm = dict((r[0], r[1:]) for r in rows(db, "SELECT source, uidvalidity, last_uid FROM ops.ingest_watermark"))
    imap = mailbox["imap"]
    for folder in ("INBOX", "Sent"):
        imap.select(folder, readonly=True)
        uv = int(imap.response("UIDVALIDITY")[1][0])
        uids = [int(x) for x in imap.uid("SEARCH", None, "ALL")[1][0].split()]
        assert wm[f"imap:{folder}"] == (uv, max(uids))
        # read-only: nothing was marked \Seen or deleted by ingestion
        assert imap.uid("SEARCH", None, "SEEN")[1][0] == b""
        assert len(uids) == imap.uid("SEARCH", None, "UNDELETED")[1][0].count(b" ") + 1
    assert one(db, "SELECT count(*) FROM core.message WHERE kind='buyer_message' AND first_reply_at IS NOT NULL") > 0
    marked = sum(1 for f in (tmp_path / "demo" / store.id / "cur").iterdir() if f.name.endswith(",a"))
    assert one(db, "SELECT count(*) FROM core.message WHERE no_response_needed") == marked


def test_imap_backfill_reads_exactly_its_window(db, warehouse_dsn, mailbox):
    store = make_store(mailbox_conn=mailbox["conn_id"])
    imap = mailbox["imap"]
    times = [t("2026-11-01T23:59:59"), t("2026-11-02T00:00:00"), t("2026-11-02T23:59:59"), t("2026-11-03T00:00:00")]
    for i, w in enumerate(times):
        imap.append("INBOX", None, imaplib.Time2Internaldate(w), buyer_mail(f"<w{i}@a>", w, f"m{i}"))
    c = ingest_mailbox(store, warehouse_dsn, t("2026-11-02T00:00:00"), t("2026-11-03T00:00:00"))
    assert c["stored"] == 2
    assert sorted(r[0] for r in rows(db, "SELECT message_id FROM raw.mail_message")) == ["<w1@a>", "<w2@a>"]


def test_imap_malformed_mail_quarantined_rest_lands_and_watermark_mode(db, warehouse_dsn, mailbox):
    store = make_store(mailbox_conn=mailbox["conn_id"])
    imap = mailbox["imap"]
    w = t("2026-11-02T10:00:00")
    for i in range(3):
        imap.append("INBOX", None, imaplib.Time2Internaldate(w), buyer_mail(f"<q{i}@a>", w, f"m{i}"))
    imap.append("INBOX", None, imaplib.Time2Internaldate(w),
                b"Subject: lost sender\r\nMessage-ID: <bad@x>\r\nDate: Mon, 02 Nov 2026 10:00:00 +0000\r\n\r\nbody\r\n")
    window = (t("2026-11-02T00:00:00"), t("2026-11-03T00:00:00"))
    c = ingest_mailbox(store, warehouse_dsn, *window)
    assert (c["stored"], c["quarantined"]) == (3, 1)
    imap.select("INBOX", readonly=True)
    uv = int(imap.response("UIDVALIDITY")[1][0])
    assert rows(db, "SELECT source_ref, message_id, reason FROM ops.quarantine") == [
        (f"imap:INBOX/{uv}:4", "<bad@x>", "missing From header")]
    # a new mail arrives; the cheap watermark mode fetches only UIDs above the watermark
    imap.append("INBOX", None, imaplib.Time2Internaldate(w), buyer_mail("<q9@a>", w, "late arrival"))
    c2 = ingest_mailbox(store, warehouse_dsn, *window, since_watermark=True)
    assert (c2["seen"], c2["stored"]) == (1, 1)
    assert rows(db, "SELECT last_uid FROM ops.ingest_watermark WHERE source='imap:INBOX'") == [(5,)]


_CRASH = """
import sys
from datetime import datetime, timezone
from seller_inbox.config import StoreConfig
from seller_inbox.mail.ingest import ingest_mailbox
store = StoreConfig(id=sys.argv[1], name="T", seller_id="A1DEMOUSOUTDOOR", region="na", marketplaces=[{"code": "US"}],
                    connections={"spapi": "a", "mailbox": sys.argv[2], "smtp": "c"})
s, e = (datetime.fromisoformat(x).replace(tzinfo=timezone.utc) for x in sys.argv[4:6])
print(ingest_mailbox(store, sys.argv[3], s, e, batch_size=10))
"""


def test_imap_ingest_killed_mid_batch_then_rerun(db, warehouse_dsn, tmp_path, mailbox):
    demo_store = make_store("us-outdoor")
    start, end = t("2026-11-10T00:00:00"), t("2026-11-11T00:00:00")
    total = write_demo_mail(tmp_path / "demo", [demo_store], start, end, seed=5)["us-outdoor"]["written"]
    _append_maildir(mailbox["imap"], tmp_path / "demo" / "us-outdoor", mailbox)
    args = [sys.executable, "-c", _CRASH, "crash-store", mailbox["conn_id"], warehouse_dsn,
            start.isoformat()[:19], end.isoformat()[:19]]
    env = {**os.environ, "SELLER_INBOX_MAIL_CRASH_AFTER": "15"}
    r = subprocess.run(args, env=env, capture_output=True, text=True, timeout=180)
    assert r.returncode == -9, r.stderr[-2000:]
    assert one(db, "SELECT count(*) FROM raw.mail_message") == 10
    # the watermark moved with the committed batch only
    assert rows(db, "SELECT last_uid FROM ops.ingest_watermark") == [
        (one(db, "SELECT max(split_part(source_ref, ':', 2)::int) FROM raw.mail_message"),)]
    r = subprocess.run(args, capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr[-2000:]
    assert one(db, "SELECT count(*) FROM raw.mail_message") == total
    assert one(db, "SELECT count(DISTINCT message_id) FROM core.message") == total
    # same result as one clean run into another store
    clean = make_store("clean-store", mailbox_conn=mailbox["conn_id"])
    ingest_mailbox(clean, warehouse_dsn, start, end)
    q = ("SELECT message_id, kind, first_reply_at, reply_message_id, no_response_needed FROM core.message "
         "WHERE store_id=%s ORDER BY 1")
    assert rows(db, q, "crash-store") == rows(db, q, "clean-store")
    q = ("SELECT status, count(*) FROM core.thread WHERE store_id=%s GROUP BY 1 ORDER BY 1")
    assert rows(db, q, "crash-store") == rows(db, q, "clean-store")


def test_dovecot_helper_adds_users_at_runtime(dovecot_server):  # noqa: F811
    for name in ("late-a", "late-b"):  # two in the same second: the helper must make Dovecot re-read
        dovecot_server.add_user(name, "pw-" + name)
        c = imaplib.IMAP4(dovecot_server.host, dovecot_server.port)
        assert c.login(name, "pw-" + name)[0] == "OK"
        c.logout()


def test_imap_folder_override_sent_fallback_and_uidvalidity_change(db, warehouse_dsn, mailbox, monkeypatch):
    srv = mailbox["server"]
    conn_id = mailbox["conn_id"]
    # the connection overrides the folders; "Gesendet" does not exist: the \Sent folder is used
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", srv.connection_json(
        mailbox["user"], mailbox["pw"], folders={"inbox": "Orders", "sent": "Gesendet"}))
    store = make_store(mailbox_conn=conn_id)
    imap = mailbox["imap"]
    w = t("2026-11-02T10:00:00")
    mails = [buyer_mail(f"<v{i}@a>", w, f"m{i}") for i in range(3)]
    assert imap.create("Orders")[0] == "OK"
    for m in mails:
        imap.append("Orders", None, imaplib.Time2Internaldate(w), m)
    imap.append("Sent", None, imaplib.Time2Internaldate(w + timedelta(hours=1)),
                reply_mail("<vr@s>", w + timedelta(hours=1), "ok", in_reply_to="<v0@a>"))
    window = (t("2026-11-02T00:00:00"), t("2026-11-03T00:00:00"))
    c = ingest_mailbox(store, warehouse_dsn, *window)
    assert c["stored"] == 4 and set(c["folders"]) == {"imap:Orders", "imap:Sent"}
    assert rows(db, "SELECT reply_message_id FROM core.message WHERE message_id='<v0@a>'") == [("<vr@s>",)]
    (uv1,) = rows(db, "SELECT uidvalidity FROM ops.ingest_watermark WHERE source='imap:Orders'")[0]
    # the folder is recreated (new UIDVALIDITY) holding the same mails: nothing is stored twice
    imap.select("INBOX")
    assert imap.delete("Orders")[0] == "OK" and imap.create("Orders")[0] == "OK"
    for m in mails:
        imap.append("Orders", None, imaplib.Time2Internaldate(w), m)
    c2 = ingest_mailbox(store, warehouse_dsn, *window)
    assert (c2["stored"], c2["duplicates"]) == (0, 4)
    (uv2, last) = rows(db, "SELECT uidvalidity, last_uid FROM ops.ingest_watermark WHERE source='imap:Orders'")[0]
    assert uv2 != uv1 and last == 3
    assert one(db, "SELECT count(*) FROM raw.mail_message") == 4


def test_watermark_mode_ignores_a_stale_uidvalidity(db, warehouse_dsn, mailbox):
    store = make_store(mailbox_conn=mailbox["conn_id"])
    imap = mailbox["imap"]
    w = t("2026-11-02T10:00:00")
    imap.append("INBOX", None, imaplib.Time2Internaldate(w), buyer_mail("<s1@a>", w, "one"))
    window = (t("2026-11-02T00:00:00"), t("2026-11-03T00:00:00"))
    # a watermark from an older incarnation of the folder, far above today's UIDs
    with db.cursor() as cur:
        cur.execute("INSERT INTO ops.ingest_watermark (store_id, source, uidvalidity, last_uid) "
                    "VALUES (%s, 'imap:INBOX', 1, 999)", (store.id,))
    c = ingest_mailbox(store, warehouse_dsn, *window, since_watermark=True)
    assert c["stored"] == 1
    imap.select("INBOX", readonly=True)
    uv = int(imap.response("UIDVALIDITY")[1][0])
    assert rows(db, "SELECT uidvalidity, last_uid FROM ops.ingest_watermark WHERE source='imap:INBOX'") == [(uv, 1)]


def test_fixtures_through_dovecot_parse_as_on_disk(mailbox):
    """Dovecot stores and serves mail with CRLF line endings; the Maildir fixtures on disk are
    mostly LF. Every fixture (the corpus and the hostile mails) must parse the same both ways."""
    from seller_inbox.mail.parser import MailParseError, parse_bytes

    fix = Path(__file__).resolve().parents[1] / "fixtures" / "mail"
    files = sorted(fix.glob("corpus/*.eml")) + sorted(fix.glob("hostile/*.eml"))
    files = [f for f in files if b"\x00" not in f.read_bytes()]  # IMAP literals cannot carry NUL

    def parsed(raw: bytes) -> dict:
        try:
            d = parse_bytes(raw, salt=b"dovecot").to_dict()
        except MailParseError as exc:
            return {"error": exc.reason}
        d.pop("size_bytes")  # the size as delivered, line endings included
        return d

    imap = mailbox["imap"]
    assert imap.create("Fixtures")[0] == "OK"
    for f in files:
        typ, data = imap.append("Fixtures", None, None, f.read_bytes())
        assert typ == "OK", (f.name, data)
    imap.select("Fixtures", readonly=True)
    uids = imap.uid("SEARCH", None, "ALL")[1][0].split()
    assert len(uids) == len(files)
    for f, uid in zip(files, uids):
        served = imap.uid("FETCH", uid, "(BODY.PEEK[])")[1][0][1]
        assert b"\n" not in served.replace(b"\r\n", b""), f.name  # served with CRLF only
        assert parsed(served) == parsed(f.read_bytes()), f.name
