"""An orders window read that survives rescheduling (the only writer of ``ops.orders_read``).

When the store's bucket makes ``ingest_orders`` wait longer than a few seconds, the client
raises ``TokenWait`` and the task is rescheduled instead of sleeping in a worker slot
(docs/spapi.md, "Waiting for tokens"). What was read so far — the orders by id, the paging
figures ``orders.check_window`` counts, and the page cursor — is saved here, so the next attempt
goes on from the page it stopped at rather than reading the window again (which, at getOrders'
one call a minute, could never finish for a large window). The row goes when the window is
recorded in ``ops.orders_window``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from seller_inbox.spapi.paging import PageCursor


@dataclass
class OrdersRead:
    """A window's read: where paging stands and what it returned (``seen``: order id → order)."""

    store_id: str
    window_start: datetime
    window_end: datetime
    loaded_until: datetime
    api: str
    seen: dict[str, dict] = field(default_factory=dict)
    paging: dict[str, int] = field(default_factory=lambda: {"pages": 0, "page_sizes_sum": 0, "iterated": 0})
    cursor: PageCursor = field(default_factory=PageCursor)
    attempts: int = 1
    resumed: bool = False

    @property
    def done(self) -> bool:
        """Every page was read (the last one carried no token)."""
        return self.cursor.page > 0 and self.cursor.token is None

    def restart(self) -> None:
        """Forget what was read (a saved page token Amazon no longer accepts)."""
        self.seen, self.cursor = {}, PageCursor()
        self.paging = {"pages": 0, "page_sizes_sum": 0, "iterated": 0}
        self.resumed = False


def load(conn, store_id: str, start: datetime, end: datetime, api: str) -> OrdersRead | None:
    """The saved read of this window and API, if an earlier attempt left one."""
    with conn, conn.cursor() as cur:
        cur.execute("SELECT loaded_until, next_token, pages, followed, page_sizes_sum, iterated, orders, attempts "
                    "FROM ops.orders_read WHERE store_id = %s AND window_start = %s AND window_end = %s "
                    "AND orders_api = %s", (store_id, start, end, api))
        row = cur.fetchone()
    if row is None:
        return None
    until, token, pages, followed, sizes, iterated, orders, attempts = row
    return OrdersRead(store_id, start, end, until, api, seen=dict(orders),
                      paging={"pages": pages, "page_sizes_sum": sizes, "iterated": iterated},
                      cursor=PageCursor(page=pages, token=token, followed=set(followed)),
                      attempts=attempts + 1, resumed=True)


def save(conn, read: OrdersRead) -> None:
    """Keep the read for the next attempt (nothing to keep before the first page)."""
    if read.cursor.page == 0:
        return
    with conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO ops.orders_read (store_id, window_start, window_end, loaded_until, orders_api, next_token, "
            "pages, followed, page_sizes_sum, iterated, orders, attempts) "
            "VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s) ON CONFLICT (store_id, window_start, window_end) DO UPDATE "
            "SET loaded_until = EXCLUDED.loaded_until, orders_api = EXCLUDED.orders_api, "
            "next_token = EXCLUDED.next_token, pages = EXCLUDED.pages, followed = EXCLUDED.followed, "
            "page_sizes_sum = EXCLUDED.page_sizes_sum, iterated = EXCLUDED.iterated, orders = EXCLUDED.orders, "
            "attempts = EXCLUDED.attempts, updated_at = now()",
            (read.store_id, read.window_start, read.window_end, read.loaded_until, read.api, read.cursor.token,
             read.paging["pages"], json.dumps(sorted(read.cursor.followed)), read.paging["page_sizes_sum"],
             read.paging["iterated"], json.dumps(read.seen, default=str), read.attempts))


def forget(cur, store_id: str, start: datetime, end: datetime) -> None:
    """The window is recorded: its saved read is no longer needed (caller keeps the transaction)."""
    cur.execute("DELETE FROM ops.orders_read WHERE store_id = %s AND window_start = %s AND window_end = %s",
                (store_id, start, end))
