"""Name lines of a signature: a short line of capitalised words (or a CJK name) after a closing
formula, or standing next to contact lines (address, phone, e-mail) with no formula at all, or
closing the message on a line of its own (docs/redaction.md)."""

from __future__ import annotations

import re

from seller_inbox.redaction import lexicon as lx
from seller_inbox.redaction.names import CAP, KANJI, LO, UP, _CLOSING, cjk_surname
from seller_inbox.redaction.spans import Span

# a sign-off, or the signature delimiter "-- "
_CLOSING_LINE_RE = re.compile(rf"(?i)^[ \t]*+--[ \t]?$|^[ \t]*+(?:{_CLOSING})[ \t]*+[,.!]*+[ \t]*+$|(?:{lx.CJK_CLOSINGS})[。.!！]?[ \t]*+$")
_LABEL_RE = re.compile(r"(?i)^[ \t]*(?:(?:tel|tél|phone|mobile?|mob|cell|handy|fax|e-?mail|mail|address|adresse|addr|"
                       r"indirizzo|dirección|endereço|adres|tfn|telefon|teléfono|telefono|電話|携帯|住所|メール|地址|电话|手机"
                       r")\.?[ \t]*[:：]?[ \t]*)?")
_PARTICLES = r"van|von|der|den|de|da|di|del|della|la|le|lo|li|du|do|dos|das|dal|dalla|ten|ter|y|e"
_NAME_TOKEN = re.compile(rf"{CAP}|(?:{_PARTICLES})")
_LOWER_TOKEN = re.compile(rf"[{UP}{LO}][{UP}{LO}'’-]*|[{UP}{LO}]\.")
_CJK_NAME = re.compile(rf"[{KANJI}]{{2,5}}|[{KANJI}]{{1,3}}[ 　][{KANJI}]{{1,3}}|[ァ-ヶー]{{2,8}}(?:[・ 　][ァ-ヶー]{{2,8}})?")
_SEPARATOR = re.compile(r"^[ \t]*(?:-- ?$|-{3,}|_{3,}|={3,}|>|On .* wrote:|Am .* schrieb|Le .* a écrit|Il .* ha scritto|El .* escribió|"
                        # a mail app's footer ends the message as a separator would
                        r"Sent from|Get Outlook|Von meinem|Gesendet von|Envoyé de|Inviato da|Enviado desde|Enviado do|"
                        r"Verzonden (?:vanaf|met)|Wysłane z|Skickat från|iPhoneから送信|发自我的|從我的)")
_LEAD = re.compile(r"^[ \t]*(?:[-–—~]{1,2}[ \t]*)?")


def _name_line(line: str, allow_lower: bool) -> tuple[int, int] | None:
    """(start, end) of the name in ``line`` if the line is just a name, else None."""
    lead = _LEAD.match(line).end()
    body = line[lead:].rstrip(" \t,.")
    if not body or len(body) > 50 or any(c.isdigit() for c in body) or body.endswith((":", "?")):
        return None
    if _CJK_NAME.fullmatch(body):  # a Han name starts with a surname of the bank; katakana names pass
        plain = body.replace("　", "").replace(" ", "")
        han_ok = cjk_surname(plain) or not ("\u3400" <= plain[0] <= "\u9fff")
        return (lead, lead + len(body)) if plain not in lx.CJK_NOT_NAMES and han_ok else None
    tokens = body.split()
    if not 1 <= len([t for t in tokens if not re.fullmatch(_PARTICLES, t)]) <= 4 or len(tokens) > 6:
        return None
    if any(t.lower() in lx.BUSINESS for t in tokens):
        return None
    caps = [t.isupper() and len(t) > 1 for t in tokens if not t.endswith(".")]
    if any(caps) and not all(caps):
        return None  # "Outdoor MX": a shop, not a person
    token_re = _LOWER_TOKEN if allow_lower else _NAME_TOKEN
    real = 0
    for t in tokens:
        if t.lower() in lx.NOT_NAMES and not re.fullmatch(rf"(?i){_PARTICLES}", t):
            return None
        if not token_re.fullmatch(t):
            return None
        real += t[0].isupper() or allow_lower
    return (lead, lead + len(body)) if real else None


def _covered(line_start: int, line: str, covered: bytearray) -> bool:
    """Whether at least half of the line (after a "Tel:"-style label) is contact data."""
    body = _LABEL_RE.match(line).end()
    size = hit = 0
    for k in range(body, len(line)):
        if not line[k].isspace():
            size += 1
            hit += covered[line_start + k]
    return size > 0 and hit * 2 >= size


