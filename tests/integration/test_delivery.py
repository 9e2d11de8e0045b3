"""Delivery: the one path to buyers, against a real SMTP server (aiosmtpd), real PostgreSQL and
the store's Maildir (whose Sent folder the SMTP provider fills, as Gmail or Microsoft 365 do).

Each test queues replies with the real act stage and drains them with ``deliver_store``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from cryptography.fernet import Fernet

from seller_inbox import config
from seller_inbox.act import act_on_messages
from seller_inbox.delivery import aliases, controls
from seller_inbox.delivery.deliver import CRASH_AFTER_SEND_ENV, deliver_store
from seller_inbox.mail.parser import thread_key
from seller_inbox.paths import REPO_ROOT
from tests.servers.smtp import SmtpServer

from .rows import add_message, add_order

UTC = timezone.utc
NOW = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)  # 15:00 in New York: outside quiet hours
FROM = "support@us-outdoor.demo.example"
ORDER = "111-0000001-0000001"


@pytest.fixture
def world(db, warehouse_dsn, tmp_path, monkeypatch):
    reg = yaml.safe_load(Path(config.DEFAULT_REGISTRY).read_text())
    reg_path = tmp_path / "stores.yaml"

    def registry(**defaults):
        reg["defaults"].update(defaults)
        reg_path.write_text(yaml.safe_dump(reg))
        monkeypatch.setenv("SELLER_INBOX_STORES", str(reg_path))
        return config.load_registry(reg_path).store("us-outdoor")

    store = registry()
    mailbox = tmp_path / "mailbox"
    (mailbox / "cur").mkdir(parents=True)
    server = SmtpServer(maildir=tmp_path / "buyers", sent_copy=mailbox).start()
    keys = [Fernet.generate_key().decode()]
    monkeypatch.setenv("AIRFLOW_CONN_SELLER_INBOX_CRYPTO", json.dumps({"conn_type": "generic", "extra": {"keys": keys}}))
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_US_OUTDOOR", json.dumps(server.connection(FROM)))
    monkeypatch.setenv("AIRFLOW_CONN_MAILBOX_US_OUTDOOR",
                       json.dumps({"conn_type": "maildir", "extra": {"path": str(mailbox)}}))
    yield {"db": db, "dsn": warehouse_dsn, "store": store, "server": server, "registry": registry,
           "mailbox": mailbox, "keys": keys}
    server.stop()


def _buyer(world, n: int, *, hours_ago: float = 2, intent: str = "order_status", order_id: str = ORDER,
           alias: str | None = None) -> tuple[str, str]:
    """A classified buyer message in its thread, its alias remembered; returns (message id, alias)."""
    db, store = world["db"], world["store"]
    mid, alias = f"<b{n}@relay.example>", alias or f"buyer{n}+x@marketplace.amazon.com"
    add_message(db, store.id, mid, NOW - timedelta(hours=hours_ago), intent=intent, order_id=order_id)
    tid = thread_key(store.id, f"h{n}", order_id)
    with db.cursor() as cur:
        cur.execute("INSERT INTO core.thread (thread_id, store_id, marketplace, buyer_alias_hash, order_id) "
                    "VALUES (%s, %s, 'US', %s, %s) ON CONFLICT DO NOTHING", (tid, store.id, f"h{n}", order_id))
        cur.execute("UPDATE core.message SET thread_id = %s, buyer_alias_hash = %s WHERE message_id = %s", (tid, f"h{n}", mid))
        cur.execute("INSERT INTO raw.mail_message (store_id, message_id, source, source_ref, received_at, kind, parsed) "
                    "VALUES (%s, %s, 'maildir:INBOX', %s, %s, 'buyer_message', %s)",
                    (store.id, mid, f"ref{n}", NOW - timedelta(hours=hours_ago),
                     json.dumps({"references": ["<amz-thread-1@amazon.com>"]})))
        assert aliases.remember(cur, store.id, tid, alias, now=NOW)
    return mid, alias


def _act(world, store=None, **kw):
    if not any(r[0] == ORDER for r in _q(world, "SELECT amazon_order_id FROM raw.orders")):
        add_order(world["db"], world["store"].id, ORDER, NOW - timedelta(days=3))
    return act_on_messages(store or world["store"], world["dsn"], NOW - timedelta(days=3), NOW, now=NOW,
                           fetch_orders=False, **kw)


def _q(world, sql: str, args=()) -> list[tuple]:
    with world["db"].cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def _status(world) -> dict[str, tuple]:
    return {k: (s, r) for k, s, r in _q(world, "SELECT message_id, status, status_reason FROM core.outbox")}


def test_auto_reply_goes_once_to_the_alias_threaded_and_counts_as_a_response(world):
    m1, a1 = _buyer(world, 1)
    m2, a2 = _buyer(world, 2)
    _act(world)
    out = deliver_store(world["store"], world["dsn"], now=NOW)
    assert out["sent"] == 2
    server = world["server"]
    assert sorted(r for m in server.messages for r in m["rcpt_tos"]) == sorted([a1, a2])
    (mail,) = [m["message"] for m in server.to(a1)]
    assert mail["In-Reply-To"] == m1 and mail["References"].split() == ["<amz-thread-1@amazon.com>", m1]
    assert mail["From"] == FROM and mail["Content-Language"] == "en" and ORDER in mail.get_content()
    assert server.to(a1)[0]["mail_from"] == FROM
    # the reply is a seller_reply in the thread: SLA clock stopped, KPI counts a response
    ((mid_out, sent_at),) = _q(world, "SELECT outbound_id, sent_at FROM core.outbox WHERE message_id = %s", (m1,))
    assert mail["Message-ID"] == mid_out and sent_at == NOW
    assert _q(world, "SELECT kind, direction FROM core.message WHERE message_id = %s", (mid_out,)) == [("seller_reply", "outbound")]
    assert _q(world, "SELECT first_reply_at, reply_message_id FROM core.message WHERE message_id = %s", (m1,)) == [(NOW, mid_out)]
    assert _q(world, "SELECT sum(responded) FROM kpi.store_daily WHERE store_id = 'us-outdoor'") == [(2,)]
    # the alias is nowhere in clear
    assert not _q(world, "SELECT 1 FROM core.thread_alias WHERE alias_enc LIKE %s", (f"%{a1}%",))
    assert a1 not in json.dumps(out)
    # a rerun, and the pipeline's act again: nothing more leaves
    _act(world)
    assert deliver_store(world["store"], world["dsn"], now=NOW + timedelta(minutes=5)).get("sent", 0) == 0
    assert len(server.messages) == 2


def test_killed_right_after_the_smtp_transaction_the_rerun_sends_nothing_twice(world):
    _, alias = _buyer(world, 1)
    _act(world)
    code = ("import json, sys; from datetime import datetime; from seller_inbox.config import get_registry;"
            "from seller_inbox.delivery.deliver import deliver_store;"
            "deliver_store(get_registry().store('us-outdoor'), sys.argv[1], now=datetime.fromisoformat(sys.argv[2]))")
    env = {**os.environ, CRASH_AFTER_SEND_ENV: "1", "PYTHONPATH": str(REPO_ROOT)}
    p = subprocess.run([sys.executable, "-c", code, world["dsn"], NOW.isoformat()], env=env, cwd=REPO_ROOT,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == -9, p.stderr[-2000:]
    assert len(world["server"].to(alias)) == 1
    assert [s for s, _ in _status(world).values()] == ["sending"]
    out = deliver_store(world["store"], world["dsn"], now=NOW + timedelta(seconds=30))
    assert out["reconciled_sent"] == 1 and out.get("sent") == 1
    assert len(world["server"].to(alias)) == 1
    assert [s for s, _ in _status(world).values()] == ["sent"]
    assert _q(world, "SELECT count(*) FROM core.message WHERE kind = 'seller_reply'") == [(1,)]


def test_a_send_interrupted_before_the_mail_left_goes_once_after_checking(world):
    m1, alias = _buyer(world, 1)
    _act(world)
    with world["db"].cursor() as cur:  # as a run killed between claiming and the SMTP transaction leaves it
        cur.execute("UPDATE core.outbox SET status = 'sending', outbound_id = '<si.lost@us-outdoor.demo.example>', "
                    "sending_at = %s, attempts = 1", (NOW - timedelta(minutes=1),))
    out = deliver_store(world["store"], world["dsn"], now=NOW)
    assert out["unreconciled"] == 1 and not world["server"].messages  # the Sent copy may still come: wait
    out = deliver_store(world["store"], world["dsn"], now=NOW + timedelta(minutes=5))
    assert out["reconciled_retry"] == 1 and out["sent"] == 1
    (mail,) = world["server"].to(alias)
    assert mail["message"]["Message-ID"] == "<si.lost@us-outdoor.demo.example>"  # same id as claimed


def test_smtp_4xx_is_retried_with_backoff_and_5xx_fails_with_the_reason(world):
    _, a1 = _buyer(world, 1)
    _, a2 = _buyer(world, 2, hours_ago=1)
    _act(world)
    world["server"].refuse_next(451, "4.7.1 greylisted, try later")
    world["server"].refuse_next(550, "5.1.1 no such relay alias")
    out = deliver_store(world["store"], world["dsn"], now=NOW)
    assert out["retry_later"] == 1 and out["failed"] == 1 and not world["server"].messages
    st = _status(world)
    assert st["<b1@relay.example>"][0] == "queued" and "retry after 0:01:00" in st["<b1@relay.example>"][1]
    assert st["<b2@relay.example>"] == ("failed", "refused by the mail server: 550 5.1.1 no such relay alias")
    assert deliver_store(world["store"], world["dsn"], now=NOW + timedelta(seconds=30)).get("sent", 0) == 0
    out = deliver_store(world["store"], world["dsn"], now=NOW + timedelta(minutes=2))
    assert out["sent"] == 1 and [m["rcpt_tos"] for m in world["server"].messages] == [[a1]]


@pytest.mark.parametrize("switch", ["global_registry", "global_table", "store_table"])
def test_kill_switches_hold_everything_even_approved_rows(world, switch):
    _buyer(world, 1)
    _buyer(world, 2, intent="product_question")  # draft, approved below
    _act(world)
    from seller_inbox.ui import queries

    import psycopg2

    conn = psycopg2.connect(world["dsn"])
    key = _q(world, "SELECT idempotency_key FROM core.outbox WHERE status = 'pending_approval'")[0][0]
    with world["db"].cursor() as cur:  # the skeleton needs the reviewer's answer before it may go
        cur.execute("UPDATE core.outbox SET body = 'Your order left our warehouse and is on its way.' "
                    "WHERE idempotency_key = %s", (key,))
    assert queries.approve(conn, key, "lead")["ok"]
    conn.close()
    store = world["store"]
    if switch == "global_registry":
        store = world["registry"](global_kill_switch=True)
    else:
        controls.set_kill_switch(world["dsn"], "global" if switch == "global_table" else store.id, True, "ops-lead",
                                 "template bug")
    out = deliver_store(store, world["dsn"], now=NOW)
    assert out["held"] == 2 and not world["server"].messages
    kind = "store" if switch == "store_table" else "global"
    assert {v for v in _status(world).values()} == {("held", f"kill switch on ({kind})")}
    if switch == "global_registry":
        store = world["registry"](global_kill_switch=False)
    else:
        controls.set_kill_switch(world["dsn"], "global" if switch == "global_table" else store.id, False, "ops-lead")
        assert _q(world, "SELECT count(*) FROM ops.delivery_control_log") == [(2,)]
    assert deliver_store(store, world["dsn"], now=NOW + timedelta(minutes=5))["sent"] == 2


def test_daily_cap_holds_until_a_slot_frees_and_per_order_limit_blocks(world):
    for n in range(3):
        _buyer(world, n, order_id=f"111-0000001-000000{n}")
    for n in range(3):
        add_order(world["db"], "us-outdoor", f"111-0000001-000000{n}", NOW - timedelta(days=3))
    capped = world["store"].model_copy(update={"daily_send_cap": 2})
    _act(world, capped)
    out = deliver_store(capped, world["dsn"], now=NOW)
    assert out["sent"] == 2 and out["held"] == 1
    ((until,),) = _q(world, "SELECT held_until FROM core.outbox WHERE status = 'held'")
    assert until == NOW + timedelta(hours=24)
    # per-order limit: a second reply to an order that already had its one message
    _buyer(world, 7, order_id="111-0000001-0000000", hours_ago=1)
    one = world["store"].model_copy(update={"max_sends_per_order": 1})
    _act(world, one)
    out = deliver_store(one, world["dsn"], now=NOW + timedelta(minutes=5))
    assert _status(world)["<b7@relay.example>"] == ("blocked", "per-order limit reached (1 sent for this order)")
    assert len(world["server"].messages) == 2  # the held one waits for its slot, b7 never goes
    out = deliver_store(capped, world["dsn"], now=NOW + timedelta(hours=24, minutes=1))
    assert out["sent"] == 1 and len(world["server"].messages) == 3


def test_quiet_hours_hold_proactive_messages_and_optionally_replies(world):
    night = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)  # 22:00 in New York
    _buyer(world, 1, hours_ago=1)
    _act(world)
    with world["db"].cursor() as cur:  # a proactive message another component queued
        cur.execute("""INSERT INTO core.outbox (idempotency_key, store_id, order_id, action, channel, mode, status,
                           subject, body, marketplace)
                       VALUES ('proactive:us-outdoor:111-0000001-0000001:confirmDeliveryDetails', 'us-outdoor',
                               '111-0000001-0000001', 'proactive', 'messaging', 'auto', 'queued', 'Delivery',
                               'Your order 111-0000001-0000001 is on its way.', 'US')""")
    holding = world["store"].model_copy(update={"hold_replies_in_quiet_hours": True})
    out = deliver_store(holding, world["dsn"], now=night)
    assert out["held"] == 2 and not world["server"].messages
    morning = datetime(2026, 11, 21, 13, 0, tzinfo=UTC)  # 08:00 in New York
    assert {u for (u,) in _q(world, "SELECT held_until FROM core.outbox")} == {morning}
    # the default store lets a reply to a buyer who wrote at night go; the proactive one still waits
    with world["db"].cursor() as cur:
        cur.execute("UPDATE core.outbox SET held_until = NULL")
    out = deliver_store(world["store"], world["dsn"], now=night)
    assert out["sent"] == 1 and out["held"] == 1


def test_opted_out_buyer_and_text_failing_the_linter_at_send_time_are_blocked(world):
    _buyer(world, 1)
    _buyer(world, 2, order_id="111-0000001-0000002")
    add_order(world["db"], "us-outdoor", "111-0000001-0000002", NOW - timedelta(days=3))
    _act(world)
    with world["db"].cursor() as cur:
        aliases.mark_opted_out(cur, "us-outdoor", "h1", "Amazon bounce: buyer opted out of unsolicited messages")
        cur.execute("UPDATE core.outbox SET body = body || ' Write to me at help@shop.example' "
                    "WHERE message_id = '<b2@relay.example>'")
    out = deliver_store(world["store"], world["dsn"], now=NOW)
    st = _status(world)
    assert st["<b1@relay.example>"][0] == "blocked" and "opted out" in st["<b1@relay.example>"][1]
    assert st["<b2@relay.example>"] == ("blocked", "compliance: email_address")
    assert out["blocked"] == 2 and not world["server"].messages


def test_approving_sends_once_rejecting_or_expiry_sends_nothing(world):
    import psycopg2

    from seller_inbox.ui import queries

    for n in (1, 2, 3):
        _buyer(world, n, intent="product_question", hours_ago=n)
    _act(world)
    keys = {m: k for k, m in _q(world, "SELECT idempotency_key, message_id FROM core.outbox")}
    conn = psycopg2.connect(world["dsn"])
    try:
        r = queries.approve(conn, keys["<b1@relay.example>"], "lead",
                            body="Thanks for asking: the tent fits two people with their bags.")
        assert r["ok"] and r["edited"]
        assert queries.reject(conn, keys["<b2@relay.example>"], "lead", "answered by phone")["ok"]
    finally:
        conn.close()
    assert deliver_store(world["store"], world["dsn"], now=NOW)["sent"] == 1
    assert deliver_store(world["store"], world["dsn"], now=NOW + timedelta(minutes=5)).get("sent", 0) == 0
    (mail,) = world["server"].messages
    assert "fits two people" in mail["message"].get_content()
    assert _q(world, "SELECT decided_by, original_body IS NOT NULL FROM core.outbox WHERE status = 'sent'") == [("lead", True)]
    # the third was never approved: after the approval time it expires, and approving is refused
    later = NOW + timedelta(hours=49)
    assert deliver_store(world["store"], world["dsn"], now=later)["expired"] == 1
    st = _status(world)
    assert st["<b2@relay.example>"][0] == "rejected" and st["<b3@relay.example>"][0] == "expired"
    assert len(world["server"].messages) == 1


def test_stale_queued_replies_expire_and_backfills_queue_nothing_that_sends(world):
    _buyer(world, 1, hours_ago=2)
    _act(world)
    out = deliver_store(world["store"], world["dsn"], now=NOW + timedelta(hours=40))  # the queue was stuck
    assert out["expired"] == 1 and not world["server"].messages
    assert _status(world)["<b1@relay.example>"][0] == "expired"
    _buyer(world, 2, hours_ago=1)
    _act(world, backfill=True)
    assert deliver_store(world["store"], world["dsn"], now=NOW).get("sent", 0) == 0
    assert _status(world)["<b2@relay.example>"][0] == "pending_approval" and not world["server"].messages


def test_alias_keys_rotate_without_losing_aliases_and_are_purged(world, monkeypatch):
    _buyer(world, 1)
    old = world["keys"][0]
    new = Fernet.generate_key().decode()
    monkeypatch.setenv("AIRFLOW_CONN_SELLER_INBOX_CRYPTO", json.dumps({"conn_type": "generic", "extra": {"keys": [new, old]}}))
    assert aliases.rotate(world["dsn"]) == 1
    monkeypatch.setenv("AIRFLOW_CONN_SELLER_INBOX_CRYPTO", json.dumps({"conn_type": "generic", "extra": {"keys": [new]}}))
    ((tid,),) = _q(world, "SELECT thread_id FROM core.thread_alias")
    with world["db"].cursor() as cur:
        assert aliases.recall(cur, tid) == "buyer1+x@marketplace.amazon.com"
        assert aliases.purge(cur, "us-outdoor", NOW + timedelta(days=31)) == 1
        assert aliases.recall(cur, tid) is None


def test_without_a_kept_alias_the_reply_reads_it_from_the_buyers_mail(world):
    """Ingestion that does not keep aliases yet: the deliverer reads the From of the buyer's mail."""
    from email.message import EmailMessage

    from seller_inbox_dev.demo.mail import deliver as put_mail

    m1, _ = _buyer(world, 1)
    with world["db"].cursor() as cur:
        cur.execute("DELETE FROM core.thread_alias")
        cur.execute("UPDATE raw.mail_message SET source_ref = 'buyer-1' WHERE message_id = %s", (m1,))
    mail = EmailMessage()
    mail["From"] = "Pat - Amazon Marketplace <pat9+z@marketplace.amazon.com>"
    mail["Message-ID"] = m1
    mail.set_content("Where is my order?")
    (world["mailbox"] / "tmp").mkdir(exist_ok=True)
    assert put_mail(world["mailbox"], bytes(mail), NOW - timedelta(hours=2), "buyer-1")
    (name,) = [p.name.split(":")[0] for p in (world["mailbox"] / "cur").iterdir()]
    with world["db"].cursor() as cur:
        cur.execute("UPDATE raw.mail_message SET source_ref = %s WHERE message_id = %s", (name, m1))
    _act(world)
    assert deliver_store(world["store"], world["dsn"], now=NOW)["sent"] == 1
    assert world["server"].messages[0]["rcpt_tos"] == ["pat9+z@marketplace.amazon.com"]


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run([sys.executable, "-m", "seller_inbox", *args], env=env, cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=120)


