"""The data-quality expectations, seeded as defects into real Airflow runs (docs/data-quality.md).

Two stores (us-outdoor defective, jp-gadgets clean) with WeCom channels on a local receiver,
a fresh warehouse, the SP-API simulator and a Maildir. For each store, one driver process runs
four pipeline days and the deliver DAG, both stores at once (ten ``dag.test`` runs: the module's cost).
The defective store's days (d<k> is the UTC day k days before today):

* d5 — row defects: a mail from a marketplace the store does not list (real mail), and rows
  a real mail cannot produce through the parser (seeded, see ``_seed``); unknown order
  status / marketplace / id, an order with an odd fulfilment channel; labels outside the
  taxonomy; KPI rows out of range (a trigger plays the buggy KPI computation);
* d4 — no mail where 28 days of history expect some: a dead mailbox;
* d3+d2 — the d3 run is skipped, d2's run catches up: the newest mail is two days old (stale),
  and the outbox holds a queued reply that failed the linter and a low-confidence auto send;
* d1 — a high-risk message whose alert was lost;
* deliver — sends that went out with lint findings, under a kill switch, without an id, in
  listen mode.

Each gate fails or quarantines at its configured level, its ops.dq_results rows say so, its
alert reaches the store's WeCom group exactly once, and the clean store, run the same way
in the same batch, passes every gate. Where a defect can only arise inside a stage (a lost
alert, a KPI miscount), a PostgreSQL trigger in the warehouse plays the faulty stage. Left
out: what the tables' keys and CHECKs already refuse (unique message ids and idempotency keys,
outbox statuses and channels).
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg2
import pytest
import yaml
from cryptography.fernet import Fernet

from seller_inbox.alerts.templates import KIND_TITLE
from seller_inbox.config import DEFAULT_REGISTRY
from seller_inbox_dev.demo.run import airflow_env, connection_env, demo_sender
from seller_inbox.paths import REPO_ROOT
from tests.airflow_world import SIM_SPEED, own_metadata, with_sim_speed
from tests.e2e.test_store_never_quiet import _q, _relay, _run
from tests.integration.rows import add_message, add_order
from tests.servers.smtp import SmtpServer
from tests.servers.webhooks import WebhookReceiver

UTC = timezone.utc
BAD, GOOD = "us-outdoor", "jp-gadgets"
WECOM_KEY = {BAD: "wk-us", GOOD: "wk-jp"}
DAYS = (5, 4, 2, 1)  # the pipeline runs' days; d3 is deliberately skipped (read by d2's catch-up)
DQ_KINDS = ("gate_failed", "gate_quarantined", "gate_warning")
MAIL_BRANCH = ("classify", "gate_classify", "alert", "gate_alert")


def _day(world, k: int) -> datetime:
    return world["midnight"] - timedelta(days=k)


@pytest.fixture(scope="module")
def world(new_database, tmp_path_factory):
    from seller_inbox import clock, warehouse
    from seller_inbox.config import load_registry
    from seller_inbox_dev.demo.mail import deliver, write_demo_mail
    from seller_inbox_dev.sandbox.server import start as start_sim

    base = tmp_path_factory.mktemp("gate_defects")
    url = new_database("si_gates")
    warehouse.migrate(url)
    reg = yaml.safe_load(Path(DEFAULT_REGISTRY).read_text())
    reg["stores"] = [s for s in reg["stores"] if s["id"] in (BAD, GOOD)]
    for s in reg["stores"]:
        s.update(alert_channels=[{"type": "wecom", "conn_id": f"wecom_{s['id'].split('-')[0]}", "min_risk": "high"}],
                 alert_language="en")
    reg_path = base / "stores.yaml"
    reg_path.write_text(yaml.safe_dump(reg, sort_keys=False))
    stores = {s.id: s for s in load_registry(reg_path).stores}

    # "now" is pinned for the whole batch: a run that crosses midnight UTC judges the same days
    now = datetime.now(UTC).replace(microsecond=0)
    midnight = now.replace(hour=0, minute=0, second=0)
    world = {"url": url, "now": now, "midnight": midnight, "stores": stores}
    maildir = base / "maildir"
    write_demo_mail(maildir, [stores[GOOD]], _day(world, 5), midnight, seed=7)
    for k in (5, 3, 1):  # the defective store's mailbox is silent on d4 and d2
        write_demo_mail(maildir, [stores[BAD]], _day(world, k), _day(world, k - 1), seed=7)
    for alias, when, subject, body, mid in (
            ("zz9nl@marketplace.amazon.nl", _day(world, 5) + timedelta(hours=9), "Vraag over bestelling",
             "Waar is mijn pakket?", "<nl-odd@relay.example>"),
            ("threat7@marketplace.amazon.com", _day(world, 1) + timedelta(hours=10),
             "Order delivery inquiry from Amazon customer Pat (Order: 111-9999999-0000001)",
             "My package never arrived. If I do not get a refund today I will file an A-to-z claim "
             "and report you to Amazon.", "<lost@relay.example>")):
        deliver(maildir / BAD, bytes(_relay(alias, when, subject, body, mid)), when, mid)
    _seed(world)

    sim = start_sim(host="127.0.0.1", port=0, seed=42, time_scale=SIM_SPEED)
    hooks = WebhookReceiver(wecom_keys=tuple(WECOM_KEY.values())).start()
    smtp = SmtpServer(maildir=base / "buyers", sent_copy={demo_sender(s): maildir / s.id for s in stores.values()}).start()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AIRFLOW_CONN_", "AIRFLOW__", "_AIRFLOW")) and k != "AIRFLOW_HOME"}
    env.update(airflow_env(base))
    env.update(with_sim_speed(connection_env(list(stores.values()), sim.url, maildir, url, smtp_port=smtp.port,
                                             crypto_key=Fernet.generate_key().decode()), stores.values()))
    for sid, key in WECOM_KEY.items():
        conn_id = next(c.conn_id for c in stores[sid].alert_channels)
        env[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps({"conn_type": "http", "host": hooks.wecom_url(key)})
    env.update({"SELLER_INBOX_STORES": str(reg_path), "SELLER_INBOX_WAREHOUSE_URL": url, "SELLER_INBOX_HOME": str(base),
                "PYTHONPATH": str(REPO_ROOT), clock.ENV: now.isoformat()})
    world.update(env=env, hooks=hooks)
    yield world
    smtp.stop()
    hooks.stop()
    sim.stop()


def _seed(world) -> None:
    """Defects no real mail or simulator answer can produce, written the way a real fault would
    leave them, before the runs (the stages leave rows they did not write alone)."""
    from seller_inbox.classify import classifier_version
    from seller_inbox.delivery import controls

    url, now = world["url"], world["now"]
    version = classifier_version()
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            # 28 days of mail history for both stores (what earlier runs stored): 8 mails a day
            cur.execute("""INSERT INTO raw.mail_message (store_id, message_id, source, source_ref, received_at, kind,
                               subject, parsed, size_bytes)
                           SELECT s, format('<hist-%%s-%%s@x>', s, i), 'maildir:INBOX', format('hist-%%s-%%s', s, i),
                                  %s - i * interval '3 hours', 'buyer_message', 's', '{}', 100
                           FROM unnest(%s::text[]) AS s, generate_series(1, 8 * 28) AS i""",
                        (_day(world, 5), [BAD, GOOD]))
        d5 = _day(world, 5)
        # an older ingest (before redaction and the order-id check) left these rows in core.message:
        # the parser cannot produce them any more, the ingest gate must still catch them
        add_message(conn, BAD, "<bad-order-id@relay.example>", d5 + timedelta(hours=3), order_id="111-12345-1")
        add_message(conn, BAD, "<leak-mail@relay.example>", d5 + timedelta(hours=4),
                    body="Please write to john.smith@gmail.com about my order")
        add_message(conn, BAD, "<leak-phone@relay.example>", d5 + timedelta(hours=5),
                    body="Call me at +1 415 555 0199 about the delivery")
        # a buggy classifier stamped its labels with the current version, so classify skips them
        for i, (col, value) in enumerate((("intent", "shipping_question"), ("risk", "critical"),
                                          ("language", "eng"), ("confidence", 1.5))):
            mid = f"<label-{col}@relay.example>"
            add_message(conn, BAD, mid, d5 + timedelta(hours=6 + i), order_id=f"111-7654321-000000{i}")
            with conn.cursor() as cur:
                cur.execute(f"UPDATE core.message SET {col} = %s, classifier_version = %s "
                            "WHERE store_id = %s AND message_id = %s", (value, version, BAD, mid))
        # orders as a newer API version (or an older loader) would leave them: the simulator
        # serves only known statuses, marketplaces and ids
        for oid, kw in (("111-0000005-0000001", {"status": "Lost"}), ("111-0000005-0000002", {"marketplace": "NL"}),
                        ("111-00005-2", {})):
            add_order(conn, BAD, oid, d5 + timedelta(hours=7), **kw)
        add_order(conn, BAD, "111-0000005-0000003", d5 + timedelta(hours=8))
        with conn.cursor() as cur:
            # a channel outside AFN/MFN (a missing one would not do: GX's in-set check passes NULLs)
            cur.execute("UPDATE raw.orders SET fulfillment_channel = 'XFN' WHERE amazon_order_id = '111-0000005-0000003'")

        # d5: a KPI computation that counts a reply twice and a share over 1, on the one New York
        # day only the d5 run's KPI gate judges (the evening before d5 in UTC)
        with conn.cursor() as cur:
            cur.execute("""CREATE FUNCTION public.kpi_bug() RETURNS trigger LANGUAGE plpgsql AS $$
                           BEGIN NEW.responded_within_24h := NEW.responded + 1; NEW.wismo_share := 1.5; RETURN NEW; END $$""")
            cur.execute(f"""CREATE TRIGGER kpi_bug BEFORE INSERT OR UPDATE ON kpi.store_daily FOR EACH ROW
                            WHEN (NEW.store_id = '{BAD}' AND NEW.day = '{_day(world, 6).date()}')
                            EXECUTE FUNCTION public.kpi_bug()""")

        # d3: a message classified with low confidence; an older act queued a reply the linter
        # flagged and sent one automatically without review
        d3 = _day(world, 3)
        add_message(conn, BAD, "<unsure@relay.example>", d3 + timedelta(hours=9), intent="other", confidence=0.31,
                    low_confidence=True, body="Hello, about the thing I bought")
        with conn.cursor() as cur:
            cur.execute("UPDATE core.message SET classifier_version = %s WHERE message_id = '<unsure@relay.example>'",
                        (version,))
            cur.execute("""INSERT INTO core.outbox (idempotency_key, store_id, message_id, action, channel, mode, status,
                               lint_findings, outbound_id, sent_at, body, updated_at) VALUES
                           ('legacy:queued-linted', %(s)s, '<unsure@relay.example>', 'reply', 'smtp', 'draft', 'queued',
                            '[{"code": "email_address"}]', NULL, NULL, 'Write to me at me@shop.example', %(t)s),
                           ('legacy:auto-unreviewed', %(s)s, '<unsure@relay.example>', 'reply', 'smtp', 'auto', 'sent',
                            '[]', '<legacy-auto@shop.example>', %(t)s, 'Hello', %(t)s)""",
                        {"s": BAD, "t": d3 + timedelta(hours=10)})

            # d1: the alert of one high-risk message is lost on its way to ops.alert_log (a
            # dispatcher whose claim never lands); everything else of the store is alerted. A
            # failing channel would not do: the claim row is written before the send, and the
            # gate counts a message with any alert row (sent or failed, retried later) as alerted
            cur.execute("""CREATE FUNCTION public.lose_alert() RETURNS trigger LANGUAGE plpgsql
                           AS $$ BEGIN RETURN NULL; END $$""")
            cur.execute("""CREATE TRIGGER lose_alert BEFORE INSERT ON ops.alert_log FOR EACH ROW
                           WHEN (NEW.subject_key = '<lost@relay.example>' AND NEW.alert_kind = 'high_risk')
                           EXECUTE FUNCTION public.lose_alert()""")

            # deliver: the store's kill switch went on three hours ago; sends that should never
            # have happened are on record for the last day
            controls.flip(cur, BAD, True, "lead@us-outdoor", "complaint spike")
            cur.execute("UPDATE ops.delivery_control SET changed_at = %s WHERE scope = %s", (now - timedelta(hours=3), BAD))
            cur.execute("""INSERT INTO core.outbox (idempotency_key, store_id, action, channel, mode, status,
                               lint_findings, outbound_id, sent_at, body, updated_at) VALUES
                           ('legacy:sent-linted', %(s)s, 'reply', 'smtp', 'auto', 'sent',
                            '[{"code": "external_link"}]', '<sl@shop.example>', %(early)s, 'see http://x.example', %(early)s),
                           ('legacy:sent-killed', %(s)s, 'reply', 'smtp', 'auto', 'sent',
                            '[]', '<sk@shop.example>', %(late)s, 'Hello', %(late)s),
                           ('legacy:sent-no-id', %(s)s, 'reply', 'smtp', 'auto', 'sent',
                            '[]', NULL, %(early)s, 'Hello', %(early)s),
                           ('legacy:sent-listen', %(s)s, 'reply', 'smtp', 'listen', 'sent',
                            '[]', '<sls@shop.example>', %(early)s, 'Hello', %(early)s)""",
                        {"s": BAD, "early": now - timedelta(hours=5), "late": now - timedelta(hours=1)})
    finally:
        conn.close()


@pytest.fixture(scope="module")
def runs(world):
    """The batch: each store's pipeline days in order, then its deliver DAG, one driver process per
    store, both at once on the same warehouse (as Airflow runs two stores' DAGs side by side), each
    with an Airflow metadata database of its own."""
    from concurrent.futures import ThreadPoolExecutor

    def store_runs(sid: str) -> list[dict]:
        meta = own_metadata(world["env"], Path(world["env"]["SELLER_INBOX_HOME"]) / sid)
        batch = [(f"si_{sid}_pipeline", _day(world, k - 1)) for k in DAYS] + [(f"si_{sid}_deliver", world["now"])]
        return _run(world, *batch, env=meta)

    with ThreadPoolExecutor(2) as pool:
        out = [r for rs in pool.map(store_runs, (BAD, GOOD)) for r in rs]
    return {(r["dag_id"].split("_")[1], r["dag_id"].rsplit("_", 1)[1], r["logical_date"]): r for r in out}


def _tasks(world, runs, sid: str, k: int | None) -> dict:
    if k is None:
        return runs[(sid, "deliver", world["now"].isoformat())]["tasks"]
    return runs[(sid, "pipeline", _day(world, k - 1).isoformat())]["tasks"]


def _dq(world, sid: str, stage: str, start: datetime) -> dict[str, tuple[str, bool]]:
    return {e: (lvl, ok) for e, lvl, ok in _q(world["url"], "SELECT expectation, level, success FROM ops.dq_results "
                                                            "WHERE store_id = %s AND stage = %s AND interval_start = %s",
                                             (sid, stage, start))}


def _dq_alerts(world, sid: str) -> list[str]:
    """Data-quality texts that reached the store's WeCom group."""
    titles = [KIND_TITLE["en"][k].format(store=world["stores"][sid].name) for k in DQ_KINDS]
    texts = [r["json"]["markdown"]["content"] for r in world["hooks"].accepted("wecom")
             if r["query"].get("key") == WECOM_KEY[sid]]
    return [t for t in texts if any(title in t for title in titles)]


def _one_alert(world, kind: str, stage: str, start: datetime) -> str:
    title = KIND_TITLE["en"][kind].format(store=world["stores"][BAD].name)
    hits = [t for t in _dq_alerts(world, BAD) if title in t and f"{stage} {start:%Y-%m-%d %H:%M}" in t]
    assert len(hits) == 1, (kind, stage, start, _dq_alerts(world, BAD))
    return hits[0]


def _assert_failed(dq: dict, *names: str) -> None:
    for name in names:
        assert dq.get(name) == ("error", False), (name, dq)


def test_row_defects_are_set_aside_and_batch_defects_stop_their_branch(world, runs):
    url, d5 = world["url"], _day(world, 5)
    t = _tasks(world, runs, BAD, 5)
    for task in ("ingest_mail", "gate_ingest_mail", "classify", "preflight", "ingest_orders", "gate_ingest_orders",
                 "kpi"):
        assert t[task] == "success", (task, t)
    assert t["gate_classify"] == "failed" and t["gate_kpi"] == "failed", t
    for task in ("alert", "gate_alert", "act", "gate_act"):
        assert t[task] == "upstream_failed", (task, t)

    mail = _dq(world, BAD, "ingest_mail", d5)
    for name in ("ExpectColumnValuesToMatchRegex(order_id)", "ExpectColumnValuesToBeInSet(marketplace)",
                 "no_unredacted_email", "no_unredacted_phone"):
        assert mail[name] == ("quarantine", False), (name, mail)
    assert all(ok for name, (_, ok) in mail.items() if name.startswith(("volume", "newest"))), mail
    assert sorted(_q(url, "SELECT stage, row_key, expectation FROM ops.dq_quarantine WHERE store_id = %s", (BAD,))) == sorted([
        ("ingest_mail", "<bad-order-id@relay.example>", "ExpectColumnValuesToMatchRegex(order_id)"),
        ("ingest_mail", "<leak-mail@relay.example>", "no_unredacted_email"),
        ("ingest_mail", "<leak-phone@relay.example>", "no_unredacted_phone"),
        ("ingest_mail", "<nl-odd@relay.example>", "ExpectColumnValuesToBeInSet(marketplace)"),
        ("ingest_orders", "111-00005-2", "ExpectColumnValuesToMatchRegex(amazon_order_id)"),
        ("ingest_orders", "111-0000005-0000001", "ExpectColumnValuesToBeInSet(order_status)"),
        ("ingest_orders", "111-0000005-0000002", "ExpectColumnValuesToBeInSet(marketplace)")])
    # set aside: the next stages no longer read them; the good rows went on
    assert _q(url, "SELECT count(*) FROM core.message WHERE message_id IN ('<nl-odd@relay.example>', "
                   "'<bad-order-id@relay.example>', '<leak-mail@relay.example>', '<leak-phone@relay.example>')") == [(0,)]
    assert _q(url, "SELECT amazon_order_id FROM raw.orders WHERE amazon_order_id IN "
                   "('111-0000005-0000001', '111-0000005-0000002', '111-00005-2', '111-0000005-0000003')") == [
        ("111-0000005-0000003",)]  # an odd fulfilment channel is only worth a warning
    assert _q(url, "SELECT count(*) FROM core.message WHERE store_id = %s AND received_at >= %s AND received_at < %s "
                   "AND classifier_version IS NOT NULL AND message_id NOT LIKE '<label-%%'",
              (BAD, d5, d5 + timedelta(days=1)))[0][0] > 10
    assert "4 rows set aside" in _one_alert(world, "gate_quarantined", "ingest_mail", d5)

    orders = _dq(world, BAD, "ingest_orders", d5)
    for name in ("ExpectColumnValuesToMatchRegex(amazon_order_id)", "ExpectColumnValuesToBeInSet(marketplace)",
                 "ExpectColumnValuesToBeInSet(order_status)"):
        assert orders[name] == ("quarantine", False), (name, orders)
    assert orders["ExpectColumnValuesToBeInSet(fulfillment_channel)"] == ("warn", False)  # 1 of ~60 orders
    assert "3 rows set aside" in _one_alert(world, "gate_quarantined", "ingest_orders", d5)

    labels = _dq(world, BAD, "classify", d5)
    _assert_failed(labels, "ExpectColumnValuesToBeInSet(intent)", "ExpectColumnValuesToBeInSet(risk)",
                   "ExpectColumnValuesToMatchRegex(language)", "ExpectColumnValuesToBeBetween(confidence)")
    assert _q(url, "SELECT intent FROM core.message WHERE message_id = '<label-intent@relay.example>'") == [
        ("shipping_question",)]  # classify really skipped it: the gate saw what the buggy classifier wrote
    _one_alert(world, "gate_failed", "classify", d5)

    kpis = _dq(world, BAD, "kpi", d5)
    _assert_failed(kpis, "ExpectColumnValuesToBeBetween(wismo_share)",
                   "ExpectColumnPairValuesAToBeGreaterThanB(responded,responded_within_24h)")
    assert kpis["ExpectColumnValuesToBeBetween(late_response_rate)"] == ("error", True)
    _one_alert(world, "gate_failed", "kpi", d5)


def test_a_dead_mailbox_fails_the_ingest_gate(world, runs):
    d4 = _day(world, 4)
    t = _tasks(world, runs, BAD, 4)
    assert t["ingest_mail"] == "success" and t["gate_ingest_mail"] == "failed", t
    for task in (*MAIL_BRANCH, "act", "gate_act"):
        assert t[task] == "upstream_failed", (task, t)
    assert t["gate_ingest_orders"] == "success" and t["gate_kpi"] == "success", t
    mail = _dq(world, BAD, "ingest_mail", d4)
    _assert_failed(mail, "volume_against_history")
    assert mail["newest_mail_fresh"] == ("warn", True)  # d4 is no recent interval: staleness is not judged
    assert "volume_against_history" in _one_alert(world, "gate_failed", "ingest_mail", d4)


def test_stale_mail_warns_and_an_unsafe_outbox_fails_the_act_gate(world, runs):
    d3 = _day(world, 3)  # d2's run caught up from d3, the end of the last complete read
    t = _tasks(world, runs, BAD, 2)
    for task in ("gate_ingest_mail", *MAIL_BRANCH, "gate_ingest_orders", "act", "kpi", "gate_kpi"):
        assert t[task] == "success", (task, t)
    assert t["gate_act"] == "failed", t
    assert _dq(world, BAD, "ingest_mail", d3)["newest_mail_fresh"] == ("warn", False)
    assert "newest_mail_fresh" in _one_alert(world, "gate_warning", "ingest_mail", d3)
    act = _dq(world, BAD, "act", d3)
    _assert_failed(act, "ExpectColumnValuesToBeInSet(unsafe)")
    assert _q(world["url"], "SELECT unexpected_count FROM ops.dq_results WHERE store_id = %s AND stage = 'act' "
                            "AND interval_start = %s AND expectation = 'ExpectColumnValuesToBeInSet(unsafe)'",
              (BAD, d3)) == [(2,)]
    _one_alert(world, "gate_failed", "act", d3)


def test_a_lost_high_risk_alert_fails_the_alert_gate(world, runs):
    url, d1 = world["url"], _day(world, 1)
    t = _tasks(world, runs, BAD, 1)
    assert t["classify"] == "success" and t["alert"] == "success" and t["gate_alert"] == "failed", t
    assert t["act"] == "upstream_failed" and t["gate_act"] == "upstream_failed", t
    assert _q(url, "SELECT risk FROM core.message WHERE message_id = '<lost@relay.example>'") == [("high",)]
    _assert_failed(_dq(world, BAD, "alert", d1), "every_high_risk_alerted")
    (sample,) = _q(url, "SELECT failing_rows FROM ops.gate_run WHERE store_id = %s AND stage = 'alert' "
                        "AND interval_start = %s", (BAD, d1))
    assert [r["message_id"] for r in sample[0]] == ["<lost@relay.example>"]
    _one_alert(world, "gate_failed", "alert", d1)


def test_what_should_never_have_been_sent_fails_the_deliver_gate(world, runs):
    start = world["now"] - timedelta(days=1)
    t = _tasks(world, runs, BAD, None)
    assert t["review_scan"] == "success" and t["deliver"] == "success" and t["gate_deliver"] == "failed", t
    _assert_failed(_dq(world, BAD, "deliver", start), "nothing_sent_that_failed_the_linter",
                   "nothing_sent_under_a_kill_switch", "every_send_has_its_id_first", "listen_mode_never_sends")
    _one_alert(world, "gate_failed", "deliver", start)


def test_each_defect_alerted_once_and_the_other_store_untouched(world, runs):
    # the defective store: the nine data-quality alerts above and nothing more
    assert len(_dq_alerts(world, BAD)) == 9, _dq_alerts(world, BAD)
    # the clean store ran the same days and the deliver DAG in the same batch: every gate passed
    for k in (*DAYS, None):
        t = _tasks(world, runs, GOOD, k)
        assert all(state == "success" for state in t.values()), (k, t)
    url = world["url"]
    assert _q(url, "SELECT count(*), bool_and(success) FROM ops.gate_run WHERE store_id = %s", (GOOD,)) == [(25, True)]
    ((checked, failed),) = _q(url, "SELECT count(*), count(*) FILTER (WHERE NOT success) FROM ops.dq_results "
                                   "WHERE store_id = %s", (GOOD,))
    assert checked > 100 and failed == 0
    assert _q(url, "SELECT count(*) FROM ops.dq_quarantine WHERE store_id = %s", (GOOD,)) == [(0,)]
    assert _dq_alerts(world, GOOD) == []
    assert _q(url, "SELECT count(*) FROM ops.alert_log WHERE store_id = %s AND alert_kind = ANY(%s)",
              (GOOD, list(DQ_KINDS))) == [(0,)]
    # and it was alerted as usual: its high-risk messages reached its own group only
    hooks = world["hooks"].accepted("wecom")
    assert any(r["query"]["key"] == WECOM_KEY[GOOD] for r in hooks)
    assert not any(world["stores"][BAD].name in r["json"]["markdown"]["content"]
                   for r in hooks if r["query"]["key"] == WECOM_KEY[GOOD])
