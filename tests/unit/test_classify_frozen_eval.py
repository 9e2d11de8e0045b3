"""The frozen hand-written evaluation sets stay honest: well-formed, covering every intent, risk
and the languages they claim, and disjoint from everything training reads — the generated
corpus (both splits: the banks were tuned on the held-out one), every phrase of the phrase bank,
the hand-written training messages, and desk-feedback examples once they exist as a file under
data/classify. A copy counts when the
normalised texts are equal, the frozen text lies inside a training text, a long training sentence
lies inside the frozen text, or at character 5-shingle Jaccard >= 0.8."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from seller_inbox.domain import relay
from seller_inbox.domain import taxonomy as tx
from seller_inbox.domain.identifiers import ORDER_ID_FULL, ORDER_ID_RE
from seller_inbox_dev.classify import corpus
from seller_inbox_dev.classify.evaluate import (FROZEN_DIR, frozen_files, load_frozen, near_duplicates,
                                                normalise)

from seller_inbox_dev.classify.feedback import FEEDBACK_GLOB  # noqa: E402 - `classify feedback export` writes these


def _frozen_texts(rows):
    return [relay.own_text(r["body"], r["kind"]) or r["subject"] for r in rows]


def training_texts() -> list[tuple[str, str]]:
    """(where, text) of everything a training run reads."""
    out = [(f"corpus {r['id']}", relay.own_text(r["body"], r.get("kind") or "buyer_message")) for r in corpus.load()]
    out += [(f"corpus {r['id']} subject", r["subject"]) for r in corpus.load() if len(r.get("subject") or "") > 25]
    bank = corpus.load_bank()
    out += [(f"phrasebank @{section}", p) for section, sides in bank.items() for side in sides.values()
            for phrases in side.values() for p in phrases]
    out += [(f"{corpus.HANDWRITTEN_FILE.name} {r['id']}", relay.own_text(r["body"], r["kind"]))
            for r in corpus.load_handwritten()]
    for path in sorted(corpus.DATA_DIR.glob(FEEDBACK_GLOB)):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                out.append((f"{path.name} {row.get('id')}", row.get("body") or row.get("text") or ""))
    return out


def test_the_frozen_sets_are_there_and_outside_every_training_path():
    files = frozen_files()
    assert [p.name for p in files][:1] == ["frozen_eval.v1.jsonl"]
    assert all(corpus.DATA_DIR not in p.parents for p in files) and FROZEN_DIR.name == "classify"
    rows = load_frozen()
    assert len(rows) >= 230
    assert all(r["source"] == "hand-written" for r in rows)


def test_the_frozen_set_covers_every_intent_risk_and_its_languages():
    rows = load_frozen(frozen_files()[:1])
    per_intent = Counter(r["intent"] for r in rows)
    assert set(per_intent) == set(tx.INTENTS) and min(per_intent.values()) >= 8, per_intent
    assert set(Counter(r["risk"] for r in rows)) == set(tx.RISKS)
    langs = Counter(r["language"] for r in rows)
    assert langs["en"] >= 85 and langs["de"] >= 45 and langs["fr"] >= 45 and langs["it"] >= 45 and langs["zh"] >= 8
    tags = Counter(t for r in rows for t in r["tags"])
    for hard in ("two_intents", "sarcasm", "typos", "mixed_language", "english_on_eu", "zh_on_us",
                 "return_with_damage", "question_sounds_like_complaint", "threat", "quoted_history", "notice"):
        assert tags[hard] >= 3, hard
    for r in rows:  # placeholder order ids only in Amazon's 3-7-7 form
        for m in ORDER_ID_RE.finditer(r["subject"] + "\n" + r["body"]):
            assert ORDER_ID_FULL.match(m.group(1))


def test_no_frozen_text_or_near_duplicate_is_in_the_training_data():
    rows = load_frozen()
    where, texts = zip(*training_texts())
    hits = near_duplicates(_frozen_texts(rows), list(texts))
    report = [f"{rows[i]['set_file']} {rows[i]['id']} ~ {where[j]} (jaccard {jac:.2f}): {texts[j][:60]!r}"
              for i, j, jac in hits]
    assert not report, "frozen evaluation text found in training data; rewrite or drop it:\n" + "\n".join(report)


@pytest.mark.parametrize("variant", [
    lambda t: t,                                       # a verbatim copy
    lambda t: t.upper().replace(",", " ,").replace(".", "!"),  # case and punctuation changed
    lambda t: "Hello,\n" + t + "\nThanks",             # wrapped in a greeting and a closing
    lambda t: t[:-6],                                  # a few characters cut
])
def test_the_overlap_check_catches_copies(variant):
    rows = [r for r in load_frozen(frozen_files()[:1]) if len(normalise(r["body"])) > 120][:3]
    frozen = _frozen_texts(rows)
    training = ["something else entirely about a lamp", variant(frozen[1])]
    assert [(i, j) for i, j, _ in near_duplicates(frozen, training)] == [(1, 1)]


def test_the_overlap_check_lets_independent_texts_pass():
    a = "Hi, the parcel says delivered but nothing is here, can you check with the carrier please?"
    b = "Hello, tracking shows it was delivered yesterday, I never got it. Please look into it."
    assert near_duplicates([a], [b, "a kettle", "parcel"]) == []
