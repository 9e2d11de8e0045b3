"""HTTP helpers of the webhook channels: the URL from a connection, JSON posts within the
run's budget, and the robots' "HTTP 200 but refused" answers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import urllib.parse

from seller_inbox.alerts.channels.base import (
    ROBOT_RATE_LIMITED,
    ROBOT_RATE_WINDOW,
    ChannelError,
    SendBudget,
    extra,
    retry_after_seconds,
)


def webhook_url(conn) -> str:
    ex = extra(conn)
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


def signed(url: str, secret: str, now_ms: int | None = None) -> str:
    ts = int(now_ms if now_ms is not None else time.time() * 1000)
    sign = urllib.parse.quote_plus(dingtalk_sign(secret, ts))
    return f"{url}{'&' if '?' in url else '?'}timestamp={ts}&sign={sign}"


def http_error(who: str, status: int, text: str, retry_after: str | None) -> ChannelError:
    transient = status == 429 or status >= 500
    return ChannelError(f"{who}: HTTP {status}: {text[:200]}", transient=transient,
                        retry_after=retry_after_seconds(retry_after) if transient else None)


def post_json(url: str, body: dict, budget: SendBudget) -> dict | str:
    import requests

    who = f"POST {urllib.parse.urlsplit(url).netloc}"
    try:
        r = requests.post(url, json=body, timeout=budget.timeout())
    except requests.RequestException as exc:
        raise ChannelError(f"{who}: {type(exc).__name__}: {exc}", transient=True) from None
    if r.status_code >= 300:
        raise http_error(who, r.status_code, r.text, r.headers.get("Retry-After"))
    try:
        return r.json()
    except ValueError:
        return r.text


def robot_ok(resp, who: str) -> None:
    if isinstance(resp, dict) and resp.get("errcode", 0) not in (0, "0"):
        code = resp.get("errcode")
        limited = str(code).isdigit() and int(code) in ROBOT_RATE_LIMITED
        raise ChannelError(f"{who} robot refused the message: errcode={code} {resp.get('errmsg')}",
                           transient=limited, retry_after=ROBOT_RATE_WINDOW if limited else None)


