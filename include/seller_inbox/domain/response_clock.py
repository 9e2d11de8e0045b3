"""Amazon's response clock: a buyer message should get a reply within 24 hours.

Amazon counts a response late when it comes more than 24 hours after the buyer's message,
weekends and holidays included (docs/domain.md). The desk reminds people at 12 and 20 hours
while a message is unanswered, and once more when the 24 hours are up (docs/reminders.md).
Every module that needs the clock imports it from here.
"""

from __future__ import annotations

from datetime import datetime, timedelta

RESPONSE_WINDOW = timedelta(hours=24)
RESPONSE_WINDOW_HOURS = 24  # the same, for SQL parameters

# (alert kind, age of the unanswered message at which it is due), earliest first
REMINDERS = (("sla_12h", timedelta(hours=12)), ("sla_20h", timedelta(hours=20)), ("sla_24h", RESPONSE_WINDOW))


def due_at(received_at: datetime) -> datetime:
    """When the reply to a buyer message received at ``received_at`` is due."""
    return received_at + RESPONSE_WINDOW

