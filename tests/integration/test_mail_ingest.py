"""Mailbox ingestion into a real PostgreSQL from real Maildir folders: exactly once, threads,
reply links / SLA, "no response needed", quarantine, crash + rerun, and the demo generator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from seller_inbox_dev.demo.mail import write_demo_mail
from seller_inbox.mail.ingest import ingest_mailbox, ingest_source
from seller_inbox.mail.sources import MaildirSource

from .test_mail_support import Box, buyer_mail, make_store, one, reply_mail, rows, t

FOLDERS = {"inbox": "INBOX", "sent": "Sent"}


def _ingest(store, dsn, root, start, end, **kw):
    return ingest_source(store, dsn, MaildirSource(root), start, end, folders=FOLDERS, **kw)


def test_threads_reply_links_sla_and_autoreplies(db, warehouse_dsn, tmp_path):
    store = make_store()
    box = Box(tmp_path / "box")
    b1, b2 = t("2026-11-02T10:00:00"), t("2026-11-02T18:00:00")
    box.inbox(buyer_mail("<b1@a>", b1, "Where is my order?"), b1, "b1")
    box.sent(reply_mail("<auto1@s>", b1 + timedelta(minutes=1), "We answer within 24h.", auto=True,
                        in_reply_to="<b1@a>"), b1 + timedelta(minutes=1), "auto1")
    box.sent(reply_mail("<r1@s>", b1 + timedelta(hours=3), "It ships today."), b1 + timedelta(hours=3), "r1")
    box.inbox(buyer_mail("<b2@a>", b2, "Thanks, and the invoice?"), b2, "b2")
    late = b2 + timedelta(hours=30)
    box.sent(reply_mail("<r2@s>", late, "Invoice attached."), late, "r2")
    # pre-sale question (no order id) answered by a reply without order id or In-Reply-To
    p1 = t("2026-11-02T12:00:00")
    box.inbox(buyer_mail("<p1@a>", p1, "Is it waterproof?", alias="buyer2@marketplace.amazon.com", order=None,
                         name="Zoe"), p1, "p1")
    box.sent(reply_mail("<pr1@s>", p1 + timedelta(hours=1), "Yes it is.", to="buyer2@marketplace.amazon.com",
                        order=None), p1 + timedelta(hours=1), "pr1")
    # unanswered buyer message
    u1 = t("2026-11-03T09:00:00")
    box.inbox(buyer_mail("<u1@a>", u1, "Hello??", alias="buyer3@marketplace.amazon.com",
                         order="111-1111111-0000003"), u1, "u1")

    c = _ingest(store, warehouse_dsn, box.root, t("2026-11-01T00:00:00"), t("2026-11-05T00:00:00"))
    assert (c["seen"], c["stored"], c["duplicates"], c["quarantined"]) == (8, 8, 0, 0)

    got = {r[0]: r[1:] for r in rows(db, "SELECT message_id, kind, direction, first_reply_at, reply_message_id, "
                                         "sla_due_at, thread_id FROM core.message")}
    assert got["<b1@a>"][:5] == ("buyer_message", "inbound", b1 + timedelta(hours=3), "<r1@s>", b1 + timedelta(hours=24))
    assert got["<b2@a>"][2:4] == (late, "<r2@s>")  # late reply still links (KPI decides it was late)
    assert got["<auto1@s>"][:2] == ("auto_reply", "outbound")
    assert got["<p1@a>"][2:4] == (p1 + timedelta(hours=1), "<pr1@s>")
    assert got["<pr1@s>"][5] == got["<p1@a>"][5]  # reply without order id joined the pre-sale thread
    assert got["<u1@a>"][2] is None and got["<u1@a>"][3] is None
    assert got["<r1@s>"][4] is None  # replies carry no SLA
    th = {r[0]: r[1:] for r in rows(db, "SELECT order_id, status, first_buyer_message_at, first_seller_reply_at, "
                                        "message_count FROM core.thread")}
    assert th["111-1111111-0000001"] == ("answered", b1, b1 + timedelta(hours=3), 5)
    assert th["111-1111111-0000003"][0] == "open"
    assert th[None][0] == "answered"
    assert one(db, "SELECT count(*) FROM core.thread") == 3


def test_reply_stored_before_its_buyer_message_is_linked_later(db, warehouse_dsn, tmp_path):
    store = make_store()
    box = Box(tmp_path / "box")
    b1 = t("2026-11-02T23:00:00")
    box.inbox(buyer_mail("<b1@a>", b1, "Cancel please", order=None), b1, "b1")
    box.sent(reply_mail("<r1@s>", t("2026-11-03T08:00:00"), "Done.", order=None, in_reply_to="<b1@a>"),
             t("2026-11-03T08:00:00"), "r1")
    # backfill order: the later day first (only the reply), then the earlier day
    _ingest(store, warehouse_dsn, box.root, t("2026-11-03T00:00:00"), t("2026-11-04T00:00:00"))
    assert one(db, "SELECT count(*) FROM core.message WHERE first_reply_at IS NOT NULL") == 0
    _ingest(store, warehouse_dsn, box.root, t("2026-11-02T00:00:00"), t("2026-11-03T00:00:00"))
    assert rows(db, "SELECT reply_message_id FROM core.message WHERE message_id='<b1@a>'") == [("<r1@s>",)]
    assert rows(db, "SELECT status, message_count FROM core.thread") == [("answered", 2)]


def test_window_twice_and_overlapping_windows_store_each_message_once(db, warehouse_dsn, tmp_path):
    store = make_store("us-outdoor")
    root = tmp_path / "demo"
    start, mid, end = t("2026-11-10T00:00:00"), t("2026-11-12T00:00:00"), t("2026-11-13T00:00:00")
    w = write_demo_mail(root, [store], start, end, seed=7)[store.id]
    total = w["written"]
    a = _ingest(store, warehouse_dsn, root / store.id, start, mid)
    again = _ingest(store, warehouse_dsn, root / store.id, start, mid)
    assert again["stored"] == 0 and again["duplicates"] == again["seen"] == a["seen"]
    overlap = _ingest(store, warehouse_dsn, root / store.id, mid - timedelta(hours=12), end)
    assert a["stored"] + overlap["stored"] == total
    assert overlap["duplicates"] > 0  # the overlapping half-day was seen again and skipped
    assert one(db, "SELECT count(*) FROM raw.mail_message") == total
    assert one(db, "SELECT count(DISTINCT message_id) FROM raw.mail_message") == total
    assert one(db, "SELECT count(*) FROM core.message") == total  # demo mails are all of core kinds
    # rewriting the same demo window adds no file
    w2 = write_demo_mail(root, [store], start, end, seed=7)[store.id]
    assert w2["written"] == 0 and w2["existing"] == total


def test_malformed_mail_is_quarantined_and_the_batch_lands(db, warehouse_dsn, tmp_path):
    store = make_store()
    box = Box(tmp_path / "box")
    when = t("2026-11-02T10:00:00")
    for i in range(5):
        box.inbox(buyer_mail(f"<ok{i}@a>", when + timedelta(minutes=i), f"message {i}"), when + timedelta(minutes=i), f"ok{i}")
    box.raw_file(b"\x00\x01garbage\xff" * 20, when + timedelta(minutes=2, seconds=30), "1.bad1.host")
    box.raw_file(b"Subject: no sender\r\nMessage-ID: <nf@x>\r\n\r\nbody\r\n", when + timedelta(minutes=3, seconds=30),
                 "1.bad2.host")
    box.raw_file(b"", when + timedelta(minutes=4, seconds=30), "1.bad3.host")
    c = _ingest(store, warehouse_dsn, box.root, t("2026-11-02T00:00:00"), t("2026-11-03T00:00:00"), batch_size=100)
    assert (c["seen"], c["stored"], c["quarantined"]) == (8, 5, 3)
    q = dict(rows(db, "SELECT source_ref, reason FROM ops.quarantine"))
    assert q == {"maildir:INBOX/1.bad1.host": "binary data, not a mail message",
                 "maildir:INBOX/1.bad2.host": "missing From header",
                 "maildir:INBOX/1.bad3.host": "empty message"}
    assert rows(db, "SELECT message_id FROM ops.quarantine WHERE source_ref LIKE '%bad2%'") == [("<nf@x>",)]
    again = _ingest(store, warehouse_dsn, box.root, t("2026-11-02T00:00:00"), t("2026-11-03T00:00:00"))
    assert again["stored"] == 0 and one(db, "SELECT count(*) FROM ops.quarantine") == 3
    assert one(db, "SELECT count(*) FROM core.message") == 5


def test_no_response_needed_mark_is_honoured_and_followed(db, warehouse_dsn, tmp_path):
    store = make_store()
    box = Box(tmp_path / "box")
    when = t("2026-11-02T10:00:00")
    box.inbox(buyer_mail("<n1@a>", when, "Thanks, all good!"), when, "n1", nrn=True)
    window = (t("2026-11-02T00:00:00"), t("2026-11-03T00:00:00"))
    _ingest(store, warehouse_dsn, box.root, *window)
    assert rows(db, "SELECT no_response_needed FROM core.message") == [(True,)]
    assert rows(db, "SELECT status FROM core.thread") == [("no_response_needed",)]
    # the seller removes the mark in the mailbox: the next read of the window follows it
    f = next((box.root / "cur").glob("*:2,a"))
    f.rename(str(f)[:-1])
    _ingest(store, warehouse_dsn, box.root, *window)
    assert rows(db, "SELECT no_response_needed FROM core.message") == [(False,)]
    assert rows(db, "SELECT status FROM core.thread") == [("open",)]


_CRASH_SCRIPT = """
import sys
from datetime import datetime, timezone
from seller_inbox.config import StoreConfig
from seller_inbox.mail.ingest import ingest_source
from seller_inbox.mail.sources import MaildirSource
store = StoreConfig(id=sys.argv[1], name="T", seller_id="A1DEMOUSOUTDOOR", region="na", marketplaces=[{"code": "US"}],
                    connections={"spapi": "a", "mailbox": "b", "smtp": "c"})
