"""``demo --once`` calls a run successful only when every stage ran: Airflow marks a run with no
task instances (a task whose end date excludes the run gets none) as a success."""

from __future__ import annotations

from types import SimpleNamespace

from seller_inbox.airflow_glue import build_dags
from seller_inbox_dev.demo.run import _run_problem


def _run(state: str, tis: dict[str, str]):
    instances = [SimpleNamespace(task_id=t, state=s) for t, s in tis.items()]
    return SimpleNamespace(state=state, get_task_instances=lambda: instances)


def test_an_empty_successful_run_is_a_problem_naming_the_stages_that_never_ran():
    dag = build_dags(("pipeline",))["si_us-outdoor_pipeline"]
    assert _run_problem(dag, _run("success", {t: "success" for t in dag.task_ids})) is None
    problem = _run_problem(dag, _run("success", {}))
    assert problem.startswith("success, but these tasks never ran: migrate, ingest_mail")
    some = {t: "success" for t in dag.task_ids if t != "kpi"}
    assert _run_problem(dag, _run("success", some)) == "success, but these tasks never ran: kpi"
    assert _run_problem(dag, _run("failed", {**some, "kpi": "failed"})) == "failed (kpi)"
