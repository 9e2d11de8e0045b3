"""Alert channels: WeCom and DingTalk group robots, Slack, e-mail, and the log.

Connections are read at execution time (``airflow.sdk.BaseHook.get_connection``), never at
import. Connection contract (``StoreConfig.alert_channels[].conn_id``):

* wecom / dingtalk / slack: the webhook URL in ``host`` (full URL, e.g.
  ``https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=...``) or in extra ``webhook_url``;
  ``host`` without a scheme is combined with ``schema`` (default https), ``port`` and extra
  ``path``. DingTalk: ``password`` = the robot's signing secret (``SEC...``, optional): the
  URL then gets ``timestamp`` and ``sign`` = Base64(HMAC-SHA256(secret, "<timestamp>\\n<secret>")).
* slack: a ``slackwebhook`` connection in the Slack provider's own format (webhook token or
  URL in ``password``) is sent through the provider's ``SlackWebhookHook``; a URL in ``host``
  is posted to directly.
* email: ``host``/``port`` of the SMTP server, ``login``/``password`` optional, extra
  ``{"from": "...", "to": ["..."], "starttls": false, "ssl": false}``.

Every sender raises ``ChannelError`` on failure (HTTP status, robot ``errcode``, SMTP error).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
import urllib.parse

log = logging.getLogger(__name__)
TIMEOUT = 10


class ChannelError(RuntimeError):
    pass


def _conn(conn_id: str):
    from airflow.sdk import BaseHook

    return BaseHook.get_connection(conn_id)


def _extra(conn) -> dict:
    ex = getattr(conn, "extra_dejson", None)
    if ex is None:
        raw = getattr(conn, "extra", None) or "{}"
        ex = json.loads(raw) if isinstance(raw, str) else dict(raw)
    return ex or {}


def webhook_url(conn) -> str:
    ex = _extra(conn)
    url = ex.get("webhook_url") or ex.get("url")
    if url:
        return url
    host = (conn.host or "").strip()
    if "://" in host:
        return host
    if not host:
        raise ChannelError(f"connection {conn.conn_id!r} has no webhook URL (set host to the full URL)")
    scheme = conn.schema or "https"
    port = f":{conn.port}" if conn.port else ""
    path = ex.get("path", "")
    if path and not path.startswith("/"):
        path = "/" + path
    return f"{scheme}://{host}{port}{path}"


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk robot signature: Base64(HMAC-SHA256(secret, f"{ts}\\n{secret}"))."""
    string_to_sign = f"{timestamp_ms}\n{secret}"
    digest = hmac.new(secret.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def _signed(url: str, secret: str, now_ms: int | None = None) -> str:
    ts = int(now_ms if now_ms is not None else time.time() * 1000)
    sign = urllib.parse.quote_plus(dingtalk_sign(secret, ts))
    return f"{url}{'&' if '?' in url else '?'}timestamp={ts}&sign={sign}"


def _post_json(url: str, body: dict) -> dict | str:
    import requests

    try:
        r = requests.post(url, json=body, timeout=TIMEOUT)
    except requests.RequestException as exc:
        raise ChannelError(f"POST {urllib.parse.urlsplit(url).netloc}: {type(exc).__name__}: {exc}") from None
    if r.status_code >= 300:
        raise ChannelError(f"POST {urllib.parse.urlsplit(url).netloc}: HTTP {r.status_code}: {r.text[:200]}")
    try:
        return r.json()
    except ValueError:
        return r.text


def _robot_ok(resp, who: str) -> None:
    if isinstance(resp, dict) and resp.get("errcode", 0) not in (0, "0"):
        raise ChannelError(f"{who} robot refused the message: errcode={resp.get('errcode')} {resp.get('errmsg')}")


def send_wecom(conn_id: str, title: str, markdown: str, plain: str) -> str:
    """WeCom (企业微信) group robot: markdown message (max 4096 bytes)."""
    conn = _conn(conn_id)
    content = markdown.encode("utf-8")[:4000].decode("utf-8", "ignore")
    resp = _post_json(webhook_url(conn), {"msgtype": "markdown", "markdown": {"content": content}})
    _robot_ok(resp, "WeCom")
    return "ok"


def send_dingtalk(conn_id: str, title: str, markdown: str, plain: str) -> str:
    """DingTalk (钉钉) group robot, signed when the connection has a secret."""
    conn = _conn(conn_id)
    url = webhook_url(conn)
    if conn.password:
        url = _signed(url, conn.password)
    resp = _post_json(url, {"msgtype": "markdown", "markdown": {"title": title[:64], "text": markdown[:5000]}})
    _robot_ok(resp, "DingTalk")
    return "ok"


def _slack_md(markdown: str) -> str:
    import re

    t = re.sub(r"\*\*(.+?)\*\*", r"*\1*", markdown)
    return re.sub(r"\[([^\]]+)\]\((\S+?)\)", r"<\2|\1>", t)


def send_slack(conn_id: str, title: str, markdown: str, plain: str) -> str:
    conn = _conn(conn_id)
    text = _slack_md(markdown)
    if conn.password:  # the Slack provider's own connection format: token or URL in password
        from airflow.providers.slack.hooks.slack_webhook import SlackWebhookHook

        hook = SlackWebhookHook(slack_webhook_conn_id=conn_id, timeout=TIMEOUT)
        try:
            resp = hook.send(text=text)
        except Exception as exc:  # slack_sdk raises its own errors
            raise ChannelError(f"Slack webhook: {type(exc).__name__}: {exc}") from None
        status = getattr(resp, "status_code", 200)
        if status >= 300:
            raise ChannelError(f"Slack webhook: HTTP {status}: {getattr(resp, 'body', '')}")
        return "ok"
    resp = _post_json(webhook_url(conn), {"text": text})
    if isinstance(resp, str) and resp.strip() not in ("ok", ""):
        raise ChannelError(f"Slack webhook answered {resp[:100]!r}")
    return "ok"


def send_email(conn_id: str, title: str, markdown: str, plain: str) -> str:
    import smtplib
    from email.message import EmailMessage
    from email.utils import formatdate, make_msgid

    conn = _conn(conn_id)
    ex = _extra(conn)
    to = ex.get("to") or []
    if isinstance(to, str):
        to = [a.strip() for a in to.split(",") if a.strip()]
    sender = ex.get("from") or ex.get("from_email") or (conn.login if conn.login and "@" in conn.login else None)
    if not to or not sender:
        raise ChannelError(f"connection {conn_id!r}: extra needs 'from' and 'to'")
    msg = EmailMessage()
    msg["Subject"] = title
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="seller-inbox.local")
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(plain)
    host, port = conn.host or "localhost", int(conn.port or 25)
    try:
        if ex.get("ssl"):
            smtp = smtplib.SMTP_SSL(host, port, timeout=TIMEOUT)
        else:
            smtp = smtplib.SMTP(host, port, timeout=TIMEOUT)
        with smtp:
            if ex.get("starttls") and not ex.get("ssl"):
                smtp.starttls()
            if conn.login and conn.password:
                smtp.login(conn.login, conn.password)
            refused = smtp.send_message(msg)
    except (smtplib.SMTPException, OSError) as exc:
        raise ChannelError(f"SMTP {host}:{port}: {type(exc).__name__}: {exc}") from None
    if refused:
        raise ChannelError(f"SMTP refused recipients: {sorted(refused)}")
    return "ok"


SENDERS = {"wecom": send_wecom, "dingtalk": send_dingtalk, "slack": send_slack, "email": send_email}


def send(channel_type: str, conn_id: str | None, title: str, markdown: str, plain: str) -> str:
    if channel_type == "log":
        log.warning("ALERT %s\n%s", title, plain)
        return "logged"
    try:
        sender = SENDERS[channel_type]
    except KeyError:
        raise ChannelError(f"unknown alert channel type {channel_type!r}") from None
    if not conn_id:
        raise ChannelError(f"alert channel {channel_type!r} needs a conn_id")
    return sender(conn_id, title, markdown, plain)
