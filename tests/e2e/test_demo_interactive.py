"""The interactive run command, end to end: Airflow's components, real backfills through the scheduler.

One start of `seller-inbox demo --days 2` (module fixture) as a user would, on a fresh home,
serves both tests: first the scheduler is SIGKILLed mid-run and the command must say so and
recover (or exit non-zero); then the UI, the login, the binding and the backfill runs are
checked, and Ctrl-C stops it. Its KPI table is kept for test_demo_once.py (conftest.py), which
checks that `--once` prints the same one.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import time
import urllib.request
from pathlib import Path

import psycopg2
import pytest

from .live_demo import CLOSING, Demo, free_port, kpi_table

# the demo's start, the backfills, a scheduler kill and the recovery: far more than the suite's
# default 600 s per test on a loaded 2-core machine (setup counts against the first test)
pytestmark = pytest.mark.timeout(2400)

PIPELINES = ["si_eu-home_pipeline", "si_jp-gadgets_pipeline", "si_us-outdoor_pipeline"]


@pytest.fixture(scope="module")
def demo(new_database, tmp_path_factory, printed_tables):
    d = Demo(tmp_path_factory.mktemp("demo-home"), new_database("si_live"), free_port())
    try:
        yield d
    finally:
        d.stop()
        if CLOSING in d.out:  # test_demo_once.py compares its tables with this one
            printed_tables["interactive"] = kpi_table(d.out)


def _task_started(db: Path) -> bool:
    try:
        with sqlite3.connect(db, timeout=10) as c:
            return c.execute("SELECT count(*) FROM task_instance WHERE state IN ('running', 'success')").fetchone()[0] > 0
    except sqlite3.Error:
        return False


def test_a_killed_scheduler_is_named_and_restarted(demo):
    assert demo.wait_for("• backfill us-outdoor", 600), demo.out[-4000:]
    db = demo.home / "airflow" / "airflow.db"
    deadline = time.monotonic() + 300
    while not _task_started(db) and time.monotonic() < deadline:
        time.sleep(1)
    assert _task_started(db), demo.out[-4000:]
    schedulers = [pid for pid, cmd in demo.children().items() if "airflow scheduler" in cmd]
    assert len(schedulers) == 1, demo.children()
    mark = len(demo.lines)
    os.kill(schedulers[0], signal.SIGKILL)
    assert demo.wait_for("Airflow scheduler died", 60, start=mark), demo.out[-4000:]
    restarted = demo.wait_for("restarting the scheduler", 5, start=mark)
    if restarted:   # within the minute a new scheduler runs in its place
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not [
                p for p, cmd in demo.children().items() if "airflow scheduler" in cmd and p != schedulers[0]]:
            time.sleep(1)
        assert [p for p, cmd in demo.children().items() if "airflow scheduler" in cmd and p != schedulers[0]], \
            demo.children()
    else:
        assert demo.proc.poll() not in (None, 0), demo.out[-4000:]
        return
    # then it recovers: every run finishes, the KPI table and the closing lines (a loaded 2-core
    # machine may need many minutes for the runs the kill interrupted)
    assert demo.wait_for(CLOSING, 1200, start=mark) or demo.proc.poll() not in (None, 0), demo.out[-4000:]
    if demo.proc.poll() is None:
        for s in ("us-outdoor", "eu-home", "jp-gadgets"):
            assert s in "".join(demo.lines[mark:])  # the KPI table


def test_run_command_serves_the_ui_and_backfills_every_store(demo):
    assert demo.wait_for(CLOSING, 480), demo.out[-4000:]
    out, port, url = demo.out, demo.port, demo.url
    base = f"http://127.0.0.1:{port}"
    first_ui = next(i for i, l in enumerate(demo.lines) if "Airflow UI" in l)
    first_backfill = next(i for i, l in enumerate(demo.lines) if "• backfill" in l)
    assert first_ui < first_backfill, out  # the login as soon as the UI is up, not only at the end
    pw = json.loads((demo.home / "airflow" / "simple_auth_manager_passwords.json.generated").read_text())
    assert out.count(f"{base}   login 登录: admin / {pw['admin']}") == 2, out
    with urllib.request.urlopen(f"{base}/api/v2/monitor/health", timeout=10) as r:
        assert json.load(r)["scheduler"]["status"] == "healthy"
    assert _listening(port) == {"127.0.0.1"}  # the UI on this machine only
    db = demo.home / "airflow" / "airflow.db"
    with sqlite3.connect(db) as c:
        runs = c.execute("SELECT dag_id, substr(logical_date, 1, 10), run_type, state FROM dag_run "
                         "WHERE dag_id LIKE '%pipeline' ORDER BY 1, 2").fetchall()
    # two days per store, each run to success; the older day always by the backfill
    assert sorted({(d, day) for d, day, _, st in runs if st == "success"}) == sorted(
        (d, day) for d in PIPELINES for day in sorted({r[1] for r in runs}))
    assert len({r[1] for r in runs}) == 2
    assert {d for d, _, typ, st in runs if typ == "backfill" and st == "success"} == set(PIPELINES)
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT DISTINCT store_id FROM kpi.store_daily ORDER BY 1")
        assert [r[0] for r in cur.fetchall()] == ["eu-home", "jp-gadgets", "us-outdoor"]
    for s in ("us-outdoor", "eu-home", "jp-gadgets"):
        assert s in out  # the KPI table
    assert "runs: us-outdoor" in out or "runs: eu-home" in out  # progress per store, piped output


def _listening(port: int) -> set[str]:
    """The IPv4 addresses a socket listens on for this port (/proc/net/tcp; 0.0.0.0 = every interface)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        addr, p = local.split(":")
        if state == "0A" and int(p, 16) == port:
            found.add(socket.inet_ntoa(bytes.fromhex(addr)[::-1]))
    return found
