"""How long the DAG factory takes to parse a registry of N stores (default 1,000).

Prints: registry validation time, full DagBag parse time (all stores) and per DAG file (one
file per kind; each must stay well inside Airflow's 30 s import timeout), and the time a
worker needs when the parsing context names one DAG (what a task run pays).
Run: .venv/bin/python benchmarks/bench_dag_parse.py [N]
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHILD = r"""
import os, sys, time
t0 = time.perf_counter()
from airflow.dag_processing.dagbag import DagBag
t1 = time.perf_counter()
bag = DagBag(dag_folder=sys.argv[1])
t2 = time.perf_counter()
assert not bag.import_errors, bag.import_errors
for st in bag.dagbag_stats:
    d = st.duration.total_seconds() if hasattr(st.duration, "total_seconds") else st.duration
    print(f"FILE {os.path.basename(st.file)} {d:.2f} {st.dag_num} {st.task_num}")
print(f"{len(bag.dags)} {t1 - t0:.3f} {t2 - t1:.3f}")
"""


FILES: list[str] = []


def run(env: dict) -> tuple[int, float, float]:
    out = subprocess.run([sys.executable, "-c", CHILD, str(ROOT / "dags")], env=env, capture_output=True, text=True, check=True)
    FILES[:] = [ln[5:] for ln in out.stdout.splitlines() if ln.startswith("FILE ")]
    n, imp, parse = out.stdout.split()[-3:]
    return int(n), float(imp), float(parse)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    from seller_inbox.config import load_registry
    from seller_inbox.registry_gen import write_registry

    with tempfile.TemporaryDirectory() as tmp:
        reg = Path(tmp) / "stores.yaml"
        write_registry(reg, n)
        t = time.perf_counter()
        load_registry(reg)
        validate = time.perf_counter() - t
        env = {**os.environ, "SELLER_INBOX_STORES": str(reg), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
               "AIRFLOW_HOME": tmp}
        dags, imp, full = run(env)
        files = list(FILES)
        one = run({**env, "_AIRFLOW_PARSING_CONTEXT_DAG_ID": "si_store-0007_pipeline", "_AIRFLOW_PARSING_CONTEXT_TASK_ID": "kpi"})
    print(f"stores: {n}  dags: {dags}")
    print(f"registry validation: {validate:.2f} s")
    print(f"full parse (all DAGs): {full:.2f} s")
    for f in files:
        name, secs, ndags, ntasks = f.split()
        print(f"  {name:<20} {float(secs):6.2f} s  {ndags} DAGs, {ntasks} tasks   (Airflow's import timeout: 30 s)")
    print(f"worker parse (one DAG via parsing context): {one[2]:.3f} s, {one[0]} DAG")


if __name__ == "__main__":
    main()
