"""How many stores one Airflow scheduler handles: DAG parse and the scheduling loop, 1,000 and 5,000 stores.

    .venv/bin/python benchmarks/bench_scheduler.py [--stores 1000 5000] [--seconds 120]
        [--kinds-at 5000=pipeline] [--settings defaults tuned] [--settings-at 5000=tuned]

For each registry size (a generated registry, ``seller_inbox.registry_gen``; six DAG kinds per
store, one DAG file per kind in ``dags/``):

(a) Parse and serialize. Airflow's metadata goes to its own database on the machine's PostgreSQL
    (``si_bench_sched``, created, migrated with ``airflow db migrate`` and dropped at the end).
    Each DAG file is parsed in a process of its own, as the DAG processor does, with Airflow's
    ``BundleDagBag`` (the parse time printed is Airflow's own per-file figure, to compare with
    ``[core] dagbag_import_timeout``, 30 s; the benchmark raises the timeout so that a file over
    it is still measured); the files of the kinds scheduled are then written with
    ``sync_bag_to_db`` (what ``airflow dags reserialize`` and the DAG processor call): serialized
    DAGs, DAG versions, ``dag`` rows with their next run.

(b) The scheduling loop. Every DAG unpaused, then Airflow's real ``SchedulerJobRunner`` runs for
    ``--seconds`` of wall time with an executor that runs nothing: each task it is handed is
    marked successful at once (one UPDATE per batch) and reported back as a success event, the
    idiom of Airflow's own scheduler performance script (``scripts/perf/
    scheduler_dag_execution_timing.py`` and its mock executor). What the scheduler does is real:
    create DAG runs from the timetables, decide which task instances are ready, queue them
    within pools and concurrency limits, process the executor's events, finish runs. At the
    start every cron DAG is due at once (the top of the hour: pipeline, auth, performance,
    deliver and reminders of every store); then the 5-minute schedules (deliver, reminders)
    come due again in real time. ``urgent`` DAGs run only on mail (asset events) and get none;
    asset events are not emitted (the act task's outlet does not trigger deliver runs here).
    Printed: loop duration p50/p95/max, DAG runs created and task instances queued per minute,
    the scheduler's memory, and the demand of a day computed from the same timetables (runs and
    task instances per minute a day of every store's schedules needs).

Settings: ``defaults`` are Airflow's (``max_dagruns_to_create_per_loop`` 10,
``max_dagruns_per_loop_to_schedule`` 20, ``max_tis_per_query`` 16, ``parallelism`` 32,
``default_pool`` 128 slots); ``tuned`` are those docs/operations.md recommends for many stores.
The default run (what ``make bench`` does, 20–25 min on a busy 2-core machine): 1,000 stores,
every kind, both settings; 5,000 stores, every file parsed, only the pipelines written and
scheduled (writing all 30,000 DAGs would take about 25 min here), tuned settings.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DAGS = ROOT / "dags"
DB = "si_bench_sched"
ADMIN = os.environ.get("SELLER_INBOX_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
KINDS = ("pipeline", "urgent", "auth", "deliver", "performance", "reminders")
# the settings docs/operations.md ("Many stores") recommends for one scheduler with many stores
# (a first try with 200 runs created and 200 examined per loop made 13 s loops and fewer task
# instances queued per minute than the defaults, 2026-11-30)
TUNED = {
    "AIRFLOW__SCHEDULER__MAX_DAGRUNS_TO_CREATE_PER_LOOP": "50",
    "AIRFLOW__SCHEDULER__MAX_DAGRUNS_PER_LOOP_TO_SCHEDULE": "100",
    "AIRFLOW__SCHEDULER__MAX_TIS_PER_QUERY": "256",
    "AIRFLOW__CORE__PARALLELISM": "512",
}
POOL = {"defaults": 128, "tuned": 512}  # default_pool's slots ([core] default_pool_task_slot_count: 128)


# --------------------------------------------------------------------------- the executor
try:  # importable as ``bench_scheduler.NoRunExecutor`` by the scheduler process ([core] executor)
    from airflow.executors.base_executor import BaseExecutor
except ImportError:  # pragma: no cover - only the parent process lacks nothing; keep import cheap
    BaseExecutor = object


class NoRunExecutor(BaseExecutor):  # type: ignore[misc, valid-type]
    """Runs nothing: every task handed over succeeds at once (the state a finished task would
    write through the execution API, then the executor's success event)."""

    is_local = False
    supports_pickling = False

    def _process_workloads(self, workloads) -> None:
        from sqlalchemy import text

        from airflow.utils import timezone
        from airflow.utils.session import create_session

        ids, keys = [], []
        for w in workloads:
            ti = getattr(w, "ti", None)
            if ti is None:
                continue
            ids.append(str(ti.id))
            keys.append(ti.key)
            self.queued_tasks.pop(ti.key, None)
        if not ids:
            return
        now = timezone.utcnow()
        with create_session() as session:
            session.execute(text("UPDATE task_instance SET state = 'success', start_date = :now, end_date = :now, "
                                 "duration = 0 WHERE id = ANY(CAST(:ids AS uuid[]))"), {"now": now, "ids": ids})
        for key in keys:
            self.success(key)

    def end(self) -> None:
        pass

    def terminate(self) -> None:
        pass


# --------------------------------------------------------------------------- child processes
PARSE = r"""
import json, os, resource, sys, time
from pathlib import Path
t0 = time.perf_counter()
from airflow.dag_processing.dagbag import BundleDagBag, sync_bag_to_db
from airflow.utils.session import create_session
t1 = time.perf_counter()
path = Path(sys.argv[1])
bag = BundleDagBag(dag_folder=str(path), bundle_path=path.parent, bundle_name="dags-folder")
t2 = time.perf_counter()
st = bag.dagbag_stats[0]
parse = st.duration.total_seconds() if hasattr(st.duration, "total_seconds") else float(st.duration)
errors = {k: str(v)[-300:] for k, v in bag.import_errors.items()}
sync = None
if not errors and sys.argv[2] == "sync":
    with create_session() as session:
        sync_bag_to_db(bag, "dags-folder", None, session=session)
    sync = time.perf_counter() - t2
print("RESULT " + json.dumps({"file": path.name, "parse": parse, "wall": t2 - t1, "import": t1 - t0,
      "dags": st.dag_num, "tasks": st.task_num, "sync": sync, "errors": errors,
      "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

SCHED = r"""
import json, resource, sys, time
import psutil
from airflow.jobs.job import Job, run_job
from airflow.jobs.scheduler_job_runner import SchedulerJobRunner

seconds = float(sys.argv[1])
starts, rss, first = [], [], []
proc = psutil.Process()

class Runner(SchedulerJobRunner):
    def _do_scheduling(self, session):
        now = time.perf_counter()
        if not starts:
            first.append(time.time())
        starts.append(now)
        if len(starts) % 20 == 1:
            rss.append(proc.memory_info().rss / 2**20)
        if now - starts[0] > seconds:
            self.num_runs = 1  # this loop is the last one
        return super()._do_scheduling(session)

job = Job()
runner = Runner(job=job, num_runs=10**9, scheduler_idle_sleep_time=0)
t0 = time.perf_counter()
run_job(job=job, execute_callable=runner._execute)
end = time.perf_counter()
loops = [b - a for a, b in zip(starts, starts[1:] + [end])]
print("RESULT " + json.dumps({"loops": loops, "wall": end - starts[0], "first": first[0], "rss_mb": rss,
      "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _result(out: str) -> dict:
    for line in out.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(f"no result in the child's output:\n{out[-3000:]}")


def _admin(sql: str) -> None:
    import psycopg2

    conn = psycopg2.connect(ADMIN)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql)
    conn.close()


def _meta_url() -> str:
    from urllib.parse import urlsplit, urlunsplit

    return urlunsplit(urlsplit(ADMIN)._replace(path=f"/{DB}"))


def _env(home: Path, registry: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AIRFLOW_CONN_", "AIRFLOW__", "_AIRFLOW")) and k != "AIRFLOW_HOME"}
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "bench_scheduler.NoRunExecutor",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "600",  # measure files over Airflow's 30 s too
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": _meta_url().replace("postgresql://", "postgresql+psycopg2://", 1),
        "AIRFLOW__API_AUTH__JWT_SECRET": "bench-scheduler-secret",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "SELLER_INBOX_STORES": str(registry),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "benchmarks"), str(ROOT)]),
    })
    return env


