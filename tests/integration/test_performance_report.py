"""Amazon's performance and feedback reports through real Airflow (``dag.test()`` in a fresh
process, the trigger run inline as dag.test does), the SP-API simulator over HTTP and real
PostgreSQL: DONE loads, a rerun rewrites nothing, FATAL fails naming the store, a long
IN_PROGRESS defers and completes, and the GZIP feedback document loads redacted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import psycopg2
import pytest

from seller_inbox.paths import REPO_ROOT
from tests.airflow_world import airflow_world_env, write_registry

UTC = timezone.utc
STORE, SELLER = "us-outdoor", "A1DEMOUSOUTDOOR"
TIME_SCALE = 100.0   # reports: 0.2 s queued, 0.3 s processing; getReport polled every 0.6 s

# runs dag.test and reports, per task, the state its worker run ended in (DEFERRED: the slot
# was given back) and every inline trigger event
DRIVER = r"""
import json, logging, sys
from datetime import datetime
from airflow.dag_processing.dagbag import DagBag
import airflow.sdk.definitions.dag as dagmod
import airflow.sdk.execution_time.supervisor as sup
from seller_inbox.paths import DAGS
for n in ("airflow", "airflow.task", "great_expectations"):
    logging.getLogger(n).setLevel(logging.WARNING)
worker_ends, events = [], []
_run = sup.run_task_in_process
def run_task_in_process(ti, task):
    res = _run(ti=ti, task=task)
    worker_ends.append([ti.task_id, str(getattr(res.ti.state, "value", res.ti.state))])
    return res
sup.run_task_in_process = run_task_in_process
_trig = dagmod._run_inline_trigger
def inline(trigger, ti):
    ev = _trig(trigger, ti)
    events.append({"trigger": type(trigger).__name__, "payload": ev.payload if ev else None})
    return ev
dagmod._run_inline_trigger = inline
bag = DagBag(dag_folder=str(DAGS))
dag_id, when = sys.argv[1], datetime.fromisoformat(sys.argv[2])
dr = bag.dags[dag_id].test(logical_date=when)
tasks = {ti.task_id: str(getattr(ti.state, "value", ti.state)) for ti in dr.get_task_instances()}
print("RESULT " + json.dumps({"state": str(getattr(dr.state, "value", dr.state)), "tasks": tasks,
                              "worker_ends": worker_ends, "events": events}), flush=True)
