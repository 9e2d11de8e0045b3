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

Every sender takes the rendered payload (``templates.render_all``: one body per markup) and
raises ``ChannelError`` on failure (HTTP status, robot ``errcode``, SMTP error).

Time is bounded per dispatch run, not per request: ``send`` retries 429/5xx/connection
errors inside one ``SendBudget`` (ALERT_SEND_BUDGET_S for all sends of the run, TIMEOUT per
request, Retry-After honoured up to RETRY_AFTER_CAP). A longer wait, or an exhausted budget,
raises at once: the dispatcher marks the delivery failed with a next attempt time and a later
run sends it, instead of a worker slot sleeping through a 429 storm.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import math
import time
import urllib.parse
from email.utils import parsedate_to_datetime

from seller_inbox.alerts.templates import body_for

log = logging.getLogger(__name__)
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


def _http_error(who: str, status: int, text: str, retry_after: str | None) -> ChannelError:
    transient = status == 429 or status >= 500
    return ChannelError(f"{who}: HTTP {status}: {text[:200]}", transient=transient,
                        retry_after=retry_after_seconds(retry_after) if transient else None)


def _post_json(url: str, body: dict, budget: SendBudget) -> dict | str:
    import requests

    who = f"POST {urllib.parse.urlsplit(url).netloc}"
    try:
        r = requests.post(url, json=body, timeout=budget.timeout())
    except requests.RequestException as exc:
        raise ChannelError(f"{who}: {type(exc).__name__}: {exc}", transient=True) from None
    if r.status_code >= 300:
        raise _http_error(who, r.status_code, r.text, r.headers.get("Retry-After"))
    try:
        return r.json()
    except ValueError:
        return r.text


def _robot_ok(resp, who: str) -> None:
    if isinstance(resp, dict) and resp.get("errcode", 0) not in (0, "0"):
        code = resp.get("errcode")
        limited = str(code).isdigit() and int(code) in ROBOT_RATE_LIMITED
        raise ChannelError(f"{who} robot refused the message: errcode={code} {resp.get('errmsg')}",
                           transient=limited, retry_after=ROBOT_RATE_WINDOW if limited else None)


def send_wecom(conn_id: str, payload: dict, budget: SendBudget) -> str:
    """WeCom (企业微信) group robot: markdown message (max 4096 bytes)."""
    conn = _conn(conn_id)
    content = body_for(payload, "wecom").encode("utf-8")[:4000].decode("utf-8", "ignore")
    resp = _post_json(webhook_url(conn), {"msgtype": "markdown", "markdown": {"content": content}}, budget)
    _robot_ok(resp, "WeCom")
    return "ok"


def send_dingtalk(conn_id: str, payload: dict, budget: SendBudget) -> str:
    """DingTalk (钉钉) group robot, signed when the connection has a secret."""
    conn = _conn(conn_id)
    url = webhook_url(conn)
    if conn.password:
        url = _signed(url, conn.password)
    body = {"msgtype": "markdown", "markdown": {"title": payload["title"][:64], "text": body_for(payload, "dingtalk")[:5000]}}
    resp = _post_json(url, body, budget)
    _robot_ok(resp, "DingTalk")
    return "ok"


def send_slack(conn_id: str, payload: dict, budget: SendBudget) -> str:
    conn = _conn(conn_id)
    text = body_for(payload, "slack")
    if conn.password:  # the Slack provider's own connection format: token or URL in password
        from airflow.providers.slack.hooks.slack_webhook import SlackWebhookHook

        hook = SlackWebhookHook(slack_webhook_conn_id=conn_id, timeout=max(1, round(budget.timeout())))
        try:
            resp = hook.send(text=text)
        except Exception as exc:  # slack_sdk raises its own errors (connection, timeout)
            raise ChannelError(f"Slack webhook: {type(exc).__name__}: {exc}", transient=True) from None
        status = getattr(resp, "status_code", 200)
        if status >= 300:
            headers = {k.lower(): v for k, v in (getattr(resp, "headers", None) or {}).items()}
            ra = headers.get("retry-after")
            raise _http_error("Slack webhook", status, str(getattr(resp, "body", "")), ra[0] if isinstance(ra, list) else ra)
        return "ok"
    resp = _post_json(webhook_url(conn), {"text": text}, budget)
    if isinstance(resp, str) and resp.strip() not in ("ok", ""):
        raise ChannelError(f"Slack webhook answered {resp[:100]!r}")
    return "ok"


def send_email(conn_id: str, payload: dict, budget: SendBudget) -> str:
    """Plain text plus an HTML alternative (bold labels, the link; values HTML-escaped)."""
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
    msg["Subject"] = payload["title"]
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="seller-inbox.local")
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(payload["text"])
    msg.add_alternative(body_for(payload, "email"), subtype="html")
    host, port = conn.host or "localhost", int(conn.port or 25)
    try:
        if ex.get("ssl"):
            smtp = smtplib.SMTP_SSL(host, port, timeout=budget.timeout())
        else:
            smtp = smtplib.SMTP(host, port, timeout=budget.timeout())
        with smtp:
            if ex.get("starttls") and not ex.get("ssl"):
                smtp.starttls()
            if conn.login and conn.password:
                smtp.login(conn.login, conn.password)
            refused = smtp.send_message(msg)
    except (smtplib.SMTPException, OSError) as exc:
        code = getattr(exc, "smtp_code", None)
        transient = (isinstance(code, int) and 400 <= code < 500) or isinstance(
            exc, (ConnectionError, TimeoutError, smtplib.SMTPServerDisconnected))
        raise ChannelError(f"SMTP {host}:{port}: {type(exc).__name__}: {exc}", transient=transient) from None
    if refused:
        raise ChannelError(f"SMTP refused recipients: {sorted(refused)}")
    return "ok"


SENDERS = {"wecom": send_wecom, "dingtalk": send_dingtalk, "slack": send_slack, "email": send_email}


def send(channel_type: str, conn_id: str | None, payload: dict | str, *texts: str,
         budget: SendBudget | None = None) -> str:
    """Deliver one rendered alert (``templates.render_all``); transient failures are retried
    within ``budget``. The former form ``send(type, conn_id, title, markdown, plain)`` still
    works: its plain text is escaped for the channel (``templates.body_for``)."""
    if isinstance(payload, str):
        payload = {"title": payload, "text": texts[-1] if texts else ""}
    if channel_type == "log":
        log.warning("ALERT %s\n%s", payload["title"], payload["text"])
        return "logged"
    try:
        sender = SENDERS[channel_type]
    except KeyError:
        raise ChannelError(f"unknown alert channel type {channel_type!r}") from None
    if not conn_id:
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
            return sender(conn_id, payload, budget)
        except ChannelError as exc:
            attempt += 1
            if not exc.transient:
                raise
            delay = exc.retry_after if exc.retry_after is not None else BACKOFF * 2 ** (attempt - 1)
            if attempt == TRIES or delay > RETRY_AFTER_CAP or delay > budget.remaining() - MIN_TRY:
                budget.block(key, delay, str(exc)[:200])  # the rest of this run leaves the channel alone
                raise
            time.sleep(delay)
