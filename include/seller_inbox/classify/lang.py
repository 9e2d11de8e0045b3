"""Language identification restricted to the languages the desk serves.

Contract (docs/taxonomy.md): ISO 639-1 code of the message body; kana anywhere means ``ja``;
Han-dominant text without kana is Chinese (``zh``) wherever it was sent — Chinese-speaking
buyers write on amazon.com as much as on amazon.co.jp — except kanji-only Japanese on amazon.co.jp
("返品希望", "至急対応"): there, Han text is Chinese only when it carries a mark of Chinese (a
simplified character Japanese does not use, a Chinese pronoun or particle). Very short text falls
back to the marketplace's language.

py3langid (naive Bayes over byte n-grams, 4.6 MB, ~13k messages/s) restricted to the
served languages decides the rest. Its model is loaded lazily, once per process.
"""

from __future__ import annotations

import math
import re
import threading

from seller_inbox.domain import identifiers as ids
from seller_inbox.domain import marketplaces as mp
from seller_inbox.domain.languages import SERVED  # noqa: F401 - re-exported: the served languages

_KANA = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[^\W\d_]{2,}")
_URL = re.compile(r"https?://\S+|www\.\S+|\S+@\S+")
_ORDER = re.compile(rf"\b(?:{ids.ORDER_ID}|{ids.ASIN})\b")
_HANGUL = re.compile(r"[\uac00-\ud7af]")
# marks of Chinese in Han-only text: simplified forms Japanese writes otherwise (発→发, 単→单, 買→买 …),
# pronouns and sentence particles Japanese does not write in kanji
_ZH_MARK = re.compile("[们們这這么麼谢请给货发订单买钱还问题为说让过东见个裡吗嗎呢吧哪我你您她]")

# "very short": fewer than this many letters (after removing links, ids and digits)
# or fewer than MIN_WORDS words. Chosen on the corpus: below it py3langid is a coin toss.
MIN_LETTERS = 12
MIN_WORDS = 3

_lock = threading.Lock()
_identifier = None


def _get_identifier():
    global _identifier
    if _identifier is None:
        with _lock:
            if _identifier is None:
                from py3langid.langid import MODEL_FILE, LanguageIdentifier

                ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
                ident.set_languages(list(SERVED))
                if getattr(getattr(ident, "nb_ptc", None), "dtype", None) == "float16":
                    # the scoring casts the gathered rows to float32 on every call anyway: once, here
                    # (exact: float16 -> float32 loses nothing; 4.4 MB)
                    ident.nb_ptc = ident.nb_ptc.astype("float32")
                _identifier = ident
    return _identifier


def marketplace_language(marketplace: str | None, default: str = "en") -> str:
    if not marketplace:
        return default
    try:
        return mp.get(marketplace).language
    except KeyError:
        return default


def clean_for_language(text: str) -> str:
    text = text or ""
    if "@" in text or "://" in text or "www." in text:  # every link or address has one: most texts none
        text = _URL.sub(" ", text)
    return _ORDER.sub(" ", text)


def _letter_counts(text: str) -> tuple[int, int]:
    """(letters, Han letters) of ``text``: counted in C (map / findall), not per character in Python."""
    return sum(map(str.isalpha, text)), sum(map(str.isalpha, _HAN.findall(text)))


def fallback_reason(text: str) -> str | None:
    """Why the contract's script/length rules decide this text's language, or None.

    ``kana`` (always ja), ``empty``, ``han`` (Han-only/Han-dominant: zh), ``short``.
    """
    text = clean_for_language(text)
    if _KANA.search(text):
        return "kana"
    n_letters, han = _letter_counts(text)
    if not n_letters:
        return "empty"
    non_han = n_letters - han
    if han and (non_han < 4 or han * 3 >= non_han):
        return "han"
    if non_han < MIN_LETTERS or len(_LATIN_WORD.findall(text)) < MIN_WORDS:
        return "short"
    return None


