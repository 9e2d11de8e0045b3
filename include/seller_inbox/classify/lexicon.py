"""Multilingual risk lexicon: versioned phrase lists that raise a message's risk.

The data lives in ``seller_inbox/data/classify/risk_lexicon.v<N>.yaml``. Matching is one
Aho-Corasick pass (pyahocorasick) over the folded text, then a boundary check per hit:
Latin-script terms must start and end on word boundaries (``issue`` never matches ``sue``)
unless the term carries a ``*`` on that side; CJK terms match anywhere. ``re:`` entries are
regular expressions. ``exclude`` phrases (``fire tv``, ``smoke detector``) cancel hits inside
them.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "classify"
LEXICON_VERSION = "v1"
LEXICON_FILE = DATA_DIR / f"risk_lexicon.{LEXICON_VERSION}.yaml"
ALWAYS_LANGS = ("en", "ja", "zh")  # English is everybody's second language; CJK is unambiguous

_COMBINING = re.compile(r"[\u0300-\u036f]")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f\u2605\u2606]")


def fold(text: str) -> str:
    """Lower-case, NFKC, Latin accents removed, apostrophes unified, spaces collapsed."""
    t = unicodedata.normalize("NFKC", text or "").lower()
    t = unicodedata.normalize("NFD", t)
    t = _COMBINING.sub("", t)
    t = unicodedata.normalize("NFC", t)
    t = t.replace("\u2019", "'").replace("`", "'").replace("\u00b4", "'")
    return re.sub(r"\s+", " ", t)


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


@dataclass(frozen=True)
class Hit:
    category: str
    risk: str
    term: str
    start: int
    end: int


class Lexicon:
    def __init__(self, data: dict, version: str = LEXICON_VERSION):
        import ahocorasick

        self.version = version
        self.categories: dict[str, str] = {}
        self._automata: dict[str, object] = {}
        self._regex: dict[str, list[tuple[str, str, re.Pattern]]] = {}
        self._exclude: dict[str, object] = {}
        per_lang: dict[str, list[tuple[str, str, str, bool, bool]]] = {}
        excl: dict[str, list[str]] = {}
        for cat, spec in data["categories"].items():
            self.categories[cat] = spec["risk"]
            for lang, terms in (spec.get("terms") or {}).items():
                for raw in terms:
                    raw = str(raw)
                    if raw.startswith("re:"):
                        self._regex.setdefault(lang, []).append((cat, raw, re.compile(raw[3:])))
                        continue
                    left_open = raw.startswith("*")
                    right_open = raw.endswith("*")
                    term = fold(raw.strip("*"))
                    per_lang.setdefault(lang, []).append((term, cat, raw, left_open, right_open))
            for lang, terms in (spec.get("exclude") or {}).items():
                excl.setdefault(lang, []).extend(fold(str(t).strip("*")) for t in terms)
        for lang, entries in per_lang.items():
            a = ahocorasick.Automaton()
            bucket: dict[str, list] = {}
            for term, cat, raw, lo, ro in entries:
                bucket.setdefault(term, []).append((cat, raw, lo, ro))
            for term, vals in bucket.items():
                a.add_word(term, (term, vals))
            a.make_automaton()
            self._automata[lang] = a
        for lang, terms in excl.items():
            a = ahocorasick.Automaton()
            for t in set(terms):
                a.add_word(t, t)
            a.make_automaton()
            self._exclude[lang] = a

    @property
    def languages(self) -> list[str]:
        return sorted(set(self._automata) | set(self._regex))

    def find(self, text: str, languages: tuple[str, ...] | list[str] | None = None) -> list[Hit]:
        """All lexicon hits in ``text`` for the given languages (default: all)."""
        t = fold(text)
        langs = list(dict.fromkeys(list(languages or self.languages) + list(ALWAYS_LANGS)))
        excluded: list[tuple[int, int]] = []
        for lang in langs:
            a = self._exclude.get(lang)
            if a is None:
                continue
            for end, term in a.iter(t):
                s = end - len(term) + 1
                excluded.append((s, end + 1))
        hits: list[Hit] = []
        for lang in langs:
            a = self._automata.get(lang)
            if a is not None:
                for end, (term, vals) in a.iter(t):
                    s, e = end - len(term) + 1, end + 1
                    cjk = bool(_CJK.search(term))
                    for cat, raw, lo, ro in vals:
                        if not cjk:
                            if not lo and s > 0 and _is_word(t[s - 1]) and _is_word(term[0]):
                                continue
                            if not ro and e < len(t) and _is_word(t[e]) and _is_word(term[-1]):
                                continue
                        if any(xs <= s and e <= xe for xs, xe in excluded):
                            continue
                        hits.append(Hit(cat, self.categories[cat], raw, s, e))
            for cat, raw, rx in self._regex.get(lang, []):
                for m in rx.finditer(t):
                    if any(xs <= m.start() and m.end() <= xe for xs, xe in excluded):
                        continue
                    hits.append(Hit(cat, self.categories[cat], raw, m.start(), m.end()))
        hits.sort(key=lambda h: (h.start, h.end, h.category, h.term))
        return hits


_lock = threading.Lock()


@lru_cache(maxsize=4)
def load_lexicon(path: str | None = None) -> Lexicon:
    import yaml

    p = Path(path) if path else LEXICON_FILE
    with _lock:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    version = f"v{data.get('version', 1)}"
    return Lexicon(data, version)


_CAPS_WORD = re.compile(r"\b[A-ZÄÖÜÀ-ÝŒ]{2,}\b")
# ASCII letters and the upper-case accented capitals of the served Latin languages (counted by regex, in C)
_SHOUT_LETTER = re.compile("[A-Za-zÄÖÜÀÂÇÉÈÊËÎÏÔÙÛÜŸÑÁÍÓÚ]")
_SHOUT_UPPER = re.compile("[A-ZÄÖÜÀÂÇÉÈÊËÎÏÔÙÛÜŸÑÁÍÓÚ]")


def shouting(text: str) -> bool:
    """All-caps shouting: mostly upper-case Latin letters over a real sentence."""
    n_letters = len(_SHOUT_LETTER.findall(text))
    if n_letters < 15:
        return False
    upper = len(_SHOUT_UPPER.findall(text))
    return upper / n_letters >= 0.7 and len(_CAPS_WORD.findall(text)) >= 3
