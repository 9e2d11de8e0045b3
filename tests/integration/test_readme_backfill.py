"""The README's backfill command, taken verbatim from README.md and run from a plain shell
against a demo Airflow home (SQLite metadata DB migrated, the project's DAGs serialized as the
DAG processor would): it processes exactly the days it names, none before, none after, none
skipped, one run at a time — also when the demo's ``--once`` (``dag.test()``) already ran
overlapping days in the same home (docs/operations.md)."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

from seller_inbox.paths import REPO_ROOT
from seller_inbox_dev.demo.airflow_cli import demo_airflow_env

COMMAND = re.compile(r"`(seller-inbox airflow backfill create [^`]+)`")
VENV_BIN = str(Path(sys.executable).parent)
# what `seller-inbox demo --once` does for each day, tasks marked done instead of run
ONCE = """
import sys
from datetime import datetime, timedelta, timezone
from airflow.dag_processing.dagbag import DagBag
from seller_inbox.paths import DAGS
from seller_inbox_dev.demo.dag_runs import run_interval
dag = DagBag(dag_folder=str(DAGS)).dags[sys.argv[1]]
for day in sys.argv[2:]:
    start = datetime.fromisoformat(day).replace(tzinfo=timezone.utc)
    run_interval(dag, start + timedelta(days=1), mark_success_pattern=".*")
"""


def _readme_command() -> str:
    found = [" ".join(c.split()) for c in COMMAND.findall((REPO_ROOT / "README.md").read_text(encoding="utf-8"))]
    assert len(found) == 1, f"README.md should hold one `seller-inbox airflow backfill create …` command: {found}"
    return found[0]


def _plain_shell(base: Path) -> dict[str, str]:
    """A user's shell: no Airflow settings, the venv on PATH, the demo's home where the test put it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "_AIRFLOW", "SELLER_INBOX"))}
    env["PATH"] = VENV_BIN + os.pathsep + env.get("PATH", "")
    env["SELLER_INBOX_HOME"] = str(base)
    return env


def _demo_home(base: Path) -> dict[str, str]:
    env = {**_plain_shell(base), **demo_airflow_env(base)}
    airflow = os.path.join(VENV_BIN, "airflow")
    for args in (["db", "migrate"], ["dags", "reserialize"]):
        subprocess.run([airflow, *args], env=env, check=True, capture_output=True, timeout=300)
    return env


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def test_the_readme_backfill_processes_exactly_its_days_after_once(tmp_path):
    cmd = _readme_command()
    dag_id = re.search(r"--dag-id (\S+)", cmd).group(1)
    first = date.fromisoformat(re.search(r"--from-date (\S+)", cmd).group(1))
    last = date.fromisoformat(re.search(r"--to-date (\S+)", cmd).group(1))
    assert "--reprocess-behavior completed" in cmd and "--max-active-runs 1" in cmd, cmd
    days = _days(first, last)
    env = _demo_home(tmp_path)
    # --once ran the day before the window (its run held the window's first logical date when
    # dag.test dated runs at their interval's end), the first and the last day
    once = [first - timedelta(days=1), first, last]
    r = subprocess.run([sys.executable, "-c", ONCE, dag_id, *map(str, once)], env=env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]

    r = subprocess.run(cmd, shell=True, env=_plain_shell(tmp_path), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, (r.stdout + r.stderr)[-2000:]

    with sqlite3.connect(tmp_path / "airflow" / "airflow.db") as meta:
        backfills = meta.execute("SELECT id, dag_id, reprocess_behavior, max_active_runs FROM backfill").fetchall()
        assert [b[1:] for b in backfills] == [(dag_id, "completed", 1)]
        bid = backfills[0][0]
        planned = meta.execute("SELECT substr(logical_date, 1, 10), dag_run_id IS NOT NULL, exception_reason "
                               "FROM backfill_dag_run WHERE backfill_id = ? ORDER BY logical_date", (bid,)).fetchall()
        runs = meta.execute("SELECT substr(data_interval_start, 1, 10), substr(data_interval_end, 1, 10) FROM dag_run "
                            "WHERE backfill_id = ? ORDER BY data_interval_start", (bid,)).fetchall()
        per_day = meta.execute("SELECT substr(data_interval_start, 1, 10), count(*), "
                               "sum(substr(logical_date, 1, 10) = substr(data_interval_start, 1, 10)) FROM dag_run "
                               "WHERE dag_id = ? GROUP BY 1 ORDER BY 1", (dag_id,)).fetchall()
    assert planned == [(str(d), 1, None) for d in days]  # none skipped
    assert runs == [(str(d), str(d + timedelta(days=1))) for d in days]  # exactly these intervals
    # one run per day, each dated at its interval's start; the day before kept its own run
    assert per_day == [(str(d), 1, 1) for d in [first - timedelta(days=1), *days]]


def test_the_passthrough_says_when_the_demo_home_is_missing_and_prints_its_env(tmp_path):
    r = subprocess.run(["seller-inbox", "airflow", "version"], env=_plain_shell(tmp_path / "none"),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "no demo Airflow home" in r.stderr and str(tmp_path / "none" / "airflow") in r.stderr

    (tmp_path / "airflow").mkdir()
    (tmp_path / "airflow" / "airflow.db").touch()
    r = subprocess.run(["seller-inbox", "airflow", "env"], env=_plain_shell(tmp_path), capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert f"export AIRFLOW_HOME={tmp_path / 'airflow'}" in r.stdout.splitlines()
    assert f"export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=sqlite:///{tmp_path / 'airflow' / 'airflow.db'}" in r.stdout
