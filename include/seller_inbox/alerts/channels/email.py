"""E-mail: plain text plus an HTML alternative (bold labels, the link; values HTML-escaped).

Connection: ``host``/``port`` of the SMTP server, ``login``/``password`` optional, extra
``{"from": "...", "to": ["..."], "starttls": false, "ssl": false}``.
"""

from __future__ import annotations

from seller_inbox.alerts.channels.base import (
    Channel,
    ChannelError,
    SendBudget,
    connection,
    extra,
)


class EmailChannel(Channel):
    type = "email"
    markup = "html"

    def deliver(self, payload: dict, budget: SendBudget) -> str:
        conn = connection(self.conn_id)
        ex = extra(conn)
        to = ex.get("to") or []
        if isinstance(to, str):
            to = [a.strip() for a in to.split(",") if a.strip()]
        sender = ex.get("from") or ex.get("from_email") or (conn.login if conn.login and "@" in conn.login else None)
        if not to or not sender:
            raise ChannelError(f"connection {self.conn_id!r}: extra needs 'from' and 'to'")
        self._send(conn, ex, self._message(payload, sender, to), budget)
        return "ok"

    def _message(self, payload: dict, sender: str, to: list[str]):
        from email.message import EmailMessage
        from email.utils import formatdate, make_msgid

        msg = EmailMessage()
        msg["Subject"] = payload["title"]
        msg["From"] = sender
        msg["To"] = ", ".join(to)
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = make_msgid(domain="seller-inbox.local")
        msg["Auto-Submitted"] = "auto-generated"
        msg.set_content(payload["text"])
        msg.add_alternative(self.body(payload), subtype="html")
        return msg

    @staticmethod
    def _send(conn, ex: dict, msg, budget: SendBudget) -> None:
        import smtplib

        host, port = conn.host or "localhost", int(conn.port or 25)
        try:
            smtp_class = smtplib.SMTP_SSL if ex.get("ssl") else smtplib.SMTP
            with smtp_class(host, port, timeout=budget.timeout()) as smtp:
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
