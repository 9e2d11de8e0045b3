"""Delivery through real Airflow (dag.test in a fresh process), the SP-API simulator, a Maildir,
real PostgreSQL and a real SMTP server: the store in ``auto`` for order status gets its
replies out once each, even when the deliver task is SIGKILLed right after the SMTP
transaction, and reruns send nothing more.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg2
import pytest
import yaml
from cryptography.fernet import Fernet

from seller_inbox.config import DEFAULT_REGISTRY, load_registry
from seller_inbox.delivery.deliver import CRASH_AFTER_SEND_ENV
from seller_inbox_dev.demo.run import airflow_env, connection_env, demo_sender
from seller_inbox.paths import REPO_ROOT
from tests.e2e.test_store_never_quiet import _relay
from tests.servers.smtp import SmtpServer

UTC = timezone.utc
STORE = "us-outdoor"


@pytest.fixture(scope="module")
def world(new_database, tmp_path_factory):
    from seller_inbox import warehouse
    from seller_inbox_dev.demo.mail import deliver, write_demo_mail
    from seller_inbox_dev.sandbox.data import generate_orders
    from seller_inbox_dev.sandbox.server import start as start_sim

    base = tmp_path_factory.mktemp("deliver_af")
    url = new_database("si_deliver")
    warehouse.migrate(url)
    reg = yaml.safe_load(Path(DEFAULT_REGISTRY).read_text())
    reg["stores"] = [s for s in reg["stores"] if s["id"] == STORE]
    reg_path = base / "stores.yaml"
    reg_path.write_text(yaml.safe_dump(reg, sort_keys=False))
    stores = load_registry(reg_path).stores
    day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
    maildir = base / "maildir"
    write_demo_mail(maildir, stores, day - timedelta(days=1), day + timedelta(days=1), seed=7)
    orders = [o for o in generate_orders(stores[0].seller_id, day - timedelta(days=12), day - timedelta(days=10))
              if o.order_status == "Shipped"][:3]
    for i, o in enumerate(orders):  # order-status questions nobody answered yet, on orders the SP-API knows
        when = day + timedelta(hours=14 + i)
        mid = f"<wismo{i}@relay.example>"
        deliver(maildir / STORE, bytes(_relay(f"wismo{i}x@marketplace.amazon.com", when,
                                              f"Order delivery inquiry from Amazon customer Pat (Order: {o.amazon_order_id})",
                                              "Hi, what is the status of my order? Has it shipped yet?", mid)), when, mid)
    sim = start_sim(host="127.0.0.1", port=0, seed=42)
    smtp = SmtpServer(maildir=base / "buyers", sent_copy={demo_sender(stores[0]): maildir / STORE}).start()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AIRFLOW_CONN_", "AIRFLOW__", "_AIRFLOW")) and k != "AIRFLOW_HOME"}
    env.update(airflow_env(base))
    env.update(connection_env(stores, sim.url, maildir, url, smtp_port=smtp.port,
                              crypto_key=Fernet.generate_key().decode()))
    env.update({"SELLER_INBOX_STORES": str(reg_path), "SELLER_INBOX_WAREHOUSE_URL": url, "SELLER_INBOX_HOME": str(base),
                "PYTHONPATH": str(REPO_ROOT), "SELLER_INBOX_AS_OF": (day + timedelta(days=1)).isoformat()})
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=env, check=True, capture_output=True,
                   timeout=300)
    yield {"env": env, "url": url, "smtp": smtp, "day": day}
    smtp.stop()
    sim.stop()


def _run(world, *runs: tuple[str, datetime], extra_env: dict | None = None) -> tuple[list[dict], int]:
    arg = json.dumps([[d, t.isoformat()] for d, t in runs])
    p = subprocess.run([sys.executable, "-m", "tests.e2e.airflow_driver", arg], env={**world["env"], **(extra_env or {})},
                       cwd=REPO_ROOT, capture_output=True, text=True, timeout=900)
    out = [json.loads(line[7:]) for line in p.stdout.splitlines() if line.startswith("RESULT ")]
    return out, p.returncode


def _q(url: str, sql: str, args=()) -> list[tuple]:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def test_auto_replies_reach_buyers_once_even_when_the_deliver_task_is_killed(world):
    url, day, smtp = world["url"], world["day"], world["smtp"]
    (run,), _ = _run(world, (f"si_{STORE}_pipeline", day + timedelta(days=1)))
    assert run["tasks"]["act"] == "success", run
    queued = _q(url, "SELECT count(*) FROM core.outbox WHERE status = 'queued' AND mode = 'auto'")[0][0]
    assert queued >= 2, _q(url, "SELECT mode, status, status_reason, count(*) FROM core.outbox GROUP BY 1, 2, 3")
    assert _q(url, "SELECT count(*) FROM core.outbox WHERE status = 'shadow'")[0][0] > 0  # listen intents
    # the deliver task is SIGKILLed right after its first SMTP transaction ...
    out, rc = _run(world, (f"si_{STORE}_deliver", day + timedelta(days=1)), extra_env={CRASH_AFTER_SEND_ENV: "1"})
    assert out == [] and rc == -9
    assert len(smtp.messages) == 1
    # ... and the rerun sends each reply once: the interrupted one is found in the Sent folder
    (run,), _ = _run(world, (f"si_{STORE}_deliver", day + timedelta(days=1, minutes=5)))
    assert run["tasks"] == {"deliver": "success", "gate_deliver": "success", "review_scan": "success"}, run
    rcpts = [r for m in smtp.messages for r in m["rcpt_tos"]]
    assert len(rcpts) == len(set(rcpts)) == queued
    assert all(r.endswith("@marketplace.amazon.com") for r in rcpts)
    assert all(m["message"]["In-Reply-To"] and m["message"]["References"] for m in smtp.messages)
    sent = _q(url, "SELECT outbound_id, in_reply_to FROM core.outbox WHERE status = 'sent' AND action = 'reply'")
    assert len(sent) == queued
    # the deliver DAG's daily review_scan queued review requests, and deliver sent each once
    ((scans,),) = _q(url, "SELECT count(*) FROM ops.review_scan_day WHERE store_id = %s", (STORE,))
    reviews = _q(url, "SELECT order_id FROM core.outbox WHERE action = 'review_request' AND status = 'sent'")
    assert scans == 1 and len(reviews) == len(set(reviews))
    assert {m["message"]["Message-ID"] for m in smtp.messages} == {o for o, _ in sent}
    # the KPI tables count them as responses
    replies = _q(url, "SELECT count(*) FROM core.message m JOIN core.outbox o ON o.outbound_id = m.message_id "
                      "WHERE m.kind = 'seller_reply'")[0][0]
    assert replies == queued
    answered = _q(url, "SELECT count(*) FROM core.message b JOIN core.outbox o ON o.message_id = b.message_id "
                       "AND o.status = 'sent' WHERE b.reply_message_id = o.outbound_id")[0][0]
    assert answered == queued
    # rerunning the day's pipeline and the deliver DAG sends nothing more
    n = len(smtp.messages)
    (pipe, dlv), _ = _run(world, (f"si_{STORE}_pipeline", day + timedelta(days=1)),
                          (f"si_{STORE}_deliver", day + timedelta(days=1, minutes=10)))
    assert pipe["tasks"]["act"] == "success" and set(dlv["tasks"].values()) == {"success"}
    assert set(dlv["tasks"]) == {"deliver", "gate_deliver", "review_scan"}
    assert len(smtp.messages) == n


def test_a_long_token_wait_reschedules_ingest_orders_and_frees_its_slot(world):
    """The store's searchOrders bucket is spent (Amazon's real rate: one call per 3 minutes): the task is
    rescheduled (up_for_reschedule, no retry spent) for when the token is due, and completes."""
    import sqlite3

    url, day = world["url"], world["day"]
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO ops.api_bucket (store_id, operation, tokens, updated_at) "
                    "VALUES (%s, 'searchOrders', 0.96, clock_timestamp() + interval '45 seconds') "
                    "ON CONFLICT (store_id, operation) DO UPDATE SET tokens = 0.96, "
                    "updated_at = clock_timestamp() + interval '45 seconds'", (STORE,))
        # as if other workers had reserved the next 45 s of tokens and one more: whenever the task
        # gets there (20-30 s from now), its token is due well over 5 s later
    (run,), _ = _run(world, (f"si_{STORE}_pipeline", day))
    assert run["tasks"]["ingest_orders"] == "success" and run["state"] == "success", run
    db = world["env"]["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].removeprefix("sqlite:///")
    with sqlite3.connect(db) as af:
        rescheduled = af.execute("SELECT count(*) FROM task_reschedule r JOIN task_instance ti ON ti.id = r.ti_id "
                                 "WHERE ti.task_id = 'ingest_orders' AND ti.run_id = ?", (run_id := af.execute(
                                     "SELECT run_id FROM dag_run WHERE dag_id = ? ORDER BY id DESC LIMIT 1",
                                     (f"si_{STORE}_pipeline",)).fetchone()[0],)).fetchone()[0]
        tries = af.execute("SELECT try_number FROM task_instance WHERE task_id = 'ingest_orders' AND run_id = ?",
                           (run_id,)).fetchone()[0]
    assert rescheduled >= 1 and tries == 1   # a reschedule, not a retry
    deferred = _q(url, "SELECT waited_ms FROM ops.api_calls WHERE store_id = %s AND outcome = 'deferred'", (STORE,))
    assert deferred and all(w > 5000 for (w,) in deferred)
    assert _q(url, "SELECT count(*) FROM ops.orders_read") == [(0,)]
    assert _q(url, "SELECT count(*) FROM ops.orders_window WHERE store_id = %s AND window_start = %s",
              (STORE, day - timedelta(days=1)))[0][0] == 1
