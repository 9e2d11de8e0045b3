"""Per-mail isolation in mail ingestion and the quarantine (visible, alerted, recoverable):
real PostgreSQL, real Maildir on disk, real Dovecot for IMAP, the real ``seller-inbox`` CLI."""

from __future__ import annotations

import hashlib
import imaplib
import json
import re
from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from seller_inbox import cli
from seller_inbox.mail.ingest import _store_batch, ingest_mailbox, ingest_source, parse_item
from seller_inbox.mail.sources import FolderState, ImapSource, MaildirSource
from tests.servers.dovecot import dovecot_server  # noqa: F401 - pytest fixture

from .test_mail_support import Box, buyer_mail, make_store, one, reply_mail, rows, t

FOLDERS = {"inbox": "INBOX", "sent": "Sent"}
DAY = (t("2026-11-29T00:00:00"), t("2026-11-30T00:00:00"))
SALT = b"quarantine-test-salt"
# the tester's reproducer: a quoted-printable NUL in a buyer's text
NUL_MAIL = (b"From: a@b.example\r\nDate: Sun, 29 Nov 2026 08:00:00 +0000\r\nSubject: x\r\n"
            b"Content-Transfer-Encoding: quoted-printable\r\n\r\nwhere is my parcel=00?\r\n")
NO_FROM = b"Subject: lost sender\r\nMessage-ID: <nf%d@x>\r\nDate: Sun, 29 Nov 2026 09:00:00 +0000\r\n\r\nbody\r\n"