def find(text: str, contact: list[Span]) -> list[Span]:
    if "\n" not in text and not contact:
        return []
    lines, starts, pos = text.split("\n"), [], 0
    for line in lines:
        starts.append(pos)
        pos += len(line) + 1
    n = len(lines)
    covered = bytearray(len(text) + 1)
    for s in contact:
        covered[s.start:s.end] = b"\x01" * (s.end - s.start)
    is_contact = [_covered(starts[i], lines[i], covered) for i in range(n)]
    blank = [not ln.strip() for ln in lines]
    out: list[Span] = []

    def mark(i: int, allow_lower: bool) -> bool:
        r = _name_line(lines[i], allow_lower)
        if r:
            out.append(Span(starts[i] + r[0], starts[i] + r[1], "NAME"))
        return r is not None

    for i in range(n):
        if any(covered[starts[i]:starts[i] + len(lines[i])]):
            out.extend(_cjk_names_on_contact_line(lines[i], starts[i], covered))
        if _CLOSING_LINE_RE.search(lines[i]):
            j, blanks = i + 1, 0
            while j < n and j <= i + 6:
                if blank[j]:
                    blanks += 1
                    if blanks > 1:
                        break
                elif is_contact[j]:
                    pass
                elif not mark(j, allow_lower=True):
                    break
                else:
                    break
                j += 1
        elif not blank[i] and not is_contact[i]:
            nxt = i + 1 < n and is_contact[i + 1]
            prv = i > 0 and is_contact[i - 1]
            if nxt or prv:  # a name in lower case only right above the contact lines, in two or three words
                mark(i, allow_lower=nxt and 2 <= len(lines[i].split()) <= 3)
            elif (_last_of_block(lines, blank, i) and _full_name(lines[i]) and not lines[i - 1].rstrip().endswith(":")
                  and not (lines[i].isupper() and _shouted(lines, i))):
                mark(i, allow_lower=True)  # a full name closing the message
            elif _last_of_block(lines, blank, i) and _lone_name(lines[i]) and lines[i - 1].rstrip().endswith(","):
                mark(i, allow_lower=True)  # "ragnhild" or "TORBEN" alone under a line ending in a comma
    for i in _contact_paragraph(lines, blank, is_contact):
        mark(i, allow_lower=False)  # "Hollis Quarrie" above "Quarrie Joinery Ltd" and an e-mail line
    return out


def _contact_paragraph(lines: list[str], blank: list[bool], is_contact: list[bool]) -> list[int]:
    """The lines of each paragraph of at most eight short lines that holds a contact line: a
    signature block, whose other short lines are its name, firm and title."""
    out, i, n = [], 0, len(lines)
    while i < n:
        if blank[i]:
            i += 1
            continue
        j = i
        while j < n and not blank[j] and not _SEPARATOR.match(lines[j]):
            j += 1
        block = range(i, j)
        if j - i <= 8 and any(is_contact[k] for k in block) and all(len(lines[k]) <= 60 for k in block):
            out.extend(k for k in block if not is_contact[k])
        i = max(j, i + 1)
    return out


_CJK_TOKEN = re.compile(rf"(?<![{KANJI}])[{KANJI}]{{2,4}}(?![{KANJI}ぁ-んァ-ヶー])")


def _cjk_names_on_contact_line(line: str, start: int, covered: bytearray) -> list[Span]:
    """CJK names standing between the address, phone and e-mail of one line."""
    out = []
    for m in _CJK_TOKEN.finditer(line):
        word, a = m.group(0), start + m.start()
        before = line[:m.start()].rstrip(" \t　")
        if covered[a] or word in lx.CJK_NOT_NAMES or not (word[:1] in lx.CJK_SURNAMES or word[:2] in lx.CJK_SURNAMES):
            continue
        if before and before[-1] not in " \t　，,、：:;；" and not before.endswith("]"):
            if not line[m.start() - 1:m.start()].isspace():
                continue
        out.append(Span(a, start + m.end(), "NAME"))
    return out


_TITLE_WORD = re.compile(rf"[{UP}][{LO}]+(?:['’-][{UP}][{LO}]+)?|[{UP}]{{2,}}(?:-[{UP}]{{2,}})?|[{UP}]\.")


def _full_name(line: str) -> bool:
    """A CJK name, a first name from the bank and a surname, or two or three Title-case words
    none of which is an ordinary word of a notice or a shop ("Account Health", "Happy Holidays")."""
    words = [w for w in line.strip().split() if not re.fullmatch(_PARTICLES, w)]  # "Sousa e Silva"
    if len(words) == 1:
        return _CJK_NAME.fullmatch(words[0]) is not None
    if not 2 <= len(words) <= 4:
        return False
    if words[0].lower() in lx.FIRST_NAMES:
        return True
    if not all(_TITLE_WORD.fullmatch(w) and w.lower() not in lx.NOTICE_WORDS for w in words):
        return False
    caps = [w.isupper() for w in words if not w.endswith(".")]
    return len(words) <= 4 and bool(caps) and (all(caps) or not any(caps))  # "Outdoor MX" is a shop


def _shouted(lines: list[str], i: int) -> bool:
    """Whether the line above ``i`` is in capitals too: then capitals say nothing about a name."""
    above = next((ln for ln in reversed(lines[:i]) if ln.strip()), "")
    return not any(c.islower() for c in above)


def _lone_name(line: str) -> bool:
    """One word alone on the last line, in any case, that is no ordinary word ("Thanks", "Urgent")."""
    w = line.strip().rstrip(".!")
    return w.isalpha() and 2 <= len(w) <= 20 and w.lower() not in lx.NOTICE_WORDS and not _CJK_NAME.fullmatch(w)


def _last_of_block(lines: list[str], blank: list[bool], i: int) -> bool:
    """Whether line ``i`` is the last words of the message (or of a part before a quote)."""
    for j in range(i + 1, len(lines)):
        if blank[j]:
            continue
        return bool(_SEPARATOR.match(lines[j]))
    return i > 0
