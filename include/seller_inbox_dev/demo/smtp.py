"""A local SMTP server for the demo and the tests (aiosmtpd on 127.0.0.1, a free port).

Every accepted message is kept in memory (``messages``) and, when ``maildir`` is given,
delivered into that Maildir (the demo's "buyer side", openable with any mail client).
``sent_copy`` is a Maildir++ root — or a dict sender address → root — whose ``.Sent`` folder
receives a copy of each accepted message before the server answers 250: what Gmail or
Microsoft 365 do for the seller's mailbox, and what the deliverer checks after a crash. ``refuse_next(code, text, n)``
answers the next ``n`` DATA commands with that code instead (4xx / 5xx tests).
"""

from __future__ import annotations

import mailbox
import socket
import threading
from email import message_from_bytes, policy
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Handler:
    def __init__(self, server: "SmtpServer"):
        self.server = server

    async def handle_DATA(self, smtp_server, session, envelope):
        return self.server._accept(envelope)


class SmtpServer:
    def __init__(self, *, maildir: Path | None = None, sent_copy: Path | dict | None = None, port: int | None = None):
        self.maildir = Path(maildir) if maildir else None
        self.sent_copy = sent_copy
        self.port = port or free_port()
        self.messages: list[dict] = []
        self._refusals: list[str] = []
        self._lock = threading.Lock()
        self._controller = None

    def start(self) -> "SmtpServer":
        from aiosmtpd.controller import Controller

        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> "SmtpServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def connection(self, from_address: str, **extra) -> dict:
        """The Airflow connection (as for ``AIRFLOW_CONN_*``) of this server."""
        return {"conn_type": "smtp", "host": "127.0.0.1", "port": self.port,
                "extra": {"disable_tls": True, "disable_ssl": True, "from_address": from_address, **extra}}

    def refuse_next(self, code: int, text: str, n: int = 1) -> None:
        with self._lock:
            self._refusals.extend([f"{code} {text}"] * n)

    def _accept(self, envelope) -> str:
        with self._lock:
            if self._refusals:
                return self._refusals.pop(0)
            raw = envelope.original_content or envelope.content
            raw = raw if isinstance(raw, bytes) else raw.encode("utf-8")
            msg = message_from_bytes(raw, policy=policy.default)
            if self.maildir is not None:
                mailbox.Maildir(self.maildir, create=True).add(raw)
            copy_to = self.sent_copy.get(envelope.mail_from) if isinstance(self.sent_copy, dict) else self.sent_copy
            if copy_to is not None:
                root = mailbox.Maildir(Path(copy_to), create=True)
                sent = root.add_folder("Sent") if "Sent" not in root.list_folders() else root.get_folder("Sent")
                sent.add(raw)
            self.messages.append({"mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos),
                                  "message": msg, "raw": raw})
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[dict]:
        return [m for m in self.messages if address in m["rcpt_tos"]]
