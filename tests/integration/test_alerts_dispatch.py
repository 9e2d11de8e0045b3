"""Alerts end to end: real webhook receivers (WeCom, signed DingTalk, Slack) on localhost, a real
SMTP server (aiosmtpd), real PostgreSQL. Exactly once per message and channel across reruns,
retries and backfills; DingTalk signatures verified. SLA reminders: test_reminders.py."""

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


# ---- buyer text is escaped for each channel's markup ----------------------------------------
# every construct a buyer (or a quarantined mail's subject) could use to ping, link or format
HOSTILE = ('<!channel> <!here> <@U123> <#C1> [click](https://evil.example/x) ![img](https://evil.example/i.png) '
           '*bold* **strong** _it_ ~s~ `code` ```block``` @all @13800000000 <@wxid_boss> '
           '<font color="warning">red</font> &lt;font&gt; # H1 > quote <b>html</b> <script>alert(1)</script> '
           '<https://evil.example|label> \\*esc\\*\nline2 # heading\n- list')
HOSTILE_TOKENS = ("<!channel>", "<!here>", "<@U123>", "<#C1>", "[click]", "![img]", "](https://evil", "*bold*",
                  "**strong**", "_it_", "~s~", "`code`", "```", "@all", "@13800000000", "<@wxid", "<font",
                  "<b>html", "<script", "<https://evil", "\\*", "\n# heading", "\n- list")
RUN_URL = "http://airflow.local/dags/x/runs/r1/tasks/alert?try=1&map=-1"


def received_bodies(hooks, smtp) -> dict[str, list[str]]:
    import email
    import email.policy

    html_parts = []
    for m in smtp.messages:
        msg = email.message_from_string(m["data"], policy=email.policy.default)
        html_parts.append(msg.get_body(preferencelist=("html",)).get_content())
    return {"wecom": [r["json"]["markdown"]["content"] for r in hooks.accepted("wecom")],
            "dingtalk": [r["json"]["markdown"]["text"] for r in hooks.accepted("dingtalk")],
            "slack": [r["json"]["text"] for r in hooks.accepted("slack")], "email": html_parts}


def live_markup(service: str, body: str) -> list[str]:
    """What in a received body is live markup the project did not write (empty: safe)."""
    # in HTML only tags are markup ("[x](y)" or "*b*" is text there); elsewhere every construct is
    found = [t for t in HOSTILE_TOKENS if t in body and (service != "email" or t.startswith("<"))]
    if service == "slack":  # the only <...> is the project's link
        import re

        found += [t for t in re.findall(r"<[^>]*>", body) if not t.startswith("<http://airflow.local/")]
    elif service == "email":
        import re

        found += [t for t in re.findall(r"<\s*([a-zA-Z]+)", body) if t.lower() not in ("html", "body", "p", "b", "br", "a")]
        found += [h for h in re.findall(r'href="([^"]*)"', body) if not h.startswith("http://airflow.local/")]
    else:  # WeCom / DingTalk markdown: no tag, mention or entity (&lt;font&gt;) at all, one link (the project's)
        found += [c for c in ("<", ">", "@", "`", "&") if c in body.replace("&map", "")]
        found += [] if body.count("](") == 1 and "](http://airflow.local/" in body else ["]("]
    return found


def test_hostile_buyer_text_arrives_inert_on_every_channel(db, warehouse_dsn, hooks, smtp, conns):
    s = store(ALL)
    now = T0 + timedelta(hours=2)
    add(db, s.id, "<h1@x>", T0 + timedelta(hours=1), body=HOSTILE[:60])  # what fits the 140-character excerpt
    add(db, s.id, "<h2@x>", T0 + timedelta(hours=1, minutes=1), body=HOSTILE[60:200])
    with db.cursor() as cur:  # the mail ingestion's alert: the quarantined mail's subject is buyer text
        cur.execute("""INSERT INTO ops.alert_log (store_id, alert_kind, subject_key, channel, status, payload, created_at, sent_at)
                       VALUES (%s, 'mail_quarantined', '2026-11-20', 'log', 'sent', %s, %s, %s)""",
                    (s.id, json.dumps({"message": "1 mail quarantined: " + HOSTILE[:370]}), now, now))
    out = dispatch_alerts(s, warehouse_dsn, T0, now, now, run_url=RUN_URL)
    assert out["failed"] == 0 and out["by_kind"] == {"high_risk": 10, "mail_quarantined": 4}
    bodies = received_bodies(hooks, smtp)
    assert {k: len(v) for k, v in bodies.items()} == {"wecom": 3, "dingtalk": 3, "slack": 3, "email": 3}
    for service, texts in bodies.items():
        for text in texts:
            assert live_markup(service, text) == [], (service, text)
            assert "Alert Test Store" in text and "airflow.local" in text  # the project's own markup still works
    joined = {k: "\n".join(v) for k, v in bodies.items()}
    for service, text in joined.items():  # the buyer's words are still there, as visible text
        for word in ("channel", "here", "U123", "click", "bold", "strong", "code", "all", "red", "html", "script"):
            assert word in text, (service, word)
    assert joined["wecom"].count("**Store**") == 3 and "[Open](http://airflow.local/" in joined["wecom"]
    assert "&lt;!channel&gt;" in joined["slack"] and f"<{RUN_URL}|Open>" in joined["slack"]
    assert "*Store*" in joined["slack"]
    assert "&lt;script&gt;" in joined["email"] and '<a href="http://airflow.local/' in joined["email"]
    assert "[MAIL] Alert Test Store: mails could not be processed" in joined["dingtalk"]
    mail_titles = [m["data"] for m in smtp.messages if "[MAIL]" in m["data"]]
    assert len(mail_titles) == 1


