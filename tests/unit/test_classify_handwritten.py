"""The hand-written training messages (docs/taxonomy.md, "Hand-written training messages"): a
well-formed file across the served languages and buyer intents, read by every training run at
its weight, and kept apart from the held-out split (the frozen sets are checked against it in
test_classify_frozen_eval.py)."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from seller_inbox.domain import relay
from seller_inbox.domain.languages import SERVED
from seller_inbox_dev.classify import corpus
from seller_inbox_dev.classify.evaluate import near_duplicates


def test_the_file_covers_every_served_language_and_buyer_intent():
    rows = corpus.load_handwritten()
    assert len(rows) >= 400
    langs = Counter(r["language"] for r in rows)
    assert set(langs) == set(SERVED) and min(langs.values()) >= 15, langs
    intents = Counter(r["intent"] for r in rows)
    assert set(intents) == set(corpus.BUYER_INTENTS) and min(intents.values()) >= 10, intents
    assert all(r["kind"] == "buyer_message" for r in rows)


def test_every_training_run_reads_them_at_their_weight_and_never_the_held_out_split():
    rows = corpus.training_rows()
    assert all(r["split"] == "train" for r in rows)
    copies = Counter(r["id"].partition("#")[0] for r in rows if r["id"].startswith("hw-"))
    assert set(copies) == {r["id"] for r in corpus.load_handwritten()}
    assert set(copies.values()) == {corpus.REAL_TEXT_REPEAT}
    assert len(rows) == len(corpus.load(split="train")) + corpus.REAL_TEXT_REPEAT * len(copies)


def test_no_held_out_message_is_a_copy_of_a_hand_written_one():
    held = [relay.own_text(r["body"], r.get("kind") or "buyer_message") for r in corpus.load(split="heldout")]
    mine = [r["body"] for r in corpus.load_handwritten()]
    assert near_duplicates(held, mine) == []


@pytest.mark.parametrize("change, message", [
    (lambda r: {**r, "intent": "complaint"}, "field intent is 'complaint'"),
    (lambda r: {**r, "intent": "not_received", "risk": "low"}, "field risk 'low' is below"),
    (lambda r: {k: v for k, v in r.items() if k != "language"}, "field(s) language missing"),
    (lambda r: {**r, "source": "generated"}, "field source must be 'hand-written'"),
])
def test_a_malformed_row_is_named_by_file_line_and_field(tmp_path, change, message):
    good = corpus.load_handwritten()[:2]
    path = tmp_path / "handwritten_train.v1.jsonl"
    path.write_text(json.dumps(good[0]) + "\n" + json.dumps(change(good[1])) + "\n", encoding="utf-8")
    with pytest.raises(ValueError) as err:
        corpus.load_handwritten(path)
    assert str(err.value).startswith(f"{path}:2: ") and message in str(err.value)


def test_an_id_used_twice_is_named(tmp_path):
    row = corpus.load_handwritten()[0]
    path = tmp_path / "handwritten_train.v1.jsonl"
    path.write_text(json.dumps(row) + "\n\n" + json.dumps(row) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="^" + re.escape(f"{path}:3: field id '{row['id']}' used twice")):
        corpus.load_handwritten(path)
