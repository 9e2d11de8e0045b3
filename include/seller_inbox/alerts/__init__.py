"""Alerts: high-risk messages, SLA reminders and other components' alerts to people.

Channels per store (``StoreConfig.alert_channels``): WeCom and DingTalk group robots
(signed DingTalk webhooks supported), Slack, e-mail, and the log. Exactly once per
(store, alert kind, subject, channel) through ``ops.alert_log``. Cheap to import.
"""

from __future__ import annotations

from typing import Any

__all__ = ["dispatch_alerts"]


def dispatch_alerts(store, dsn: str, start, end, now, *, run_url: str | None = None, realert: bool = False,
                    **kwargs: Any) -> dict:
    from seller_inbox.alerts.dispatch import dispatch_alerts as _dispatch

    return _dispatch(store, dsn, start, end, now, run_url=run_url, realert=realert, **kwargs)
