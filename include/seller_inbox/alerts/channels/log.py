"""The task log: the default channel, needs no connection (what a store without channels gets)."""

from __future__ import annotations

import logging

from seller_inbox.alerts.channels.base import Channel, SendBudget

log = logging.getLogger("seller_inbox.alerts")


class LogChannel(Channel):
    type = "log"
    markup = "text"

    def deliver(self, payload: dict, budget: SendBudget) -> str:
        log.warning("ALERT %s\n%s", payload["title"], payload["text"])
        return "logged"
