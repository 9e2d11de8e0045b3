"""The deferrable wait: ``ReportsTrigger`` polls getReport from the triggerer until every report
of the run is DONE, CANCELLED or FATAL, so a wait of hours holds no worker slot.

Each poll goes through the store's SP-API client in a thread (``asyncio.to_thread``, what
Airflow's ``sync_to_async(thread_sensitive=False)`` does, without a further dependency): the same
token bucket (``ops.api_bucket``) as every other getReport of the store, the same retries and
call log. Nothing secret travels in the trigger's arguments: the client reads the store's
connection in the triggerer. Past ``deadline`` the trigger reports a timeout instead of
polling on, so the task fails with a message rather than Airflow's bare deferral timeout.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from seller_inbox.reports import TERMINAL

POLL_SECONDS = 60.0      # at Amazon's pace: reports take minutes to hours
MIN_POLL_SECONDS = 0.2


def poll(store_id: str, report_ids: list[str]) -> tuple[dict[str, dict], float]:
    """One getReport per report (blocking; runs in a thread): ``({id: view}, poll interval)``."""
    from seller_inbox.config import get_registry
    from seller_inbox.spapi.hook import store_client
    from seller_inbox.warehouse import dsn

    store = get_registry().store(store_id)
    client = store_client(store, dsn())
    try:
        views = {rid: client.get_report(rid) for rid in report_ids}
        # a simulator running faster than Amazon (rate_scale) is polled faster too
        return views, max(MIN_POLL_SECONDS, POLL_SECONDS / client.credentials.rate_scale)
    finally:
        client.close()


class ReportsTrigger(BaseTrigger):
    def __init__(self, store_id: str, report_ids: list[str], deadline: str):
        super().__init__()
        self.store_id, self.report_ids, self.deadline = store_id, list(report_ids), deadline

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return ("seller_inbox.reports.trigger.ReportsTrigger",
                {"store_id": self.store_id, "report_ids": self.report_ids, "deadline": self.deadline})

    async def run(self):
        deadline = datetime.fromisoformat(self.deadline)
        views: dict[str, dict] = {}
        polls = 0
        while True:
            pending = [rid for rid in self.report_ids if views.get(rid, {}).get("processingStatus") not in TERMINAL]
            got, interval = await asyncio.to_thread(poll, self.store_id, pending)
            views.update(got)
            polls += 1
            pending = [rid for rid in self.report_ids if views[rid].get("processingStatus") not in TERMINAL]
            if not pending:
                yield TriggerEvent({"store_id": self.store_id, "reports": views, "timed_out": False, "polls": polls})
                return
            if datetime.now(timezone.utc) >= deadline:
                yield TriggerEvent({"store_id": self.store_id, "reports": views, "timed_out": True, "polls": polls})
                return
            self.log.info("store %s: %d of %d reports still processing; next poll in %.1f s", self.store_id,
                          len(pending), len(self.report_ids), interval)
            await asyncio.sleep(interval)
