"""Alerts: high-risk messages, SLA reminders and other components' alerts to people.

Channels per store (``StoreConfig.alert_channels``): WeCom and DingTalk group robots
(signed DingTalk webhooks supported), Slack, e-mail, and the log. Exactly once per
(store, alert kind, subject, channel) through ``ops.alert_log`` (written by ``alert_log`` only).
Cheap to import.
"""

from __future__ import annotations

import logging
from typing import Any

__all__ = ["dispatch_alerts", "queue"]
log = logging.getLogger(__name__)


def queue(cur, store_id: str, kind: str, subject: str, payload: dict) -> bool:
    """Queue another component's alert (auth, gates, incidents, quarantine, gaps, delivery) as a
    ``log`` row of ``ops.alert_log``, once per (store, kind, subject); the dispatcher fans it out
    to the store's channels. True if it is new."""
    from seller_inbox.alerts import alert_log

    new = alert_log.log_once(cur, store_id, kind, subject, payload)
    if new:
        log.warning("ALERT %s store=%s: %s", kind, store_id, payload.get("message"))
    return new


def dispatch_alerts(store, dsn: str, start, end, now, *, run_url: str | None = None, realert: bool = False,
                    **kwargs: Any) -> dict:
    from seller_inbox.alerts.dispatch import dispatch_alerts as _dispatch

    return _dispatch(store, dsn, start, end, now, run_url=run_url, realert=realert, **kwargs)
