"""What every rule sees: the text to send, normalised once, and the facts about how it is sent.

The text is NFKC-normalised before any rule looks at it, so full-width letters, digits and
``＠`` (common in Japanese and Chinese drafts) are matched by the same patterns as ASCII.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

# a sentence ends after . ! ? followed by a space, after CJK full stops, after ! ? (NFKC folds
# the full-width ones to ASCII, and Japanese puts no space after them) and at line ends; the
# mark stays with its sentence ("Happy with your purchase?" is a question)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[。!?])|\n+")


@dataclass
class Message:
    subject: str
    body: str
    lang: str | None = None          # ISO 639-1 of the buyer's locale, None: not checked
    kind: str = "reply"              # reply | proactive | review_request
    channel: str = "email"           # email | messaging
    attachments: bool = False        # whether this send may carry attachments
    text: str = field(init=False)    # subject + body, NFKC
    norm_body: str = field(init=False)
    _sentences: list[str] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.norm_body = unicodedata.normalize("NFKC", self.body)
        self.text = unicodedata.normalize("NFKC", self.subject) + "\n" + self.norm_body

    @property
    def sentences(self) -> list[str]:
        if self._sentences is None:
            self._sentences = [s for s in _SENTENCE_END.split(self.text) if s and not s.isspace()]
        return self._sentences


def words(*alternatives: str) -> re.Pattern:
    """One case-insensitive pattern from alternatives written per language."""
    return re.compile("|".join(f"(?:{a})" for a in alternatives), re.I)


def clip(s: str, n: int = 60) -> str:
    s = " ".join(s.split())
    return s if len(s) <= n else s[: n - 1] + "…"
