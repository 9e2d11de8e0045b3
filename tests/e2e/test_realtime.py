"""Real time, end to end: Airflow's scheduler, dag-processor, triggerer and api-server as processes,
a real Dovecot, PostgreSQL and a WeCom webhook receiver (tests/e2e/realtime_stack.py).

One stack (module fixture, about two minutes to start on 2 cores) serves the story:

1. a high-risk buyer mail APPENDed to the store's mailbox reaches the webhook, through the
   mailbox watcher in the triggerer and the urgent DAG — no schedule involved;
2. mails appended at random moments, some in bursts, give one alert each;
3. Dovecot is killed while the watcher is in IDLE; a mail delivered during the outage is
   alerted after the watcher reconnects, once;
4. the scheduled pipeline's own stages then run over the same day: they store, classify and
   alert nothing more (one alert log, one idempotency for both DAGs).
"""

from __future__ import annotations

import random
import subprocess
import sys
import time

import psycopg2
import pytest

from .realtime_stack import STORE, RealtimeStack, kill_tree, relay_mail


@pytest.fixture(scope="module")
def stack(new_database, tmp_path_factory):
    s = RealtimeStack(tmp_path_factory.mktemp("realtime"), new_database("si_realtime"), idle_renew_s=20)
    try:
        yield s.start()
    finally:
        s.stop()


def _order(n: int) -> str:
    return f"114-{7000000 + n:07d}-{1000000 + n:07d}"


def _q(url: str, sql: str, args=()) -> list[tuple]:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def test_an_appended_high_risk_mail_reaches_the_webhook(stack):
    sent = stack.send(1, _order(1))
    got = stack.wait_alerts({_order(1)}, timeout=180)
    assert len(got[_order(1)]) == 1
    print(f"APPEND -> webhook: {got[_order(1)][0] - sent:.1f} s")
    runs = _q(stack.url, "SELECT count(*) FROM ops.alert_log WHERE store_id = %s AND alert_kind = 'high_risk' "
                         "AND status = 'sent'", (STORE,))
    assert runs == [(1,)]


def test_mails_at_random_moments_each_alert_once(stack):
    rng = random.Random(14)
    orders = [_order(n) for n in range(10, 30)]   # 20 mails
    for i, order in enumerate(orders):
        stack.send(100 + i, order)
        time.sleep(rng.choice([0, 0, 0.3, 2, 5, 9]))  # bursts (several in one run) and gaps
    got = stack.wait_alerts(set(orders), timeout=300)
    time.sleep(5)  # a late duplicate would arrive now
    got = stack.alerts()
    assert {o: len(got[o]) for o in orders} == {o: 1 for o in orders}


def test_mail_during_a_server_outage_is_alerted_after_reconnection_once(stack):
    srv = stack.dovecot
    kill_tree(srv.proc.pid)  # mid-IDLE: the watcher's connection dies with the server
    srv.proc.wait(10)
    srv.proc = None
    raw, _ = relay_mail(500, _order(500), "Item arrived broken. I will open an A-to-z claim unless refunded.")
    new = srv.maildir(stack.user) / "new"  # the MTA delivers while IMAP is down
    (new / f"{time.time_ns()}.outage.rt").write_bytes(raw)
    time.sleep(4)
    assert _order(500) not in stack.alerts()
    srv.start()
    got = stack.wait_alerts({_order(500)}, timeout=240)
    time.sleep(5)
    assert len(stack.alerts()[_order(500)]) == 1 and len(got) >= 1


def test_the_scheduled_pipeline_over_the_same_day_alerts_nothing_twice(stack):
    before = {o: len(t) for o, t in stack.alerts().items()}
    code = (
        "import json, datetime as d\n"
        "from seller_inbox import stages\n"
        "from seller_inbox.config import get_registry\n"
        "from seller_inbox.warehouse import dsn\n"
        f"s = get_registry().store({STORE!r}); url = dsn()\n"
        "end = d.datetime.now(d.timezone.utc) + d.timedelta(minutes=5); start = end - d.timedelta(days=1)\n"
        "run = stages.RunInfo(dag_id='si_us-outdoor_pipeline', run_id='scheduled__rt', run_type='scheduled')\n"
        "out = {k: getattr(stages, k)(s, url, start, end, run) for k in ('ingest_mail', 'classify', 'alert')}\n"
        "print('OUT' + json.dumps(out, default=str))\n")
    p = subprocess.run([sys.executable, "-c", code], env=stack.env, capture_output=True, text=True, timeout=300)
    line = next((x for x in p.stdout.splitlines() if x.startswith("OUT")), None)
    assert line, p.stderr[-3000:]
    import json

    out = json.loads(line[3:])
    assert out["ingest_mail"]["stored"] == 0 and out["ingest_mail"]["seen"] >= 14
    assert out["classify"]["classified"] == 0
    assert out["alert"]["sent"] == 0 and out["alert"]["already_sent"] >= 14
    time.sleep(2)
    assert {o: len(t) for o, t in stack.alerts().items()} == before
