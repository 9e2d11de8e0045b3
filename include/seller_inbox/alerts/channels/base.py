"""What every alert channel shares: the send budget of a dispatch run, the error a failed
delivery raises, and ``Channel`` — an Airflow notifier, so a channel also works as a task
callback (``on_failure_callback=WeComChannel(conn_id="wecom_ops")``)."""

from __future__ import annotations

import json
import math
import time
from abc import ABCMeta, abstractmethod
from email.utils import parsedate_to_datetime
from typing import ClassVar

from airflow.sdk.bases.notifier import BaseNotifier

ALERT_SEND_BUDGET_S = 30.0  # all sends of one dispatch run, retries and waits included
TIMEOUT = 10.0  # one request
RETRY_AFTER_CAP = 10.0  # a channel asking to wait longer is left to a later run
TRIES = 3  # per delivery and run
BACKOFF = 0.5  # first wait after a 5xx without Retry-After; doubles
MIN_TRY = 1.0  # no request is started with less budget left than this
# robots answer HTTP 200 with these when rate limited (WeCom 45009, DingTalk 130101: 20 a minute)
ROBOT_RATE_LIMITED = {45009, 130101}
ROBOT_RATE_WINDOW = 60.0
MAX_RETRY_AFTER = 86400.0  # a day: a larger (or absurd) Retry-After is read as this


class ChannelError(RuntimeError):
    """A failed delivery. ``transient``: worth retrying (429, 5xx, connection); ``retry_after``:
    seconds the channel asked for; ``attempted``: False when nothing was sent (deferred)."""

    def __init__(self, message: str, *, transient: bool = False, retry_after: float | None = None,
                 attempted: bool = True):
        super().__init__(message)
        self.transient = transient
        self.retry_after = retry_after
        self.attempted = attempted


class SendBudget:
    """The sending time left in one dispatch run, and the channels that asked us to wait."""

    def __init__(self, seconds: float = ALERT_SEND_BUDGET_S):
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self._blocked: dict[tuple, tuple[float, str]] = {}  # channel -> (until, why)

    def remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def timeout(self) -> float:
        """For the request about to start: TIMEOUT, or what is left of the budget."""
        return max(0.1, min(TIMEOUT, self.remaining()))

    def blocked(self, key: tuple) -> tuple[float, str]:
        until, why = self._blocked.get(key, (0.0, ""))
        return max(0.0, until - time.monotonic()), why

    def block(self, key: tuple, seconds: float, why: str) -> None:
        if time.monotonic() + seconds > self._blocked.get(key, (0.0, ""))[0]:
            self._blocked[key] = (time.monotonic() + seconds, why)


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date, at most MAX_RETRY_AFTER); None
    when absent or unreadable."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    if math.isnan(seconds):
        return None
    return min(max(0.0, seconds), MAX_RETRY_AFTER)


def connection(conn_id: str):
    """The Airflow connection of a channel, read at execution time (never at import)."""
    from airflow.sdk import BaseHook

    return BaseHook.get_connection(conn_id)


def extra(conn) -> dict:
    ex = getattr(conn, "extra_dejson", None)
    if ex is None:
        raw = getattr(conn, "extra", None) or "{}"
        ex = json.loads(raw) if isinstance(raw, str) else dict(raw)
    return ex or {}


class Channel(BaseNotifier, metaclass=ABCMeta):
    """One kind of alert channel. Subclasses set ``type`` (the registry key stores use in
    ``alert_channels[].type``), ``markup`` (which rendering of an alert they send:
    ``alerts.templates.MARKUPS``), and implement ``deliver``."""

    type: ClassVar[str]
    markup: ClassVar[str] = "text"
    template_fields = ("conn_id",)

    def __init__(self, conn_id: str | None = None, *, lang: str = "en"):
        super().__init__()
        self.conn_id = conn_id
        self.lang = lang

    def body(self, payload: dict) -> str:
        """The body this channel sends, in its markup."""
        from seller_inbox.alerts.templates import in_markup

        return in_markup(payload, self.markup)

    @abstractmethod
    def deliver(self, payload: dict, budget: SendBudget) -> str:
        """Send one rendered alert (``templates.render_all``); raise ``ChannelError`` on failure."""

    def notify(self, context) -> None:
        """As an Airflow callback: the task's failure or recovery, rendered like every alert."""
        from seller_inbox.alerts.templates import render_all

        ti = context.get("ti") or context.get("task_instance")
        dag_id, task_id = getattr(context.get("dag"), "dag_id", ""), getattr(ti, "task_id", "")
        ok = getattr(ti, "state", None) == "success"
        error = context.get("exception")
        message = f"{dag_id} › {task_id} " + ("works again" if ok else f"failed: {type(error).__name__}: {error}"[:500])
        ctx = {"store": dag_id, "store_id": dag_id, "dag_id": dag_id, "task_id": task_id, "message": message,
               "link": getattr(ti, "log_url", None)}
        self.deliver(render_all("recovered" if ok else "task_failed", self.lang, ctx), SendBudget())
