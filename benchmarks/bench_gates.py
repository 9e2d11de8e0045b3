"""Data-quality gate overhead per stage, on the warehouse a real headless run leaves.

    .venv/bin/python benchmarks/bench_gates.py [--days 3]

1. runs ``seller-inbox demo --once --days N`` into a fresh database (every stage of the
   three demo stores, through Airflow's ``dag.test()``);
2. re-runs every stage's gate for every store and day on that data and prints, per stage,
   the rows checked and the time per gate run (GX Core validation plus the bookkeeping:
   ``ops.gate_run``, ``ops.dq_results``, the Data Docs: results stored, pages of failing runs
   rendered), against the whole pipeline run's time;
3. times ``python -m seller_inbox.data_docs build`` (every stored validation rendered, in a
   fresh process) on the Data Docs those gate runs left.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_mail import _fresh_db  # noqa: E402 - one helper for a throwaway database

UTC = timezone.utc


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=3)
    args = ap.parse_args(argv)
    url, drop = _fresh_db()
    try:
        with tempfile.TemporaryDirectory() as home:
            env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "_AIRFLOW"))}
            env.update(SELLER_INBOX_HOME=home, SELLER_INBOX_WAREHOUSE_URL=url)
            t0 = time.perf_counter()
            run = subprocess.run([sys.executable, "-m", "seller_inbox", "demo", "--once", "--days", str(args.days)],
                                 env=env, capture_output=True, text=True, timeout=1800)
            wall = time.perf_counter() - t0
            if run.returncode != 0:
                print(run.stdout[-2000:], run.stderr[-2000:])
                raise SystemExit("the headless run failed")
        from seller_inbox import clock
        from seller_inbox.config import load_registry
        from seller_inbox.gates import SUITES, run_gate
        from seller_inbox.paths import INCLUDE

        docs = tempfile.mkdtemp(prefix="bench-data-docs-")
        os.environ["SELLER_INBOX_DATA_DOCS"] = docs  # not the project's own Data Docs
        stores = load_registry(INCLUDE / "stores.yaml").stores
        end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        os.environ[clock.ENV] = end.isoformat()
        run_gate("classify", stores[0], url, end - timedelta(days=1), end)  # warm-up: GX import and first context
        out = {}
        for stage in sorted(p.stem for p in SUITES.glob("*.yaml")):
            times, rows = [], []
            for store in stores:
                for d in range(args.days, 0, -1):
                    start = end - timedelta(days=d)
                    t = time.perf_counter()
                    try:
                        res = run_gate(stage, store, url, start, start + timedelta(days=1))
                        rows.append(res["rows_checked"])
                    except Exception as exc:  # noqa: BLE001 - a failing gate still costs its time
                        rows.append(0)
                        print(f"  ({stage} {store.id} {start:%Y-%m-%d}: {exc})")
                    times.append(time.perf_counter() - t)
            out[stage] = {"runs": len(times), "mean_ms": 1000 * statistics.mean(times), "max_ms": 1000 * max(times),
                          "rows_mean": statistics.mean(rows)}
        runs = len(stores) * args.days
        total_gate_s = sum(v["mean_ms"] for v in out.values()) / 1000
        print(f"headless run: {runs} pipeline runs in {wall:.1f} s ({wall / runs:.1f} s per run, gates included)")
        print(f"{'stage':<16}{'gate runs':>10}{'rows (mean)':>13}{'mean ms':>10}{'max ms':>10}")
        for stage, v in out.items():
            print(f"{stage:<16}{v['runs']:>10}{v['rows_mean']:>13.0f}{v['mean_ms']:>10.0f}{v['max_ms']:>10.0f}")
        print(f"all gates of one pipeline run: {total_gate_s:.2f} s ({100 * total_gate_s / (wall / runs):.0f} % of a run)")
        rendered = len(list(Path(docs, "site", "validations").rglob("*.html")))
        t = time.perf_counter()
        build = subprocess.run([sys.executable, "-m", "seller_inbox.data_docs", "build"], capture_output=True, text=True,
                               timeout=1800)
        if build.returncode != 0:
            print(build.stderr[-2000:])
        stored = len(list(Path(docs, "validations").rglob("*.json")))
        print(f"Data Docs: {stored} validations stored, {rendered} rendered by failing gate runs; "
              f"'data-docs build' of all: {time.perf_counter() - t:.1f} s (fresh process, GX import included)")
        shutil.rmtree(docs, ignore_errors=True)
        return out
    finally:
        drop()


if __name__ == "__main__":
    main()