def detect_languages(queries: list[tuple[str, str | None, str | None]]) -> list[tuple[str, float, str]]:
    """``detect_language`` of many ``(text, marketplace, hint)`` at once: the texts py3langid decides
    are scored together (``_langid_many``: its ``classify`` of each text, 6x faster), not one by one."""
    out: list = [None] * len(queries)
    todo: dict[tuple, list[int]] = {}  # memo key -> the queries that ask it
    for i, (text, marketplace, hint) in enumerate(queries):
        fallback = marketplace_language(marketplace, hint if hint in SERVED else "en")
        text = clean_for_language(text)
        key = (text, fallback, marketplace_language(marketplace, ""))
        got = _memo.get(key) if len(text) <= MEMO_MAX_CHARS else None
        if got is not None:
            out[i] = got
            continue
        got = _rules(text, marketplace, fallback)
        if got is None:
            todo.setdefault(key, []).append(i)
            continue
        out[i] = got
        _remember(text, key, got)
    if todo:
        keys = list(todo)
        for key, (code, conf) in zip(keys, _langid_many([_for_langid(k[0]) for k in keys])):
            got = (code, round(float(conf), 4), "langid")
            _remember(key[0], key, got)
            for i in todo[key]:
                out[i] = got
    return out


def _remember(text: str, key: tuple, got: tuple) -> None:
    if len(text) <= MEMO_MAX_CHARS:
        if len(_memo) >= MEMO_SIZE:
            _memo.clear()
        _memo[key] = got


def detect_language(text: str, marketplace: str | None = None, hint: str | None = None) -> tuple[str, float, str]:
    """Return ``(language, confidence, method)`` for a message body.

    ``hint`` is the mail parser's language hint (core.message.language_hint): for short or
    Han-only text of a message whose marketplace is unknown it is the fallback (a served
    language only); the contract's marketplace language comes first when there is one.

    method is one of ``kana``, ``han``, ``han_fallback`` (kanji-only on amazon.co.jp),
    ``short_fallback``, ``empty_fallback``,
    ``langid``. Confidence is py3langid's normalised probability (1.0 for script rules,
    0.5 for fallbacks).
    """
    return detect_languages([(text, marketplace, hint)])[0]


# texts seen before (auto-replies and notices repeat word for word once ids and links are gone)
MEMO_SIZE = 10_000
MEMO_MAX_CHARS = 600
_memo: dict[tuple[str, str, str], tuple[str, float, str]] = {}


def _for_langid(text: str) -> str:
    """What py3langid reads: mixed Han + Latin text without its Han part (it would drag it to zh)."""
    return _HAN.sub(" ", text) if _HAN.search(text) else text


def _rules(text: str, marketplace: str | None, fallback: str) -> tuple[str, float, str] | None:
    """The contract's script and length rules over cleaned ``text``; None: py3langid decides."""
    if _KANA.search(text):
        return "ja", 1.0, "kana"
    n_letters, han = _letter_counts(text)
    if not n_letters:
        return fallback, 0.5, "empty_fallback"
    non_han = n_letters - han
    if han and (non_han < 4 or han * 3 >= non_han):
        # Han-only or Han-dominant (stray Latin letters such as "OK" or a model number do
        # not count) and no kana: Chinese, on any marketplace, unless kanji-only Japanese on JP
        if marketplace_language(marketplace, "") == "ja" and not _ZH_MARK.search(text):
            return "ja", 0.5, "han_fallback"
        return "zh", 1.0, "han"
    words = _LATIN_WORD.findall(text)
    if non_han < MIN_LETTERS or len(words) < MIN_WORDS:
        return fallback, 0.5, "short_fallback"
    return None


# py3langid's byte automaton (Aho-Corasick over byte n-grams): its state after any input is its
# state after the input's last _DFA_DEPTH bytes read from the start state (no state lies deeper;
# a test checks the model). So a text can be cut into chunks that each start _DFA_DEPTH - 1 bytes
# early, and every chunk of every text walked at once, one numpy step per byte position.
_DFA_DEPTH = 6
_CHUNK = 48
_walk = None


