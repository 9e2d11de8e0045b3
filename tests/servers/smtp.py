"""The SMTP server tests use: the project's local aiosmtpd server (one home for it, shared with the demo)."""

from seller_inbox_dev.demo.smtp import SmtpServer, free_port

__all__ = ["SmtpServer", "free_port"]
