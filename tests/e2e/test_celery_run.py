"""The DAGs on Airflow's CeleryExecutor with two workers, as processes on this machine.

Metadata on the machine's PostgreSQL (its own database), Redis as the broker, scheduler,
dag-processor, triggerer, api-server and two Celery workers with their own hostnames and queues
(celery_stack.py). The three demo stores' pipeline (the last day) and deliver DAGs are triggered
through the REST API, phase by phase in the order ``--once`` runs them; the same world
(seeded demo mail, simulator, SMTP server) is also run with ``dag.test`` into another warehouse,
and both must give the same KPI rows and the same delivery outcome. Then worker w1 is SIGKILLed
(with everything below it) while it runs a task of a rerun of one store's day: the task is found
by its missing heartbeat, retried on w2, and the warehouse ends as it was, nothing sent twice.
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
from .snapshot import fingerprint

pytestmark = pytest.mark.timeout(1500)

STORES = ("us-outdoor", "eu-home", "jp-gadgets")
DAYS, SEED = 1, 42  # one day keeps the test near 8 minutes on a busy 2-core machine
DRILL_STORE = "us-outdoor"  # the store that sends (order status in auto)
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
    import redis

    r = redis.Redis.from_url(BROKER)
    names = [queue, *(f"{queue}-{w}" for w in WORKERS)]
    r.delete(*names)
    r.close()


@pytest.fixture(scope="module")
def celery_run(stack, window):
    """Every phase triggered through the REST API and waited for; returns runs and task instances."""
    t0 = time.monotonic()
    runs: dict[tuple[str, str], str] = {}
    for phase in _jobs(window):
        started = [(d, stack.trigger(d, when, interval)) for d, when, interval in phase]
        runs.update(stack.wait_runs(started))
    stack.timings["runs"] = time.monotonic() - t0
    tis = [ti for dag_id, run_id in runs for ti in stack.task_instances(dag_id, run_id)]
    return {"runs": runs, "tis": tis, "sent": len(stack.world.smtp.messages)}


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
    print(f"Celery run: stack up in {stack.timings['start']:.0f} s, {len(states)} runs in {stack.timings['runs']:.0f} s, "
          f"task instances per worker {per}")


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
    reviews = _q(stack.world.url, "SELECT order_id FROM core.outbox WHERE action = 'review_request' AND status = 'sent'")
    assert len(reviews) == len(set(reviews))
    return len(ids)


def test_nothing_is_sent_twice(celery_run, stack):
    assert _sent_once(stack) == celery_run["sent"] > 0


def _table_rows(url: str, tables) -> dict[str, set[str]]:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        out = {}
        for t in tables:
            cur.execute(f"SELECT t::text FROM {t} t")
            out[t] = {r[0] for r in cur.fetchall()}
        return out


def _row_changes(url: str, before: dict[str, set[str]], changed: dict) -> str:
    """The rows that differ in each changed table (a few of each), for the failure message."""
    after = _table_rows(url, changed)
    lines = []
    for t in sorted(changed):
        gone, new = sorted(before.get(t, set()) - after[t]), sorted(after[t] - before.get(t, set()))
        lines.append(f"{t}: {len(gone)} rows gone, {len(new)} rows new")
        lines += [f"  - {r[:400]}" for r in gone[:4]] + [f"  + {r[:400]}" for r in new[:4]]
    return "\n".join(lines)


def _running_on(stack, run: tuple[str, str], worker: str, fresh: float | None = None) -> list[dict]:
    """Task instances of the run in state running on ``worker``; with ``fresh``: long ones started
    at most that many seconds ago."""
    now = datetime.now(timezone.utc)
    found = []
    for ti in stack.task_instances(*run):
        if ti["state"] != "running" or ti["hostname"] != worker:
            continue
        if fresh is not None and (ti["task_id"] not in LONG_TASKS or not ti.get("start_date")
                                  or (now - datetime.fromisoformat(ti["start_date"])).total_seconds() > fresh):
            continue
        found.append(ti)
    return found


def test_a_killed_worker_s_tasks_are_retried_on_the_other_and_the_outcome_is_unchanged(celery_run, stack, reference,
                                                                                       window):
    from seller_inbox import warehouse

    url = stack.world.url
    warehouse.migrate(url)  # a migration added to the checkout meanwhile would be applied by the rerun
    with psycopg2.connect(url) as conn:
        before = fingerprint(conn)
    rows_before = _table_rows(url, before)
    sent_before = len(stack.world.smtp.messages)
    dag_id = f"si_{DRILL_STORE}_pipeline"
    run = next(r for r in celery_run["runs"] if r[0] == dag_id)
    stack.api("POST", f"/dags/{dag_id}/dagRuns/{run[1]}/clear", {"dry_run": False})  # rerun the store's day
    deadline = time.monotonic() + 400
    while not _running_on(stack, run, "w1", fresh=3) and time.monotonic() < deadline:
        assert stack.run_state(*run) not in ("success", "failed"), "the rerun ended before w1 ran a long task"
        time.sleep(0.3)
    t_kill = time.monotonic()
    pids = stack.kill_worker("w1")
    victims = _running_on(stack, run, "w1")  # still "running" on a dead worker: nobody will finish them
    assert victims, "no task was running on w1 when it was killed"
    time.sleep(1)
    assert not [p for p in pids if alive(p)], "processes of the killed worker survived"
    state = stack.wait_runs([run], timeout=600)[run]
    recovered = time.monotonic() - t_kill
    assert state == "success", stack.task_instances(*run)
    for v in victims:
        final = next(t for t in stack.task_instances(*run) if t["task_id"] == v["task_id"])
        assert final["state"] == "success" and final["hostname"] == "w2", final
        assert final["try_number"] > v["try_number"], (v, final)
        tries = stack.tries(*run, v["task_id"])
        killed_try = next(t for t in tries if t["try_number"] == v["try_number"])
        assert killed_try["hostname"] == "w1" and killed_try["state"] != "success", tries
    # the remaining worker delivers again after the rerun: nothing is sent twice
    again = (f"si_{DRILL_STORE}_deliver", stack.trigger(f"si_{DRILL_STORE}_deliver", window + timedelta(minutes=5)))
    assert stack.wait_runs([again])[again] == "success"
    with psycopg2.connect(url) as conn:
        after = fingerprint(conn)
    changed = {t: (before.get(t), after.get(t)) for t in set(before) | set(after) if before.get(t) != after.get(t)}
    assert not changed, _row_changes(url, rows_before, changed)
    assert len(stack.world.smtp.messages) == sent_before
    _sent_once(stack)
    assert _kpi_rows(url) == _kpi_rows(reference["wait"]().url)
    print(f"worker kill: {', '.join(v['task_id'] for v in victims)} killed on w1; the rerun and a deliver run "
          f"done on w2 {recovered:.0f} s after the kill")
