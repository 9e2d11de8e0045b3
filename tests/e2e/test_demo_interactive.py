"""The interactive run command, end to end: airflow standalone, real backfills through the scheduler.

Starts `seller-inbox demo --days 1` as a user would, waits until it prints the UI address,
checks the UI answers and the backfill runs succeeded, then stops it with Ctrl-C.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request

import psycopg2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_run_command_serves_the_ui_and_backfills_every_store(new_database, tmp_path):
    url = new_database("si_live")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not (k.startswith("AIRFLOW") or k.startswith("_AIRFLOW"))}
    env.update({"SELLER_INBOX_HOME": str(tmp_path), "SELLER_INBOX_WAREHOUSE_URL": url})
    proc = subprocess.Popen([sys.executable, "-m", "seller_inbox", "demo", "--days", "2", "--port", str(port)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    lines: list[str] = []
    try:
        deadline = time.time() + 600
        while time.time() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "Airflow UI" in line:
                break
        out = "".join(lines)
        assert "Airflow UI" in out, out[-4000:]
        assert f"http://localhost:{port}" in out
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/monitor/health", timeout=10) as r:
            assert json.load(r)["scheduler"]["status"] == "healthy"
        db = tmp_path / "airflow" / "airflow.db"
        with sqlite3.connect(db) as c:
            runs = c.execute("SELECT dag_id, substr(logical_date, 1, 10), run_type, state FROM dag_run "
                             "WHERE dag_id LIKE '%pipeline' ORDER BY 1, 2").fetchall()
        pipelines = ["si_eu-home_pipeline", "si_jp-gadgets_pipeline", "si_us-outdoor_pipeline"]
        # two days per store, each run to success; the older day always by the backfill
        assert sorted({(d, day) for d, day, _, st in runs if st == "success"}) == sorted(
            (d, day) for d in pipelines for day in sorted({r[1] for r in runs}))
        assert len({r[1] for r in runs}) == 2
        assert {d for d, _, typ, st in runs if typ == "backfill" and st == "success"} == set(pipelines)
        with psycopg2.connect(url) as conn, conn.cursor() as cur:
            cur.execute("SELECT DISTINCT store_id FROM kpi.store_daily ORDER BY 1")
            assert [r[0] for r in cur.fetchall()] == ["eu-home", "jp-gadgets", "us-outdoor"]
        for s in ("us-outdoor", "eu-home", "jp-gadgets"):
            assert s in out  # the KPI table
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
