"""Gates quarantine rows, not stores: row defects are set aside and the rest goes on; batch
defects fail the gate; every expectation's outcome is kept; alerts are written for both."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from seller_inbox.config import load_registry
from seller_inbox.gates import GateFailed, load_suite, run_gate

from .rows import add_message, add_order

T0 = datetime(2026, 11, 20, tzinfo=timezone.utc)
T1 = T0 + timedelta(days=1)
NOW = T1 + timedelta(hours=1)


@pytest.fixture
def us():
    return load_registry().store("us-outdoor")


def gate(stage, store, dsn, start=T0, end=T1, **kw):
    return run_gate(stage, store, dsn, start, end, now=kw.pop("now", NOW), **kw)


def q(db, sql, args=()):
    with db.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def add_raw_mail(db, store_id, message_id, when):
    with db.cursor() as cur:
        cur.execute("""INSERT INTO raw.mail_message (store_id, message_id, source, source_ref, received_at, kind,
                           subject, parsed, size_bytes) VALUES (%s, %s, 'maildir:INBOX', %s, %s, 'buyer_message',
                           's', '{}', 100)""", (store_id, message_id, message_id, when))


def test_clean_batch_passes_and_every_expectation_is_kept(db, warehouse_dsn, us):
    add_message(db, us.id, "<a@x>", T0 + timedelta(hours=2))
    add_message(db, us.id, "<b@x>", T0 + timedelta(hours=3), order_id=None, body="Is it waterproof? [EMAIL]")
    add_message(db, us.id, "<c@x>", T0 + timedelta(hours=4), body="Order 111-0000001-0000001 was due on 2026-11-18, call me at [PHONE]")
    out = gate("ingest_mail", us, warehouse_dsn, run_id="r1")
    assert out["success"] and out["quarantined"] == 0 and out["warnings"] == 0
    assert q(db, "SELECT success FROM ops.gate_run WHERE store_id = %s AND stage = 'ingest_mail'", (us.id,)) == [(True,)]
    results = q(db, "SELECT batch, expectation, level, success FROM ops.dq_results WHERE stage = 'ingest_mail'")
    assert len(results) == len(load_suite("ingest_mail")["batches"][0]["expectations"]) + 2
    assert all(ok for *_, ok in results)
    assert ("messages", "no_unredacted_phone", "quarantine", True) in results
    assert q(db, "SELECT count(*) FROM ops.alert_log") == [(0,)]


def test_row_defects_are_set_aside_and_the_rest_goes_on(db, warehouse_dsn, us):
    for i in range(4):
        add_message(db, us.id, f"<ok{i}@x>", T0 + timedelta(hours=1, minutes=i))
    add_message(db, us.id, "<leak@x>", T0 + timedelta(hours=4), body="write to john.smith@gmail.com please")
    add_message(db, us.id, "<mp@x>", T0 + timedelta(hours=5), marketplace="NL")  # not one of this store's
    add_message(db, us.id, "<phone@x>", T0 + timedelta(hours=6), body="ruf mich an: +49 170 1234567")
    out = gate("ingest_mail", us, warehouse_dsn, run_id="r2")
    assert out["success"] and out["quarantined"] == 3
    assert sorted(q(db, "SELECT row_key, expectation FROM ops.dq_quarantine")) == [
        ("<leak@x>", "no_unredacted_email"), ("<mp@x>", "ExpectColumnValuesToBeInSet(marketplace)"),
        ("<phone@x>", "no_unredacted_phone")]
    # set aside: the next stages no longer see them; the good rows are all there
    assert {r[0] for r in q(db, "SELECT message_id FROM core.message")} == {f"<ok{i}@x>" for i in range(4)}
    (kind, payload), = q(db, "SELECT alert_kind, payload FROM ops.alert_log")
    assert kind == "gate_quarantined" and "3 rows set aside" in payload["message"]
    # the failing rows are recorded by key only: the leaked address is not copied anywhere
    (sample,), = q(db, "SELECT failing_rows::text FROM ops.gate_run")
    assert "<leak@x>" in sample and "john.smith" not in sample and "1234567" not in sample
    # the gate's verdict for that interval is now stable: a rerun passes on the rows left
    assert gate("ingest_mail", us, warehouse_dsn, run_id="r3")["quarantined"] == 0
    assert q(db, "SELECT count(*) FROM ops.dq_quarantine") == [(3,)]


def test_a_tracking_number_is_not_a_phone_number(db, warehouse_dsn, us):
    add_message(db, us.id, "<trk@x>", T0 + timedelta(hours=2),
                body="My USPS tracking number is 9400 1111 2222 3333 4444 55, where is it?")
    assert gate("ingest_mail", us, warehouse_dsn)["quarantined"] == 0


def test_mostly_bad_rows_are_the_batch_s_defect(db, warehouse_dsn, us):
    add_message(db, us.id, "<ok@x>", T0 + timedelta(hours=1))
    for i in range(3):
        add_message(db, us.id, f"<de{i}@x>", T0 + timedelta(hours=2 + i), marketplace="DE")
    with pytest.raises(GateFailed) as info:
        gate("ingest_mail", us, warehouse_dsn, run_id="r2")
    msg = str(info.value)
    assert msg.startswith("store us-outdoor: data-quality gate 'ingest_mail' failed") and "too many rows" in msg
    assert q(db, "SELECT count(*) FROM core.message") == [(4,)]  # nothing set aside: the batch failed
    assert q(db, "SELECT alert_kind, channel FROM ops.alert_log") == [("gate_failed", "log")]
    # another interval of the same store is judged on its own rows
    assert gate("ingest_mail", us, warehouse_dsn, T1, T1 + timedelta(days=1))["success"]


def test_no_mail_where_history_says_there_should_be_is_an_ingestion_failure(db, warehouse_dsn, us):
    for d in range(1, 29):  # 28 days with 8 mails a day
        for i in range(8):
            add_raw_mail(db, us.id, f"<h{d}-{i}@x>", T0 - timedelta(days=d) + timedelta(hours=2 * i))
    with pytest.raises(GateFailed, match="volume"):
        gate("ingest_mail", us, warehouse_dsn)
    add_raw_mail(db, us.id, "<today@x>", T0 + timedelta(hours=3))
    assert gate("ingest_mail", us, warehouse_dsn)["success"]
    # a quiet store (under 5 expected per interval) may have an empty day
    assert gate("ingest_mail", load_registry().store("jp-gadgets"), warehouse_dsn)["success"]


def test_orders_with_defects_are_set_aside(db, warehouse_dsn, us):
    add_order(db, us.id, "111-0000001-0000001", T0 + timedelta(hours=1))
    add_order(db, us.id, "111-0000001-0000002", T0 + timedelta(hours=2))
    add_order(db, us.id, "111-0000001-0000003", T0 + timedelta(hours=3), status="Lost")
    out = gate("ingest_orders", us, warehouse_dsn)
    assert out["quarantined"] == 1
    assert q(db, "SELECT amazon_order_id FROM raw.orders ORDER BY 1") == [("111-0000001-0000001",), ("111-0000001-0000002",)]


def test_rerun_of_a_passing_gate_changes_nothing(db, warehouse_dsn, us):
    add_message(db, us.id, "<a@x>", T0 + timedelta(hours=2))
    gate("ingest_mail", us, warehouse_dsn, run_id="r1")
    before = q(db, "SELECT id, evaluated_at, run_id FROM ops.gate_run"), q(db, "SELECT * FROM ops.dq_results ORDER BY 1,2,3,4,5,6")
    gate("ingest_mail", us, warehouse_dsn, run_id="r2")
    assert (q(db, "SELECT id, evaluated_at, run_id FROM ops.gate_run"),
            q(db, "SELECT * FROM ops.dq_results ORDER BY 1,2,3,4,5,6")) == before


def test_rerun_of_a_failing_gate_over_reshuffled_rows_changes_nothing(db, warehouse_dsn, us, monkeypatch):
    """The failing-row sample is kept in key order: an UPDATE that moves a row to the table's
    end (as a rerun's upserts do) must not rewrite ops.gate_run. The gate's reads scan the heap,
    as PostgreSQL does when a whole day of a busy store is read."""
    monkeypatch.setenv("PGOPTIONS", "-c enable_indexscan=off -c enable_bitmapscan=off -c enable_indexonlyscan=off")
    add_message(db, us.id, "<ok@x>", T0 + timedelta(hours=1))
    for i in range(3):
        add_message(db, us.id, f"<de{i}@x>", T0 + timedelta(hours=2 + i), marketplace="DE")
    with pytest.raises(GateFailed):
        gate("ingest_mail", us, warehouse_dsn, run_id="r1")
    before = q(db, "SELECT id, evaluated_at, run_id, failing_rows::text FROM ops.gate_run")
    assert '"<de0@x>"' in before[0][3]
    with db.cursor() as cur:  # a no-op update writes a new tuple at the end of the heap
        cur.execute("UPDATE core.message SET marketplace = marketplace WHERE message_id IN ('<de0@x>', '<de1@x>')")
    with pytest.raises(GateFailed):
        gate("ingest_mail", us, warehouse_dsn, run_id="r2")
    assert q(db, "SELECT id, evaluated_at, run_id, failing_rows::text FROM ops.gate_run") == before


def test_classify_gate_rejects_unlabelled_and_unknown_labels(db, warehouse_dsn, us):
    add_message(db, us.id, "<a@x>", T0 + timedelta(hours=2), intent=None)
    add_message(db, us.id, "<b@x>", T0 + timedelta(hours=3), intent="shipping_question")
    with pytest.raises(GateFailed, match="labels.intent"):
        gate("classify", us, warehouse_dsn)


def test_alert_gate_every_high_risk_message_was_alerted(db, warehouse_dsn, us):
    add_message(db, us.id, "<hr@x>", T0 + timedelta(hours=2), intent="a_to_z_claim", risk="high")
    with pytest.raises(GateFailed, match="every_high_risk_alerted"):
        gate("alert", us, warehouse_dsn)
    with db.cursor() as cur:
        cur.execute("INSERT INTO ops.alert_log (store_id, alert_kind, subject_key, channel, status) "
                    "VALUES (%s, 'high_risk', '<hr@x>', 'log', 'sent')", (us.id,))
    assert gate("alert", us, warehouse_dsn)["success"]
    # a backfill long after the fact does not re-alert, and the gate knows it
    add_message(db, us.id, "<old@x>", T0 + timedelta(hours=3), intent="a_to_z_claim", risk="high")
    assert gate("alert", us, warehouse_dsn, now=T1 + timedelta(days=5))["success"]


def test_kpi_gate_checks_exactly_the_local_days_of_its_interval(db, warehouse_dsn):
    """Whatever other runs have written, an interval's KPI gate judges the same rows."""
    from seller_inbox.kpi import compute_store_daily

    jp = load_registry().store("jp-gadgets")
    now = T1 + timedelta(days=3)
    compute_store_daily(jp, warehouse_dsn, T0, T1, now=now)
    first = gate("kpi", jp, warehouse_dsn)
    compute_store_daily(jp, warehouse_dsn, T1, T1 + timedelta(days=1), now=now)  # a later day's run
    compute_store_daily(jp, warehouse_dsn, T0 - timedelta(days=5), T0 - timedelta(days=4), now=now)
    assert gate("kpi", jp, warehouse_dsn) == first
    # 2026-11-20 00:00–24:00 UTC is 09:00 on the 20th to 09:00 on the 21st in Tokyo: two local days
    assert first["rows_checked"] == 2


def test_suites_name_their_expectations_uniquely():
    from seller_inbox.gates import LEVELS, SUITES, expectation_name

    for path in SUITES.glob("*.yaml"):
        for b in load_suite(path.stem)["batches"]:
            names = [e.get("name") or expectation_name(e["type"], e.get("kwargs", {})) for e in b["expectations"]]
            assert len(names) == len(set(names)), (path.name, b["name"])
            assert all(e.get("level", "error") in LEVELS for e in b["expectations"])


def add_outbox(db, store_id, key, *, status="sent", findings="[]", mode="auto", outbound_id="<o@x>", sent_at=None):
    with db.cursor() as cur:
        cur.execute("""INSERT INTO core.outbox (idempotency_key, store_id, action, channel, mode, status, lint_findings,
                           outbound_id, sent_at, body) VALUES (%s, %s, 'reply', 'smtp', %s, %s, %s, %s, %s, 'Hello')""",
                    (key, store_id, mode, status, findings, outbound_id, sent_at or NOW))


def test_deliver_gate_nothing_sent_that_should_not_have_been(db, warehouse_dsn, us):
    start, end = NOW - timedelta(days=1), datetime.now(timezone.utc) + timedelta(minutes=1)
    add_outbox(db, us.id, "reply:ok", outbound_id="<ok@x>")
    add_outbox(db, us.id, "reply:held", status="held", outbound_id=None)
    assert gate("deliver", us, warehouse_dsn, start, end)["success"]
    add_outbox(db, us.id, "reply:linted", findings='[{"code": "email_address"}]', outbound_id="<l@x>")
    add_outbox(db, us.id, "reply:shadow", mode="listen", outbound_id="<s@x>")
    with pytest.raises(GateFailed) as info:
        gate("deliver", us, warehouse_dsn, start, end)
    assert "nothing_sent_that_failed_the_linter" in str(info.value) and "listen_mode_never_sends" in str(info.value)
    with db.cursor() as cur:
        cur.execute("DELETE FROM core.outbox WHERE idempotency_key IN ('reply:linted', 'reply:shadow')")
        cur.execute("INSERT INTO ops.delivery_control (scope, kill_switch, changed_by, changed_at) "
                    "VALUES ('global', true, 'lead', %s)", (NOW - timedelta(hours=1),))
    with pytest.raises(GateFailed, match="nothing_sent_under_a_kill_switch"):
        gate("deliver", us, warehouse_dsn, start, end)


def test_levels_and_thresholds_per_store_in_the_registry(db, warehouse_dsn, us):
    """A store that sells cross-border may want odd marketplaces only noted, not set aside;
    a small store may want a dead-mailbox alarm at a lower volume."""
    relaxed = us.model_copy(update={"gates": us.gates.model_validate(
        {"levels": {"ingest_mail.ExpectColumnValuesToBeInSet(marketplace)": "warn"}, "min_expected_mails": 1})})
    add_message(db, us.id, "<ok@x>", T0 + timedelta(hours=1))
    add_message(db, us.id, "<nl@x>", T0 + timedelta(hours=2), marketplace="NL")
    out = gate("ingest_mail", relaxed, warehouse_dsn)
    assert out["quarantined"] == 0 and out["warnings"] == 1
    assert q(db, "SELECT level, success FROM ops.dq_results WHERE expectation = 'ExpectColumnValuesToBeInSet(marketplace)'") == [
        ("warn", False)]
    assert q(db, "SELECT alert_kind FROM ops.alert_log") == [("gate_warning",)]
    for d in range(1, 29):  # two mails a day: under the default threshold of 5 per interval, over 1
        for i in range(2):
            add_raw_mail(db, us.id, f"<h{d}-{i}@x>", T1 + timedelta(days=1) - timedelta(days=d, hours=i))
    later = (T1 + timedelta(days=1), T1 + timedelta(days=2))
    assert gate("ingest_mail", us, warehouse_dsn, *later)["success"]
    with pytest.raises(GateFailed, match="volume_against_history"):
        gate("ingest_mail", relaxed, warehouse_dsn, *later)


def test_the_registry_refuses_an_unknown_expectation():
    from seller_inbox.config import GateSettings

    with pytest.raises(ValueError, match="unknown gate expectation 'ingest_mail.nope'"):
        GateSettings.model_validate({"levels": {"ingest_mail.nope": "warn"}})
