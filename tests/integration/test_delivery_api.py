"""Delivery through the SP-API channels, crash-safe: a deliver process SIGKILLed right after the
Solicitations API call sends nothing twice on the rerun; a proactive message whose outcome
nobody can settle is given up after a few hours with one alert. Real simulator over HTTP, real
PostgreSQL, the deliverer in a subprocess for the crash."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone

from seller_inbox.delivery import messaging, review_scan, solicitations
from seller_inbox.delivery.deliver import CRASH_AFTER_SEND_ENV, UNKNOWN_AFTER, UNKNOWN_ALERT, deliver_store
from seller_inbox.paths import REPO_ROOT
from tests.integration.conftest_spapi import rows, sandbox, stores  # noqa: F401 (fixtures)
from tests.integration.test_review_requests import SELLER, hook, loaded  # noqa: F401 (fixture)

UTC = timezone.utc


def solicitations_made(sandbox) -> list[str]:
    return [m["amazon_order_id"] for m in sandbox.state.mutations(SELLER) if m["type"] == "solicitation"]


def test_killed_right_after_the_solicitations_call_the_rerun_sends_nothing_twice(loaded, db, warehouse_dsn, sandbox):
    store, _ = loaded
    assert review_scan.scan_review_requests(store, warehouse_dsn)["queued"] > 1
    noon = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)   # outside quiet hours
    code = ("import sys; from datetime import datetime; from seller_inbox.config import get_registry;"
            "from seller_inbox.delivery.deliver import deliver_store;"
            "deliver_store(get_registry().store('eu-home'), sys.argv[1], now=datetime.fromisoformat(sys.argv[2]))")
    env = {**os.environ, CRASH_AFTER_SEND_ENV: "1", "PYTHONPATH": str(REPO_ROOT)}
    p = subprocess.run([sys.executable, "-c", code, warehouse_dsn, noon.isoformat()], env=env, cwd=REPO_ROOT,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == -9, p.stderr[-2000:]
    (first,) = solicitations_made(sandbox)                       # Amazon took one, then the process died
    ((key, status),) = rows(db, "SELECT idempotency_key, status FROM core.outbox WHERE status <> 'queued'")
    assert status == "sending" and key == f"review_request:eu-home:{first}"
    h = hook(store, warehouse_dsn)
    try:
        out = deliver_store(store, warehouse_dsn, now=noon + timedelta(minutes=5), sp_client=h)
        assert out["reconciled_sent"] == 1                       # settled through the journal / Amazon, not resent
        deliver_store(store, warehouse_dsn, now=noon + timedelta(minutes=10), sp_client=h)
    finally:
        h.close()
    made = solicitations_made(sandbox)
    assert made.count(first) == 1 and len(made) == len(set(made))
    assert rows(db, "SELECT status FROM core.outbox WHERE idempotency_key = %s", key) == [("sent",)]
    assert rows(db, "SELECT count(*) FROM core.outbox WHERE status = 'sent'")[0][0] == len(made)
    assert solicitations.already_done(hook(store, warehouse_dsn), store, {"idempotency_key": key, "order_id": first,
                                                                           "marketplace": None}) is True


def test_a_proactive_message_nobody_can_settle_fails_after_hours_with_one_alert(stores, db, warehouse_dsn, sandbox):
    store = stores["eu-home"]
    now = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    oid, kind = "302-0000001-0000001", "confirmDeliveryDetails"
    key = messaging.idempotency_key(store.id, oid, kind)
    with db.cursor() as cur:
        assert messaging.queue_proactive(cur, store.id, oid, kind, marketplace="DE", locale="de-DE",
                                         body=f"Guten Tag, Ihre Bestellung {oid} ist unterwegs.")
        # as a run killed after the request went out leaves it: claimed, the journal says 'calling'
        cur.execute("UPDATE core.outbox SET status = 'sending', outbound_id = 'si-x', sending_at = %s, attempts = 1",
                    (now - timedelta(minutes=30),))
    h = hook(store, warehouse_dsn)
    try:
        messaging.Journal(h).begin(key, store.id, "createConfirmDeliveryDetails", oid)
        assert messaging.already_done(h, store, {"idempotency_key": key}) is None
        assert deliver_store(store, warehouse_dsn, now=now, sp_client=h)["unreconciled"] == 1
        assert rows(db, "SELECT status FROM core.outbox") == [("sending",)]
        out = deliver_store(store, warehouse_dsn, now=now - timedelta(minutes=30) + UNKNOWN_AFTER, sp_client=h)
        assert out["outcome_unknown"] == 1 and out["failed"] == 1
        for later in (1, 2):
            out = deliver_store(store, warehouse_dsn, now=now + UNKNOWN_AFTER + timedelta(hours=later), sp_client=h)
            assert not out.get("sent") and not out.get("outcome_unknown")
    finally:
        h.close()
    ((status, reason),) = rows(db, "SELECT status, status_reason FROM core.outbox")
    assert status == "failed" and reason.startswith("outcome unknown; check Seller Central")
    alerts = rows(db, "SELECT subject_key, channel, payload->>'message' FROM ops.alert_log WHERE alert_kind = %s",
                  UNKNOWN_ALERT)
    assert len(alerts) == 1 and alerts[0][:2] == (key, "log") and oid in alerts[0][2]
    assert [m for m in sandbox.state.mutations(SELLER) if m["type"] == "message"] == []
