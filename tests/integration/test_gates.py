"""The gate pattern: a GX validation fails the gate, records the failing rows and alerts."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from seller_inbox.config import load_registry
from seller_inbox.gates import GateFailed, run_gate

from .rows import add_message, add_order

T0 = datetime(2026, 11, 20, tzinfo=timezone.utc)
T1 = T0 + timedelta(days=1)


@pytest.fixture
def us():
    return load_registry().store("us-outdoor")


def test_clean_batch_passes_and_is_recorded(db, warehouse_dsn, us):
    add_order(db, us.id, "111-0000001-0000001", T0 + timedelta(hours=1))
    add_message(db, us.id, "<a@x>", T0 + timedelta(hours=2))
    add_message(db, us.id, "<b@x>", T0 + timedelta(hours=3), order_id=None, body="Is it waterproof? [EMAIL]")
    add_message(db, us.id, "<c@x>", T0 + timedelta(hours=4), body="Order 111-0000001-0000001 was due on 2026-11-18, call me at [PHONE]")
    out = run_gate("ingest", us, warehouse_dsn, T0, T1, run_id="r1")
    assert out == {"stage": "ingest", "rows_checked": 4, "success": True}
    with db.cursor() as cur:
        cur.execute("SELECT success, rows_checked FROM ops.gate_run WHERE store_id = %s AND stage = 'ingest'", (us.id,))
        assert cur.fetchall() == [(True, 4)]


def test_leaked_personal_data_fails_the_gate_with_the_rows(db, warehouse_dsn, us):
    add_message(db, us.id, "<ok@x>", T0 + timedelta(hours=2))
    add_message(db, us.id, "<leak@x>", T0 + timedelta(hours=4), body="write to john.smith@gmail.com please")
    add_message(db, us.id, "<mp@x>", T0 + timedelta(hours=5), marketplace="DE")  # not one of this store's
    add_message(db, us.id, "<phone@x>", T0 + timedelta(hours=6), body="ruf mich an: +49 170 1234567")
    with pytest.raises(GateFailed) as info:
        run_gate("ingest", us, warehouse_dsn, T0, T1, run_id="r2")
    msg = str(info.value)
    assert msg.startswith("store us-outdoor: data-quality gate 'ingest' failed") and "ops.gate_run" in msg
    with db.cursor() as cur:
        cur.execute("SELECT success, failed_expectations, failing_rows FROM ops.gate_run WHERE stage = 'ingest'")
        success, failed, rows = cur.fetchone()
        assert success is False
        assert {f["expectation"] for f in failed} == {"expect_column_values_to_not_match_regex", "expect_column_values_to_be_in_set"}
        assert {r["message_id"] for r in rows} == {"<leak@x>", "<mp@x>", "<phone@x>"}
        cur.execute("SELECT alert_kind, channel FROM ops.alert_log WHERE store_id = %s", (us.id,))
        assert cur.fetchall() == [("gate_failed", "log")]
    # another interval of the same store is judged on its own rows
    assert run_gate("ingest", us, warehouse_dsn, T1, T1 + timedelta(days=1))["success"]


def test_rerun_of_a_passing_gate_changes_nothing(db, warehouse_dsn, us):
    add_message(db, us.id, "<a@x>", T0 + timedelta(hours=2))
    run_gate("ingest", us, warehouse_dsn, T0, T1, run_id="r1")
    with db.cursor() as cur:
        cur.execute("SELECT id, evaluated_at, run_id FROM ops.gate_run")
        before = cur.fetchall()
        run_gate("ingest", us, warehouse_dsn, T0, T1, run_id="r2")
        cur.execute("SELECT id, evaluated_at, run_id FROM ops.gate_run")
        assert cur.fetchall() == before


def test_classify_gate_rejects_unlabelled_and_unknown_labels(db, warehouse_dsn, us):
    add_message(db, us.id, "<a@x>", T0 + timedelta(hours=2), intent=None)
    add_message(db, us.id, "<b@x>", T0 + timedelta(hours=3), intent="shipping_question")
    with pytest.raises(GateFailed, match="labels.intent"):
        run_gate("classify", us, warehouse_dsn, T0, T1)


def test_kpi_gate_checks_exactly_the_local_days_of_its_interval(db, warehouse_dsn):
    """Whatever other runs have written, an interval's KPI gate judges the same rows."""
    from seller_inbox.kpi import compute_store_daily

    jp = load_registry().store("jp-gadgets")
    now = T1 + timedelta(days=3)
    compute_store_daily(jp, warehouse_dsn, T0, T1, now=now)
    first = run_gate("kpi", jp, warehouse_dsn, T0, T1)
    compute_store_daily(jp, warehouse_dsn, T1, T1 + timedelta(days=1), now=now)  # a later day's run
    compute_store_daily(jp, warehouse_dsn, T0 - timedelta(days=5), T0 - timedelta(days=4), now=now)
    assert run_gate("kpi", jp, warehouse_dsn, T0, T1) == first
    # 2026-11-20 00:00–24:00 UTC is 09:00 on the 20th to 09:00 on the 21st in Tokyo: two local days
    assert first["rows_checked"] == 2