def _long_id(n: int = 3000) -> str:
    """An id that does not compress below the btree row limit (repeated letters would)."""
    return "<" + "".join(hashlib.sha256(str(i).encode()).hexdigest() for i in range(n // 64 + 1))[:n] + "@x>"


def _ingest(store, dsn, root, **kw):
    return ingest_source(store, dsn, MaildirSource(root), *DAY, folders=FOLDERS, salt=SALT, **kw)


def _good(box: Box, n: int, start_minute: int = 0) -> list[str]:
    ids = []
    for i in range(n):
        w = DAY[0] + timedelta(hours=10, minutes=start_minute + i)
        mid = f"<g{start_minute + i}@a>"
        box.inbox(buyer_mail(mid, w, f"message {i}", alias=f"buyer{i}@marketplace.amazon.com"), w, f"g{start_minute + i}")
        ids.append(mid)
    return ids


# ------------------------------------------------------------------ isolation
def test_hostile_mails_in_a_maildir_never_cost_the_rest_of_their_batch(db, warehouse_dsn, tmp_path):
    """The reproducer mails among good ones, in one batch: every good mail lands, each hostile
    one is either stored (sanitised) or quarantined with a reason; nothing is lost, the
    watermark advances and a rerun converges."""
    store = make_store()
    box = Box(tmp_path / "box")
    good = _good(box, 30)
    hostile = {
        "nul": NUL_MAIL,
        "longid": (f"From: a@b.example\r\nMessage-ID: {_long_id()}\r\nDate: Sun, 29 Nov 2026 08:01:00 +0000\r\n"
                   "Subject: y\r\n\r\nhello\r\n").encode(),
        "longirt": (f"From: Shop <shop@store.example>\r\nTo: buyer1@marketplace.amazon.com\r\nMessage-ID: <lr@s>\r\n"
                    f"In-Reply-To: {_long_id()}\r\nDate: Sun, 29 Nov 2026 08:02:00 +0000\r\n"
                    "Subject: RE: Inquiry from Amazon customer Cherri (Order: 111-1111111-0000001)\r\n\r\nok\r\n").encode(),
    }
    for i, (name, raw) in enumerate(hostile.items()):
        box.raw_file(raw, DAY[0] + timedelta(hours=10, minutes=5, seconds=i), f"1.{name}.host")
    c = _ingest(store, warehouse_dsn, box.root, batch_size=200)
    assert c["seen"] == 33 and c["stored"] + c["quarantined"] == 33
    stored = {r[0] for r in rows(db, "SELECT message_id FROM raw.mail_message")}
    assert set(good) <= stored
    assert one(db, "SELECT count(*) FROM core.message WHERE message_id = ANY(%s)", good) == 30
    quarantined = rows(db, "SELECT item_ref, reason FROM ops.quarantine WHERE status = 'open'")
    assert len(stored) + len(quarantined) == 33, quarantined
    assert one(db, "SELECT count(*) FROM ops.quarantine WHERE reason = ''") == 0
    assert rows(db, "SELECT source FROM ops.ingest_watermark ORDER BY 1") == [("maildir:INBOX",), ("maildir:Sent",)]
    before = rows(db, "SELECT * FROM ops.quarantine ORDER BY source_ref")
    again = _ingest(store, warehouse_dsn, box.root)
    assert again["stored"] == 0 and again["quarantined"] == c["quarantined"]
    assert rows(db, "SELECT * FROM ops.quarantine ORDER BY source_ref") == before  # reruns change nothing


def test_store_batch_quarantines_exactly_the_values_the_database_refuses(db, warehouse_dsn, tmp_path):
    """Parsed values the database refuses (built here, so the test does not depend on the
    parser's own sanitising): NUL in text and in JSON, a lone surrogate, a Message-ID and an
    In-Reply-To over the btree index limit. Each is quarantined with the database's reason;
    the eleven good mails of the same batch land, threads and reply links included."""
    import psycopg2

    store = make_store()
    box = Box(tmp_path / "box")
    good = _good(box, 10)
    w = DAY[0] + timedelta(hours=12)
    box.sent(reply_mail("<r0@s>", w, "It ships today.", to="buyer0@marketplace.amazon.com", in_reply_to="<g0@a>"), w, "r0")
    for i in range(5):
        box.inbox(buyer_mail(f"<h{i}@a>", w, f"hostile {i}"), w + timedelta(seconds=i), f"h{i}")
    src = MaildirSource(box.root)
    names = {p.name.split(":")[0]: p for p in (box.root / "cur").iterdir()}
    items = []
    for unique in sorted(names):
        it = src.fetch("INBOX", "inbox", unique)
        items.append(parse_item(it, SALT, "maildir:INBOX", "inbox"))
    by_id = {p.message_id: (it, p) for it, p, _ in items}
    spoil = {
        "<h0@a>": lambda p: replace(p, text=p.text + "\x00"),
        "<h1@a>": lambda p: replace(p, attachments=[{"filename": "a\x00b"}]),
        "<h2@a>": lambda p: replace(p, subject="caf\udce9"),
        "<h3@a>": lambda p: replace(p, message_id=_long_id()),
        "<h4@a>": lambda p: replace(p, in_reply_to=_long_id()),
    }
    batch = [(it, spoil[p.message_id](p) if p.message_id in spoil else p, None) for it, p in by_id.values()]
    counts = {"stored": 0, "duplicates": 0, "quarantined": 0, "kinds": {}}
    fcounts = {"stored": 0, "duplicates": 0, "quarantined": 0}
    pg = psycopg2.connect(warehouse_dsn)
    try:
        _store_batch(pg, store, "maildir:INBOX", batch, FolderState("maildir:INBOX"), counts, fcounts, final=True)
        sent = [parse_item(src.fetch("Sent", "sent", "%d.M%sP0.demo" % (int(w.timestamp()), hashlib.sha256(b"r0").hexdigest()[:16])),
                           SALT, "maildir:Sent", "sent")]
        _store_batch(pg, store, "maildir:Sent", sent, FolderState("maildir:Sent"), counts, fcounts, final=True)
    finally:
        pg.close()
    assert (counts["stored"], counts["quarantined"]) == (11, 5)
    assert {r[0] for r in rows(db, "SELECT message_id FROM core.message")} == set(good) | {"<r0@s>"}
    assert rows(db, "SELECT reply_message_id FROM core.message WHERE message_id = '<g0@a>'") == [("<r0@s>",)]
    q = {r[0]: r[1:] for r in rows(db, "SELECT message_id, reason, source, folder_role, status, attempts, received_at "
                                       "FROM ops.quarantine")}
    assert set(q) == {f"<h{i}@a>" for i in range(5)}
    assert all(v[0].startswith("database refused it: ") and v[1:5] == ("maildir:INBOX", "inbox", "open", 1)
               for v in q.values()), q
    # the parse result (JSON) holds the text too: PostgreSQL refuses the \u0000 escape there first
    assert "unsupported Unicode escape sequence" in q["<h0@a>"][0] and "Unicode" in q["<h1@a>"][0]
    assert "surrogates not allowed" in q["<h2@a>"][0]
    assert "index row size" in q["<h3@a>"][0] and "index row size" in q["<h4@a>"][0]
    assert all(v[5] == w + timedelta(seconds=int(k[2])) for k, v in q.items())
    assert max(len(v[0]) for v in q.values()) <= 300
    assert rows(db, "SELECT source FROM ops.ingest_watermark ORDER BY 1") == [("maildir:INBOX",), ("maildir:Sent",)]


_FIELDS = ("subject", "text", "message_id", "in_reply_to", "order_id", "topic")
_HOSTILE = st.text(st.characters(codec=None, exclude_categories=()), max_size=40) | st.builds(
    lambda a, b: a + b, st.text(max_size=5), st.sampled_from(["\x00", "\ud800", "\udfff", _long_id(), _long_id(2710)]))


@settings(max_examples=40)
@given(field=st.sampled_from(_FIELDS), value=_HOSTILE)
@example(field="text", value="where is my parcel\x00?")
@example(field="subject", value="caf\udce9")
@example(field="message_id", value=_long_id())
@example(field="in_reply_to", value=_long_id())
@example(field="order_id", value="\x00")
def test_any_field_value_costs_at_most_its_own_mail(warehouse_dsn, tmp_path_factory, field, value):
    """Whatever a parsed field holds, the batch's other mails land and the mail itself is
    either stored or quarantined with a reason: nothing is lost, nothing fails the batch."""
    import uuid

    import psycopg2

    store = make_store(f"h-{uuid.uuid4().hex[:12]}")
    box = Box(tmp_path_factory.mktemp("fuzz"))
    w = DAY[0] + timedelta(hours=9)
    for i in range(3):
        box.inbox(buyer_mail(f"<f{i}@a>", w, f"message {i}", alias=f"b{i}@marketplace.amazon.com"), w + timedelta(seconds=i), f"f{i}")
    src = MaildirSource(box.root)
    batch = [parse_item(it, SALT, "maildir:INBOX", "inbox")
             for it in sorted((src.fetch("INBOX", "inbox", p.name.split(":")[0]) for p in (box.root / "cur").iterdir()),
                              key=lambda it: it.internal_date)]
    it, p, _ = batch[1]
    batch[1] = (it, replace(p, **{field: value}), None)
    counts = {"stored": 0, "duplicates": 0, "quarantined": 0, "kinds": {}}
    pg = psycopg2.connect(warehouse_dsn)
    try:
        _store_batch(pg, store, "maildir:INBOX", batch, FolderState("maildir:INBOX"), counts,
                     {"stored": 0, "duplicates": 0, "quarantined": 0}, final=True)
        with pg.cursor() as cur:
            cur.execute("SELECT message_id FROM core.message WHERE store_id = %s", (store.id,))
            stored = {r[0] for r in cur.fetchall()}
            cur.execute("SELECT reason FROM ops.quarantine WHERE store_id = %s", (store.id,))
            reasons = [r[0] for r in cur.fetchall()]
        pg.rollback()
    finally:
        pg.close()
    assert {"<f0@a>", "<f2@a>"} <= stored
    assert counts["stored"] + counts["duplicates"] + counts["quarantined"] == 3
    assert len(stored) + len(reasons) + counts["duplicates"] == 3 and all(0 < len(r) <= 300 for r in reasons), (stored, reasons)


# ------------------------------------------------------------------ visible, alerted, recoverable
@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    """A registry with the test store and its Maildir as the ``mailbox`` Airflow connection."""
    root = tmp_path / "box"
    reg = tmp_path / "stores.yaml"
    reg.write_text("stores:\n  - id: t-store\n    name: Test Store\n    seller_id: A1DEMOUSOUTDOOR\n    region: na\n"
                   "    marketplaces: [{code: US}]\n"
                   "    connections: {spapi: spapi_t, mailbox: mailbox_t_store, smtp: smtp_t}\n", encoding="utf-8")
    monkeypatch.setenv("SELLER_INBOX_STORES", str(reg))
    monkeypatch.setenv("SELLER_INBOX_SALT", SALT.decode())
    monkeypatch.setenv("AIRFLOW_CONN_MAILBOX_T_STORE", json.dumps({"conn_type": "maildir", "extra": {"path": str(root)}}))
    monkeypatch.setenv("COLUMNS", "250")
    return root


def _cli(capsys, *argv) -> tuple[int, str, str]:
    """The real CLI in this process; what earlier steps printed or logged is dropped first."""
    capsys.readouterr()
    rc = cli.main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def test_quarantine_is_alerted_listed_retried_and_resolved(db, warehouse_dsn, cli_env, capsys):
    store = make_store()
    box = Box(cli_env)
    good = _good(box, 3)
    paths = [box.raw_file(NO_FROM % i, DAY[0] + timedelta(hours=11, minutes=i), f"1.nofrom{i}.host") for i in range(3)]
    c = _ingest(store, warehouse_dsn, box.root)
    assert (c["stored"], c["quarantined"]) == (3, 3)
    assert one(db, "SELECT count(*) FROM core.message WHERE message_id = ANY(%s)", good) == 3
    got = rows(db, "SELECT source_ref, source, folder_role, item_ref, message_id, received_at, reason, attempts, status "
                   "FROM ops.quarantine ORDER BY 1")
    assert got == [(f"maildir:INBOX/1.nofrom{i}.host", "maildir:INBOX", "inbox", f"1.nofrom{i}.host", f"<nf{i}@x>",
                     DAY[0] + timedelta(hours=11, minutes=i), "missing From header", 1, "open") for i in range(3)]
    alerts = rows(db, "SELECT alert_kind, subject_key, channel, status, payload FROM ops.alert_log")
    today = one(db, "SELECT (now() AT TIME ZONE 'UTC')::date").isoformat()
    assert alerts == [("mail_quarantined", today, "log", "sent", {
        "message": "3 mails could not be processed: missing From header (3); "
                   "run `seller-inbox quarantine list --store t-store`", "day": today, "count": 3})]
    assert rows(db, "SELECT day::text, opened, resolved, open_now FROM ops.quarantine_daily") == [(today, 3, 0, 3)]

    # a rerun is idempotent: nothing stored twice, quarantine rows untouched, no second alert
    before = rows(db, "SELECT * FROM ops.quarantine ORDER BY 1, 2")
    again = _ingest(store, warehouse_dsn, box.root)
    assert (again["stored"], again["quarantined"]) == (0, 3)
    assert rows(db, "SELECT * FROM ops.quarantine ORDER BY 1, 2") == before
    assert one(db, "SELECT count(*) FROM ops.alert_log") == 1
    assert one(db, "SELECT count(*) FROM raw.mail_message") == 3

    rc, out, _ = _cli(capsys, "quarantine", "list", "--store", "t-store")
    assert rc == 0 and all(f"maildir:INBOX/1.nofrom{i}.host" in out for i in range(3)) and "missing From header" in out
    rc, out, _ = _cli(capsys, "quarantine", "show", "t-store", "1.nofrom1.host")
    assert rc == 0 and "maildir:INBOX/1.nofrom1.host" in out and "<nf1@x>" in out

    # the cause is fixed for nofrom0 (same file name, now a valid mail); nofrom2 disappears
    fixed = buyer_mail("<fixed0@a>", DAY[0] + timedelta(hours=11), "where is my parcel?", alias="late@marketplace.amazon.com")
    paths[0].write_bytes(fixed)
    paths[2].unlink()
    rc, out, err = _cli(capsys, "quarantine", "retry", "--store", "t-store")
    assert rc == 0, err
    lines = {ln.split("│")[2].strip(): ln for ln in out.splitlines() if "maildir:INBOX/" in ln}
    assert "resolved" in lines["maildir:INBOX/1.nofrom0.host"] and "stored" in lines["maildir:INBOX/1.nofrom0.host"]
    assert "failed" in lines["maildir:INBOX/1.nofrom1.host"] and "missing From header" in lines["maildir:INBOX/1.nofrom1.host"]
    assert "gone" in lines["maildir:INBOX/1.nofrom2.host"] and "no longer in maildir:INBOX" in lines["maildir:INBOX/1.nofrom2.host"]
    st = {r[0]: r[1:] for r in rows(db, "SELECT item_ref, status, attempts, resolved_at IS NOT NULL FROM ops.quarantine")}
    assert st == {"1.nofrom0.host": ("resolved", 2, True), "1.nofrom1.host": ("open", 2, False),
                  "1.nofrom2.host": ("open", 2, False)}
    # the recovered message is in the desk: raw row under its mailbox ref, SLA clock, thread
    assert rows(db, "SELECT source, source_ref FROM raw.mail_message WHERE message_id = '<fixed0@a>'") == [
        ("maildir:INBOX", "1.nofrom0.host")]
    assert rows(db, "SELECT kind, sla_due_at, thread_id IS NOT NULL FROM core.message WHERE message_id = '<fixed0@a>'") == [
        ("buyer_message", DAY[0] + timedelta(hours=35), True)]
    assert rows(db, "SELECT day::text, opened, resolved, open_now FROM ops.quarantine_daily") == [(today, 3, 1, 2)]

    # ingestion again: the resolved one is known now, the rest unchanged; no new alert
    c3 = _ingest(store, warehouse_dsn, box.root)
    assert (c3["stored"], c3["quarantined"]) == (0, 1) and one(db, "SELECT count(*) FROM ops.alert_log") == 1
    rc, out, _ = _cli(capsys, "quarantine", "list", "--store", "t-store")
    assert "1.nofrom0.host" not in out and "1.nofrom1.host" in out
    rc, out, _ = _cli(capsys, "quarantine", "list", "--store", "t-store", "--all")
    assert "1.nofrom0.host" in out and "resolved" in out
    rc, out, _ = _cli(capsys, "quarantine", "retry", "--store", "t-store", "maildir:INBOX/1.nofrom0.host")
    assert rc == 0 and "already resolved" in out


def test_quarantine_cli_errors_are_one_line(db, warehouse_dsn, cli_env, capsys):
    Box(cli_env)
    for argv, needle in [
        (("quarantine", "list", "--store", "nope"), "unknown store 'nope'"),
        (("quarantine", "show", "nope", "x"), "unknown store 'nope'"),
        (("quarantine", "show", "t-store", "1.none.host"), "store 't-store': no quarantined mail '1.none.host'"),
        (("quarantine", "retry", "--store", "t-store", "1.none.host"), "no quarantined mail '1.none.host'"),
        (("quarantine", "retry", "1.none.host"), "needs --store STORE"),
    ]:
        rc, out, err = _cli(capsys, *argv)
        assert rc == 1 and needle in err and err.count("\n") == 1 and "Traceback" not in err, (argv, err)


def test_unreachable_mailbox_is_one_line(db, warehouse_dsn, cli_env, capsys, monkeypatch):
    store = make_store()
    box = Box(cli_env)
    box.raw_file(NO_FROM % 0, DAY[0] + timedelta(hours=11), "1.nofrom0.host")
    _ingest(store, warehouse_dsn, box.root)
    monkeypatch.setenv("AIRFLOW_CONN_MAILBOX_T_STORE", json.dumps({"conn_type": "ftp", "host": "x"}))
    rc, out, err = _cli(capsys, "quarantine", "retry", "--store", "t-store")
    assert rc == 1 and err.count("\n") == 1, err
    assert "store 't-store': cannot open mailbox connection 'mailbox_t_store'" in err and "not imap or maildir" in err


# ------------------------------------------------------------------ IMAP (real Dovecot)
def test_imap_quarantine_retry_by_uidvalidity_and_uid(db, warehouse_dsn, dovecot_server, monkeypatch):  # noqa: F811
    """Retry re-reads by UIDVALIDITY+UID on the store's connection: an item that still fails
    counts an attempt, a row left by an older parser is resolved and stored, an expunged mail
    is reported gone; the mailbox is only read (EXAMINE, BODY.PEEK)."""
    from seller_inbox.mail import quarantine

    user, pw = dovecot_server.new_user()
    conn_id = f"mailbox_{user}"
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", dovecot_server.connection_json(user, pw))
    store = make_store(mailbox_conn=conn_id)
    imap = imaplib.IMAP4(dovecot_server.host, dovecot_server.port)
    imap.login(user, pw)
    try:
        w = DAY[0] + timedelta(hours=10)
        imap.append("INBOX", None, imaplib.Time2Internaldate(w), buyer_mail("<i0@a>", w, "first"))
        imap.append("INBOX", None, imaplib.Time2Internaldate(w), NO_FROM % 7)
        imap.append("INBOX", None, imaplib.Time2Internaldate(w), NO_FROM % 8)
        imap.append("INBOX", None, imaplib.Time2Internaldate(w), buyer_mail("<i3@a>", w, "where is it?"))
        imap.select("INBOX")
        uv = int(imap.response("UIDVALIDITY")[1][0])
        c = ingest_mailbox(store, warehouse_dsn, *DAY)
        assert (c["stored"], c["quarantined"]) == (2, 2)
        # as if an older parser had refused UID 4 (a row in the pre-0201 shape) and it was never stored
        with db.cursor() as cur:
            cur.execute("DELETE FROM core.message WHERE message_id = '<i3@a>'")
            cur.execute("DELETE FROM raw.mail_message WHERE message_id = '<i3@a>'")
            cur.execute("INSERT INTO ops.quarantine (store_id, source_ref, source, item_ref, reason) "
                        "VALUES ('t-store', %s, 'imap:INBOX', %s, 'parser error: KeyError: x')",
                        (f"imap:INBOX/{uv}:4", f"{uv}:4"))
        imap.uid("STORE", "3", "+FLAGS", "(\\Deleted)")
        imap.expunge()
        got = {r.source_ref: (r.outcome, r.detail) for r in quarantine.retry_store(store, warehouse_dsn)}
        assert got == {f"imap:INBOX/{uv}:2": ("failed", "missing From header"),
                       f"imap:INBOX/{uv}:3": ("gone", "source gone: no longer in imap:INBOX"),
                       f"imap:INBOX/{uv}:4": ("resolved", "stored")}
        assert rows(db, "SELECT source, source_ref FROM raw.mail_message WHERE message_id = '<i3@a>'") == [
            ("imap:INBOX", f"{uv}:4")]
        assert one(db, "SELECT sla_due_at FROM core.message WHERE message_id = '<i3@a>'") == w + timedelta(hours=24)
        assert rows(db, "SELECT item_ref, attempts, status FROM ops.quarantine ORDER BY 1") == [
            (f"{uv}:2", 2, "open"), (f"{uv}:3", 2, "open"), (f"{uv}:4", 2, "resolved")]
        imap.select("INBOX", readonly=True)
        assert imap.uid("SEARCH", None, "SEEN")[1][0] == b""  # retry only read the mailbox
        # a ref of another UIDVALIDITY means another mail: gone, never a wrong mail
        src = ImapSource(dovecot_server.host, dovecot_server.port, user, pw)
        try:
            assert src.fetch("INBOX", "inbox", f"{uv + 1}:1") is None
            assert re.search(rb"<i0@a>", src.fetch("INBOX", "inbox", f"{uv}:1").raw)
            assert src.fetch("Nope", "inbox", f"{uv}:1") is None
        finally:
            src.close()
    finally:
        imap.logout()
