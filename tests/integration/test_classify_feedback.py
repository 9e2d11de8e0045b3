"""Desk feedback into training (seller_inbox_dev.classify.feedback) on a real warehouse and real
training runs, kept small: a stratified slice of the corpus (25 messages per intent) as the base,
a slice of the frozen sets for the guard, the baseline "shipped" model trained once per module
(the encoder's cache makes the later runs cheap). The full corpus is trained by `classify train`."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from seller_inbox.classify import feedback as runtime_feedback
from seller_inbox_dev.classify import corpus, feedback
from seller_inbox_dev.classify.evaluate import load_frozen
from tests.integration.rows import add_message

T0 = datetime(2026, 11, 20, tzinfo=timezone.utc)
PER_INTENT = 25
LAMP = ("Hi, this is Maria Gonzalez (+1 415 555 0134, maria.gonzalez@gmail.com). The desk lamp I bought flickers "
        "and buzzes and then goes dark after ten minutes, every single evening since it came.")


def _slice(rows, per, key="intent"):
    out, seen = [], {}
    for r in rows:
        if seen.get(r[key], 0) < per:
            seen[r[key]] = seen.get(r[key], 0) + 1
            out.append(r)
    return out


@pytest.fixture(scope="module")
def base():
    """(base training rows, frozen slice, path of the baseline model playing the shipped one)."""
    import tempfile

    rows = _slice(corpus.load(split="train"), PER_INTENT)
    frozen = _slice(load_frozen(), 10)
    d = Path(tempfile.mkdtemp(prefix="fb-model-"))
    shipped = feedback.train_with([], rows).save(d / "shipped.npz")
    return rows, frozen, shipped


def _correct(db, mid, body, intent, risk, when):
    add_message(db, "us-outdoor", mid, when, intent="product_question", risk="low", body=body)
    with db.cursor() as cur:
        runtime_feedback.correct(cur, "us-outdoor", mid, intent, risk, "lead")


def test_export_is_redacted_and_training_includes_the_confirmed_examples(db, warehouse_dsn, base, tmp_path):
    rows, _, _ = base
    _correct(db, "<lamp@x>", LAMP, "damaged_defective", "medium", T0)
    add_message(db, "us-outdoor", "<edit@x>", T0, body="Do you ship to Canada?", intent="order_status")
    with db.cursor() as cur:  # a heavy draft rewrite on the model's label: exported, not trained on
        runtime_feedback.record_draft_edit(cur, "us-outdoor", "<edit@x>", "Your order shipped today with UPS.",
                                           "Yes, we ship to Canada within five days.", "lead", "order_status")
    out = tmp_path / "feedback.v1.jsonl"
    res = feedback.export(warehouse_dsn, out)
    assert (res["examples"], res["confirmed"], res["by_source"], res["dropped_frozen"]) == (
        2, 1, {"ui_correction": 1, "draft_edit": 1}, 0)
    text = out.read_text(encoding="utf-8")
    for secret in ("Maria", "Gonzalez", "415 555 0134", "maria.gonzalez@gmail.com", "<lamp@x>", "lamp@x"):
        assert secret not in text, secret
    examples = feedback.load([out])
    lamp = next(r for r in examples if r["source"] == "ui_correction")
    assert (lamp["intent"], lamp["risk"], lamp["old_intent"], lamp["confirmed"]) == (
        "damaged_defective", "medium", "product_question", True)
    assert "[NAME]" in lamp["body"] and "[PHONE]" in lamp["body"] and "flickers" in lamp["body"]
    assert len(feedback.training_rows(examples)) == feedback.REPEAT  # the draft edit is not trained on

    m = feedback.train_with(examples, rows)
    assert m.meta["feedback_examples"] == 1 and len(m.memory_labels) == len(rows) + feedback.REPEAT
    assert m.corpus_sha256 != feedback.train_with([], rows).corpus_sha256
    from seller_inbox.classify import model as model_mod
    from seller_inbox.classify.pipeline import classify_batch

    item = {"id": "x", "subject": "", "body": lamp["body"], "parsed": True, "marketplace": "US"}
    previous, model_mod._model = model_mod._model, m
    try:
        assert classify_batch([item])[0]["intent"] == "damaged_defective"
    finally:
        model_mod._model = previous


def test_an_export_drops_frozen_texts(db, warehouse_dsn, base, tmp_path):
    _, frozen, _ = base
    row = next(r for r in frozen if r["kind"] == "buyer_message" and len(r["body"]) > 80)
    from seller_inbox.domain import relay

    _correct(db, "<copy@x>", relay.own_text(row["body"], "buyer_message"), "other", "low", T0)
    res = feedback.export(warehouse_dsn, tmp_path / "f.jsonl", frozen=frozen)
    assert res["examples"] == 0 and res["dropped_frozen"] == 1


def test_the_guard_refuses_a_model_made_worse_by_wrong_labels(db, warehouse_dsn, base, tmp_path):
    rows, frozen, shipped = base
    used = {r["id"] for r in rows}
    # 60 real high-risk and damage complaints of the corpus, "corrected" to other/low: deliberately wrong
    wrong = [r for r in corpus.load(split="train") if r["id"] not in used
             and r["intent"] in ("not_received", "damaged_defective", "wrong_item")][:60]
    from seller_inbox.domain import relay

    for n, r in enumerate(wrong):
        _correct(db, f"<w{n}@x>", relay.own_text(r["body"], r.get("kind") or "buyer_message"), "other", "low",
                 T0 + timedelta(minutes=n))
    out = tmp_path / "feedback.v1.jsonl"
    assert feedback.export(warehouse_dsn, out, frozen=frozen)["confirmed"] == 60
    before = shipped.read_bytes()
    target = tmp_path / "retrained.npz"
    status, lines = feedback.retrain(shipped=shipped, out=target, examples=feedback.load([out]), base_rows=rows,
                                     frozen=frozen)
    assert status == 1 and not target.exists() and shipped.read_bytes() == before, lines
    assert lines[-1].startswith("refused: the retrained model is worse on the frozen set (")
    assert "\n" not in lines[-1] and str(shipped) in lines[-1]
    assert "->" in lines[0] and "60 confirmed of 60 examples" in lines[0]
    status, lines = feedback.retrain(shipped=shipped, out=target, force=True, examples=feedback.load([out]),
                                     base_rows=rows, frozen=frozen)
    assert status == 0 and target.exists() and "(--force)" in lines[-1]


def test_worse_names_each_guarded_figure_that_dropped():
    a = {"intent_macro_f1": 0.80, "high_risk_recall": 0.90}
    assert feedback.worse(a, a) == []
    assert feedback.worse({**a, "high_risk_recall": 0.95}, a) == []
    assert feedback.worse({"intent_macro_f1": 0.79, "high_risk_recall": 0.90}, a) == ["intent_macro_f1 0.800 -> 0.790"]
    assert feedback.worse({"intent_macro_f1": 0.80, "high_risk_recall": 0.85}, a) == ["high_risk_recall 0.900 -> 0.850"]


def test_the_export_command(db, warehouse_dsn, tmp_path):
    _correct(db, "<cli@x>", LAMP, "damaged_defective", "medium", T0)
    out = tmp_path / "fb.jsonl"
    cli = Path(sys.executable).with_name("seller-inbox")
    r = subprocess.run([str(cli), "classify", "feedback", "export", "--warehouse", warehouse_dsn, "--out", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == (f"{out}: 1 examples (1 confirmed, trained on; 1 corrections, 0 draft edits), "
                                "0 left out as frozen-set near duplicates")
    assert json.loads(out.read_text().splitlines()[0])["intent"] == "damaged_defective"
    bad = subprocess.run([str(cli), "classify", "feedback", "export", "--warehouse", "postgresql://127.0.0.1:1/x",
                          "--out", str(tmp_path / "x.jsonl")], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and len(bad.stdout.strip().splitlines()) == 1
