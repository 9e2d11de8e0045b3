"""The DAGs on Airflow's CeleryExecutor with two workers, as processes on this machine.

Metadata on the machine's PostgreSQL (its own database), Redis as the broker, scheduler,
dag-processor, triggerer, api-server and two Celery workers with their own hostnames and queues
(celery_stack.py). The three demo stores' pipeline (the last day) and deliver DAGs are triggered
through the REST API, phase by phase in the order ``--once`` runs them. In the middle of the
pipeline runs, once w1 has done its share of tasks, w1 and every process below it are SIGKILLed
while it runs a task: the task is found by its missing heartbeat and retried on w2. The same
world (seeded demo mail, simulator, SMTP server) is also run with ``dag.test`` into another
warehouse, without any kill: both must give the same KPI rows and the same deliveries.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone

import psycopg2
import pytest

from .celery_stack import WORKERS, CeleryStack, World, alive, celery_env, clean_env
from tests.servers.smtp import free_port

pytestmark = pytest.mark.timeout(1500)

STORES = ("us-outdoor", "eu-home", "jp-gadgets")
DAYS, SEED = 1, 42  # one day keeps the test near 8 minutes on a busy 2-core machine
KILL_AFTER = 8  # w1 is killed once it finished this many tasks, during its next long task
# tasks that run for seconds even when nothing is imported: killed while one runs, it cannot finish first
LONG_TASKS = ("ingest_mail", "classify", "gate_ingest_mail", "gate_classify", "gate_alert", "gate_ingest_orders",
              "gate_act", "gate_kpi")
BROKER = "redis://127.0.0.1:6379/5"  # a Redis database no other test uses


@pytest.fixture(scope="module")
def window() -> datetime:
    """The end of the demo window: last midnight UTC, as the demo pins it."""
    return datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)


def _jobs(end: datetime) -> list[list[tuple[str, datetime, tuple | None]]]:
    """Phases of (DAG, logical date, data interval): each day's pipeline, then deliver (as --once)."""
    days = [end - timedelta(days=i) for i in range(DAYS, 0, -1)]
    return ([[(f"si_{s}_pipeline", d + timedelta(days=1), (d, d + timedelta(days=1))) for s in STORES] for d in days]
            + [[(f"si_{s}_deliver", end, None) for s in STORES]])


@pytest.fixture(scope="module")
def crypto_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


@pytest.fixture(scope="module")
def reference(new_database, tmp_path_factory, window, crypto_key):
    """The same world run embedded (``dag.test`` in a fresh process, SQLite metadata), started at
    once in the background; ``reference["wait"]()`` returns its world when it is done."""
    from seller_inbox.paths import REPO_ROOT
    from seller_inbox_dev.demo.run import airflow_env

    base = tmp_path_factory.mktemp("celery-reference")
    world = World(base, new_database("si_celery_ref"), window, DAYS, SEED, crypto_key)
    env = {**clean_env(), **airflow_env(base, free_port()), **world.env}
    runs = json.dumps([[d, when.isoformat()] for phase in _jobs(window) for d, when, _ in phase])
    log = open(base / "reference.log", "w")
    proc = subprocess.Popen(f"{sys.executable} -m airflow db migrate >/dev/null && "
                            f"exec {sys.executable} -m tests.e2e.airflow_driver '{runs}'", shell=True,
                            env=env, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=log, text=True,
                            start_new_session=True)

    def wait() -> World:
        out, _ = proc.communicate(timeout=1200)
        results = [json.loads(line[7:]) for line in out.splitlines() if line.startswith("RESULT ")]
        assert proc.returncode == 0 and len(results) == sum(map(len, _jobs(window))), \
            out[-2000:] + (base / "reference.log").read_text()[-3000:]
        assert all(r["state"] == "success" for r in results), [r for r in results if r["state"] != "success"]
        return world

    yield {"wait": wait, "world": world}
    if proc.poll() is None:
        import os
        import signal

        os.killpg(proc.pid, signal.SIGKILL)
    log.close()
    world.stop()


