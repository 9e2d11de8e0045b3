"""Replies by SMTP: the SMTP provider's hook on the store's ``smtp`` connection.

Connection (``store.connections.smtp``, ``conn_type=smtp``): host, port, login, password and
the hook's usual extras (``disable_tls``, ``disable_ssl``, ``timeout``), plus
``from_address`` — the store's sender address registered with Amazon (the hook's
``from_email`` is accepted too) — and ``sent_copy`` (default true): the provider files a
copy of every sent mail in the mailbox's Sent folder, which is how a send interrupted by a
crash is checked before it is retried (docs/delivery.md).

The message is built and sent here rather than with ``SmtpHook.send_email_smtp``: that method
sends HTML and silently retries a failed transaction, either of which could send a buyer a
second copy. Errors are sorted for the deliverer: ``Temporary`` (4xx, nothing accepted),
``Permanent`` (5xx) and ``Uncertain`` (the connection died mid-transaction: check before retrying).
"""

from __future__ import annotations

import hashlib
import smtplib
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr


class SmtpError(Exception):
    def __init__(self, reason: str, code: int | None = None):
        super().__init__(reason)
        self.reason, self.code = reason, code


class Temporary(SmtpError):
    """Nothing was accepted; try again later (4xx, connection refused)."""


class Permanent(SmtpError):
    """The server refused for good (5xx): never retried."""


class Uncertain(SmtpError):
    """The transaction may or may not have completed: reconcile before any retry."""


def _flag(v, default: bool) -> bool:
    if v is None:
        return default
    return v.strip().lower() in ("1", "true", "yes") if isinstance(v, str) else bool(v)


class Sender:
    """One SMTP session for a deliver run, opened on first use."""

    def __init__(self, conn_id: str):
        self.conn_id = conn_id
        self.hook = None
        from airflow.sdk import BaseHook

        conn = BaseHook.get_connection(conn_id)
        extra = conn.extra_dejson or {}
        self.from_address = str(extra.get("from_address") or extra.get("from_email") or conn.login or "").strip()
        self.sent_copy = _flag(extra.get("sent_copy"), True)
        if "@" not in parseaddr(self.from_address)[1]:
            raise Permanent(f"connection {conn_id!r}: set extra.from_address to the store's sender address "
                            "registered with Amazon (e.g. support@your-shop.example)")

    @property
    def domain(self) -> str:
        return parseaddr(self.from_address)[1].rpartition("@")[2]

    def connect(self):
        """Open and log in (once per run); ``Temporary`` when the server cannot be reached."""
        if self.hook is None:
            from airflow.providers.smtp.hooks.smtp import SmtpHook

            hook = SmtpHook(smtp_conn_id=self.conn_id)
            try:
                hook.get_conn()
            except smtplib.SMTPResponseException as exc:
                raise Temporary(f"SMTP login refused: {exc.smtp_code} {_text(exc.smtp_error)}", exc.smtp_code) from None
            except Exception as exc:  # noqa: BLE001 - unreachable server, TLS failure: nothing was sent
                raise Temporary(f"SMTP server unreachable: {type(exc).__name__}: {str(exc)[:200]}") from None
            self.hook = hook
        return self.hook._smtp_client  # the hook's logged-in smtplib client

    def send(self, msg: EmailMessage, to: str) -> None:
        client = self.connect()
        try:
            refused = client.send_message(msg, from_addr=parseaddr(self.from_address)[1], to_addrs=[to])
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            raise _by_code(code, f"recipient refused: {code} {_text(text)}") from None
        except smtplib.SMTPResponseException as exc:  # sender refused, data refused: a definite answer
            raise _by_code(exc.smtp_code, f"{exc.smtp_code} {_text(exc.smtp_error)}") from None
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise Uncertain(f"connection lost during the SMTP transaction: {type(exc).__name__}") from None
        if refused:
            code, text = next(iter(refused.values()))
            raise _by_code(code, f"recipient refused: {code} {_text(text)}")

    def close(self) -> None:
        if self.hook is not None:
            try:
                self.hook.__exit__(None, None, None)
            except Exception:  # noqa: BLE001 - closing a dead connection
                pass
            self.hook = None


def _text(v) -> str:
    return (v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v))[:300]


def _by_code(code: int, reason: str) -> SmtpError:
    return Temporary(reason, code) if 400 <= code < 500 else Permanent(reason, code)


def message_id_for(idempotency_key: str, domain: str) -> str:
    """The Message-ID of an outbox row: fixed by its key, so a resend after a crash reuses it."""
    return f"<si.{hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]}@{domain}>"


def build(row: dict, to: str, from_address: str, now: datetime) -> EmailMessage:
    """The reply as a plain-text mail, threaded under the buyer's message, in the buyer's language."""
    msg = EmailMessage()
    msg["From"] = from_address
    msg["To"] = to
    msg["Subject"] = row["subject"] or ""
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = row["outbound_id"]
    if row.get("in_reply_to"):
        msg["In-Reply-To"] = row["in_reply_to"]
        refs = [r for r in (row.get("thread_references") or "").split() if r]
        if row["in_reply_to"] not in refs:
            refs.append(row["in_reply_to"])
        msg["References"] = " ".join(refs)
    msg.set_content(row["body"] or "", charset="utf-8")  # clears Content-* headers: set them after
    if row.get("locale"):
        msg["Content-Language"] = row["locale"]
    return msg


def in_sent_folder(store, message_id: str, since: datetime, until: datetime) -> bool:
    """Is a mail with this Message-ID in the store's Sent folder (Maildir or IMAP)?"""
    from email.parser import BytesHeaderParser
    from datetime import timedelta

    from airflow.sdk import BaseHook

    from seller_inbox.mail.sources import FolderState, folders_for, open_source

    conn = BaseHook.get_connection(store.connections.mailbox)
    source = open_source(conn)
    try:
        folder = source.resolve_folder(folders_for(store, conn.extra_dejson).get("sent", "Sent"), "sent")
        if source.kind == "imap":
            typ, _ = source.conn.select('"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"', readonly=True)
            if typ != "OK":
                return False
            typ, data = source.conn.uid("SEARCH", None, "HEADER", "Message-ID", message_id)
            return typ == "OK" and bool((data[0] or b"").split())
        hp = BytesHeaderParser()
        for item in source.scan(folder, "sent", since - timedelta(hours=1), until + timedelta(hours=1),
                                lambda _ref: False, FolderState(f"maildir:{folder}")):
            if item.raw and (hp.parsebytes(item.raw).get("Message-ID") or "").strip() == message_id:
                return True
        return False
    finally:
        source.close()
