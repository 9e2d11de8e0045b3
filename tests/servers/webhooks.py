"""A real local HTTP receiver for group-robot webhooks: WeCom, DingTalk (signature checked) and Slack.

Bound to 127.0.0.1 on a free port, served from a thread. It answers like the real services:

* WeCom ``POST /cgi-bin/webhook/send?key=<key>`` -> ``{"errcode": 0, "errmsg": "ok"}``
  (unknown key: ``errcode 93000``);
* DingTalk ``POST /robot/send?access_token=<token>[&timestamp=<ms>&sign=<sig>]`` ->
  ``{"errcode": 0}``; when a secret is registered for the token the signature is verified
  exactly as DingTalk does (Base64 HMAC-SHA256 of ``"<timestamp>\\n<secret>"``, timestamp
  within one hour): a bad or missing signature gets ``errcode 310000 "sign not match"``;
* Slack ``POST /services/<T>/<B>/<X>`` -> ``ok`` (text/plain).

Every request is recorded (``received``), accepted or not. ``fail_next(n)`` makes the next
n requests answer HTTP 500 (a channel outage); ``fail_next(n, status=429, retry_after="179")``
a rate limit with a ``Retry-After`` header; ``fail_next(0)`` ends either. ``hang_next(n, s)``
makes the next n requests wait s seconds before answering (a channel that hangs).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


def dingtalk_expected_sign(secret: str, timestamp: str) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class WebhookReceiver:
    def __init__(self, wecom_keys=("wk-1",), dingtalk: dict | None = None, slack_paths=("/services/T000/B000/XXXX",)):
        self.wecom_keys = set(wecom_keys)
        self.dingtalk = dict(dingtalk or {"dt-open": None})  # token -> secret (None: unsigned robot)
        self.slack_paths = set(slack_paths)
        self.received: list[dict] = []
        self._fail = 0
        self._fail_status = 500
        self._retry_after: str | None = None
        self._hang, self._hang_s = 0, 0.0
        self._lock = threading.Lock()
        recv = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                parts = urlsplit(self.path)
                q = {k: v[0] for k, v in parse_qs(parts.query).items()}
                try:
                    body = json.loads(raw.decode("utf-8")) if raw else None
                except ValueError:
                    body = None
                with recv._lock:
                    hang = recv._hang_s if recv._hang > 0 else 0.0
                    recv._hang = max(0, recv._hang - 1)
                time.sleep(hang)
                status, reply, ctype, extra = recv._answer(parts.path, q, body)
                with recv._lock:
                    recv.received.append({"path": parts.path, "query": q, "json": body, "raw": raw,
                                          "headers": dict(self.headers), "status": status, "reply": reply,
                                          "service": recv._service(parts.path)})
                data = reply.encode() if isinstance(reply, str) else json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                for name, value in extra.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, name="webhooks", daemon=True)

    # ---- behaviour -------------------------------------------------------------------
    @staticmethod
    def _service(path: str) -> str:
        if path.startswith("/cgi-bin/webhook/send"):
            return "wecom"
        if path.startswith("/robot/send"):
            return "dingtalk"
        if path.startswith("/services/"):
            return "slack"
        return "unknown"

    def fail_next(self, n: int, status: int = 500, retry_after: str | None = None) -> None:
        with self._lock:
            self._fail, self._fail_status, self._retry_after = n, status, retry_after

    def hang_next(self, n: int, seconds: float) -> None:
        with self._lock:
            self._hang, self._hang_s = n, seconds

    def _answer(self, path: str, q: dict, body) -> tuple[int, object, str, dict]:
        with self._lock:
            if self._fail > 0:
                self._fail -= 1
                extra = {"Retry-After": self._retry_after} if self._retry_after is not None else {}
                error = "rate_limited" if self._fail_status == 429 else "simulated outage"
                return self._fail_status, {"error": error}, "application/json", extra
        return (*self._verdict(path, q, body), {})

    def _verdict(self, path: str, q: dict, body) -> tuple[int, object, str]:
        service = self._service(path)
        if service == "wecom":
            if q.get("key") not in self.wecom_keys:
                return 200, {"errcode": 93000, "errmsg": "invalid webhook url"}, "application/json"
            if not isinstance(body, dict) or body.get("msgtype") not in ("text", "markdown"):
                return 200, {"errcode": 40008, "errmsg": "invalid message type"}, "application/json"
            return 200, {"errcode": 0, "errmsg": "ok"}, "application/json"
        if service == "dingtalk":
            token = q.get("access_token")
            if token not in self.dingtalk:
                return 200, {"errcode": 300001, "errmsg": "token is not exist"}, "application/json"
            secret = self.dingtalk[token]
            if secret is not None:
                ts, sign = q.get("timestamp"), q.get("sign")
                if not ts or not sign:
                    return 200, {"errcode": 310000, "errmsg": "sign not match"}, "application/json"
                if abs(int(ts) - int(time.time() * 1000)) > 3600 * 1000:
                    return 200, {"errcode": 310000, "errmsg": "timestamp expired"}, "application/json"
                if not hmac.compare_digest(sign, dingtalk_expected_sign(secret, ts)):
                    return 200, {"errcode": 310000, "errmsg": "sign not match"}, "application/json"
            if not isinstance(body, dict) or body.get("msgtype") not in ("text", "markdown"):
                return 200, {"errcode": 40035, "errmsg": "missing msgtype"}, "application/json"
            return 200, {"errcode": 0, "errmsg": "ok"}, "application/json"
        if service == "slack":
            if path not in self.slack_paths:
                return 404, "no_service", "text/plain"
            if not isinstance(body, dict) or not (body.get("text") or body.get("blocks")):
                return 400, "no_text", "text/plain"
            return 200, "ok", "text/plain"
        return 404, "not found", "text/plain"

    # ---- helpers for tests ---------------------------------------------------------------
    def accepted(self, service: str | None = None) -> list[dict]:
        with self._lock:
            out = [r for r in self.received if r["status"] == 200 and (r["reply"] == "ok" or (
                isinstance(r["reply"], dict) and r["reply"].get("errcode") == 0))]
        return [r for r in out if service is None or r["service"] == service]

    def clear(self) -> None:
        with self._lock:
            self.received.clear()

    def wecom_url(self, key: str = "wk-1") -> str:
        return f"{self.base}/cgi-bin/webhook/send?key={key}"

    def dingtalk_url(self, token: str) -> str:
        return f"{self.base}/robot/send?access_token={token}"

    def slack_url(self, path: str = "/services/T000/B000/XXXX") -> str:
        return f"{self.base}{path}"

    def start(self) -> "WebhookReceiver":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