s, e = (datetime.fromisoformat(x).replace(tzinfo=timezone.utc) for x in sys.argv[4:6])
print(ingest_source(store, sys.argv[2], MaildirSource(sys.argv[3]), s, e, folders={"inbox": "INBOX", "sent": "Sent"},
                    batch_size=10))
"""


def _snapshot(db, store_id):
    msgs = sorted(rows(db, "SELECT message_id, kind, first_reply_at, reply_message_id, sla_due_at, no_response_needed "
                           "FROM core.message WHERE store_id=%s", store_id))
    threads = sorted(rows(db, "SELECT buyer_alias_hash, coalesce(order_id,''), first_buyer_message_at, "
                              "first_seller_reply_at, message_count, status FROM core.thread WHERE store_id=%s",
                          store_id), key=str)
    raw = one(db, "SELECT count(*) FROM raw.mail_message WHERE store_id=%s", store_id)
    return raw, msgs, threads


def test_killed_mid_batch_then_rerun_loses_and_duplicates_nothing(db, warehouse_dsn, tmp_path):
    store_ref, store_crash = make_store("ref-store"), make_store("crash-store")
    root = tmp_path / "demo"
    start, end = t("2026-11-10T00:00:00"), t("2026-11-11T00:00:00")
    total = write_demo_mail(root, [make_store("us-outdoor")], start, end, seed=3)["us-outdoor"]["written"]
    assert total > 40
    _ingest(store_ref, warehouse_dsn, root / "us-outdoor", start, end)
    args = [sys.executable, "-c", _CRASH_SCRIPT, store_crash.id, warehouse_dsn, str(root / "us-outdoor"),
            start.isoformat()[:19], end.isoformat()[:19]]
    env = {**os.environ, "SELLER_INBOX_MAIL_CRASH_AFTER": "25"}
    r = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == -9, r.stderr  # SIGKILLed in the middle of its third batch
    partial = one(db, "SELECT count(*) FROM raw.mail_message WHERE store_id=%s", store_crash.id)
    assert partial == 20  # two committed batches of 10; the third rolled back
    r = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert _snapshot(db, store_crash.id) == _snapshot(db, store_ref.id)
    assert _snapshot(db, store_crash.id)[0] == total


def test_ingest_mailbox_reads_the_airflow_connection(db, warehouse_dsn, tmp_path, monkeypatch):
    store = make_store(mailbox_conn="mailbox_t_store")
    box = Box(tmp_path / "box")
    when = t("2026-11-02T10:00:00")
    box.inbox(buyer_mail("<c1@a>", when, "hi"), when, "c1")
    monkeypatch.setenv("AIRFLOW_CONN_MAILBOX_T_STORE", json.dumps({"conn_type": "maildir",
                                                                   "extra": {"path": str(box.root)}}))
    c = ingest_mailbox(store, warehouse_dsn, t("2026-11-02T00:00:00"), t("2026-11-03T00:00:00"))
    assert (c["seen"], c["stored"], c["duplicates"], c["quarantined"]) == (1, 1, 0, 0)
    assert rows(db, "SELECT store_id, source, kind FROM raw.mail_message") == [("t-store", "maildir:INBOX", "buyer_message")]
    wm = rows(db, "SELECT source FROM ops.ingest_watermark ORDER BY 1")
    assert wm == [("maildir:INBOX",), ("maildir:Sent",)]


def test_demo_mail_covers_the_taxonomy_and_uses_simulator_orders(db, warehouse_dsn, tmp_path):
    from seller_inbox.config import load_registry
    from seller_inbox_dev.sandbox.data import generate_orders

    stores = load_registry(Path(__file__).resolve().parents[2] / "include" / "stores.yaml").stores
    root = tmp_path / "demo"
    start, end = t("2026-11-01T00:00:00"), t("2026-11-04T00:00:00")
    counts = write_demo_mail(root, stores, start, end, seed=42)
    assert counts["total"] == sum(counts[s.id]["written"] for s in stores)
    for s in stores:
        days = 3
        assert 10 * days <= counts[s.id]["buyer_message"] <= 40 * days + 10, counts[s.id]
        assert counts[s.id]["seller_reply"] > 0
        _ingest(s, warehouse_dsn, root / s.id, start, end)
    langs = {r[0] for r in rows(db, "SELECT DISTINCT language_hint FROM core.message WHERE kind='buyer_message'")}
    assert {"en", "de", "fr", "it", "es", "ja"} <= langs
    mps = {r[0] for r in rows(db, "SELECT DISTINCT marketplace FROM core.message WHERE kind='buyer_message'")}
    assert {"US", "DE", "FR", "IT", "ES", "JP"} <= mps
    # every order id a buyer mentions is a real simulator order of that store
    for s in stores:
        ids = {o.amazon_order_id for o in generate_orders(s.seller_id, start - timedelta(days=40), end, seed=42)}
        mentioned = {r[0] for r in rows(db, "SELECT DISTINCT order_id FROM core.message WHERE store_id=%s AND "
                                            "kind='buyer_message' AND order_id IS NOT NULL", s.id)}
        assert mentioned and mentioned <= ids
    assert one(db, "SELECT count(*) FROM core.message WHERE kind='buyer_message' AND order_id IS NULL") > 0
    assert one(db, "SELECT count(*) FROM core.message WHERE kind='buyer_message' AND first_reply_at - received_at "
                   "> interval '24 hours'") > 0
    assert one(db, "SELECT count(*) FROM core.message WHERE kind='buyer_message' AND first_reply_at IS NULL") > 0
    assert one(db, "SELECT count(*) FROM core.message WHERE no_response_needed") > 0
    kinds = {r[0] for r in rows(db, "SELECT DISTINCT kind FROM core.message")}
    assert kinds == {"buyer_message", "seller_reply", "amazon_notice", "auto_reply"}
    assert one(db, "SELECT count(*) FROM core.message WHERE body_text ~* 'A-to-z|A-bis-z|A à Z|dalla A alla Z|"
                   "de la A a la Z|マーケットプレイス保証'") > 0
    assert one(db, "SELECT count(*) FROM core.message WHERE body_text ~* 'smoke|gequalmt|fumer|fumo|humo|煙'") > 0
    # no buyer's full name from the simulator survives anywhere
    names = set()
    for s in stores:
        for o in generate_orders(s.seller_id, start - timedelta(days=40), end, seed=42):
            names.add(o.buyer.buyer_name)
    dump = one(db, "SELECT string_agg(row_to_json(m)::text, ' ') FROM core.message m")
    dump += one(db, "SELECT string_agg(row_to_json(r)::text, ' ') FROM raw.mail_message r")
    assert not [n for n in names if n in dump]
    assert "@marketplace.amazon" not in dump


def test_cli_mail_demo_writes_maildirs(tmp_path):
    r = subprocess.run([sys.executable, "-m", "seller_inbox", "mail", "demo", "--out", str(tmp_path),
                        "--days", "1", "--end", "2026-11-02", "--store", "jp-gadgets"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert list(out["stores"]) == ["jp-gadgets", "total"] and out["start"].startswith("2026-11-01")
    files = list((tmp_path / "jp-gadgets" / "cur").iterdir()) + list((tmp_path / "jp-gadgets" / ".Sent" / "cur").iterdir())
    assert len(files) == out["stores"]["jp-gadgets"]["written"] > 10


def test_concurrent_runs_of_one_store_converge(db, warehouse_dsn, tmp_path):
    """A backfill and the scheduled run reading the same mailbox at once (here: one reads the
    inbox, the other the sent folder, both at the same time) end with the same links as one run."""
    from concurrent.futures import ThreadPoolExecutor

    ref, conc = make_store("ref-store"), make_store("conc-store")
    root = tmp_path / "demo"
    start, end = t("2026-11-10T00:00:00"), t("2026-11-12T00:00:00")
    write_demo_mail(root, [make_store("us-outdoor")], start, end, seed=9)
    box = root / "us-outdoor"
    _ingest(ref, warehouse_dsn, box, start, end)
    with ThreadPoolExecutor(2) as ex:
        futs = [ex.submit(ingest_source, conc, warehouse_dsn, MaildirSource(box), start, end, folders=f, batch_size=5)
                for f in ({"inbox": "INBOX"}, {"sent": "Sent"})]
        for f in futs:
            f.result()
    assert _snapshot(db, conc.id) == _snapshot(db, ref.id)


def test_fixture_corpus_lands_with_its_kinds_and_quarantines_the_malformed(db, warehouse_dsn, tmp_path):
    """The whole parser corpus as one mailbox batch: each good mail lands with the expected kind,
    marketplace and order id; the unparseable ones are quarantined with their reason."""
    fix = Path(__file__).resolve().parents[1] / "fixtures" / "mail"
    expected = json.loads((fix / "expected.json").read_text(encoding="utf-8"))
    box = Box(tmp_path / "box")
    when = t("2026-11-20T12:00:00")
    for i, name in enumerate(sorted(expected)):
        box.raw_file((fix / "corpus" / f"{name}.eml").read_bytes(), when + timedelta(seconds=i), f"{i}.{name}")
    c = _ingest(make_store(), warehouse_dsn, box.root, t("2026-11-20T00:00:00"), t("2026-11-21T00:00:00"))
    # without a Date header the mailbox's internal date is used, so only three are unparseable
    bad = {n for n, e in expected.items() if e.get("error") and n != "malformed_no_date"}
    assert (c["seen"], c["stored"], c["quarantined"]) == (len(expected), len(expected) - len(bad), len(bad))
    q = {r[0].split(".", 1)[1]: r[1] for r in rows(db, "SELECT source_ref, reason FROM ops.quarantine")}
    assert set(q) == bad and all(q.values())
    stored = rows(db, "SELECT source_ref, kind, parsed->>'marketplace', parsed->>'order_id' FROM raw.mail_message")
    assert len(stored) == len(expected) - len(bad)
    for ref, kind, market, order in stored:
        exp = expected[ref.split(".", 1)[1]]
        assert kind == exp.get("kind", "buyer_message"), ref  # malformed_no_date: a buyer mail
        for key, val in (("marketplace", market), ("order_id", order)):
            if key in exp:
                assert val == exp[key], (ref, key)
    assert one(db, "SELECT count(*) FROM core.message") == len(stored) - 1  # the 'unknown' newsletter stays raw
