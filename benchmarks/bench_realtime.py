"""Real-time latency: APPEND of a high-risk buyer mail -> the alert at the store's webhook.

    .venv/bin/python benchmarks/bench_realtime.py [--mails 30] [--gap 1:8] [--mailbox imap|maildir] [--dsn URL]

Starts the stack of tests/e2e/realtime_stack.py (Airflow's scheduler with LocalExecutor,
dag-processor, triggerer and api-server as processes; a real Dovecot, or a Maildir; PostgreSQL;
a local WeCom receiver), appends ``--mails`` mails at random gaps (seconds, uniform in
``--gap``), and prints p50/p95/max of APPEND -> webhook receipt, how many urgent runs carried
them, and the work of one urgent run (the sum of its tasks' durations, and its classify task).
PostgreSQL: ``--dsn`` (a database it may fill), else a fresh database on 127.0.0.1:5432.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench_mail import _fresh_db  # noqa: E402 - same directory


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(p / 100 * len(values) + 0.5) - 1))]


def _runs(db: Path) -> tuple[list[float], list[float]]:
    """Per urgent run: the sum of its task durations; and its classify task's durations."""
    with sqlite3.connect(db, timeout=30) as c:
        work = [r[0] for r in c.execute("SELECT sum(duration) FROM task_instance WHERE dag_id LIKE '%\\_urgent' "
                                        "ESCAPE '\\' AND state = 'success' GROUP BY run_id")]
        classify = [r[0] for r in c.execute("SELECT duration FROM task_instance WHERE dag_id LIKE '%\\_urgent' "
                                            "ESCAPE '\\' AND task_id = 'classify' AND state = 'success'")]
    return work, classify


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mails", type=int, default=30)
    ap.add_argument("--gap", default="1:8", help="seconds between two mails, uniform in LOW:HIGH")
    ap.add_argument("--mailbox", choices=("imap", "maildir"), default="imap")
    ap.add_argument("--dsn")
    ap.add_argument("--seed", type=int, default=14)
    args = ap.parse_args(argv)
    from tests.e2e.realtime_stack import RealtimeStack

    url, drop = (args.dsn, lambda: None) if args.dsn else _fresh_db()
    lo, hi = (float(x) for x in args.gap.split(":"))
    rng = random.Random(args.seed)
    stack = RealtimeStack(Path(tempfile.mkdtemp(prefix="bench-realtime-")), url, mailbox=args.mailbox)
    t0 = time.monotonic()
    try:
        stack.start()
        started = time.monotonic() - t0
        sent = {}
        for n in range(args.mails):
            order = f"115-{8000000 + n:07d}-{2000000 + n:07d}"
            sent[order] = stack.send(n, order)
            time.sleep(rng.uniform(lo, hi))
        got = stack.wait_alerts(set(sent), timeout=600)
        time.sleep(5)
        got = stack.alerts()
        latency = [got[o][0] - t for o, t in sent.items()]
        work, classify = _runs(stack.base / "airflow" / "airflow.db")
    finally:
        stack.stop()
        drop()
    out = {"mails": args.mails, "mailbox": args.mailbox, "stack_start_s": round(started, 1),
           "latency_p50_s": round(statistics.median(latency), 1), "latency_p95_s": round(_pct(latency, 95), 1),
           "latency_max_s": round(max(latency), 1), "alerts_per_mail": sorted({len(got[o]) for o in sent}),
           "urgent_runs": len(work), "run_work_p50_s": round(statistics.median(work), 1) if work else None,
           "classify_task_p50_s": round(statistics.median(classify), 2) if classify else None}
    print(f"APPEND -> webhook over {args.mails} mails ({args.mailbox}): p50 {out['latency_p50_s']} s, "
          f"p95 {out['latency_p95_s']} s, max {out['latency_max_s']} s; alerts per mail {out['alerts_per_mail']}; "
          f"{out['urgent_runs']} urgent runs, work per run p50 {out['run_work_p50_s']} s "
          f"(classify task p50 {out['classify_task_p50_s']} s); stack start {out['stack_start_s']} s")
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