def test_mail_quarantined_alerts_fan_out_in_chinese(db, warehouse_dsn, hooks, conns):
    s = store([{"type": "log"}, {"type": "wecom", "conn_id": "alert_wecom"}], lang="zh")
    now = T0 + timedelta(hours=3)
    with db.cursor() as cur:
        cur.execute("""INSERT INTO ops.alert_log (store_id, alert_kind, subject_key, channel, status, payload, created_at, sent_at)
                       VALUES (%s, 'mail_quarantined', '2026-11-20', 'log', 'sent', %s, %s, %s)""",
                    (s.id, json.dumps({"message": "3 mails quarantined (unparseable MIME); see ops.mail_quarantine"}), now, now))
    for _ in range(2):
        dispatch_alerts(s, warehouse_dsn, now - timedelta(hours=1), now, now)
    got = hooks.accepted("wecom")
    assert len(got) == 1
    text = got[0]["json"]["markdown"]["content"]
    assert text.startswith("**【邮件】Alert Test Store：有邮件无法处理**") and "3 mails quarantined" in text
    assert log_rows(db, alert_kind="mail_quarantined") == [("mail_quarantined", "2026-11-20", "log", "sent", 1),
                                                          ("mail_quarantined", "2026-11-20", "wecom", "sent", 1)]


# ---- 429 storms: bounded in total time, deferred to a later run ------------------------------
def next_attempts(db) -> list[tuple]:
    with db.cursor() as cur:
        cur.execute("""SELECT subject_key, channel, status, attempts,
                              extract(epoch FROM next_attempt_at - now())::int
                       FROM ops.alert_log ORDER BY 1, 2""")
        return cur.fetchall()


def test_429_storm_with_a_long_retry_after_is_deferred_not_slept_through(db, warehouse_dsn, hooks, conns):
    import time

    s = store([{"type": "wecom", "conn_id": "alert_wecom"}, {"type": "slack", "conn_id": "alert_slack"}])
    for i in range(5):
        add(db, s.id, f"<r{i}@x>", T0 + timedelta(minutes=10 * i))
    hooks.fail_next(10_000, status=429, retry_after="179")
    t = time.monotonic()
    out = dispatch_alerts(s, warehouse_dsn, T0, T0 + timedelta(hours=1), T0 + timedelta(hours=1))
    elapsed = time.monotonic() - t
    assert elapsed < ch.ALERT_SEND_BUDGET_S and elapsed < 5  # nothing waited for 179 s
    assert out["sent"] == 0 and out["failed"] == 10 and out["deferred"] == 8
    # one request per channel: after its 429 the channel is left alone for the rest of the run
    assert sorted(r["service"] for r in hooks.received) == ["slack", "wecom"]
    assert all(r["status"] == 429 for r in hooks.received)
    rows = next_attempts(db)
    assert all(status == "failed" and 170 <= due <= 180 for _, _, status, _, due in rows), rows
    assert sorted(a for *_, a, _ in rows) == [0] * 8 + [1, 1]  # a deferral without a request is no attempt
    # a run before the channel's time: nothing is sent, nothing is asked
    hooks.fail_next(0)
    out = dispatch_alerts(s, warehouse_dsn, T0 + timedelta(hours=1), T0 + timedelta(hours=2), T0 + timedelta(hours=2))
    assert out["sent"] == 0 and out["retried"] == 0 and len(hooks.received) == 2
    # the receiver recovered and the time came: every alert is delivered exactly once
    make_due(db)
    out = dispatch_alerts(s, warehouse_dsn, T0 + timedelta(hours=2), T0 + timedelta(hours=3), T0 + timedelta(hours=3))
    assert out["retried"] == 10 and out["sent"] == 10
    make_due(db)
    out = dispatch_alerts(s, warehouse_dsn, T0, T0 + timedelta(hours=3), T0 + timedelta(hours=3))
    assert out["sent"] == 0 and out["retried"] == 0 and out["already_sent"] == 10
    assert len(hooks.accepted("wecom")) == 5 and len(hooks.accepted("slack")) == 5
    assert sorted({r["json"].get("text", "")[:40] for r in hooks.accepted("slack")}) and all(
        r[2] == "sent" and r[4] is None for r in next_attempts(db))