@pytest.fixture(scope="module")
def stack(new_database, tmp_path_factory, window, crypto_key, reference):
    """World + Celery stack, started; everything stopped at the end, even on failure."""
    base = tmp_path_factory.mktemp("celery")
    world = World(base, new_database("si_celery_wh"), window, DAYS, SEED, crypto_key)
    queue = f"si-{uuid.uuid4().hex[:8]}"
    env = {**clean_env(), **celery_env(base, new_database("si_celery_meta"), BROKER, free_port(), queue), **world.env}
    st = CeleryStack(base, env, queue)
    st.world = world
    try:
        st.airflow("db", "migrate", timeout=600)
        t0 = time.monotonic()
        st.start()
        st.wait_ready()
        st.wait_dags([d for phase in _jobs(window) for d, _, _ in phase])
        st.timings = {"start": time.monotonic() - t0}
        yield st
    finally:
        st.stop()
        world.stop()
        _drop_queues(queue)


def _drop_queues(queue: str) -> None:
    """Remove this run's queues, bindings and the killed worker's unacknowledged message from Redis."""
    import redis

    r = redis.Redis.from_url(BROKER)
    try:
        keys = list(r.scan_iter(match=f"*{queue}*"))
        if keys:
            r.delete(*keys)
        for tag, payload in r.hgetall("unacked").items():
            if queue.encode() in payload:
                r.hdel("unacked", tag)
                r.zrem("unacked_index", tag)
    finally:
        r.close()


@pytest.fixture(scope="module")
def celery_run(stack, window):
    """Every phase triggered through the REST API and waited for, w1 killed during the pipelines;
    returns the runs, their task instances and what the kill hit."""
    t0 = time.monotonic()
    runs: dict[tuple[str, str], str] = {}
    kill: dict = {}
    for phase in _jobs(window):
        started = [(d, stack.trigger(d, when, interval)) for d, when, interval in phase]
        if not kill:
            kill = _kill_w1_mid_run(stack, started)
        runs.update(stack.wait_runs(started))
    stack.timings["runs"] = time.monotonic() - t0
    tis = [ti for dag_id, run_id in runs for ti in stack.task_instances(dag_id, run_id)]
    return {"runs": runs, "tis": tis, "sent": len(stack.world.smtp.messages), "kill": kill}


def _kill_w1_mid_run(stack, runs: list[tuple[str, str]]) -> dict:
    """Once w1 finished KILL_AFTER tasks of these runs, SIGKILL it (and everything below it) while it runs
    a long task it started at most 3 s ago. Returns the victims (task instances left running on w1),
    the pids killed and when; {} if the runs ended first."""
    while True:
        tis = [ti for r in runs for ti in stack.task_instances(*r)]
        if all(stack.run_state(*r) in ("success", "failed") for r in runs):
            return {}
        done = sum(ti["state"] == "success" and ti["hostname"] == "w1" for ti in tis)
        now = datetime.now(timezone.utc)
        if done >= KILL_AFTER and any(
                ti["state"] == "running" and ti["hostname"] == "w1" and ti["task_id"] in LONG_TASKS
                and ti.get("start_date") and (now - datetime.fromisoformat(ti["start_date"])).total_seconds() <= 3
                for ti in tis):
            break
        time.sleep(0.3)
    at = datetime.now(timezone.utc)
    pids = stack.kill_worker("w1")
    victims = [ti for r in runs for ti in stack.task_instances(*r)
               if ti["state"] == "running" and ti["hostname"] == "w1"]
    return {"victims": victims, "pids": pids, "at": at, "w1_done": done}


def _kpi_rows(url: str) -> dict[str, list[tuple]]:
    """Every KPI row, without the columns that say when it was computed."""
    out = {}
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        for table in ("kpi.store_daily", "kpi.order_defect_rate"):
            cur.execute(f"SELECT * FROM {table} LIMIT 0")
            cols = [d[0] for d in cur.description if not d[0].endswith("_at")]
            cur.execute(f"SELECT {', '.join(cols)} FROM {table}")
            out[table] = sorted(cur.fetchall(), key=repr)
    return out


def _delivery(url: str) -> list[tuple]:
    from seller_inbox.delivery.summary import summary

    return sorted(summary(url)[1])