def _sql(query: str) -> list[tuple]:
    import psycopg2

    conn = psycopg2.connect(_meta_url())
    with conn.cursor() as cur:
        cur.execute(query)
        rows = cur.fetchall() if cur.description else []
    conn.commit()
    conn.close()
    return rows


def day_demand(registry) -> tuple[int, int]:
    """DAG runs and task instances a day of every store's timetables needs (urgent excluded)."""
    from croniter import croniter

    from seller_inbox import airflow_glue as g

    @functools.cache
    def per_day(cron: str) -> int:
        return sum(1 for _ in _ticks(croniter, cron))

    runs = tis = 0
    for s in registry.enabled_stores:
        for kind, cron in (("pipeline", s.schedules.pipeline), ("auth", s.schedules.auth),
                           ("deliver", s.schedules.deliver), ("performance", g.PERFORMANCE_CRON),
                           ("reminders", g.REMINDERS_CRON)):
            n = per_day(cron)
            runs += n
            tis += n * len(g.STAGES[kind])
    return runs, tis


def _ticks(croniter, cron: str):
    from datetime import datetime, timedelta

    t0 = datetime(2026, 11, 2)
    it = croniter(cron, t0 - timedelta(seconds=1))
    while (t := it.get_next(datetime)) < t0 + timedelta(days=1):
        yield t


