"""Multilingual risk lexicon: versioned phrase lists that raise a message's risk.

The data lives in ``seller_inbox/data/classify/risk_lexicon.v<N>.yaml``. Matching is one
Aho-Corasick pass (pyahocorasick, one automaton for every language's terms) over the folded text,
then a boundary check per hit: Latin-script terms must start and end on word boundaries (``issue``
never matches ``sue``) unless the term carries a ``*`` on that side; CJK terms match anywhere. ``re:`` entries are
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
_SPACES = re.compile(r"\s+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f\u2605\u2606]")


def fold(text: str) -> str:
    """Lower-case, NFKC, Latin accents removed, apostrophes unified, spaces collapsed."""
    if not text:
        return ""
    if text.isascii():  # every normal form of ASCII is itself: only case, backticks and spaces change
        return _SPACES.sub(" ", text.lower().replace("`", "'"))
    t = unicodedata.normalize("NFKC", text).lower()
    t = unicodedata.normalize("NFD", t)
    t = _COMBINING.sub("", t)
    t = unicodedata.normalize("NFC", t)
    t = t.replace("\u2019", "'").replace("`", "'").replace("\u00b4", "'")
    return _SPACES.sub(" ", t)


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
        self._regex: dict[str, list[tuple[str, str, re.Pattern]]] = {}
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
        # one automaton over every language's terms (a term: its length, whether it is CJK, whether it
        # starts/ends with a word character, and its entries per language): one pass per text
        self._term_langs = frozenset(per_lang)
        bucket: dict[str, dict[str, list]] = {}
        for lang, entries in per_lang.items():
            for term, cat, raw, lo, ro in entries:
                bucket.setdefault(term, {}).setdefault(lang, []).append((cat, self.categories[cat], raw, lo, ro))
        self._terms = ahocorasick.Automaton()
        for term, by_lang in bucket.items():
            self._terms.add_word(term, (len(term), bool(_CJK.search(term)), _is_word(term[0]), _is_word(term[-1]),
                                        {lang: tuple(v) for lang, v in by_lang.items()}))
        self._terms.make_automaton()
        ex_langs: dict[str, set[str]] = {}
        for lang, terms in excl.items():
            for t in terms:
                ex_langs.setdefault(t, set()).add(lang)
        self._excludes = None
        if ex_langs:
            self._excludes = ahocorasick.Automaton()
            for t, in_langs in ex_langs.items():
                self._excludes.add_word(t, (len(t), frozenset(in_langs)))
            self._excludes.make_automaton()
        self._lang_lists: dict[tuple, tuple[str, ...]] = {}

    @property
    def languages(self) -> list[str]:
        return sorted(self._term_langs | set(self._regex))

    def find(self, text: str, languages: tuple[str, ...] | list[str] | None = None) -> list[Hit]:
        """All lexicon hits in ``text`` for the given languages (default: all)."""
        t = fold(text)
        key = tuple(languages or ())
        langs = self._lang_lists.get(key)
        if langs is None:
            langs = self._lang_lists[key] = tuple(dict.fromkeys(list(languages or self.languages) + list(ALWAYS_LANGS)))
        excluded: list[tuple[int, int]] = []
        if self._excludes is not None:
            for end, (length, in_langs) in self._excludes.iter(t):
                if not in_langs.isdisjoint(langs):
                    excluded.append((end - length + 1, end + 1))
        hits: list[Hit] = []
        n = len(t)
        for end, (length, cjk, word_start, word_end, by_lang) in self._terms.iter(t):
            s, e = end - length + 1, end + 1
            left_word = s > 0 and word_start and _is_word(t[s - 1])
            right_word = e < n and word_end and _is_word(t[e])
            for lang in langs:
                for cat, risk, raw, lo, ro in by_lang.get(lang, ()):
                    if not cjk and ((not lo and left_word) or (not ro and right_word)):
                        continue
                    if excluded and any(xs <= s and e <= xe for xs, xe in excluded):
                        continue
                    hits.append(Hit(cat, risk, raw, s, e))
        for lang in langs:
            for cat, raw, rx in self._regex.get(lang, ()):
                for m in rx.finditer(t):
                    if any(xs <= m.start() and m.end() <= xe for xs, xe in excluded):
                        continue
                    hits.append(Hit(cat, self.categories[cat], raw, m.start(), m.end()))
        # hits with the same key are equal (the risk is the category's): their order is immaterial
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
    upper = len(_SHOUT_UPPER.findall(text))
    if upper < 11:  # 70 % of at least 15 letters: fewer capitals cannot be shouting (no letter count needed)
        return False
    n_letters = len(_SHOUT_LETTER.findall(text))
    if n_letters < 15:
        return False
    return upper / n_letters >= 0.7 and len(_CAPS_WORD.findall(text)) >= 3
