"""SLA reminders on time: real PostgreSQL, a Maildir mailbox, a local WeCom webhook receiver,
and the reminders DAG run by real Airflow (``dag.test()`` in a fresh process) every 5 minutes
of a simulated day and a half, with the stages' clock pinned to each run's moment.

What must hold (issue 14): each step (12 h, 20 h, 24 h) goes out within 5 minutes of its due
time, exactly once; never for a message answered meanwhile — by the desk, or in Seller Central
whose copy reached the mailbox, even when no pipeline ever ingested that copy; never for a
message marked "no response needed"; after an outage the late run sends only the latest step
and says it is late. The pipeline's alert stage sends no reminders (one home).
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import psycopg2
import pytest

from seller_inbox.paths import REPO_ROOT
from tests.airflow_world import airflow_world_env, write_registry
from tests.servers.webhooks import WebhookReceiver

UTC = timezone.utc
STORE = "us-outdoor"
SELLER_ADDR = "support@us-outdoor.demo.example"
DAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=5)
H = timedelta(hours=1)
M = timedelta(minutes=1)
ORDER = "111-2223334-{:07d}"


def _buyer(alias: str, when: datetime, mid: str, n: int, body: str = "Where is my package? It has not arrived.") -> bytes:
    m = EmailMessage()
    m["From"] = f'"Pat - Amazon Marketplace" <{alias}@marketplace.amazon.com>'
    m["To"] = SELLER_ADDR
    m["Subject"] = f"Order delivery inquiry from Amazon customer Pat (Order: {ORDER.format(n)})"
    m["Date"] = format_datetime(when)
    m["Message-ID"] = mid
    m.set_content(f"Order ID {ORDER.format(n)}:\n\n------------- Begin message -------------\n\n{body}\n\n"
                  "------------- End message -------------\n")
    return bytes(m)


def _seller_copy(alias: str, when: datetime, mid: str, n: int, *, in_reply_to: str | None = None) -> bytes:
    """A reply to the buyer's relay alias from the seller's own address: a Seller Central copy
    Bcc'd to the mailbox (no In-Reply-To), or the desk's reply in the Sent folder."""
    m = EmailMessage()
    m["From"] = f"Outdoor Co <{SELLER_ADDR}>"
    m["To"] = f"{alias}@marketplace.amazon.com"
    m["Subject"] = f"Re: Order delivery inquiry from Amazon customer Pat (Order: {ORDER.format(n)})"
    m["Date"] = format_datetime(when)
    m["Message-ID"] = mid
    if in_reply_to:
        m["In-Reply-To"] = in_reply_to
    m.set_content("Hello Pat, your parcel is with the carrier and arrives tomorrow. Best regards, Outdoor Co")
    return bytes(m)


def _notice(when: datetime, mid: str) -> bytes:
    m = EmailMessage()
    m["From"] = "Amazon Seller Notifications <seller-notification@amazon.com>"
    m["To"] = SELLER_ADDR
    m["Subject"] = "Your account health: new policy warning"
    m["Date"] = format_datetime(when)
    m["Message-ID"] = mid
    m.set_content("Hello, please review your Account Health dashboard.")
    return bytes(m)


# (message id, received at, what happens) — the simulated day's buyer messages
OPEN = "<open@relay.example>"               # never answered: 12 h, 20 h and 24 h reminders
ODD = "<odd@relay.example>"                  # received at 06:02:30: its 12 h step falls between two runs
SC_EARLY = "<sc-early@relay.example>"        # answered in Seller Central at 09:30: nothing
SC_JUST = "<sc-just@relay.example>"          # the copy arrives 2 minutes before the 12 h step: nothing
SC_LATER = "<sc-later@relay.example>"        # the copy arrives at 18:00 (after 12 h): the 12 h one only
DESK = "<desk@relay.example>"                # the desk's reply (Sent folder) at 10:00: nothing
NRN = "<nrn@relay.example>"                  # marked "no response needed": nothing
LATE_ALL = "<late-all@relay.example>"        # all three steps fall in the outage: only the 24 h one, late
LATE_TWO = "<late-two@relay.example>"        # 12 h and 20 h in the outage: the 20 h one late, then 24 h on time
NOTICE = "<notice@amazon.example>"           # an Amazon notice: no reminder

OUTAGE = (DAY + 25 * H + 35 * M, DAY + 40 * H)
BUYERS = [(OPEN, DAY + 1 * H + 3 * M), (SC_EARLY, DAY + 2 * H), (SC_JUST, DAY + 3 * H), (SC_LATER, DAY + 4 * H),
          (NRN, DAY + 5 * H), (ODD, DAY + 6 * H + 2 * M + timedelta(seconds=30)), (DESK, DAY + 8 * H),
          (LATE_ALL, DAY + 14 * H), (LATE_TWO, DAY + 18 * H)]  # no runs from 25:35 until 40:00 (the scheduler was down)


def _write_mailbox(root: Path) -> None:
    from seller_inbox_dev.demo.mail import deliver, ensure_maildir

    ensure_maildir(root)
    inbox, sent = root, root / ".Sent"
    buyers = BUYERS
    for n, (mid, when) in enumerate(buyers):
        deliver(inbox, _buyer(f"pat{n}x", when, mid, n), when, mid, nrn=mid == NRN)
    alias = {mid: f"pat{n}x" for n, (mid, _) in enumerate(buyers)}
    number = {mid: n for n, (mid, _) in enumerate(buyers)}
    # Seller Central copies, Bcc'd to the inbox: addressed to the alias, no In-Reply-To
    for mid, when in ((SC_EARLY, DAY + 9 * H + 30 * M), (SC_JUST, DAY + 14 * H + 58 * M), (SC_LATER, DAY + 18 * H)):
        copy = f"<copy-{mid[1:-1]}>"
        deliver(inbox, _seller_copy(alias[mid], when, copy, number[mid]), when, copy)
    when = DAY + 10 * H  # the desk's own reply, in the Sent folder
    deliver(sent, _seller_copy(alias[DESK], when, "<desk-reply@x>", number[DESK], in_reply_to=DESK), when, "<desk-reply@x>")
    deliver(inbox, _notice(DAY + 7 * H, NOTICE), DAY + 7 * H, NOTICE)


def _q(url: str, sql: str, args=()) -> list[tuple]:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


@pytest.fixture(scope="module")
def world(new_database, tmp_path_factory):
    from seller_inbox import warehouse

    base = tmp_path_factory.mktemp("reminders")
    url = new_database("si_remind")
    warehouse.migrate(url)
    reg_path, stores = write_registry(
        base, (STORE,), alert_language="zh",
        alert_channels=[{"type": "log"}, {"type": "wecom", "conn_id": "wecom_team", "min_risk": "high"}])
    maildir = base / "maildir"
    _write_mailbox(maildir / STORE)
    hooks = WebhookReceiver(wecom_keys=("wk-1",)).start()
    # no SP-API call is made (port 9 refuses); the WeCom connection is read at send time
    env = airflow_world_env(base, reg_path, stores, "http://127.0.0.1:9", maildir, url)
    env["AIRFLOW_CONN_WECOM_TEAM"] = json.dumps({"conn_type": "http", "host": hooks.wecom_url("wk-1")})
    yield {"env": env, "url": url, "hooks": hooks, "store": stores[0], "maildir": maildir}
    hooks.stop()


def _runs(world, moments: list[datetime]) -> list[dict]:
    p = subprocess.run([sys.executable, "-m", "tests.integration.reminders_driver", f"si_{STORE}_reminders",
                        json.dumps([t.isoformat() for t in moments])], env=world["env"], cwd=REPO_ROOT,
                       capture_output=True, text=True, timeout=3600)
    out = [json.loads(line[7:]) for line in p.stdout.splitlines() if line.startswith("RESULT ")]
    assert len(out) == len(moments), p.stdout[-3000:] + p.stderr[-5000:]
    return out



def _moments() -> list[datetime]:
    """A punctual scheduler every 5 minutes from 00:00 to 42:30, except during the outage — run
    where something can happen: every 5-minute tick from 15 minutes before to 10 minutes after
    each buyer message's 12, 20 and 24 h steps, and every hour in between (a reminder due at an
    unexpected time would still be sent by the next hourly run and fail the test)."""
    every = [DAY + i * 5 * M for i in range(0, 42 * 12 + 7)]
    steps = [when + h * H for _, when in BUYERS for h in (12, 20, 24)]
    near = [t for t in every if any(-15 * M <= t - due <= 10 * M for due in steps)]
    return [t for t in every if not OUTAGE[0] <= t < OUTAGE[1] and (t.minute == 0 or t in near)]


# (step, message) -> (due time, the run that must send it)
EXPECTED = {
    ("sla_12h", OPEN): (DAY + 13 * H + 3 * M, DAY + 13 * H + 5 * M),
    ("sla_20h", OPEN): (DAY + 21 * H + 3 * M, DAY + 21 * H + 5 * M),
    ("sla_24h", OPEN): (DAY + 25 * H + 3 * M, DAY + 25 * H + 5 * M),
    ("sla_12h", ODD): (DAY + 18 * H + 2 * M + timedelta(seconds=30), DAY + 18 * H + 5 * M),
    ("sla_12h", SC_LATER): (DAY + 16 * H, DAY + 16 * H),
    # the outage: ODD's 20 h step and both late messages' earlier steps are never sent
    ("sla_24h", ODD): (DAY + 30 * H + 2 * M + timedelta(seconds=30), OUTAGE[1]),
    ("sla_24h", LATE_ALL): (DAY + 38 * H, OUTAGE[1]),
    ("sla_20h", LATE_TWO): (DAY + 38 * H, OUTAGE[1]),
    ("sla_24h", LATE_TWO): (DAY + 42 * H, DAY + 42 * H),
}
LATE = {k for k, (due, at) in EXPECTED.items() if at - due > 5 * M}
ZH_TITLE = {"sla_12h": "12 小时未回复", "sla_20h": "剩 4 小时", "sla_24h": "24 小时回复时限已到"}


def test_reminders_on_time_once_never_for_answered_messages_and_one_after_an_outage(world):
    """A simulated day and a half through real Airflow, every 5 minutes around each due step."""
    moments = _moments()
    runs = _runs(world, moments)
    assert all(r["state"] == "success" and r["tasks"] == {"remind": "success"} for r in runs), \
        [r for r in runs if r["state"] != "success"][:3]
    url = world["url"]
    rows = _q(url, """SELECT alert_kind, subject_key, channel, status, attempts, created_at, payload->>'message'
                      FROM ops.alert_log WHERE alert_kind LIKE 'sla%%' ORDER BY created_at, subject_key, channel""")
    # exactly the expected reminders, each once per channel, sent by the run that was due to send it
    assert sorted({(k, s) for k, s, *_ in rows}) == sorted(EXPECTED)
    assert len(rows) == 2 * len(EXPECTED)
    for kind, subject, channel, status, attempts, created, note in rows:
        due, at = EXPECTED[(kind, subject)]
        assert (status, attempts, created) == ("sent", 1, at), (kind, subject, channel, created)
        if (kind, subject) in LATE:  # says it is late, and by how much
            assert f"晚 {int((at - due).total_seconds() // 60)} 分钟发出" in note, (kind, subject, note)
        else:
            assert created - due <= 5 * M and note is None, (kind, subject, created - due)
    # what people got on WeCom: one message per reminder, in Chinese, with the order and the deadline
    texts = [r["json"]["markdown"]["content"] for r in world["hooks"].accepted("wecom")]
    assert len(texts) == len(EXPECTED)
    numbers = {mid: n for n, mid in enumerate([OPEN, SC_EARLY, SC_JUST, SC_LATER, NRN, ODD, DESK, LATE_ALL, LATE_TWO])}
    for kind, subject in EXPECTED:
        got = [t for t in texts if ZH_TITLE[kind] in t and ORDER.format(numbers[subject]) in t]
        assert len(got) == 1, (kind, subject)
        assert "回复截止 (SLA)" in got[0] and "店铺" in got[0]
        assert ("晚 " in got[0]) == ((kind, subject) in LATE)
    # the Seller Central copies counted as replies though no pipeline ever ran: the reminders' own read
    replied = dict(_q(url, "SELECT message_id, first_reply_at FROM core.message WHERE kind = 'buyer_message' "
                           "AND first_reply_at IS NOT NULL"))
    assert replied == {SC_EARLY: DAY + 9 * H + 30 * M, SC_JUST: DAY + 14 * H + 58 * M, SC_LATER: DAY + 18 * H,
                       DESK: DAY + 10 * H}
    assert _q(url, "SELECT no_response_needed FROM core.message WHERE message_id = %s", (NRN,)) == [(True,)]
    secs = sorted(r["seconds"] for r in runs[1:])  # the first run pays the imports
    print(f"\n{len(runs)} reminder runs: task+dag.test p50 {secs[len(secs) // 2]:.2f} s, "
          f"p95 {secs[int(len(secs) * 0.95)]:.2f} s, first {runs[0]['seconds']:.1f} s")


# ---- in-process: the same code without Airflow, for what the simulated day does not cover ----
T0 = datetime(2026, 11, 20, tzinfo=UTC)


@pytest.fixture
def wecom(monkeypatch):
    with WebhookReceiver(wecom_keys=("wk-1",)) as hooks:
        monkeypatch.setenv("AIRFLOW_CONN_ALERT_WECOM", json.dumps({"conn_type": "http", "host": hooks.wecom_url("wk-1")}))
        yield hooks


def _store(lang: str = "en", mailbox: str = "mailbox_rem"):
    from seller_inbox.config import StoreConfig

    return StoreConfig.model_validate({
        "id": "rem-store", "name": "Reminder Test Store", "seller_id": "A1REM", "region": "eu",
        "marketplaces": [{"code": "DE"}], "alert_language": lang,
        "connections": {"spapi": "spapi_rem", "mailbox": mailbox, "smtp": "smtp_rem"},
        "alert_channels": [{"type": "wecom", "conn_id": "alert_wecom", "min_risk": "high"}]})


def _add(db, mid: str, received: datetime, *, reply: datetime | None = None, risk: str = "low",
         intent: str = "order_status") -> None:
    with db.cursor() as cur:
        cur.execute(
            """INSERT INTO core.message (store_id, message_id, kind, direction, marketplace, order_id, subject, body_text,
                   received_at, intent, risk, sla_due_at, first_reply_at, no_response_needed)
               VALUES ('rem-store', %s, 'buyer_message', 'inbound', 'DE', '302-1234567-7654321', 'Anfrage',
                       'Wo ist mein Paket?', %s, %s, %s, %s, %s, false)""",
            (mid, received, intent, risk, received + timedelta(days=1), reply))


def test_the_pipelines_alert_stage_sends_no_reminders_the_reminders_do(db, warehouse_dsn, wecom):
    """One home: hourly pipeline alert runs over 30 hours send no SLA reminder; reminder runs do,
    in English for an English-speaking team, with the order and the deadline."""
    from seller_inbox.alerts import dispatch_alerts
    from seller_inbox.alerts.reminders import remind_store

    s = _store("en")
    _add(db, "<open@x>", T0 + H)
    _add(db, "<answered@x>", T0 + H, reply=T0 + 3 * H)
    for h in range(1, 31):
        end = T0 + h * H
        dispatch_alerts(s, warehouse_dsn, end - H, end, end)
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM ops.alert_log WHERE alert_kind LIKE 'sla%'")
        assert cur.fetchone() == (0,)
    got = [remind_store(s, warehouse_dsn, T0 + H + step, read_mail=False)["by_kind"]
           for step in (11 * H, 12 * H, 12 * H + 5 * M, 20 * H, 24 * H, 24 * H + 5 * M)]
    assert got == [{}, {"sla_12h": 1}, {}, {"sla_20h": 1}, {"sla_24h": 1}, {}]
    texts = [r["json"]["markdown"]["content"] for r in wecom.accepted("wecom")]
    assert [t.split("\n")[0] for t in texts] == [
        "**[SLA 12h] Reminder Test Store DE: buyer message unanswered for 12 hours**",
        "**[SLA 20h] Reminder Test Store DE: 4 hours left to answer**",
        "**[SLA 24h] Reminder Test Store DE: 24 hours are up — a reply now counts as late**"]
    assert all("302-1234567-7654321" in t and "Reply due (SLA)" in t and "Sent " not in t for t in texts)


def test_a_late_run_sends_the_latest_step_once_and_says_so(db, warehouse_dsn, wecom):
    from seller_inbox.alerts.reminders import remind_store

    s = _store("en")
    _add(db, "<late@x>", T0)
    out = remind_store(s, warehouse_dsn, T0 + 23 * H, read_mail=False)  # 12 h and 20 h both due
    assert out["by_kind"] == {"sla_20h": 1} and out["late"] == 1 and out["late_max_min"] == 180
    (text,) = [r["json"]["markdown"]["content"] for r in wecom.accepted("wecom")]
    assert "Sent 180 min after it was due: reminders were not running then; only the latest reminder due" in text
    assert remind_store(s, warehouse_dsn, T0 + 23 * H + 5 * M, read_mail=False)["sent"] == 0
    # a message 2 days old gets nothing: its final reminder would be a day overdue
    _add(db, "<old@x>", T0 - 26 * H)
    assert remind_store(s, warehouse_dsn, T0 + 23 * H + 10 * M, read_mail=False)["due"] == 0


def test_an_unreadable_mailbox_still_reminds_then_fails_with_one_line(db, warehouse_dsn, wecom, monkeypatch, tmp_path):
    """A reminder too many costs a glance, a missed one costs the metric: send, say why, fail."""
    from seller_inbox.alerts.reminders import MailboxUnread, remind_store

    monkeypatch.setenv("AIRFLOW_CONN_MAILBOX_GONE", json.dumps({"conn_type": "maildir",
                                                                "extra": {"path": str(tmp_path / "nowhere")}}))
    s = _store("zh", mailbox="mailbox_gone")
    _add(db, "<m@x>", T0)
    with pytest.raises(MailboxUnread) as err:
        remind_store(s, warehouse_dsn, T0 + 12 * H + M)
    msg = str(err.value)
    assert "rem-store" in msg and "'mailbox_gone'" in msg and "fix the connection" in msg and "\n" not in msg
    (text,) = [r["json"]["markdown"]["content"] for r in wecom.accepted("wecom")]
    assert "12 小时未回复" in text and "刚才无法读取邮箱" in text


def test_a_buyer_who_writes_about_a_claim_is_reminded_about_an_auto_reply_is_not(db, warehouse_dsn, wecom):
    """A buyer message read as a_to_z_claim or account_health (the buyer writes that they filed a
    claim) still waits for an answer, as the KPIs count it; only an automatic reply owes none."""
    from seller_inbox.alerts.reminders import remind_store

    s = _store("en")
    _add(db, "<claim@x>", T0, intent="a_to_z_claim", risk="high")
    _add(db, "<health@x>", T0, intent="account_health", risk="high")
    _add(db, "<ooo@x>", T0, intent="auto_reply")
    out = remind_store(s, warehouse_dsn, T0 + 12 * H, read_mail=False)
    assert out["by_kind"] == {"sla_12h": 2}
    with db.cursor() as cur:
        cur.execute("SELECT subject_key FROM ops.alert_log WHERE alert_kind = 'sla_12h' ORDER BY 1")
        assert cur.fetchall() == [("<claim@x>",), ("<health@x>",)]
