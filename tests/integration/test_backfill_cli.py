"""`seller-inbox backfill`: shows the store's never-read stretches and asks Airflow for a real
backfill (metadata DB on SQLite, the project's DAGs serialized as the DAG processor would)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import timezone

from seller_inbox_dev.demo.run import airflow_env

UTC = timezone.utc


def _cli(env, *args):
    return subprocess.run([sys.executable, "-m", "seller_inbox", *args], env=env, capture_output=True, text=True,
                          timeout=600)


def test_backfill_lists_gaps_and_creates_an_airflow_backfill(tmp_path, db, warehouse_dsn):
    with db.cursor() as cur:
        for a, b in (("2026-11-20", "2026-11-21"), ("2026-11-23", "2026-11-24")):
            cur.execute("INSERT INTO ops.ingest_coverage (store_id, source, interval_start, interval_end) "
                        "VALUES ('us-outdoor', 'mail', %s, %s)", (a, b))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "_AIRFLOW"))}
    env.update(airflow_env(tmp_path), SELLER_INBOX_WAREHOUSE_URL=warehouse_dsn)
    airflow = [str(os.path.join(os.path.dirname(sys.executable), "airflow"))]
    subprocess.run(airflow + ["db", "migrate"], env=env, check=True, capture_output=True, timeout=300)
    subprocess.run(airflow + ["dags", "reserialize"], env=env, check=True, capture_output=True, timeout=300)

    dry = _cli(env, "backfill", "--store", "us-outdoor", "--since", "2026-11-19", "--until", "2026-11-25", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "mail    2026-11-21 00:00 – 2026-11-23 00:00 UTC" in dry.stdout and "dry run" in dry.stdout

    run = _cli(env, "backfill", "--store", "us-outdoor", "--since", "2026-11-21", "--until", "2026-11-23")
    assert run.returncode == 0, run.stdout + run.stderr
    with sqlite3.connect(tmp_path / "airflow" / "airflow.db") as meta:
        got = meta.execute("SELECT dag_id, from_date, to_date, reprocess_behavior, max_active_runs "
                           "FROM backfill").fetchall()
        runs = meta.execute("SELECT substr(data_interval_start, 1, 10), substr(data_interval_end, 1, 10) FROM dag_run "
                            "WHERE dag_id = 'si_us-outdoor_pipeline' AND run_type = 'backfill' "
                            "ORDER BY data_interval_start").fetchall()
    assert [(d, f[:10], t[:10], r, m) for d, f, t, r, m in got] == [
        ("si_us-outdoor_pipeline", "2026-11-21", "2026-11-22", "failed", 1)]
    # --until is exclusive: exactly the never-read gap 11-21 00:00 – 11-23 00:00, one day per run
    assert runs == [("2026-11-21", "2026-11-22"), ("2026-11-22", "2026-11-23")]

    for bad, msg in ((["--store", "nope", "--since", "2026-11-21"], "unknown store 'nope'"),
                     (["--store", "us-outdoor", "--since", "soon"], "not a date"),
                     (["--store", "us-outdoor", "--since", "2026-11-22", "--until", "2026-11-21"], "must be after")):
        r = _cli(env, "backfill", *bad)
        assert r.returncode == 1 and msg in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
