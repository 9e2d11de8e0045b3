"""The one clock stages ask for "now".

Production uses the real time. ``SELLER_INBOX_AS_OF`` (ISO 8601) pins it: the headless demo
evaluates SLA clocks, late marks and reply staleness as of the end of its window, so that
running it twice gives the same warehouse to the byte.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone

ENV = "SELLER_INBOX_AS_OF"


def now() -> datetime:
    pinned = os.environ.get(ENV)
    if pinned:
        t = datetime.fromisoformat(pinned)
        return t if t.tzinfo else t.replace(tzinfo=timezone.utc)
    return datetime.now(timezone.utc)
