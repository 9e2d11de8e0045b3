"""Alerts: high-risk messages, SLA reminders and other components' alerts to people.

Channels per store (``StoreConfig.alert_channels``): WeCom and DingTalk group robots
(signed DingTalk webhooks supported), Slack, e-mail, and the log. Exactly once per
(store, alert kind, subject, channel) through ``ops.alert_log``. Cheap to import.
"""

from __future__ import annotations

import json
import logging
from typing import Any

__all__ = ["dispatch_alerts", "queue"]
log = logging.getLogger(__name__)


def queue(cur, store_id: str, kind: str, subject: str, payload: dict) -> bool:
    """Queue another component's alert (auth, gates, incidents, quarantine, gaps, delivery) as a
    ``log`` row of ``ops.alert_log``, once per (store, kind, subject); the dispatcher fans it out
    to the store's channels. True if it is new."""
    cur.execute(
        "INSERT INTO ops.alert_log (store_id, alert_kind, subject_key, channel, status, payload, sent_at) "
        "VALUES (%s, %s, %s, 'log', 'sent', %s, now()) ON CONFLICT DO NOTHING RETURNING 1",
        (store_id, kind, subject, json.dumps(payload, default=str)))
    new = cur.fetchone() is not None
    if new:
        log.warning("ALERT %s store=%s: %s", kind, store_id, payload.get("message"))
    return new


def dispatch_alerts(store, dsn: str, start, end, now, *, run_url: str | None = None, realert: bool = False,
                    **kwargs: Any) -> dict:
    from seller_inbox.alerts.dispatch import dispatch_alerts as _dispatch

    return _dispatch(store, dsn, start, end, now, run_url=run_url, realert=realert, **kwargs)
