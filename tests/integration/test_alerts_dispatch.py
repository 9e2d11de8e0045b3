"""Alerts end to end: real webhook receivers (WeCom, signed DingTalk, Slack) on localhost, a real
SMTP server (aiosmtpd), real PostgreSQL. Exactly once per message and channel across reruns,
retries and backfills; SLA reminders at 12 h / 20 h; DingTalk signatures verified."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone

import pytest

from seller_inbox.alerts import channels as ch
from seller_inbox.alerts import dispatch_alerts
from seller_inbox.config import StoreConfig
from tests.servers.webhooks import WebhookReceiver, dingtalk_expected_sign

T0 = datetime(2026, 11, 20, 0, 0, tzinfo=timezone.utc)
SECRET = "SECtest0123456789abcdef"


# ---- servers ------------------------------------------------------------------------------
@pytest.fixture
def hooks():
    with WebhookReceiver(wecom_keys=("wk-1",), dingtalk={"dt-signed": SECRET, "dt-open": None}) as w:
        yield w


class _Sink:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
        self.messages.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                              "data": envelope.content.decode("utf-8", "replace")})
        return "250 OK"


@pytest.fixture
def smtp():
    from aiosmtpd.controller import Controller

    import socket

    with socket.socket() as probe:  # a free port (aiosmtpd's start() connects to it, so not 0)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = _Sink()
    ctl = Controller(sink, hostname="127.0.0.1", port=port)
    ctl.start()
    sink.port = port
    yield sink
    ctl.stop()


@pytest.fixture
def conns(monkeypatch, hooks, smtp):
    def put(conn_id, **fields):
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(fields))

    put("alert_wecom", conn_type="http", host=hooks.wecom_url("wk-1"))
    put("alert_dingtalk", conn_type="http", host=hooks.dingtalk_url("dt-signed"), password=SECRET)
    put("alert_dingtalk_badsecret", conn_type="http", host=hooks.dingtalk_url("dt-signed"), password="SECwrong")
    put("alert_slack", conn_type="http", host=hooks.slack_url())
    put("alert_email", conn_type="email", host="127.0.0.1", port=smtp.port,
        extra=json.dumps({"from": "alerts@seller.example", "to": ["ops@seller.example"]}))
    return put


def store(channels, lang="en", sid="al-store"):
    return StoreConfig.model_validate({
        "id": sid, "name": "Alert Test Store", "seller_id": "A1TEST", "region": "eu",
        "marketplaces": [{"code": "DE"}, {"code": "FR"}],
        "connections": {"spapi": "spapi_x", "mailbox": "mailbox_x", "smtp": "smtp_x"},
        "alert_channels": channels, "alert_language": lang,
    })


ALL = [{"type": "log"}, {"type": "wecom", "conn_id": "alert_wecom"}, {"type": "dingtalk", "conn_id": "alert_dingtalk"},
       {"type": "slack", "conn_id": "alert_slack"}, {"type": "email", "conn_id": "alert_email"}]


def add(db, sid, mid, received, *, risk="high", intent="not_received", kind="buyer_message", reply=None,
        nrn=False, body="Tracking says delivered but nothing here. Call me at +49 170 1234567 or mail a@b.de",
        order="302-1234567-7654321", marketplace="DE"):
    with db.cursor() as cur:
        cur.execute(
            """INSERT INTO core.message (store_id, message_id, kind, direction, marketplace, order_id, subject, body_text,
                   received_at, intent, risk, language, confidence, low_confidence, classifier_version, classified_at,
                   sla_due_at, first_reply_at, no_response_needed)
               VALUES (%s,%s,%s,'inbound',%s,%s,'Anfrage',%s,%s,%s,%s,'de',0.9,false,'t',now(),%s,%s,%s)""",
            (sid, mid, kind, marketplace, order, body, received, intent, risk, received + timedelta(hours=24), reply, nrn))


def log_rows(db, **where):
    sql = "SELECT alert_kind, subject_key, channel, status, attempts FROM ops.alert_log"
    if where:
        sql += " WHERE " + " AND ".join(f"{k} = %s" for k in where)
    with db.cursor() as cur:
        cur.execute(sql + " ORDER BY 1,2,3", tuple(where.values()))
        return cur.fetchall()


def make_due(db):
    """Time passes: every failed delivery's next attempt is due."""
    with db.cursor() as cur:
        cur.execute("UPDATE ops.alert_log SET next_attempt_at = now() - interval '1 second' WHERE status = 'failed'")


