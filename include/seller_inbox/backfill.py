"""``seller-inbox backfill``: fill what no run read, with Airflow's own backfills.

A backfill run reads exactly its data interval (it does not catch up further back), is
idempotent on natural keys, never sends to buyers and recomputes the KPI days it touches
(docs/operations.md). This module only asks Airflow to create it — the scheduler runs it —
after showing which stretches of the store were never read (``ops.ingest_gaps``).
"""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

UTC = timezone.utc
MAX_ACTIVE_RUNS = 1  # a backfill runs its intervals one after the other, like the scheduler


def parse_when(value: str) -> datetime:
    """ISO date or date-time; naive means UTC."""
    try:
        t = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"not a date or date-time: {value[:40]!r} (use e.g. 2026-11-20 or 2026-11-20T08:00)") from None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def airflow_cli(args: list[str], env: dict | None = None) -> subprocess.CompletedProcess:
    exe = str(Path(sys.executable).with_name("airflow"))
    return subprocess.run([exe, *args], env=env, text=True, capture_output=True, check=False)


def create(dag_id: str, since: datetime, until: datetime, *, reprocess: str = "failed", env: dict | None = None,
           attempts: int = 6, wait: float = 5.0) -> str | None:
    """``airflow backfill create`` for the intervals that start in [since, until) — ``until`` is
    exclusive, so days D1..D2 are ``since=D1, until=D2+1 day`` — one run at a time (Airflow's
    default is 10 concurrent runs; a store's runs go one by one, docs/operations.md). Retried
    while the DAG processor is still registering the DAG or the metadata database is busy.
    Returns None on success, else the last error line."""
    last = until - timedelta(microseconds=1)  # Airflow's --to-date is an inclusive logical date
    args = ["backfill", "create", "--dag-id", dag_id, "--from-date", since.isoformat(), "--to-date", last.isoformat(),
            "--reprocess-behavior", reprocess, "--max-active-runs", str(MAX_ACTIVE_RUNS)]
    err = "?"
    for i in range(attempts):
        r = airflow_cli(args, env)
        if r.returncode == 0:
            return None
        lines = [line for line in (r.stderr + r.stdout).strip().splitlines() if line.strip()]
        err = lines[-1] if lines else f"exit code {r.returncode}"
        if i + 1 < attempts:
            time.sleep(wait * (i + 1))
    return err


def store_gaps(store_id: str, since: datetime) -> list[dict] | None:
    """Stretches of the store no run read since ``since``; None when the warehouse is unreachable."""
    from seller_inbox.coverage import gaps
    from seller_inbox.warehouse import dsn

    try:
        return [g for g in gaps(dsn(), store_id) if g["gap_end"] > since]
    except Exception:  # noqa: BLE001 - the gap list is advice; the backfill does not need it
        return None
