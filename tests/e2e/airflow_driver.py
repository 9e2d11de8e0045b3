"""Run DAGs with ``dag.test()`` in a fresh process, as the scheduler's workers would.

Airflow reads its configuration when it is first imported, so e2e tests run this module in
a subprocess with their own AIRFLOW_HOME, connections and registry::

    python -m tests.e2e.airflow_driver '[["si_us-outdoor_pipeline", "2026-11-29T00:00:00+00:00"], ...]'

Each run prints one JSON line: ``{"dag_id", "logical_date", "state", "tasks": {task_id: state}}``;
a run Airflow calls successful although none or not all of its tasks ran has the state
``success_but_tasks_never_ran``.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime


def main(argv: list[str]) -> int:
    from airflow.dag_processing.dagbag import DagBag

    from seller_inbox.paths import DAGS

    for name in ("airflow", "airflow.task", "great_expectations"):
        logging.getLogger(name).setLevel(logging.WARNING)
    bag = DagBag(dag_folder=str(DAGS))
    if bag.import_errors:
        print(json.dumps({"import_errors": {k: v.strip().splitlines()[-1] for k, v in bag.import_errors.items()}}))
        return 1
    for dag_id, when in json.loads(argv[0]):
        dr = bag.dags[dag_id].test(logical_date=datetime.fromisoformat(when))
        tasks = {ti.task_id: str(getattr(ti.state, "value", ti.state)) for ti in dr.get_task_instances()}
        state = str(getattr(dr.state, "value", dr.state))
        if state == "success" and (not tasks or "None" in tasks.values()):
            # dag.test marks a run with no task instances (a DAG end_date before the run) successful,
            # and one whose tasks never ran: no caller may read that as a green run
            state = "success_but_tasks_never_ran"
        print("RESULT " + json.dumps({"dag_id": dag_id, "logical_date": when, "state": state, "tasks": tasks}),
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
