"""A store never goes quiet: real Airflow runs (dag.test in a fresh process), the SP-API
simulator, a Maildir, real PostgreSQL and a local WeCom webhook receiver.

One story, run once (it costs a minute):

1. the store's SP-API authorization is revoked: the token-refresh DAG fails and the
   revocation alert reaches the store's WeCom group — once, however often it is seen;
2. the pipeline of that day still ingests, classifies and alerts every buyer message (mail
   needs no SP-API): the orders branch fails alone, KPIs are computed and say orders are
   missing; a mail from a marketplace the store does not sell on is set aside by the
   ingest gate with its reason, and everything else goes on;
3. the authorization is fixed: one recovery notice, and the next run is green.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import psycopg2
import pytest
import yaml

from seller_inbox.config import DEFAULT_REGISTRY
from seller_inbox_dev.demo.run import airflow_env, connection_env
from seller_inbox.paths import REPO_ROOT
from tests.airflow_world import SIM_SPEED, own_metadata, with_sim_speed
from tests.servers.webhooks import WebhookReceiver

UTC = timezone.utc
STORE = "us-outdoor"
SELLER = "A1DEMOUSOUTDOOR"


def _relay(alias: str, when: datetime, subject: str, body: str, mid: str) -> EmailMessage:
    m = EmailMessage()
    m["From"] = f'"Pat - Amazon Marketplace" <{alias}>'
    m["To"] = "support@us-outdoor.demo.example"
    m["Subject"] = subject
    m["Date"] = format_datetime(when)
    m["Message-ID"] = mid
    m.set_content("------------- Begin message -------------\n\n" + body + "\n\n------------- End message -------------\n")
    return m


@pytest.fixture(scope="module")
def world(new_database, tmp_path_factory):
    from seller_inbox import warehouse
    from seller_inbox.config import load_registry
    from seller_inbox_dev.demo.mail import deliver, write_demo_mail
    from seller_inbox_dev.sandbox.server import start as start_sim

    base = tmp_path_factory.mktemp("never_quiet")
    url = new_database("si_quiet")
    warehouse.migrate(url)
    reg = yaml.safe_load(Path(DEFAULT_REGISTRY).read_text())
    store = next(s for s in reg["stores"] if s["id"] == STORE)
    store.update(alert_channels=[{"type": "wecom", "conn_id": "wecom_team", "min_risk": "high"}], alert_language="en")
    reg["stores"] = [store]
    reg_path = base / "stores.yaml"
    reg_path.write_text(yaml.safe_dump(reg, sort_keys=False))
    stores = load_registry(reg_path).stores

    day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
    maildir = base / "maildir"
    write_demo_mail(maildir, stores, day - timedelta(days=3), day + timedelta(days=1), seed=7)
    for alias, hours, subject, body, mid in (
            ("zz9nl@marketplace.amazon.nl", 9, "Vraag over bestelling", "Waar is mijn pakket?", "<nl-odd@relay.example>"),
            ("threat7@marketplace.amazon.com", 10,
             "Order delivery inquiry from Amazon customer Pat (Order: 111-9999999-0000001)",
             "My package never arrived. If I do not get a refund today I will file an A-to-z claim "
             "and report you to Amazon.", "<threat@relay.example>")):
        when = day + timedelta(hours=hours)
        deliver(maildir / STORE, bytes(_relay(alias, when, subject, body, mid)), when, mid)

    # the simulator's data clock pinned at the world's end, as the demo does: without it each order
    # is shown as it stands at the real time of the request, and histories run minutes apart differ
    sim = start_sim(host="127.0.0.1", port=0, seed=42, time_scale=SIM_SPEED, as_of=day + timedelta(days=1))
    hooks = WebhookReceiver(wecom_keys=("wk-1",)).start()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AIRFLOW_CONN_", "AIRFLOW__", "_AIRFLOW")) and k != "AIRFLOW_HOME"}
    env.update(airflow_env(base))
    env.update(with_sim_speed(connection_env(stores, sim.url, maildir, url), stores))
    env.update({"AIRFLOW_CONN_WECOM_TEAM": json.dumps({"conn_type": "http", "host": hooks.wecom_url("wk-1")}),
                "SELLER_INBOX_STORES": str(reg_path), "SELLER_INBOX_WAREHOUSE_URL": url,
                "SELLER_INBOX_HOME": str(base), "PYTHONPATH": str(REPO_ROOT)})
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=env, check=True, capture_output=True,
                   timeout=300)
    yield {"env": env, "url": url, "sim": sim, "hooks": hooks, "day": day, "new_database": new_database}
    hooks.stop()
    sim.stop()


def _run(world, *runs: tuple[str, datetime], env: dict | None = None) -> list[dict]:
    arg = json.dumps([[d, t.isoformat()] for d, t in runs])
    p = subprocess.run([sys.executable, "-m", "tests.e2e.airflow_driver", arg], env={**world["env"], **(env or {})},
                       cwd=REPO_ROOT,
                       capture_output=True, text=True, timeout=900)
    out = [json.loads(line[7:]) for line in p.stdout.splitlines() if line.startswith("RESULT ")]
    assert len(out) == len(runs), p.stdout[-3000:] + p.stderr[-5000:]
    return out


def _q(url: str, sql: str, args=()) -> list[tuple]:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def _wecom(world, needle: str) -> list[str]:
    texts = [r["json"]["markdown"]["content"] for r in world["hooks"].accepted("wecom")]
    return [t for t in texts if needle in t]


def test_revoked_store_keeps_reading_mail_and_alerting(world):
    url, day = world["url"], world["day"]
    world["sim"].state.revoke(SELLER)
    (auth,) = _run(world, (f"si_{STORE}_auth", datetime.now(UTC)))
    assert auth["tasks"]["refresh_auth"] == "failed"
    assert len(_wecom(world, "authorization revoked")) == 1

    (run,) = _run(world, (f"si_{STORE}_pipeline", day + timedelta(days=1)))
    t = run["tasks"]
    # the SP-API branch fails alone ...
    assert t["preflight"] == "failed" and t["ingest_orders"] == "upstream_failed" and t["act"] == "upstream_failed"
    # ... the mail branch and the KPIs go on
    for task in ("migrate", "ingest_mail", "gate_ingest_mail", "classify", "gate_classify", "alert", "gate_alert",
                 "kpi", "gate_kpi"):
        assert t[task] == "success", (task, t)
    unlabelled = _q(url, "SELECT count(*) FROM core.message WHERE store_id = %s AND direction = 'inbound' "
                         "AND intent IS NULL AND received_at >= %s AND received_at < %s", (STORE, day, day + timedelta(days=1)))
    assert unlabelled == [(0,)]
    # the odd marketplace's mail was set aside with its reason; the threat was classified and alerted
    assert _q(url, "SELECT row_key, expectation FROM ops.dq_quarantine WHERE store_id = %s", (STORE,)) == [
        ("<nl-odd@relay.example>", "ExpectColumnValuesToBeInSet(marketplace)")]
    assert _q(url, "SELECT risk FROM core.message WHERE message_id = '<threat@relay.example>'") == [("high",)]
    assert len([t for t in _wecom(world, "111-9999999-0000001") if "HIGH RISK" in t]) == 1
    assert len(_wecom(world, "set aside")) == 1  # the quarantine warning reached people too
    # KPIs say what they were computed without
    gaps = _q(url, "SELECT source FROM ops.ingest_coverage WHERE store_id = %s AND interval_start = %s",
              (STORE, day))
    assert gaps == [("mail",)]

    # seen again: no second revocation alert
    _run(world, (f"si_{STORE}_auth", datetime.now(UTC)))
    assert len(_wecom(world, "authorization revoked")) == 1

    # fixed: one recovery notice, and the pipeline is green again
    world["sim"].state.restore(SELLER)
    (auth,) = _run(world, (f"si_{STORE}_auth", datetime.now(UTC)))
    assert auth["tasks"]["refresh_auth"] == "success"
    assert len(_wecom(world, "works again")) == 1
    (run,) = _run(world, (f"si_{STORE}_pipeline", day + timedelta(days=1)))
    assert run["state"] == "success", run["tasks"]
    assert {s for s, in _q(url, "SELECT source FROM ops.ingest_coverage WHERE store_id = %s AND interval_start = %s",
                             (STORE, day))} == {"mail", "orders"}
    assert len(_wecom(world, "authorization revoked")) == 1 and len(_wecom(world, "works again")) == 1


def _warehouse_env(url: str) -> dict:
    return {"SELLER_INBOX_WAREHOUSE_URL": url,
            "AIRFLOW_CONN_WAREHOUSE": json.dumps({"conn_type": "postgres", "extra": {"url": url}})}


def test_no_mail_is_lost_while_the_scheduler_is_down(world):
    """Three daily runs, once in a row and once with the middle one missed (the scheduler was
    down): the run after the outage reads, classifies and alerts the missed day by itself, and
    the KPI tables come out the same. The two histories run side by side, each with its own
    warehouse and Airflow metadata database (both run the same DAG on the same days)."""
    from concurrent.futures import ThreadPoolExecutor

    from seller_inbox import clock, warehouse

    day = world["day"]
    days = [day - timedelta(days=3), day - timedelta(days=2), day - timedelta(days=1)]

    def history(name: str, plan: list[datetime]) -> str:
        url = world["new_database"](f"si_{name}")
        warehouse.migrate(url)
        meta = own_metadata(world["env"], Path(world["env"]["SELLER_INBOX_HOME"]) / name)
        for start in plan:  # each run sees the clock at its interval's end, as a punctual scheduler would
            end = start + timedelta(days=1)
            (run,) = _run(world, (f"si_{STORE}_pipeline", end),
                          env={**_warehouse_env(url), **meta, clock.ENV: end.isoformat()})
            assert run["state"] == "success", (name, start, run["tasks"])
        return url

    with ThreadPoolExecutor(2) as pool:
        steady_f, outage_f = pool.submit(history, "steady", days), pool.submit(history, "outage", [days[0], days[2]])
        steady, outage = steady_f.result(), outage_f.result()
    missed = (days[1], days[2])
    count = "SELECT count(*) FROM core.message WHERE received_at >= %s AND received_at < %s"
    assert _q(outage, count, missed) == _q(steady, count, missed) != [(0,)]
    unlabelled = count + " AND direction = 'inbound' AND intent IS NULL"
    assert _q(outage, unlabelled, missed) == [(0,)]
    alerted = ("SELECT count(*) FROM ops.alert_log a JOIN core.message m ON m.message_id = a.subject_key "
               "WHERE a.alert_kind = 'high_risk' AND m.received_at >= %s AND m.received_at < %s")
    assert _q(outage, alerted, missed) == _q(steady, alerted, missed) != [(0,)]
    # the catch-up was noticed and said so; coverage has no hole
    (gap,) = _q(outage, "SELECT payload FROM ops.alert_log WHERE alert_kind = 'ingest_gap' AND channel = 'log' "
                        "AND payload->>'source' = 'mail'")
    assert gap[0]["filled"] is True
    assert _q(outage, "SELECT count(*) FROM ops.ingest_gaps") == [(0,)]
    kpis = ("SELECT marketplace, day, buyer_messages, needing_response, responded, late_responses, "
            "pending_within_sla, high_risk_messages, wismo_messages, orders, a_to_z_claims "
            "FROM kpi.store_daily ORDER BY 1, 2")
    assert _q(outage, kpis) == _q(steady, kpis)


HOSTILE = REPO_ROOT / "tests" / "fixtures" / "mail" / "hostile"
GOOD_TEXTS = (
    "Hi, where is my order? The tracking has not moved for three days.",
    "Does this tent fit two adults with backpacks inside?",
    "Can I still change the colour of my order to green?",
    "Please send me an invoice with my company VAT number.",
)
THREATS = (
    "The item arrived broken. Refund me today or I will file an A-to-z claim and report you to Amazon.",
    "Still nothing after two weeks. I am opening a chargeback with my bank and an A-to-z guarantee claim.",
)


def test_hostile_mail_costs_no_other_mail(world):
    """A Maildir with the hostile reproducers and 100 good mails: one pipeline run stores,
    classifies and alerts all 100; every hostile one is stored sanitised or quarantined with its
    reason — none is lost, none blows the parse budget, no batch is rolled back for it."""
    from seller_inbox import clock, warehouse
    from seller_inbox_dev.demo.mail import deliver, ensure_maildir

    day = world["day"] - timedelta(days=6)
    box = Path(world["env"]["SELLER_INBOX_HOME"]) / "hostile-box"
    ensure_maildir(box, ("Sent",))
    threats = set()
    for i in range(100):
        when = day + timedelta(hours=1, minutes=13 * i)
        text = THREATS[i % 2] if i % 10 == 3 else GOOD_TEXTS[i % len(GOOD_TEXTS)]
        mid = f"<good{i}@relay.example>"
        if i % 10 == 3:
            threats.add(mid)
        deliver(box, bytes(_relay(f"buyer{i:03d}x@marketplace.amazon.com", when,
                                  f"Order delivery inquiry from Amazon customer Sam (Order: 111-{i:07d}-0000001)",
                                  text, mid)), when, mid)
    stamp = format_datetime(day + timedelta(hours=8)).encode()
    names = sorted(p.name for p in HOSTILE.glob("*.eml"))
    assert len(names) >= 20
    for k, name in enumerate(names):
        raw = (HOSTILE / name).read_bytes().replace(b"Sun, 29 Nov 2026 08:00:00 +0000", stamp)
        deliver(box, raw, day + timedelta(hours=8, seconds=k), f"hostile:{name}")

    url = world["new_database"]("si_hostile")
    warehouse.migrate(url)
    end = day + timedelta(days=1)
    env = {**_warehouse_env(url), clock.ENV: end.isoformat(),
           "AIRFLOW_CONN_MAILBOX_US_OUTDOOR": json.dumps({"conn_type": "maildir", "extra": {"path": str(box)}})}
    (run,) = _run(world, (f"si_{STORE}_pipeline", end), env=env)
    for task in ("ingest_mail", "gate_ingest_mail", "classify", "gate_classify", "alert", "gate_alert"):
        assert run["tasks"][task] == "success", (task, run["tasks"])

    good = _q(url, "SELECT message_id, intent, risk FROM core.message WHERE message_id LIKE '<good%%@relay.example>'")
    assert len(good) == 100 and all(intent for _, intent, _ in good)
    alerted = {s for s, in _q(url, "SELECT DISTINCT subject_key FROM ops.alert_log WHERE alert_kind = 'high_risk'")}
    assert threats <= alerted, threats - alerted
    # every hostile mail is either stored (its parsed Message-ID is in raw.mail_message) or quarantined
    from seller_inbox.mail.parser import MailParseError, parse_bytes

    stored = {m for m, in _q(url, "SELECT message_id FROM raw.mail_message")}
    quarantined = _q(url, "SELECT item_ref, reason FROM ops.quarantine")
    expected_quarantined = 0
    for k, name in enumerate(names):
        raw = (HOSTILE / name).read_bytes().replace(b"Sun, 29 Nov 2026 08:00:00 +0000", stamp)
        try:
            assert parse_bytes(raw, salt=b"x").message_id in stored, name
        except MailParseError:
            expected_quarantined += 1
    assert len(quarantined) == expected_quarantined, quarantined
    assert all(reason and "time budget" not in reason for _, reason in quarantined), quarantined
    # the USPS tracking number is neither redacted nor set aside by the phone check
    assert _q(url, "SELECT count(*) FROM ops.dq_quarantine WHERE expectation = 'no_unredacted_phone'") == [(0,)]
