"""Cheapest layer: rules on the mail parser's ``kind``, the subject and (when known) the sender.

Amazon's A-to-z and account-health notices, auto-replies and bounces are recognised here
without the model. The patterns are the relay-mail grammar of ``seller_inbox.domain.relay``
(docs/domain.md, "Relay mails"), shared with the mail parser. Stored messages carry the
parser's kind but no sender address: the kind decides what the sender rules decide for mail
that still has its headers.
"""

from __future__ import annotations

import re

from seller_inbox.domain import relay
from seller_inbox.domain.relay import buyer_text  # noqa: F401  (the buyer's words of a whole relay mail)


def _auto_subject(subject: str) -> bool:
    return relay.is_auto_reply_subject(subject) or relay.is_bounce_subject(subject)


def _auto_headers(headers: dict | None) -> bool:
    hdrs = {k.lower(): str(v) for k, v in (headers or {}).items()}
    return (hdrs.get("auto-submitted", "no").lower() not in ("", "no")
            or "x-autoreply" in hdrs or "x-autorespond" in hdrs)


_FORWARD_PREFIX = re.compile(r"^\s*(?:fwd?|wg|tr|i|rv|enc|pd|vs|doorst|転送|转发|轉寄)\s*[:：]", re.I)


def forwarded_subject(subject: str | None) -> str | None:
    """The original subject of a forwarded mail ("Fwd: Policy Warning" -> "Policy Warning"), else None.

    The mail parser keeps only the forwarder's own words, so for a notice a colleague forwarded
    the subject is what is left of it."""
    if subject and _FORWARD_PREFIX.match(subject):
        return relay.SUBJECT_PREFIX.sub("", _FORWARD_PREFIX.sub("", subject, count=1)).strip()
    return None


def header_intent(subject: str | None, from_addr: str | None, body: str | None = None,
                  kind: str | None = None, headers: dict | None = None) -> tuple[str, str] | None:
    """``(intent, reason)`` when kind, sender or headers decide the intent, else None."""
    subject = subject or ""
    sender = (from_addr or "").strip()
    is_relay = bool(relay.RELAY_ALIAS_DOMAIN.search(sender))
    is_amazon = bool(relay.AMAZON_SENDER.search(sender)) and not is_relay
    if relay.BOUNCE_SENDER.search(sender):
        return "auto_reply", "bounce_sender"
    if _auto_headers(headers):
        return "auto_reply", "auto_submitted_header"
    if _auto_subject(subject):
        return "auto_reply", "auto_subject"
    if kind == "auto_reply":
        return "auto_reply", "kind"
    if is_amazon or kind == "amazon_notice":
        head = subject + "\n" + (body or "")[:600]
        if relay.ATOZ_SENDER.search(sender) or relay.ATOZ_TEXT.search(head):
            return "a_to_z_claim", "amazon_atoz"
        if relay.HEALTH_SENDER.search(sender) or relay.ACCOUNT_HEALTH_TEXT.search(head):
            return "account_health", "amazon_account_health"
        if relay.auto_reply_body(body or ""):
            return "auto_reply", "amazon_delivery_failure"
        return None
    if relay.auto_reply_body(body or ""):
        return "auto_reply", "auto_body"
    fwd = forwarded_subject(subject)
    if fwd and relay.ATOZ_TEXT.search(fwd):
        return "a_to_z_claim", "forwarded_atoz_subject"
    if fwd and relay.ACCOUNT_HEALTH_TEXT.search(fwd):
        return "account_health", "forwarded_account_health_subject"
    return None
