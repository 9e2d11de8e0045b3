"""The alert channel types a store may list in ``alert_channels[].type``.

Adding a channel is one module in this package (a ``Channel`` subclass) plus its line here
(CONTRIBUTING.md, "Add an alert channel"). Only names are listed, so the registry validator
can read them at DAG-parse time without importing any channel (nor Airflow).
"""

from __future__ import annotations

from importlib import import_module

# type -> "module:Class" inside seller_inbox.alerts.channels
CHANNELS = {
    "log": "log:LogChannel",
    "wecom": "wecom:WeComChannel",
    "dingtalk": "dingtalk:DingTalkChannel",
    "slack": "slack:SlackChannel",
    "email": "email:EmailChannel",
}
TYPES = tuple(CHANNELS)
NO_CONNECTION = ("log",)  # types that need no conn_id


def channel_class(channel_type: str):
    try:
        module, cls = CHANNELS[channel_type].split(":")
    except KeyError:
        raise KeyError(f"unknown alert channel type {channel_type!r} (known: {', '.join(TYPES)})") from None
    return getattr(import_module(f"seller_inbox.alerts.channels.{module}"), cls)