def parse_and_serialize(env: dict, kinds: tuple[str, ...]) -> list[dict]:
    """Parse every DAG file; write to the metadata DB those of ``kinds``."""
    out = []
    for kind in KINDS:
        r = subprocess.run([sys.executable, "-c", PARSE, str(DAGS / f"si_{kind}.py"),
                            "sync" if kind in kinds else "parse"], env=env,
                           capture_output=True, text=True, timeout=1800)
        res = _result(r.stdout + r.stderr)
        out.append(res)
        flag = "  OVER Airflow's 30 s import timeout" if res["parse"] > 30 else ""
        sync = f"written to the metadata DB in {res['sync']:.1f} s" if res["sync"] is not None else "parsed only"
        print(f"  si_{kind}.py: parse {res['parse']:.1f} s ({res['dags']} DAGs, {res['tasks']} tasks), "
              f"{sync}, peak {res['rss_mb']:.0f} MB{flag}"
              + (f"  ERRORS {res['errors']}" if res["errors"] else ""), flush=True)
    return out


NEXT = "next_dagrun, next_dagrun_data_interval_start, next_dagrun_data_interval_end, next_dagrun_create_after"


def simulate(env: dict, seconds: float, label: str, pool: int) -> dict:
    """One run of the scheduler from the state the DAG files' serialization left (no runs yet;
    each DAG's next run as computed then), every DAG unpaused."""
    _sql(f"CREATE TABLE IF NOT EXISTS bench_next AS SELECT dag_id, {NEXT} FROM dag")
    _sql("DELETE FROM task_instance; DELETE FROM dag_run; UPDATE dag SET is_paused = false, exceeds_max_non_backfill = false; "
         f"UPDATE dag d SET ({NEXT}) = (SELECT {NEXT} FROM bench_next b WHERE b.dag_id = d.dag_id)")
    _sql(f"UPDATE slot_pool SET slots = {pool} WHERE pool = 'default_pool'")
    due0, = _sql("SELECT count(*) FROM dag WHERE NOT is_paused AND next_dagrun_create_after <= now()")[0]
    r = subprocess.run([sys.executable, "-c", SCHED, str(seconds)], env=env, capture_output=True, text=True,
                       timeout=seconds + 900)
    res = _result(r.stdout + r.stderr)
    t = res["first"]
    loops = sorted(res["loops"])
    minutes = res["wall"] / 60
    runs, done = _sql("SELECT count(*), count(*) FILTER (WHERE state = 'success') FROM dag_run")[0]
    queued, = _sql("SELECT count(*) FROM task_instance WHERE queued_dttm IS NOT NULL")[0]
    due, = _sql("SELECT count(*) FROM dag WHERE NOT is_paused AND next_dagrun_create_after <= now()")[0]
    kinds = _sql("SELECT split_part(dag_id, '_', 3), count(*) FROM dag_run GROUP BY 1 ORDER BY 1")
    ends = [r[0] for r in _sql(f"SELECT extract(epoch FROM end_date) - {t} FROM dag_run "
                                f"WHERE state = 'success' ORDER BY end_date")]
    drained = f"the {due0:,} runs due at the start: " + (
        f"all finished after {ends[due0 - 1]:.0f} s" if len(ends) >= due0 else f"{len(ends):,} finished in the run")
    p = lambda q: loops[min(len(loops) - 1, int(q * len(loops)))]  # noqa: E731
    res.update(runs=runs, done=runs and done, tis=queued, due_left=due, minutes=minutes,
               runs_per_min=runs / minutes, tis_per_min=queued / minutes,
               p50=statistics.median(loops), p95=p(0.95), max=loops[-1], n=len(loops))
    print(f"  scheduling loop, {label}: {res['wall']:.0f} s, {len(loops)} loops; loop p50 {res['p50']:.2f} s, "
          f"p95 {res['p95']:.2f} s, max {res['max']:.2f} s", flush=True)
    print(f"    DAG runs created {runs} ({runs / minutes:.0f}/min; {done} finished), task instances queued "
          f"{queued} ({queued / minutes:.0f}/min); DAGs still due at the end: {due}", flush=True)
    print(f"    by kind: {', '.join(f'{k} {n}' for k, n in kinds)}; scheduler RSS "
          f"{min(res['rss_mb']):.0f}–{max(res['rss_mb']):.0f} MB (peak {res['maxrss_mb']:.0f} MB)"
          + f"; {drained}", flush=True)
    return res


