"""What delivery did, per store: the table the run command prints beside the KPIs."""

from __future__ import annotations

COLUMNS = ("store_id", "sent", "held", "expired", "blocked", "failed", "pending_approval", "shadow")

SQL = """
SELECT store_id,
       count(*) FILTER (WHERE status = 'sent') AS sent,
       count(*) FILTER (WHERE status = 'held') AS held,
       count(*) FILTER (WHERE status = 'expired') AS expired,
       count(*) FILTER (WHERE status = 'blocked') AS blocked,
       count(*) FILTER (WHERE status = 'failed') AS failed,
       count(*) FILTER (WHERE status IN ('pending_approval', 'approved')) AS pending_approval,
       count(*) FILTER (WHERE status = 'shadow') AS shadow
FROM core.outbox
GROUP BY store_id ORDER BY store_id
"""


def summary(dsn: str) -> tuple[tuple[str, ...], list[tuple]]:
    from seller_inbox import warehouse

    with warehouse.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(SQL)
        rows = cur.fetchall()
    conn.close()
    return COLUMNS, rows