def test_kill_switch_cli_flips_without_yaml_audited_and_the_deliverer_obeys(world):
    _, alias = _buyer(world, 1)
    _act(world)
    dsn = world["dsn"]
    on = _cli("kill-switch", "on", "--store", "us-outdoor", "--by", "ops-lead", "--reason", "template bug", "--dsn", dsn)
    assert on.returncode == 0 and "kill switch us-outdoor: ON" in on.stdout, on.stderr
    out = deliver_store(world["store"], dsn, now=NOW)
    assert out["held"] == 1 and not world["server"].messages
    status = _cli("kill-switch", "status", "--dsn", dsn)
    line = next(ln for ln in status.stdout.splitlines() if ln.startswith("us-outdoor"))
    assert status.returncode == 0 and "ON" in line and "by ops-lead" in line and "template bug" in line
    assert next(ln for ln in status.stdout.splitlines() if ln.startswith("global")).split()[1] == "off"
    g = _cli("kill-switch", "on", "--global", "--by", "ops-lead", "--dsn", dsn)
    assert g.returncode == 0
    for scope in ("--global", "--store=us-outdoor"):
        assert _cli("kill-switch", "off", scope, "--by", "ops-lead", "--dsn", dsn).returncode == 0
    assert _q(world, "SELECT scope, kill_switch, changed_by, reason FROM ops.delivery_control_log ORDER BY id") == [
        ("us-outdoor", True, "ops-lead", "template bug"), ("global", True, "ops-lead", None),
        ("global", False, "ops-lead", None), ("us-outdoor", False, "ops-lead", None)]
    assert deliver_store(world["store"], dsn, now=NOW + timedelta(minutes=5))["sent"] == 1
    assert len(world["server"].to(alias)) == 1
    # mistakes: one line each, exit 1, nothing flipped
    for args, says in ((("on", "--store", "nope", "--by", "x"), "unknown store 'nope'"),
                       (("on", "--store", "us-outdoor", "--by", " "), "--by NAME"),
                       (("on", "--store", "us-outdoor", "--by", "x", "--dsn", "postgresql://127.0.0.1:1/none"),
                        "error: warehouse:")):
        r = _cli("kill-switch", *args, *(() if "--dsn" in args else ("--dsn", dsn)))
        assert r.returncode == 1 and says in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    r = _cli("kill-switch", "on", "--store", "us-outdoor", "--global", "--by", "x", "--dsn", dsn)
    assert r.returncode == 2 and "not allowed with" in r.stderr    # argparse: one of the two
    assert _q(world, "SELECT count(*) FROM ops.delivery_control_log") == [(4,)]
