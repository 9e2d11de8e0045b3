"""Slack incoming webhook.

Connection: a ``slackwebhook`` connection in the Slack provider's own format (token or URL in
``password``) is sent through the provider's ``SlackWebhookHook``; a URL in ``host`` is posted
to directly.
"""

from __future__ import annotations

from seller_inbox.alerts.channels.base import (
    Channel,
    ChannelError,
    SendBudget,
    connection,
)
from seller_inbox.alerts.channels.http import http_error, post_json, webhook_url


class SlackChannel(Channel):
    type = "slack"
    markup = "slack"

    def deliver(self, payload: dict, budget: SendBudget) -> str:
        conn = connection(self.conn_id)
        text = self.body(payload)
        if conn.password:
            return self._via_provider(text, budget)
        resp = post_json(webhook_url(conn), {"text": text}, budget)
        if isinstance(resp, str) and resp.strip() not in ("ok", ""):
            raise ChannelError(f"Slack webhook answered {resp[:100]!r}")
        return "ok"

    def _via_provider(self, text: str, budget: SendBudget) -> str:
        from airflow.providers.slack.hooks.slack_webhook import SlackWebhookHook

        hook = SlackWebhookHook(slack_webhook_conn_id=self.conn_id, timeout=max(1, round(budget.timeout())))
        try:
            resp = hook.send(text=text)
        except Exception as exc:  # noqa: BLE001 - slack_sdk raises its own errors (connection, timeout)
            raise ChannelError(f"Slack webhook: {type(exc).__name__}: {exc}", transient=True) from None
        status = getattr(resp, "status_code", 200)
        if status >= 300:
            headers = {k.lower(): v for k, v in (getattr(resp, "headers", None) or {}).items()}
            ra = headers.get("retry-after")
            raise http_error("Slack webhook", status, str(getattr(resp, "body", "")), ra[0] if isinstance(ra, list) else ra)
        return "ok"
