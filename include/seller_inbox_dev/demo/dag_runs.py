"""The headless demo's DAG runs (``seller-inbox demo --once``), dated like the scheduler's.

``dag.test(logical_date=T)`` creates a manual run whose data interval *ends* at T
(``CronDataIntervalTimetable.infer_manual_data_interval``); the scheduler and ``airflow backfill
create`` date the run of an interval at its *start*. Left so, the test run of day D-1 holds the
logical date of day D: a backfill of D re-runs that run with its own interval (D-1 → D, one day
early), and the scheduler, finding the logical date of its next run taken, recomputes the same
date again and again ("run already exists"). ``run_interval`` therefore re-dates each test run at
its interval's start once it has run: one run per interval, whoever made it, so the demo's
``--once`` and ``make run`` share one Airflow home (docs/operations.md).
"""

from __future__ import annotations

from datetime import datetime


def run_interval(dag, end: datetime, **kwargs):
    """``dag.test()`` for the data interval that ends at ``end``, then dated at its start.

    Run the days in ascending order: ``dag.test`` replaces the run at its logical date ``end``,
    which is the next interval's run until that one is made again.
    ``kwargs`` go to ``dag.test`` (e.g. ``mark_success_pattern``). Returns the DagRun."""
    return date_at_interval_start(dag.test(logical_date=end, **kwargs))


def date_at_interval_start(dr):
    """Give the run the logical date of its data interval's start, replacing a run that had it
    (as ``dag.test`` itself replaces a run at its logical date). Returns the run, re-read."""
    from sqlalchemy import select

    from airflow import settings
    from airflow.models.dagrun import DagRun

    session = settings.Session()  # the scoped session dag.test() created the run in
    run = session.merge(dr)
    start = run.data_interval_start
    if start is None or run.logical_date == start:
        return run
    for other in session.scalars(select(DagRun).where(DagRun.dag_id == run.dag_id, DagRun.logical_date == start,
                                                      DagRun.id != run.id)):
        session.delete(other)
    session.flush()  # the unique (dag_id, logical_date) must be free before the run takes it
    run.logical_date = start
    session.commit()
    return run