"""


@pytest.fixture(scope="module")
def world(new_database, tmp_path_factory):
    from seller_inbox import warehouse
    from seller_inbox_dev.sandbox.server import start as start_sim

    base = tmp_path_factory.mktemp("perf_af")
    url = new_database("si_perf")
    warehouse.migrate(url)
    reg_path, stores = write_registry(base, (STORE,))
    sim = start_sim(host="127.0.0.1", port=0, seed=42, time_scale=TIME_SCALE, report_queue_seconds=20.0,
                    report_processing_seconds=30.0)
    env = airflow_world_env(base, reg_path, stores, sim.url, base / "maildir", url)
    conn = json.loads(env[f"AIRFLOW_CONN_{stores[0].connections.spapi.upper()}"])
    conn["extra"]["rate_scale"] = TIME_SCALE   # the client keeps to the simulator's faster plans
    env[f"AIRFLOW_CONN_{stores[0].connections.spapi.upper()}"] = json.dumps(conn)
    day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    yield {"env": env, "url": url, "sim": sim, "day": day}
    sim.stop()


def _run(world, when: datetime) -> dict:
    p = subprocess.run([sys.executable, "-c", DRIVER, f"si_{STORE}_performance", when.isoformat()],
                       env=world["env"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    out = [json.loads(line[7:]) for line in p.stdout.splitlines() if line.startswith("RESULT ")]
    assert out, p.stderr[-3000:]
    return out[0]


def _q(url: str, sql: str, args=()) -> list[tuple]:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def _snapshot(url: str) -> list:
    return [_q(url, "SELECT * FROM raw.seller_performance ORDER BY 1, 2, 3, 4, 5"),
            _q(url, "SELECT * FROM raw.seller_feedback ORDER BY 1, 2")]


def test_done_reports_load_and_a_rerun_rewrites_nothing(world):
    from seller_inbox_dev.sandbox import report_docs
    from seller_inbox_dev.sandbox.defects import defects
    from seller_inbox_dev.sandbox.state import SandboxState

    url, sim = world["url"], world["sim"]
    sim.state.reset()
    run = _run(world, world["day"])
    assert run["state"] == "success", run
    assert run["tasks"] == {t: "success" for t in ("migrate", "request_reports", "wait_reports", "load_reports",
                                                   "gate_performance")}, run
    assert ["wait_reports", "deferred"] in run["worker_ends"]   # the wait held no worker slot
    perf = _q(url, "SELECT fulfillment, window_start, window_end, order_count, claims_count, chargebacks_count, "
                   "negative_feedback_count, defects_count FROM raw.seller_performance WHERE store_id = %s "
                   "ORDER BY fulfillment", (STORE,))
    assert [r[0] for r in perf] == ["AFN", "MFN"]
    assert all((r[2] - r[1]).days == 59 for r in perf)
    # the figures are the simulator's orders and their defects, counted independently here
    made = _q(url, "SELECT min(requested_at) FROM ops.report_request")[0][0]
    first, last = report_docs.odr_window(made)
    assert (perf[0][1], perf[0][2]) == (first, last)
    state = SandboxState(sim.state.config)
    orders = [o for o in state.orders_between(SELLER, datetime.combine(first, datetime.min.time(), UTC),
                                              datetime.combine(last + timedelta(days=1), datetime.min.time(), UTC),
                                              as_of=None) if o.final_status != "Canceled"]
    afn = [o for o in orders if o.fulfillment_channel == "AFN"]
    claims = sum(1 for o in afn if (c := defects(o, 42).claim_at) is not None and c <= made)
    assert perf[0][3] == len(afn) and abs(perf[0][4] - claims) <= 1   # a claim may land between the two clocks
    assert perf[0][3] > 500 and perf[0][7] > 0
    # the feedback report (GZIP) loaded, redacted, without the rater's e-mail
    fb = _q(url, "SELECT amazon_order_id, rating, comment, negative FROM raw.seller_feedback WHERE store_id = %s",
            (STORE,))
    assert len(fb) > 20 and {r[1] for r in fb} <= {1, 2, 3, 4, 5}
    assert all(r[3] == (r[1] <= 2) for r in fb)
    text = " ".join(r[2] or "" for r in fb)
    assert "@" not in text and "555-201-4477" not in text and "Cherri Smith" not in text
    assert "[EMAIL]" in text or "[PHONE]" in text or "[NAME]" in text
    (gz,) = _q(url, "SELECT count(*) FROM ops.report_request WHERE report_type = 'GET_SELLER_FEEDBACK_DATA' "
                    "AND processing_status = 'DONE' AND rows_loaded = %s", (len(fb),))[0]
    assert gz == 1
    # a rerun of the day (dag.test: a new run, so new reports of the same figures) rewrites nothing:
    # the snapshot holds loaded_at and report_id, which change only with a value
    before = _snapshot(url)
    again = _run(world, world["day"])
    assert again["state"] == "success", again
    assert _snapshot(url) == before


def test_fatal_report_fails_naming_the_store_and_alerts(world):
    url, sim = world["url"], world["sim"]
    sim.state.reset()
    sim.state.faults.add("report_fatal", SELLER, "createReport", count=1)
    when = world["day"] - timedelta(days=1)
    run = _run(world, when)
    assert run["state"] == "failed" and run["tasks"]["wait_reports"] == "failed", run
    assert run["tasks"]["load_reports"] == "upstream_failed"
    ((err, task),) = _q(url, "SELECT last_error, incident_key FROM ops.incident WHERE store_id = %s "
                             "AND incident_key LIKE %s", (STORE, "%wait_reports%"))
    assert len(err.splitlines()) == 1, err
    assert f"store {STORE}" in err and "FATAL" in err and "GET_V2_SELLER_PERFORMANCE_REPORT" in err, err
    assert "internal error" in err   # Amazon's reason, from the error document


def test_long_in_progress_defers_and_completes_later(world):
    url, sim = world["url"], world["sim"]
    sim.state.reset()
    sim.state.faults.add("report_stuck", SELLER, "createReport", count=1, delay=4.0)
    when = world["day"] - timedelta(days=2)
    (started,) = _q(url, "SELECT clock_timestamp()")[0]
    run = _run(world, when)
    assert run["state"] == "success", run
    # the worker run ended DEFERRED (slot given back), the trigger waited, a second worker run finished
    assert [s for t, s in run["worker_ends"] if t == "wait_reports"] == ["deferred", "success"], run["worker_ends"]
    (ev,) = [e for e in run["events"] if e["trigger"] == "ReportsTrigger"]
    assert ev["payload"]["polls"] >= 5 and ev["payload"]["timed_out"] is False   # it kept polling while stuck
    assert sim.state.stat(SELLER, "getReport") >= 5
    assert _q(url, "SELECT count(*) FROM ops.report_request WHERE processing_status <> 'DONE' "
                   "AND requested_at > %s", (started,))[0][0] == 0   # this run's reports (not the FATAL test's)
