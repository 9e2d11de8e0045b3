"""Which intervals of each store and source were read completely (``ops.ingest_coverage``).

A task records its interval only after it read all of it; ``ops.ingest_gaps`` then shows
what no run read (a scheduler outage, a failed branch), and the KPI task names the sources
its interval is missing (docs/operations.md).
"""

from __future__ import annotations

from datetime import datetime

SOURCES = ("mail", "orders")


def record_coverage(dsn: str, store_id: str, source: str, start: datetime, end: datetime, rows: int,
                    run_id: str = "") -> None:
    """Mark [start, end) of ``source`` as completely read (idempotent; rows/run id of the latest read)."""
    from seller_inbox import warehouse

    if source not in SOURCES:
        raise ValueError(f"unknown coverage source {source!r} (known: {', '.join(SOURCES)})")
    if end <= start:
        return
    conn = warehouse.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(
                """INSERT INTO ops.ingest_coverage (store_id, source, interval_start, interval_end, rows_loaded, run_id)
                   VALUES (%s, %s, %s, %s, %s, %s)
                   ON CONFLICT (store_id, source, interval_start, interval_end) DO UPDATE SET
                       rows_loaded = EXCLUDED.rows_loaded, run_id = EXCLUDED.run_id, recorded_at = now()
                   WHERE ops.ingest_coverage.rows_loaded IS DISTINCT FROM EXCLUDED.rows_loaded""",
                (store_id, source, start, end, rows, run_id))
    finally:
        conn.close()


def missing_sources(dsn: str, store_id: str, start: datetime, end: datetime) -> list[str]:
    """Sources whose recorded intervals do not cover all of [start, end)."""
    from seller_inbox import warehouse

    conn = warehouse.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(
                """SELECT source, interval_start, interval_end FROM ops.ingest_coverage
                   WHERE store_id = %s AND interval_end > %s AND interval_start < %s
                   ORDER BY source, interval_start""", (store_id, start, end))
            rows = cur.fetchall()
    finally:
        conn.close()
    out = []
    for source in SOURCES:
        reached = start
        for s, a, b in rows:
            if s == source and a <= reached:
                reached = max(reached, b)
        if reached < end:
            out.append(source)
    return out


def gaps(dsn: str, store_id: str | None = None) -> list[dict]:
    """Stretches no run read, per store and source (``ops.ingest_gaps``), oldest first."""
    import psycopg2.extras

    from seller_inbox import warehouse

    conn = warehouse.connect(dsn)
    try:
        with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            cur.execute("SELECT * FROM ops.ingest_gaps WHERE %(s)s::text IS NULL OR store_id = %(s)s "
                        "ORDER BY store_id, source, gap_start", {"s": store_id})
            return [dict(r) for r in cur.fetchall()]
    finally:
        conn.close()


MAX_CATCH_UP_DAYS = 7  # further back than this, a gap needs a deliberate backfill


def catch_up_start(dsn: str, store_id: str, source: str, start: datetime) -> tuple[datetime, datetime | None]:
    """Where a scheduled run should start reading so that nothing since the last complete read
    is lost (a scheduler outage, runs skipped with catchup off). Returns (read_from, gap_start):
    ``gap_start`` is where the uncovered stretch before ``start`` begins (None: no gap). The
    read goes back at most ``MAX_CATCH_UP_DAYS``; an older gap is left to a backfill."""
    from datetime import timedelta

    from seller_inbox import warehouse

    conn = warehouse.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT max(interval_end) FROM ops.ingest_coverage WHERE store_id = %s AND source = %s "
                        "AND interval_start < %s", (store_id, source, start))
            last = cur.fetchone()[0]
    finally:
        conn.close()
    if last is None or last >= start:
        return start, None
    return max(last, start - timedelta(days=MAX_CATCH_UP_DAYS)), last


def run_read_from(dsn: str, store_id: str, source: str, run_id: str, start: datetime, end: datetime) -> datetime:
    """The start the ingest task of this run actually read from (its coverage row), else ``start``:
    the stages after it work on the same, possibly extended, window."""
    from seller_inbox import warehouse

    if not run_id:
        return start
    conn = warehouse.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT min(interval_start) FROM ops.ingest_coverage WHERE store_id = %s AND source = %s "
                        "AND run_id = %s AND interval_start <= %s", (store_id, source, run_id, start))
            got = cur.fetchone()[0]
    finally:
        conn.close()
    return min(got, start) if got is not None else start


def alert_gap(dsn: str, store_id: str, source: str, gap_start: datetime, start: datetime, read_from: datetime) -> None:
    """Tell people about a stretch no run read: caught up now, or (too old) waiting for a backfill."""
    from seller_inbox import warehouse
    from seller_inbox.alerts import queue

    filled = read_from <= gap_start
    msg = (f"store {store_id}: no run read {source} from {gap_start:%Y-%m-%d %H:%M} to {start:%Y-%m-%d %H:%M} UTC "
           + ("(the scheduler was down or runs were skipped); this run read it now, nothing was lost."
              if filled else
              f"; this run caught up from {read_from:%Y-%m-%d %H:%M} only. Fill the rest with "
              f"`seller-inbox backfill --store {store_id} --since {gap_start:%Y-%m-%dT%H:%M}`."))
    conn = warehouse.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            queue(cur, store_id, "ingest_gap", f"{source}:{gap_start.isoformat()}",
                  {"source": source, "gap_start": gap_start.isoformat(), "gap_end": start.isoformat(),
                   "filled": filled, "message": msg})
    finally:
        conn.close()