def _q(url: str, sql: str, args=()) -> list[tuple]:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def test_every_run_succeeds_with_tasks_on_both_workers(celery_run, stack):
    states = celery_run["runs"]
    assert len(states) == len(STORES) * (DAYS + 1) and set(states.values()) == {"success"}, states
    hosts = [ti["hostname"] for ti in celery_run["tis"]]
    assert {ti["state"] for ti in celery_run["tis"]} == {"success"}
    assert set(hosts) == set(WORKERS), hosts
    per = {w: hosts.count(w) for w in WORKERS}
    print(f"Celery run: stack up in {stack.timings['start']:.0f} s, {len(states)} runs in "
          f"{stack.timings['runs']:.0f} s, task instances per worker {per}")


def test_same_kpi_rows_and_deliveries_as_the_embedded_run(celery_run, stack, reference):
    ref = reference["wait"]()
    ours = _kpi_rows(stack.world.url)
    assert ours["kpi.store_daily"], "no KPI rows"
    assert {r[0] for r in ours["kpi.store_daily"]} == set(STORES)
    theirs = _kpi_rows(ref.url)
    for table in ours:
        assert ours[table] == theirs[table], table
    assert _delivery(stack.world.url) == _delivery(ref.url)
    assert len(stack.world.smtp.messages) == len(ref.smtp.messages)


def test_spapi_calls_stay_within_each_stores_bucket(celery_run, stack):
    calls = dict((s, (n, bad)) for s, n, bad in _q(
        stack.world.url, "SELECT store_id, count(*), count(*) FILTER (WHERE outcome = 'throttled' OR status = 429) "
                         "FROM ops.api_calls GROUP BY 1"))
    assert set(calls) == set(STORES), calls
    assert all(n > 0 and bad == 0 for n, bad in calls.values()), calls


def _sent_once(stack) -> int:
    """Every reply the SMTP server accepted is one outbox row, accepted once; returns how many."""
    msgs = stack.world.smtp.messages
    ids = [m["message"]["Message-ID"] for m in msgs]
    assert len(ids) == len(set(ids)), ids
    sent = _q(stack.world.url, "SELECT outbound_id FROM core.outbox WHERE status = 'sent' AND action = 'reply'")
    assert sorted(ids) == sorted(o for (o,) in sent)
    reviews = _q(stack.world.url,
                 "SELECT order_id FROM core.outbox WHERE action = 'review_request' AND status = 'sent'")
    assert len(reviews) == len(set(reviews))
    return len(ids)


def test_nothing_is_sent_twice(celery_run, stack):
    assert _sent_once(stack) == celery_run["sent"] > 0


def test_a_killed_worker_s_task_is_retried_on_the_other(celery_run, stack):
    kill = celery_run["kill"]
    assert kill, f"w1 never ran a long task after finishing {KILL_AFTER} tasks: nothing was killed"
    assert kill["victims"], "no task was still running on w1 after it was killed"
    assert not [p for p in kill["pids"] if alive(p)], "processes of the killed worker survived"
    waited = []
    for v in kill["victims"]:
        run = (v["dag_id"], v["dag_run_id"])
        final = next(t for t in stack.task_instances(*run) if t["task_id"] == v["task_id"])
        assert final["state"] == "success" and final["hostname"] == "w2", final
        assert final["try_number"] > v["try_number"], (v, final)
        tries = stack.tries(*run, v["task_id"])
        killed_try = next(t for t in tries if t["try_number"] == v["try_number"])
        assert killed_try["hostname"] == "w1" and killed_try["state"] != "success", tries
        waited.append((datetime.fromisoformat(final["start_date"]) - datetime.fromisoformat(v["start_date"])
                       ).total_seconds())
    # after the kill every task went to w2
    later = [ti for ti in celery_run["tis"] if ti["hostname"] == "w1" and ti.get("start_date")
             and datetime.fromisoformat(ti["start_date"]) > kill["at"]]
    assert not later, later
    print(f"worker kill: w1 killed after {kill['w1_done']} tasks, during "
          f"{', '.join(v['task_id'] for v in kill['victims'])}; retried on w2 {max(waited):.0f} s after its start")
