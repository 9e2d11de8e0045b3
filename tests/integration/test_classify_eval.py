"""The issue's checks: the eval command meets the targets on the held-out split and prints the
frozen hand-written sets beside it (per language, per intent); the shipped model and spelling
vocabulary are what `seller-inbox classify train` produces from the corpus."""

from __future__ import annotations

import pytest

from seller_inbox.classify import model, spell
from seller_inbox.cli import main
from seller_inbox.domain import taxonomy as tx
from seller_inbox_dev.classify import corpus, train
from seller_inbox_dev.classify.evaluate import FROZEN_TARGETS, TARGETS, evaluate, frozen_files, load_frozen


def test_eval_meets_targets_on_heldout_split():
    res = evaluate()
    assert res["n"] >= 1000
    assert res["intent_macro_f1"] >= TARGETS["intent_macro_f1"]
    assert res["high_risk_recall"] >= TARGETS["high_risk_recall"]
    assert res["language_accuracy"] >= TARGETS["language_accuracy"]
    assert all(res["per_intent"][i]["support"] >= 50 for i in res["labels"])


def test_eval_command_prints_both_sets_per_language_and_intent_and_png(tmp_path, capsys):
    png = tmp_path / "eval.png"
    assert main(["classify", "eval", "--png", str(png)]) == 0  # the held-out targets gate the exit status
    out = capsys.readouterr().out
    held, _, rest = out.partition("== frozen hand-written set")
    frozen, _, side = rest.partition("== side by side")
    assert held.startswith("== held-out split") and frozen and side
    for section in (held, frozen):
        for needle in ("precision", "recall", "intent macro-F1", "risk accuracy", "high-risk recall",
                       "language accuracy", "per language", "low-confidence flag", "reliability", "confusion matrix"):
            assert needle in section, needle
        for intent in tx.INTENTS:
            assert f"\n{intent} " in section, intent
    for lang in ("en", "de", "fr", "it", "es", "nl", "ja"):
        assert f"\n{lang} " in held and f"\n{lang} " in frozen, lang
    assert "\nzh " in frozen and "frozen_eval.v1.jsonl" in frozen
    per_file = [ln for ln in frozen.splitlines() if ln.startswith("  frozen_eval") and "intent macro-F1" in ln]
    assert len(per_file) == len(frozen_files()) >= 3  # each file alone, too
    assert "held-out split: all targets met" in held
    assert "intent_macro_f1" in side and "heldout" in side and "frozen" in side
    assert png.stat().st_size > 40_000 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_frozen_figures_come_from_the_same_pipeline_and_add_up():
    """The frozen set's report is computed from the pipeline's own predictions: per-language counts
    add up to the set, the confusion matrix to n, the flag split to the flagged count."""
    rows = load_frozen()
    res = evaluate(rows, name="frozen", targets=FROZEN_TARGETS)
    assert res["n"] == len(rows) == sum(v["n"] for v in res["per_language"].values())
    assert sum(map(sum, res["confusion"])) == res["n"]
    assert sum(b["n"] for b in res["calibration"]["bins"]) == res["n"]
    assert res["targets"] == FROZEN_TARGETS and 0 < res["intent_accuracy"] <= 1
    assert 0 <= res["confidence_flag"]["flagged"] <= res["n"]
    assert res["per_language"]["zh"]["n"] >= 8 and set(res["per_language"]) >= {"en", "de", "fr", "it"}


def test_eval_names_a_malformed_frozen_row(tmp_path, capsys):
    bad = tmp_path / "frozen_eval_x.v1.jsonl"
    bad.write_text('{"id": "x1", "subject": "", "body": "hi", "marketplace": "US", "kind": "buyer_message", '
                   '"intent": "not_received", "risk": "low", "language": "en", "tags": [], "source": "hand-written"}\n')
    with pytest.raises(ValueError, match=r"frozen_eval_x.v1.jsonl:1: field risk 'low' is below"):
        load_frozen([bad])
    with pytest.raises(FileNotFoundError, match="frozen evaluation set is missing"):
        load_frozen([])


def test_corpus_splits_are_disjoint_and_large_enough():
    rows = corpus.load()
    train = [r for r in rows if r["split"] == "train"]
    held = [r for r in rows if r["split"] == "heldout"]
    assert not {r["body"] for r in train} & {r["body"] for r in held}
    from collections import Counter

    per = Counter(r["intent"] for r in train)
    assert len(per) == 15 and min(per.values()) >= 150
    langs = Counter(r["language"] for r in rows)
    assert all(langs[x] >= 100 for x in ("en", "de", "fr", "it", "es", "ja"))
    assert corpus.generate() == rows  # regenerating gives the same corpus


def test_a_request_phrase_that_threatens_makes_its_messages_high_risk(tmp_path):
    """A chargeback threat inside a damaged-item phrase is high risk, as the taxonomy says of any
    threat, not the medium its intent implies; the mark never reaches a message or training text."""
    bank = tmp_path / "bank.txt"
    bank.write_text("@return_refund\nen: I want my money back. | Refund me or I'll dispute the charge.{threat}\n")
    assert corpus.load_bank(bank)["return_refund"]["train"]["en"] == [
        "I want my money back.", "Refund me or I'll dispute the charge."]
    assert corpus.threat_phrases(bank) == {"Refund me or I'll dispute the charge."}

    threats = corpus.threat_phrases()
    assert threats, "the shipped bank marks its threatening request phrases"
    rows = [r for r in corpus.load() if any(t.split("{item}")[0] in r["body"] for t in threats)]
    assert rows and all(r["risk"] == "high" and "threat" in r["tags"] for r in rows), \
        [(r["id"], r["risk"]) for r in rows if r["risk"] != "high"]
    assert not any(corpus.THREAT_MARK in r["body"] for r in corpus.load())


def test_shipped_model_matches_corpus_and_retraining_reproduces_it(tmp_path):
    shipped = model.IntentModel.load(model.MODEL_FILE)
    assert shipped.corpus_sha256 == train.corpus_fingerprint()
    # the runtime's spelling vocabulary is the bank's, as `classify train` writes it
    assert spell.VOCAB_FILE.read_text(encoding="utf-8") == train.spell_vocab_text()
    retrained = train.train()
    import numpy as np

    assert retrained.classes == shipped.classes
    # bit-identical on the same machine; across CPUs/BLAS builds float noise stays far below this
    assert np.allclose(retrained.coef, shipped.coef, atol=1e-2)
    assert np.array_equal(retrained.memory_labels, shipped.memory_labels)
    held = corpus.load(split="heldout")
    texts, _ = train.training_texts(held)
    a = shipped.predict(texts)[0].argmax(axis=1)
    b = retrained.predict(texts)[0].argmax(axis=1)
    assert (a == b).mean() > 0.995
