"""Alert channels: WeCom and DingTalk group robots, Slack, e-mail, and the log — one module
each (``alerts.channel_registry``), every one an Airflow notifier (``base.Channel``).

Connections are read at execution time (``airflow.sdk.BaseHook.get_connection``), never at
import.

Every channel takes the rendered payload (``templates.render_all``: one body per markup) and
raises ``ChannelError`` on failure (HTTP status, robot ``errcode``, SMTP error). Each module's
docstring gives its connection contract.

Time is bounded per dispatch run, not per request: ``send`` retries 429/5xx/connection
errors inside one ``SendBudget`` (ALERT_SEND_BUDGET_S for all sends of the run, TIMEOUT per
request, Retry-After honoured up to RETRY_AFTER_CAP). A longer wait, or an exhausted budget,
raises at once: the dispatcher marks the delivery failed with a next attempt time and a later
run sends it, instead of a worker slot sleeping through a 429 storm.
"""

from __future__ import annotations

import time

from seller_inbox.alerts.channels.base import (  # noqa: F401 - the package's public names
    ALERT_SEND_BUDGET_S,
    BACKOFF,
    MAX_RETRY_AFTER,
    MIN_TRY,
    RETRY_AFTER_CAP,
    TIMEOUT,
    TRIES,
    Channel,
    ChannelError,
    SendBudget,
    retry_after_seconds,
)
from seller_inbox.alerts.channels.base import connection  # noqa: F401
from seller_inbox.alerts.channels.http import signed, webhook_url  # noqa: F401
from seller_inbox.alerts.channel_registry import NO_CONNECTION, TYPES, channel_class  # noqa: F401


def send(channel_type: str, conn_id: str | None, payload: dict | str, *texts: str,
         budget: SendBudget | None = None) -> str:
    """Deliver one rendered alert (``templates.render_all``); transient failures are retried
    within ``budget``. The former form ``send(type, conn_id, title, markdown, plain)`` still
    works: its plain text is escaped for the channel (``templates.body_for``)."""
    if isinstance(payload, str):
        payload = {"title": payload, "text": texts[-1] if texts else ""}
    try:
        channel = channel_class(channel_type)(conn_id)
    except KeyError as exc:
        raise ChannelError(exc.args[0]) from None
    if channel_type not in NO_CONNECTION and not conn_id:
        raise ChannelError(f"alert channel {channel_type!r} needs a conn_id")
    budget = budget or SendBudget()
    key = (channel_type, conn_id)
    attempt = 0
    while True:
        wait, why = budget.blocked(key)
        if wait:
            raise ChannelError(f"deferred to a later run ({channel_type} {conn_id} earlier in this run: {why})",
                               transient=True, retry_after=wait, attempted=attempt > 0)
        if budget.remaining() < MIN_TRY:
            raise ChannelError(f"this run's send budget ({budget.seconds:g} s) is used up: deferred to a later run",
                               transient=True, attempted=attempt > 0)
        try:
            return channel.deliver(payload, budget)
        except ChannelError as exc:
            attempt += 1
            if not exc.transient:
                raise
            delay = exc.retry_after if exc.retry_after is not None else BACKOFF * 2 ** (attempt - 1)
            if attempt == TRIES or delay > RETRY_AFTER_CAP or delay > budget.remaining() - MIN_TRY:
                budget.block(key, delay, str(exc)[:200])  # the rest of this run leaves the channel alone
                raise
            time.sleep(delay)