# ---- tests --------------------------------------------------------------------------------
def test_high_risk_alert_reaches_every_channel_once_across_rerun_and_backfill(db, warehouse_dsn, hooks, smtp, conns):
    s = store(ALL)
    add(db, s.id, "<m1@x>", T0 + timedelta(hours=1))
    add(db, s.id, "<m2@x>", T0 + timedelta(hours=2), risk="low", intent="order_status")
    add(db, s.id, "<m3@x>", T0 + timedelta(hours=3), risk="high", intent="damaged_defective")
    start, end, now = T0, T0 + timedelta(hours=4), T0 + timedelta(hours=4, minutes=5)
    out = dispatch_alerts(s, warehouse_dsn, start, end, now, run_url="http://airflow.local/dags/x/runs/r1/tasks/alert")
    assert out["sent"] == 10 and out["failed"] == 0  # 2 high-risk messages x 5 channels
    # rerun of the same interval, then a backfill of the whole day: nothing more goes out
    out2 = dispatch_alerts(s, warehouse_dsn, start, end, now)
    out3 = dispatch_alerts(s, warehouse_dsn, T0, T0 + timedelta(days=1), now + timedelta(hours=1))
    assert out2["sent"] == 0 and out3["sent"] == 0 and out2["already_sent"] == 10
    assert len(hooks.accepted("wecom")) == 2 and len(hooks.accepted("dingtalk")) == 2
    assert len(hooks.accepted("slack")) == 2 and len(smtp.messages) == 2
    rows = log_rows(db, alert_kind="high_risk")
    assert {(r[1], r[2]) for r in rows} == {(m, c) for m in ("<m1@x>", "<m3@x>")
                                            for c in ("log", "wecom", "dingtalk", "slack", "email")}
    assert all(r[3] == "sent" and r[4] == 1 for r in rows)
    # what arrived: store, marketplace, order id, intent, risk, redacted excerpt, SLA, link
    md = hooks.accepted("wecom")[0]["json"]["markdown"]["content"]
    assert "Alert Test Store" in md and "DE" in md and "302-1234567-7654321" in md
    assert "not received" in md and "high" in md and "Reply due (SLA)" in md
    assert "2026-11-21 01:00 UTC" in md  # received + 24 h
    assert "http://airflow.local/dags/x/runs/r1/tasks/alert" in md
    assert "1234567" not in md.replace("302-1234567-7654321", "") and "a@b.de" not in md  # phone, e-mail redacted
    mail = smtp.messages[0]
    assert mail["to"] == ["ops@seller.example"] and "[HIGH RISK]" in mail["data"]


def test_dingtalk_signature_is_verified_by_the_receiver(db, warehouse_dsn, hooks, conns):
    add(db, "al-store", "<d1@x>", T0 + timedelta(hours=1))
    good = store([{"type": "dingtalk", "conn_id": "alert_dingtalk"}])
    out = dispatch_alerts(good, warehouse_dsn, T0, T0 + timedelta(hours=2), T0 + timedelta(hours=2))
    assert out["sent"] == 1
    req = hooks.accepted("dingtalk")[0]
    assert req["query"]["sign"] == dingtalk_expected_sign(SECRET, req["query"]["timestamp"])
    assert req["json"]["msgtype"] == "markdown" and req["json"]["markdown"]["title"]
    # a wrong secret: DingTalk answers errcode 310000, the row is 'failed' with the reason
    add(db, "bad-store", "<d2@x>", T0 + timedelta(hours=1))
    bad = store([{"type": "dingtalk", "conn_id": "alert_dingtalk_badsecret"}], sid="bad-store")
    out = dispatch_alerts(bad, warehouse_dsn, T0, T0 + timedelta(hours=2), T0 + timedelta(hours=2))
    assert out["failed"] == 1 and out["sent"] == 0
    with db.cursor() as cur:
        cur.execute("SELECT status, error FROM ops.alert_log WHERE store_id = 'bad-store'")
        status, error = cur.fetchone()
    assert status == "failed" and "310000" in error and "sign not match" in error
    assert [r["reply"]["errcode"] for r in hooks.received if r["service"] == "dingtalk"] == [0, 310000]


