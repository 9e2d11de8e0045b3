"""The headless run command, end to end: every stage, every demo store, real Airflow runs.

`seller-inbox demo --once` on a fresh warehouse must exit 0 and print a KPI row per store;
running it again over the same days must leave every warehouse table unchanged.
"""

from __future__ import annotations

import os
import subprocess
import sys

import psycopg2
import pytest

from .snapshot import fingerprint

STORES = ("us-outdoor", "eu-home", "jp-gadgets")


@pytest.fixture(scope="module")
def demo_env(new_database, tmp_path_factory):
    url = new_database("si_demo")
    home = tmp_path_factory.mktemp("home")
    env = {**os.environ, "SELLER_INBOX_HOME": str(home), "SELLER_INBOX_WAREHOUSE_URL": url}
    for k in list(env):
        if k.startswith("AIRFLOW_CONN_") or k.startswith("AIRFLOW__") or k == "AIRFLOW_HOME":
            env.pop(k)
    return env, url


def _run(env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "seller_inbox", "demo", "--once", "--days", "2"],
                          env=env, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def first_run(demo_env):
    env, url = demo_env
    out = _run(env)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return out


def test_headless_run_prints_a_kpi_row_per_store(first_run):
    table = first_run.stdout
    assert "KPIs" in table
    for s in STORES:
        assert s in table


def test_every_stage_left_its_mark(first_run, demo_env):
    _, url = demo_env
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT store_id, count(*) FROM core.message WHERE kind = 'buyer_message' GROUP BY 1")
        assert set(dict(cur.fetchall())) == set(STORES)
        cur.execute("SELECT count(*) FROM core.message WHERE direction = 'inbound' AND intent IS NULL")
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT count(DISTINCT store_id) FROM raw.orders")
        assert cur.fetchone()[0] == 3
        cur.execute("SELECT store_id, count(DISTINCT marketplace) FROM kpi.store_daily GROUP BY 1")
        assert dict(cur.fetchall()) == {"us-outdoor": 1, "eu-home": 4, "jp-gadgets": 1}
        cur.execute("SELECT DISTINCT stage FROM ops.gate_run WHERE success")
        assert {r[0] for r in cur.fetchall()} == {"ingest_mail", "ingest_orders", "classify", "alert", "act", "kpi", "deliver"}
        cur.execute("SELECT count(*) FROM ops.gate_run WHERE NOT success")
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT status FROM ops.store_auth ORDER BY store_id")
        assert [r[0] for r in cur.fetchall()] == ["ok", "ok", "ok"]
        cur.execute("SELECT DISTINCT mode FROM core.outbox WHERE store_id = 'us-outdoor'")
        assert {"auto", "draft"} <= {r[0] for r in cur.fetchall()}


def test_second_run_over_the_same_days_changes_nothing(first_run, demo_env):
    env, url = demo_env
    with psycopg2.connect(url) as conn:
        before = fingerprint(conn)
    out = _run(env)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    with psycopg2.connect(url) as conn:
        after = fingerprint(conn)
    changed = {k: (before.get(k), after.get(k)) for k in set(before) | set(after) if before.get(k) != after.get(k)}
    assert changed == {}
