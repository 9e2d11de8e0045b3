"""The compliance linter: what Amazon's communication rules forbid (docs/templates.md).

Every outgoing text passes here when it is queued and again right before it is sent. A finding
is a short code, what to change, and the text that triggered it; any finding blocks sending.

Rules live in one small module per family: ``review`` (review manipulation), ``marketing``,
``contact`` (links, e-mail, phone, channels off Amazon), ``form`` (emoji, HTML, placeholders,
attachments), ``language``; the length and order-id checks are here.
"""

from __future__ import annotations

from dataclasses import dataclass

from seller_inbox.compliance import contact, form, language, marketing, review
from seller_inbox.compliance.message import Message, clip

KINDS = ("reply", "proactive", "review_request")
CHANNELS = ("email", "messaging")
MESSAGING_MAX = 2000        # Messaging API: text of a proactive message
REPLY_EMAIL_MAX = 4000      # a reply by e-mail: no Amazon limit; longer is not read
REVIEW_PREVIEW_MAX = 2000   # review requests send no free text; the preview stays short
MAX_CHARS = MESSAGING_MAX   # kept for callers that imported it

RULES = [*review.RULES, *marketing.RULES, *contact.RULES, *form.RULES, *language.RULES]
CODES = (*(code for code, _, _ in RULES), "too_long", "missing_order_id")


@dataclass(frozen=True)
class Finding:
    code: str
    detail: str
    match: str = ""

    def as_dict(self) -> dict:
        return {"code": self.code, "detail": self.detail, "match": self.match}

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}" + (f" ({self.match})" if self.match else "")


def buyer_language(locale: str | None) -> str | None:
    """``de-DE``/``de_DE``/``de`` -> ``de``; None when not given. Raises ValueError for a
    language the desk does not serve."""
    if not locale:
        return None
    code = locale.replace("_", "-").split("-", 1)[0].strip().lower()
    if code not in language.SERVED:
        raise ValueError(f"unknown locale {locale!r}; served languages: {', '.join(language.SERVED)}")
    return code


def char_limit(kind: str, channel: str) -> int:
    if kind == "review_request":
        return REVIEW_PREVIEW_MAX
    return MESSAGING_MAX if channel == "messaging" else REPLY_EMAIL_MAX


def lint(subject: str, body: str, *, order_id: str | None = None, proactive: bool = False,
         max_chars: int | None = None, locale: str | None = None, kind: str | None = None,
         channel: str | None = None, attachments: bool = False) -> list[Finding]:
    """Return every rule the message breaks (empty list: compliant), one finding per rule.

    ``kind``: reply (default; ``proactive=True`` means proactive), proactive or review_request.
    ``channel``: email (replies) or messaging (default for the other kinds). ``locale``: the
    buyer's; without it the language is not checked, an unserved one is a finding. ``max_chars`` overrides the kind's limit.
    ``attachments``: whether this send carries files (else mentioning one is a finding).
    """
    kind = kind or ("proactive" if proactive else "reply")
    if kind not in KINDS:
        raise ValueError(f"unknown message kind {kind!r}; one of {', '.join(KINDS)}")
    channel = channel or ("email" if kind == "reply" else "messaging")
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}; one of {', '.join(CHANNELS)}")
    subject, body = subject or "", body or ""
    limit = char_limit(kind, channel) if max_chars is None else max_chars
    out: list[Finding] = []
    if len(body) > limit:
        what = "the preview" if kind == "review_request" else "the body"
        out.append(Finding("too_long", f"{what} has {len(body)} characters; the limit for a {kind} "
                                       f"by {channel} is {limit}"))
    try:
        lang = buyer_language(locale)
    except ValueError:  # nothing we write is in the buyer's language: block, never crash a send
        lang = None
        out.append(Finding("wrong_language", "the buyer's locale is not a language the desk writes in", clip(str(locale))))
    msg = Message(subject, body, lang=lang, kind=kind, channel=channel, attachments=attachments)
    for code, detail, rule in RULES:
        hit = rule(msg)
        if hit:
            out.append(Finding(code, detail, clip(hit)))
    if kind == "proactive" and not (order_id and order_id in msg.text):
        out.append(Finding("missing_order_id", "a proactive message must carry the order id", order_id or ""))
    return out


__all__ = ["CODES", "Finding", "KINDS", "CHANNELS", "RULES", "buyer_language", "char_limit", "lint"]
