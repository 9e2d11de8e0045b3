"""Feedback from the desk on a real warehouse (classify.feedback): a person's correction changes the
message, is recorded redacted with the model's label kept, and survives reclassification; a heavy
draft rewrite is recorded as a draft_edit example, a light one is not; refusals change nothing."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from seller_inbox.classify import classify_store_messages, feedback
from seller_inbox.config import StoreConfig
from tests.integration.rows import add_message

T0 = datetime(2026, 11, 20, tzinfo=timezone.utc)
PII = "Hi, this is Maria Gonzalez, call me at +1 415 555 0134 or write maria.gonzalez@gmail.com."


def _store(sid="us-outdoor"):
    return StoreConfig.model_validate({
        "id": sid, "name": "Feedback Test", "seller_id": "A1TEST", "region": "na", "marketplaces": [{"code": "US"}],
        "connections": {"spapi": "spapi_x", "mailbox": "mailbox_x", "smtp": "smtp_x"}})


def _examples(db):
    with db.cursor() as cur:
        return feedback.examples(cur)


def _msg(db, mid, store="us-outdoor"):
    with db.cursor() as cur:
        cur.execute("SELECT intent, risk, labelled_by, labelled_at IS NOT NULL FROM core.message "
                    "WHERE store_id = %s AND message_id = %s", (store, mid))
        return cur.fetchone()


def test_a_correction_relabels_the_message_and_records_a_redacted_example(db, warehouse_dsn):
    # body_text as an unredacted text would be if a person pasted it: the example redacts again
    add_message(db, "us-outdoor", "<c1@x>", T0, intent="order_status", risk="low",
                body=PII + " The tent arrived with a broken pole and I want my money back.")
    with db.cursor() as cur:
        out = feedback.correct(cur, "us-outdoor", "<c1@x>", "damaged_defective", "medium", "lead")
    assert out == {"changed": True, "old_intent": "order_status", "old_risk": "low"}
    assert _msg(db, "<c1@x>") == ("damaged_defective", "medium", "lead", True)
    [ex] = _examples(db)
    assert (ex["source"], ex["old_intent"], ex["old_risk"], ex["new_intent"], ex["new_risk"], ex["confirmed"],
            ex["created_by"], ex["language"]) == ("ui_correction", "order_status", "low", "damaged_defective",
                                                  "medium", True, "lead", "en")
    text = ex["text_redacted"]
    for secret in ("Maria", "Gonzalez", "415 555 0134", "maria.gonzalez@gmail.com", "gmail"):
        assert secret not in text, secret
    assert "[NAME]" in text and "[PHONE]" in text and "[EMAIL]" in text and "broken pole" in text
    # the same label again: nothing changes, nothing recorded
    with db.cursor() as cur:
        assert feedback.correct(cur, "us-outdoor", "<c1@x>", "damaged_defective", "medium", "lead")["changed"] is False
    assert len(_examples(db)) == 1


def test_the_classifier_never_overwrites_a_persons_label(db, warehouse_dsn):
    add_message(db, "us-outdoor", "<c2@x>", T0 + timedelta(hours=1), intent=None, risk=None,
                body="Where is my package? It has been two weeks.")
    add_message(db, "us-outdoor", "<c3@x>", T0 + timedelta(hours=2), intent=None, risk=None,
                body="Can I get an invoice for my order please?")
    s = _store()
    classify_store_messages(s, warehouse_dsn, T0, T0 + timedelta(days=1))
    model_label = _msg(db, "<c2@x>")[:2]
    with db.cursor() as cur:
        feedback.correct(cur, "us-outdoor", "<c2@x>", "not_received", "high", "lead")
        cur.execute("UPDATE core.message SET classifier_version = 'older'")  # a new model arrives
    out = classify_store_messages(s, warehouse_dsn, T0, T0 + timedelta(days=1), force=True)
    assert out["classified"] == 2
    assert _msg(db, "<c2@x>") == ("not_received", "high", "lead", True)
    assert _msg(db, "<c3@x>")[:2] == ("invoice_request", "low")
    [ex] = _examples(db)
    assert (ex["old_intent"], ex["old_risk"]) == model_label  # the model's own label stays visible


@pytest.mark.parametrize("intent,risk,key", [
    ("not_an_intent", "low", "label_unknown"), ("order_status", "extreme", "label_unknown"),
    ("not_received", "low", "label_risk_floor"), ("return_refund", "low", "label_risk_floor")])
def test_labels_the_taxonomy_does_not_allow_are_refused(db, intent, risk, key):
    add_message(db, "us-outdoor", "<c4@x>", T0)
    with db.cursor() as cur, pytest.raises(feedback.LabelRefused) as exc:
        feedback.correct(cur, "us-outdoor", "<c4@x>", intent, risk, "lead")
    assert exc.value.key == key
    assert _msg(db, "<c4@x>") == ("order_status", "low", None, False) and _examples(db) == []


def test_unknown_and_outbound_messages_are_refused(db):
    add_message(db, "us-outdoor", "<r1@store>", T0, kind="seller_reply", intent=None, risk=None)
    with db.cursor() as cur:
        for mid, key in (("<nope@x>", "label_no_message"), ("<r1@store>", "label_outbound")):
            with pytest.raises(feedback.LabelRefused) as exc:
                feedback.correct(cur, "us-outdoor", mid, "other", "low", "lead")
            assert exc.value.key == key
    assert _examples(db) == []


def test_a_heavy_draft_rewrite_is_a_draft_edit_example_a_light_one_is_not(db):
    draft = ("Hello, your order 111-0000001-0000001 was shipped on November 24 with UPS. "
             "The tracking number is 1Z999AA10123456784. It should arrive by December 1.")
    light = draft.replace("Hello,", "Hi there,")
    heavy = "We are very sorry the pole broke. We will send a replacement pole today at no cost."
    from seller_inbox.delivery.shadow import similarity

    assert similarity(draft, light) >= feedback.HEAVY_EDIT_BELOW > similarity(draft, heavy)
    add_message(db, "us-outdoor", "<d1@x>", T0, body=PII + " My tent pole snapped on day one.")
    add_message(db, "us-outdoor", "<d2@x>", T0)
    with db.cursor() as cur:
        assert feedback.record_draft_edit(cur, "us-outdoor", "<d2@x>", draft, light, "lead", "order_status") is False
        assert feedback.record_draft_edit(cur, "us-outdoor", "<d1@x>", draft, heavy, "lead", "order_status") is True
    [ex] = _examples(db)
    assert (ex["source"], ex["new_intent"], ex["old_intent"], ex["confirmed"], ex["template"]) == (
        "draft_edit", "order_status", "order_status", False, "order_status")
    assert 0 <= ex["draft_similarity"] < feedback.HEAVY_EDIT_BELOW
    assert "Maria" not in ex["text_redacted"] and "[PHONE]" in ex["text_redacted"]
    # after a person corrected the message, a heavy rewrite confirms that person's label
    with db.cursor() as cur:
        feedback.correct(cur, "us-outdoor", "<d1@x>", "damaged_defective", "medium", "lead")
        feedback.record_draft_edit(cur, "us-outdoor", "<d1@x>", draft, heavy, "lead2", "order_status")
    last = _examples(db)[-1]
    assert (last["source"], last["new_intent"], last["confirmed"]) == ("draft_edit", "damaged_defective", True)