def _walk_tables():
    """(next state per row base + byte, row base per state, feature per state, the naive Bayes
    weights as (class, feature)) as numpy arrays."""
    global _walk
    if _walk is None:
        import numpy as np

        ident = _get_identifier()
        moves = ident.tk_nextmove
        _walk = (np.frombuffer(moves, dtype=f"u{moves.itemsize}"),
                 np.asarray(ident._rowbase, dtype=np.int64), np.asarray(ident.tk_output, dtype=np.int64),
                 np.ascontiguousarray(ident.nb_ptc.T, dtype=np.float32))
    return _walk


_WALK_BYTES = 1 << 20  # bytes walked together at most: the walk's arrays take ~20x that at their peak


def _langid_many(texts: list[str]) -> list[tuple[str, float]]:
    """``py3langid``'s ``classify`` of each text (its encoding, byte features, naive Bayes scores,
    softmax at temperature sqrt(bytes)), the automaton walked over many texts together."""
    ident = _get_identifier()
    data = [ident._encode(t) for t in texts]
    out: list[tuple[str, float]] = []
    group: list[bytes] = []
    size = 0
    for b in data:
        if group and size + len(b) > _WALK_BYTES:
            out += _walk_group(ident, group)
            group, size = [], 0
        group.append(b)
        size += len(b)
    return out + (_walk_group(ident, group) if group else [])


def _walk_group(ident, data: list[bytes]) -> list[tuple[str, float]]:
    import numpy as np

    moves, rowbase, feature, weights_by_class = _walk_tables()
    lens = np.fromiter(map(len, data), dtype=np.int64, count=len(data))
    n_chunks = -(-lens // _CHUNK)
    owner = np.repeat(np.arange(len(data)), n_chunks)
    text_at = np.zeros(len(data), dtype=np.int64)  # each text's first byte in the joined bytes
    np.cumsum(lens[:-1], out=text_at[1:])
    chunk_no = np.arange(len(owner)) - np.repeat(np.cumsum(n_chunks) - n_chunks, n_chunks)
    lead = _DFA_DEPTH - 1
    pos = np.arange(-lead, _CHUNK)[:, None] + chunk_no * _CHUNK  # (position in chunk, chunk): byte index
    valid = (pos >= 0) & (pos < lens[owner])
    joined = np.frombuffer(b"".join(data) + b"\0", dtype=np.uint8)
    byte = joined[np.where(valid, text_at[owner] + pos, len(joined) - 1)]
    state = np.zeros(len(owner), dtype=np.int64)
    seen = np.empty((_CHUNK, len(owner)), dtype=np.int64)
    for j in range(lead + _CHUNK):
        if j == lead:
            state[chunk_no == 0] = 0  # a text's first chunk starts at its first byte: nothing before it
        state = moves[rowbase[state] + byte[j]]
        if j >= lead:
            seen[j - lead] = feature[state]
    seen[~valid[lead:]] = -1
    n_feat = ident.nb_ptc.shape[0]
    hit = seen >= 0
    keys = np.broadcast_to(owner, seen.shape)[hit] * n_feat + seen[hit]
    keys, counts = np.unique(keys, return_counts=True)
    who, feat = np.divmod(keys, n_feat)
    scores = np.zeros((len(data), len(ident.nb_pc)), dtype=np.float32)
    if len(keys):
        part = weights_by_class[:, feat]  # (classes, hits): summed along rows, 7x faster than along columns
        part *= np.log1p(counts.astype(np.float32))
        first = np.flatnonzero(np.r_[True, who[1:] != who[:-1]])
        scores[who[first]] = np.add.reduceat(part, first, axis=1).T + ident.nb_pc
    # as LanguageIdentifier._decide (norm_probs) and classify, every row at once
    scores *= (1.0 / np.sqrt(np.maximum(lens, 1))).astype(np.float32)[:, None]
    scores = np.exp(scores - scores.max(axis=1, keepdims=True))
    scores /= scores.sum(axis=1, keepdims=True)
    for a, b in ident._alias_pairs:
        scores[:, a] += scores[:, b]
        scores[:, b] = 0.0
    best = scores.argmax(axis=1)
    return [(ident.nb_classes[b], float(c)) for b, c in zip(best.tolist(), scores[np.arange(len(data)), best].tolist())]
