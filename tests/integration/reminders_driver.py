"""Run the reminders DAG with ``dag.test()`` in a fresh process, once per simulated moment.

Each run pins the stages' clock (``SELLER_INBOX_AS_OF``) to its moment first, as a punctual
scheduler firing at that time would see it::

    python -m tests.integration.reminders_driver si_us-outdoor_reminders '["2026-11-20T00:05:00+00:00", ...]'

Prints one line per run: ``RESULT {"at", "state", "tasks", "seconds"}``.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from datetime import datetime


def main(argv: list[str]) -> int:
    from airflow.dag_processing.dagbag import DagBag

    from seller_inbox import clock
    from seller_inbox.paths import DAGS

    for name in ("airflow", "airflow.task", "seller_inbox"):
        logging.getLogger(name).setLevel(logging.WARNING)
    bag = DagBag(dag_folder=str(DAGS))
    if bag.import_errors:
        print(json.dumps({"import_errors": {k: v.strip().splitlines()[-1] for k, v in bag.import_errors.items()}}))
        return 1
    dag = bag.dags[argv[0]]
    for at in json.loads(argv[1]):
        os.environ[clock.ENV] = at
        t0 = time.perf_counter()
        dr = dag.test(logical_date=datetime.fromisoformat(at))
        tasks = {ti.task_id: str(getattr(ti.state, "value", ti.state)) for ti in dr.get_task_instances()}
        print("RESULT " + json.dumps({"at": at, "state": str(getattr(dr.state, "value", dr.state)), "tasks": tasks,
                                      "seconds": round(time.perf_counter() - t0, 3)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