def test_outage_is_retried_later_and_still_delivered_once(db, warehouse_dsn, hooks, conns):
    s = store([{"type": "wecom", "conn_id": "alert_wecom"}])
    add(db, s.id, "<o1@x>", T0 + timedelta(hours=1))
    hooks.fail_next(10_000)  # down for longer than one run's in-run retries
    out = dispatch_alerts(s, warehouse_dsn, T0, T0 + timedelta(hours=2), T0 + timedelta(hours=2))
    assert out["failed"] == 1 and not hooks.accepted()
    assert [r["status"] for r in hooks.received] == [500] * ch.TRIES
    hooks.fail_next(0)
    make_due(db)  # the retry waits 30 s after a failure; age the row instead of sleeping
    out = dispatch_alerts(s, warehouse_dsn, T0 + timedelta(hours=2), T0 + timedelta(hours=3), T0 + timedelta(hours=3))
    assert out["retried"] == 1 and out["sent"] == 1
    out = dispatch_alerts(s, warehouse_dsn, T0, T0 + timedelta(hours=3), T0 + timedelta(hours=3))
    assert out["sent"] == 0 and out["retried"] == 0
    assert len(hooks.accepted("wecom")) == 1
    assert log_rows(db) == [("high_risk", "<o1@x>", "wecom", "sent", 2)]


def test_backfill_does_not_realert_old_messages_unless_asked(db, warehouse_dsn, hooks, conns):
    s = store([{"type": "log"}, {"type": "slack", "conn_id": "alert_slack"}])
    add(db, s.id, "<old@x>", T0 + timedelta(hours=1))
    now = T0 + timedelta(days=10)  # a backfill of Nov 20 run on Nov 30
    out = dispatch_alerts(s, warehouse_dsn, T0, T0 + timedelta(days=1), now)
    assert out["sent"] == 0 and out["skipped_old"] == 1 and not hooks.received
    out = dispatch_alerts(s, warehouse_dsn, T0, T0 + timedelta(days=1), now, realert=True)
    assert out["sent"] == 2 and len(hooks.accepted("slack")) == 1
    out = dispatch_alerts(s, warehouse_dsn, T0, T0 + timedelta(days=1), now, realert=True)
    assert out["sent"] == 0


def test_sla_reminders_at_12h_and_20h_for_unanswered_buyer_messages(db, warehouse_dsn, hooks, conns):
    s = store([{"type": "wecom", "conn_id": "alert_wecom"}], lang="zh")
    r0 = T0 + timedelta(hours=1)
    add(db, s.id, "<open@x>", r0, risk="low", intent="order_status", body="Wo ist mein Paket?")
    add(db, s.id, "<answered@x>", r0, risk="low", intent="order_status", reply=r0 + timedelta(hours=2))
    add(db, s.id, "<nrn@x>", r0, risk="low", intent="other", nrn=True)
    add(db, s.id, "<notice@x>", r0, risk="high", intent="a_to_z_claim", kind="amazon_notice")
    hourly = [r0 + timedelta(hours=h) for h in range(0, 30)]
    for end in hourly:  # hourly runs over a day and a bit, each with its own window
        dispatch_alerts(s, warehouse_dsn, end - timedelta(hours=1), end, end)
    rows = [r for r in log_rows(db) if r[0].startswith("sla")]
    assert rows == [("sla_12h", "<open@x>", "wecom", "sent", 1), ("sla_20h", "<open@x>", "wecom", "sent", 1)]
    texts = [r["json"]["markdown"]["content"] for r in hooks.accepted("wecom")]
    sla = [t for t in texts if t.startswith("**【SLA")]
    assert len(sla) == 2 and "12 小时未回复" in sla[0] and "剩 4 小时" in sla[1]
    assert "店铺" in sla[0] and "物流查询" in sla[0] and "回复截止" in sla[0]
    # the a-to-z notice raised its own high-risk alert exactly once
    assert [r for r in log_rows(db) if r[0] == "high_risk"] == [("high_risk", "<notice@x>", "wecom", "sent", 1)]