def one_size(n: int, kinds: tuple[str, ...], seconds: float, settings: list[str]) -> None:
    from seller_inbox.config import load_registry
    from seller_inbox.registry_gen import write_registry

    with tempfile.TemporaryDirectory(prefix="si_bench_sched_") as tmp:
        reg = Path(tmp) / "stores.yaml"
        write_registry(reg, n)
        registry = load_registry(reg)
        env = _env(Path(tmp), reg)
        _admin(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        _admin(f'CREATE DATABASE "{DB}"')
        try:
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=env, check=True,
                           capture_output=True, timeout=600)
            subprocess.run([sys.executable, "-c", "from airflow.dag_processing.bundles.manager import "
                            "DagBundlesManager; DagBundlesManager().sync_bundles_to_db()"], env=env, check=True,
                           capture_output=True, timeout=300)
            print(f"\n== {n:,} stores (every DAG file parsed; scheduled: {', '.join(kinds)}): metadata DB migrated in "
                  f"{time.perf_counter() - t:.0f} s", flush=True)
            files = parse_and_serialize(env, kinds)
            print(f"  all files: parse {sum(f['parse'] for f in files):.1f} s, written ({len(kinds)} files) in "
                  f"{sum(f['sync'] or 0 for f in files):.1f} s, {sum(f['dags'] for f in files):,} DAGs, "
                  f"{sum(f['tasks'] for f in files):,} tasks", flush=True)
            runs, tis = day_demand(registry)
            scale = len(set(kinds) - {"urgent"}) / 5
            print(f"  a day of every store's schedules (all five cron kinds): {runs:,} DAG runs "
                  f"({runs / 1440:.0f}/min), {tis:,} task instances ({tis / 1440:.0f}/min)"
                  + ("" if scale == 1 else f"; the kinds measured here: {_kinds_demand(registry, kinds)}"),
                  flush=True)
            if "defaults" in settings:
                simulate(env, seconds, "Airflow's defaults", POOL["defaults"])
            if "tuned" in settings:
                simulate({**env, **TUNED}, seconds, "tuned (" + ", ".join(
                    f"{k.split('__')[-1].lower()}={v}" for k, v in TUNED.items()) + f", default_pool {POOL['tuned']})",
                    POOL["tuned"])
        finally:
            _admin(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')


@functools.cache
def _per_day(cron: str) -> int:
    from croniter import croniter

    return sum(1 for _ in _ticks(croniter, cron))


def _kinds_demand(registry, kinds) -> str:
    from seller_inbox import airflow_glue as g

    runs = tis = 0
    for s in registry.enabled_stores:
        crons = {"pipeline": s.schedules.pipeline, "auth": s.schedules.auth, "deliver": s.schedules.deliver,
                 "performance": g.PERFORMANCE_CRON, "reminders": g.REMINDERS_CRON}
        for kind in kinds:
            if kind in crons:
                k = _per_day(crons[kind])
                runs += k
                tis += k * len(g.STAGES[kind])
    return f"{runs / 1440:.0f} runs/min, {tis / 1440:.0f} task instances/min"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--stores", type=int, nargs="+", default=[1000, 5000])
    ap.add_argument("--seconds", type=float, default=120, help="wall time of each scheduling-loop run")
    ap.add_argument("--kinds-at", action="append", default=[],
                    help="N=kind,kind: at N stores serialize and schedule only these kinds (every file is still parsed)")
    ap.add_argument("--settings", nargs="+", choices=["defaults", "tuned"], default=["defaults", "tuned"],
                    help="scheduler settings to run the loop with: Airflow's defaults, the recommended ones")
    ap.add_argument("--settings-at", action="append", default=[], help="N=tuned: other settings at N stores")
    args = ap.parse_args()
    # the documented run (docs/operations.md): at 5,000 stores only the pipelines, recommended settings
    only = {int(k): tuple(v.split(",")) for k, v in (a.split("=") for a in args.kinds_at or ["5000=pipeline"])}
    at = {int(k): v.split(",") for k, v in (a.split("=") for a in args.settings_at or ["5000=tuned"])}
    print(f"bench_scheduler: Airflow scheduler with {', '.join(f'{n:,}' for n in args.stores)} stores "
          f"({time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, load average "
          f"{os.getloadavg()[0]:.1f}, {os.cpu_count()} cores)", flush=True)
    for n in args.stores:
        one_size(n, only.get(n, KINDS), args.seconds, at.get(n, args.settings))


if __name__ == "__main__":
    main()