def test_a_storm_of_short_retry_afters_stops_at_the_runs_send_budget(db, warehouse_dsn, hooks, conns):
    import time

    s = store([{"type": "dingtalk", "conn_id": "alert_dingtalk"}])
    for i in range(6):
        add(db, s.id, f"<b{i}@x>", T0 + timedelta(minutes=i))
    hooks.fail_next(10_000, status=429, retry_after="1")
    budget = 3.0
    t = time.monotonic()
    out = dispatch_alerts(s, warehouse_dsn, T0, T0 + timedelta(hours=1), T0 + timedelta(hours=1), send_budget=budget)
    elapsed = time.monotonic() - t
    assert elapsed < budget + 2  # the budget, plus at most the last request's answer and the bookkeeping
    assert out["sent"] == 0 and out["failed"] == 6 and out["deferred"] >= 4
    assert 2 <= len(hooks.received) <= 3  # Retry-After 1 s honoured between tries, then the budget ran out
    assert all(status == "failed" and due >= 25 for _, _, status, _, due in next_attempts(db))
    hooks.fail_next(0)
    make_due(db)
    out = dispatch_alerts(s, warehouse_dsn, T0, T0 + timedelta(hours=1), T0 + timedelta(hours=2), send_budget=budget)
    assert out["sent"] == 6 and len(hooks.accepted("dingtalk")) == 6


def test_a_short_retry_after_is_honoured_within_the_run(db, warehouse_dsn, hooks, conns):
    import time

    s = store([{"type": "slack", "conn_id": "alert_slack"}])
    add(db, s.id, "<w1@x>", T0 + timedelta(minutes=1))
    hooks.fail_next(1, status=429, retry_after="1")
    t = time.monotonic()
    out = dispatch_alerts(s, warehouse_dsn, T0, T0 + timedelta(hours=1), T0 + timedelta(hours=1))
    assert time.monotonic() - t >= 1.0  # it waited as asked ...
    assert out["sent"] == 1 and [r["status"] for r in hooks.received] == [429, 200]  # ... and then delivered
    assert log_rows(db) == [("high_risk", "<w1@x>", "slack", "sent", 1)]


def test_an_ad_hoc_alert_in_the_former_call_form_is_escaped_too(hooks, conns):
    # send(type, conn_id, title, markdown, plain): e.g. a last-resort alert when the warehouse is down
    text = "task failed: <!channel> [x](https://evil.example) @all"
    for ctype, conn_id in (("slack", "alert_slack"), ("wecom", "alert_wecom")):
        assert ch.send(ctype, conn_id, "[seller-inbox] al-store: task failed", text, text) == "ok"
    slack, wecom = hooks.accepted("slack")[0]["json"]["text"], hooks.accepted("wecom")[0]["json"]["markdown"]["content"]
    assert "&lt;!channel&gt;" in slack and "<!channel>" not in slack
    assert "[x](" not in wecom and "@all" not in wecom and "task failed" in wecom


def test_a_hanging_channel_costs_at_most_the_runs_send_budget(db, warehouse_dsn, hooks, conns):
    import time

    s = store([{"type": "wecom", "conn_id": "alert_wecom"}])
    for i in range(4):
        add(db, s.id, f"<g{i}@x>", T0 + timedelta(minutes=i))
    ch.webhook_url(ch.connection("alert_wecom"))  # the first connection look-up imports Airflow: not what is measured
    hooks.hang_next(10_000, 5.0)  # answers only after 5 s; the run may spend 2 s
    t = time.monotonic()
    out = dispatch_alerts(s, warehouse_dsn, T0, T0 + timedelta(hours=1), T0 + timedelta(hours=1), send_budget=2.0)
    elapsed = time.monotonic() - t
    assert elapsed < 3.5, elapsed  # the per-request timeout shrinks to what is left of the budget
    assert out["sent"] == 0 and out["failed"] == 4 and out["deferred"] == 3
    assert all(status == "failed" and due >= 25 for _, _, status, _, due in next_attempts(db))
    hooks.hang_next(0, 0)
    make_due(db)
    out = dispatch_alerts(s, warehouse_dsn, T0, T0 + timedelta(hours=1), T0 + timedelta(hours=2))
    assert out["sent"] == 4 and len(hooks.accepted("wecom")) == 4
