"""An address block continues while its neighbouring lines look like address lines: a house name
("The Old Forge, Church Lane"), a floor or building ("3. OG, Hinterhaus", "Level 9"), a town in
capitals ("TRURO"), "Auckland 1010", a country, or a CJK line of a building. A line is taken
only next to a line already holding an address, so the rule follows the shape of a postal
block rather than a list of words (docs/redaction.md). Linear: each line is looked at once per
direction.
"""

from __future__ import annotations

import re

from seller_inbox.redaction import lexicon as lx
from seller_inbox.redaction.spans import Span

_KANJI = "一-龥々〆ヶ"
# small words inside a house, street or town name
_GLUE = {"the", "of", "on", "upon", "de", "la", "le", "les", "du", "des", "van", "von", "der", "den", "di", "da", "del",
         "della", "dei", "do", "dos", "das", "y", "e", "am", "an", "im", "in", "sur", "sous", "en", "bei", "zum", "zur",
         "s/n", "d'", "l'", "st", "st.", "ste", "los", "las", "el", "il", "lo", "i", "och", "und", "and", "et"}
# ordinary words that are also the first word of a town ("Great Shelford", "New Milton")
_STOP = (lx.NOT_NAMES | lx.BUSINESS) - _GLUE - {"great", "new", "good", "well", "fine", "super"}
_WORD = re.compile(r"[^\W\d_][^\W\d_'’./-]*(?:['’./-][^\W\d_]*)*\.?|\d[\w./-]*|[(),]")  # any script's letters: "Ōtaki"
_CJK_LINE = re.compile(rf"[{_KANJI}ァ-ヶー\w\d -]{{2,30}}(?:\d{{1,3}}階|\d{{1,4}}号室|ビル|マンション|ハイツ|タワ[ー-]|コ[ー-]ポ|レジデンス|荘|"
                       rf"[A-Za-z\d]?[棟座]\d{{0,4}}|\d{{1,5}}室|大厦|公寓|小区|花园|\d{{1,2}}单元|\d{{1,3}}楼)")
_MAX_LINE = 60
# the last line of an international block
_COUNTRIES = set("""united kingdom|uk|great britain|england|scotland|wales|northern ireland|ireland|united states|usa|
new zealand|australia|canada|germany|deutschland|österreich|austria|schweiz|suisse|svizzera|switzerland|france|
belgique|belgië|belgien|belgium|luxembourg|nederland|the netherlands|netherlands|italia|italy|españa|spain|portugal|
brasil|polska|poland|sverige|sweden|danmark|norge|japan|日本|中国|china|méxico|mexico""".replace("\n", "").split("|"))


def _address_like(line: str, max_words: int = 7) -> bool:
    """A short line of capitalised words, numbers and the glue words of a name, and nothing of a
    sentence: no sentence end, no colon, no ordinary word, no e-mail or greeting."""
    body = line.strip(" \t,")
    if not body or len(body) > _MAX_LINE or body.endswith((".", ":", "?", "!", "：", "。")) or "@" in body:
        return False
    if _CJK_LINE.fullmatch(body):
        return True
    if sum(c.isdigit() for c in body) > 5:  # a phone or an order number, not a line of a postal block
        return False
    if body.lower() in _COUNTRIES:
        return True
    words = body.replace(",", " , ").split()
    if not 1 <= len(words) <= max_words:
        return False
    real = 0
    for w in words:
        if w == ",":
            continue
        if not _WORD.fullmatch(w):
            return False
        low = w.lower().strip("().")
        if low in _STOP:
            return False
        if low in _GLUE or w[0].isdigit():
            continue
        if not (w[0].isupper() or w[0] == "("):
            return False
        real += 1
    return real > 0


def extend(norm: str, spans: list[Span]) -> list[Span]:
    """Lines next to address lines, and comma-separated pieces next to address pieces, that look
    like address lines, as more address spans."""
    if not spans:
        return []
    starts, pos = [], 0
    lines = norm.split("\n")
    for line in lines:
        starts.append(pos)
        pos += len(line) + 1
    covered = bytearray(len(norm) + 1)
    for s in spans:
        covered[s.start:s.end] = b"\x01" * (s.end - s.start)
    segments = []
    for i, line in enumerate(lines):
        if any(covered[starts[i]:starts[i] + len(line)]):
            segments.extend(_segments(starts[i], line, covered))
    for s in segments:  # a block continues from its pieces too ("Little Snoring" then "NORFOLK")
        covered[s.start:s.end] = b"\x01" * (s.end - s.start)
    hit = [_mostly(covered, starts[i], line) for i, line in enumerate(lines)]
    out, taken = [], list(hit)
    for step in (1, -1):
        for i in range(len(lines)) if step == 1 else range(len(lines) - 1, -1, -1):
            k = i - step
            if taken[i] or not (0 <= k < len(lines)) or not taken[k] or not _address_like(lines[i]):
                continue
            taken[i] = True
            lead = len(lines[i]) - len(lines[i].lstrip(" \t"))
            out.append(Span(starts[i] + lead, starts[i] + len(lines[i].rstrip(" \t,")), "ADDRESS"))
    return out + segments


# pieces are cut by commas and by a dash between spaces ("123 - Apto 45 - Centro")
_PIECE = re.compile(r"(?:[^,\n-]|-(?! )|(?<! )-)+")


def _segments(start: int, line: str, covered: bytearray) -> list[Span]:
    """Comma-separated pieces of a line next to an address piece that look like address pieces:
    "12 High Street, Little Snoring, Norfolk NR21 0AB", "45 Queen Street, Auckland 1010"."""
    pieces = [(start + m.start(), start + m.end()) for m in _PIECE.finditer(line)]
    hit = [any(covered[a:b]) for a, b in pieces]
    take, out = list(hit), []
    for step in (1, -1):
        for k in range(len(pieces)) if step == 1 else range(len(pieces) - 1, -1, -1):
            if take[k] or not 0 <= k - step < len(pieces) or not take[k - step]:
                continue
            a, b = pieces[k]
            span = _part(line[a - start:b - start], a, after=step == 1)
            if span:
                out.append(span)
                take[k] = span == _part(line[a - start:b - start], a, after=step == 1, whole=True)
    return out


def _part(piece: str, a: int, after: bool, whole: bool = False) -> Span | None:
    """The words of ``piece`` nearest the address that look like an address piece: "Wellington
    6011" of "Wellington 6011 please", "Urb. Las Adelfas" of "Envío: Urb. Las Adelfas"."""
    words = list(re.finditer(r"\S+", piece))
    for n in range(min(len(words), 4), 0, -1):
        if whole and n < len(words):
            return None
        chosen = words[:n] if after else words[len(words) - n:]
        if n < len(words) and not after and not re.search(r"[:.!?]$", words[len(words) - n - 1].group(0)):
            continue  # only a label or a sentence's end cuts a piece before an address
        text = piece[chosen[0].start():chosen[-1].end()].rstrip(".")
        if _address_like(text, 4):
            return Span(a + chosen[0].start(), a + chosen[0].start() + len(text), "ADDRESS")
    return None


_LABEL = re.compile(r"^[^:：\n]{0,25}[:：]")


def _mostly(covered: bytearray, start: int, line: str) -> bool:
    """Whether address spans cover at least half of the line (after a "Ship to:"-style label)."""
    label = _LABEL.match(line)
    body = label.end() if label else 0
    size = hit = 0
    for k in range(body, len(line)):
        if not line[k].isspace():
            size += 1
            hit += covered[start + k]
    return size > 0 and hit * 2 >= size