def test_concurrent_dispatchers_send_once(db, warehouse_dsn, hooks, conns):
    s = store([{"type": "wecom", "conn_id": "alert_wecom"}, {"type": "slack", "conn_id": "alert_slack"}])
    for i in range(8):
        add(db, s.id, f"<c{i}@x>", T0 + timedelta(minutes=5 * i))
    results = []
    threads = [threading.Thread(target=lambda: results.append(
        dispatch_alerts(s, warehouse_dsn, T0, T0 + timedelta(hours=1), T0 + timedelta(hours=1)))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r["sent"] for r in results) == 16
    assert len(hooks.accepted("wecom")) == 8 and len(hooks.accepted("slack")) == 8


def test_other_components_alerts_fan_out_to_the_store_channels(db, warehouse_dsn, hooks, conns):
    s = store([{"type": "log"}, {"type": "dingtalk", "conn_id": "alert_dingtalk"}])
    now = T0 + timedelta(hours=5)
    with db.cursor() as cur:
        cur.execute("""INSERT INTO ops.alert_log (store_id, alert_kind, subject_key, channel, status, payload, created_at, sent_at)
                       VALUES (%s, 'auth_revoked', 'spapi', 'log', 'sent', %s, %s, %s)""",
                    (s.id, json.dumps({"message": "refresh token revoked (invalid_grant): re-authorize the app"}), now, now))
        cur.execute("""INSERT INTO ops.alert_log (store_id, alert_kind, subject_key, channel, status, payload, created_at)
                       VALUES (%s, 'gate_failed', 'kpi:x', 'dingtalk', 'pending', %s, %s)""",
                    (s.id, json.dumps({"summary": "kpi.store_daily: 2 rows failed"}), now))
    dispatch_alerts(s, warehouse_dsn, now - timedelta(hours=1), now, now)
    dispatch_alerts(s, warehouse_dsn, now - timedelta(hours=1), now, now)
    got = hooks.accepted("dingtalk")
    assert len(got) == 2
    assert any("re-authorize" in r["json"]["markdown"]["text"] for r in got)
    assert any("2 rows failed" in r["json"]["markdown"]["text"] for r in got)
    assert {(r[0], r[2], r[3]) for r in log_rows(db)} == {
        ("auth_revoked", "log", "sent"), ("auth_revoked", "dingtalk", "sent"), ("gate_failed", "dingtalk", "sent")}


def test_slack_connection_in_the_providers_own_format_goes_through_slackwebhookhook(db, warehouse_dsn, hooks, conns):
    # Slack provider format: webhook token in password, base URL in host (SlackWebhookHook builds the URL)
    conns("alert_slack_provider", conn_type="slackwebhook", host=hooks.base + "/services", password="T000/B000/XXXX")
    s = store([{"type": "slack", "conn_id": "alert_slack_provider"}], lang="zh")
    add(db, s.id, "<s1@x>", T0 + timedelta(hours=1))
    out = dispatch_alerts(s, warehouse_dsn, T0, T0 + timedelta(hours=2), T0 + timedelta(hours=2))
    assert out["sent"] == 1
    got = hooks.accepted("slack")
    assert len(got) == 1 and got[0]["path"] == "/services/T000/B000/XXXX"
    assert "*【高风险】" in got[0]["json"]["text"] and "未收到货" in got[0]["json"]["text"]
