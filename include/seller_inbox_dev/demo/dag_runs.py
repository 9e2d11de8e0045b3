"""The headless demo's DAG runs (``seller-inbox demo --once``), dated like the scheduler's.

``dag.test(logical_date=T)`` creates a manual run whose data interval *ends* at T
(``CronDataIntervalTimetable.infer_manual_data_interval``); the scheduler and ``airflow backfill
create`` date the run of an interval at its *start*. Left so, the test run of day D-1 holds the
logical date of day D: a backfill of D re-runs that run with its own interval (D-1 → D, one day
early), and the scheduler, finding the logical date of its next run taken, recomputes the same
date again and again ("run already exists"). ``run_interval`` therefore re-dates each test run at
its interval's start once it has run: one run per interval, whoever made it, so the demo's
``--once`` and ``make run`` share one Airflow home (docs/operations.md).

``dag.test`` only makes manual runs. ``make run`` processes the demo's days as Airflow does when
a system starts at the end of the window: the last day by the scheduler, on time, and every
earlier day by a backfill, which never sends by itself (act drafts instead). ``--once`` gives its
runs of the earlier days the backfill's run type (``backfill=True``) so that both modes make
the same decisions and print the same KPI table.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime


def run_interval(dag, end: datetime, backfill: bool = False, **kwargs):
    """``dag.test()`` for the data interval that ends at ``end``, then dated at its start.

    Run the days in ascending order: ``dag.test`` replaces the run at its logical date ``end``,
    which is the next interval's run until that one is made again. ``backfill``: the run is
    typed as a backfill's (the stages read the run type from it).
    ``kwargs`` go to ``dag.test`` (e.g. ``mark_success_pattern``). Returns the DagRun."""
    if not backfill:
        return date_at_interval_start(dag.test(logical_date=end, **kwargs))
    with _runs_typed_as_backfill():
        return date_at_interval_start(dag.test(logical_date=end, **kwargs))


@contextmanager
def _runs_typed_as_backfill():
    """The runs ``dag.test`` creates meanwhile get the backfill run type before any task starts
    (``dag.test`` imports ``get_or_create_dagrun`` at each call and hard-codes MANUAL)."""
    from airflow.models import dagrun
    from airflow.utils.types import DagRunType

    create = dagrun.get_or_create_dagrun

    def create_as_backfill(**kwargs):
        run = create(**kwargs)
        run.run_type = DagRunType.BACKFILL_JOB
        kwargs["session"].commit()
        return run

    dagrun.get_or_create_dagrun = create_as_backfill
    try:
        yield
    finally:
        dagrun.get_or_create_dagrun = create


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
