"""The demo's progress names a store whose task gave its worker slot back to wait for SP-API
tokens (docs/spapi.md, "Waiting for tokens"), read from Airflow's own tables."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import datetime, timedelta, timezone


def test_a_rescheduled_task_shows_as_waiting_for_tokens_with_the_time_left(tmp_path):
    import sqlalchemy as sa
    from airflow.models import import_all_models
    from airflow.models.base import Base

    from seller_inbox_dev.demo.run import _token_waits

    db = tmp_path / "airflow.db"
    engine = sa.create_engine(f"sqlite:///{db}")
    import_all_models()
    Base.metadata.create_all(engine)   # Airflow's own schema
    engine.dispose()
    now = datetime.now(timezone.utc)
    with sqlite3.connect(db) as c:
        c.execute("PRAGMA foreign_keys = OFF")   # no dag / dag_run rows: only the two tables read
        cols = {r[1] for r in c.execute("PRAGMA table_info(task_instance)")}
        for dag, state in (("si_us-outdoor_pipeline", "up_for_reschedule"), ("si_eu-home_pipeline", "running")):
            ti = uuid.uuid4().hex
            row = {"id": ti, "dag_id": dag, "task_id": "ingest_orders", "run_id": "r", "map_index": -1,
                   "try_number": 1, "state": state, "pool": "default_pool", "pool_slots": 1, "priority_weight": 1,
                   "queue": "default", "max_tries": 2, "executor_config": b"\x80\x04}\x94.", "hostname": "",
                   "unixname": "u", "operator": "PythonOperator", "custom_operator_name": "", "span_status": "",
                   "dag_version_id": uuid.uuid4().hex, "context_carrier": "{}", "external_executor_id": None}
            row = {k: v for k, v in row.items() if k in cols}
            c.execute(f"INSERT INTO task_instance ({','.join(row)}) VALUES ({','.join('?' * len(row))})",
                      list(row.values()))
            due = (now + timedelta(seconds=40)).strftime("%Y-%m-%d %H:%M:%S.%f")
            c.execute("INSERT INTO task_reschedule (ti_id, start_date, end_date, duration, reschedule_date) "
                      "VALUES (?, ?, ?, 1, ?)", (ti, due, due, due))
    got = _token_waits(str(db), ["si_us-outdoor_pipeline", "si_eu-home_pipeline", "si_jp-gadgets_pipeline"])
    assert list(got) == ["si_us-outdoor_pipeline"]   # a running task (rescheduled before) is not waiting
    assert got["si_us-outdoor_pipeline"].startswith(" · ingest_orders waiting for SP-API tokens, 3")
