"""Feedback from the desk: labelled examples people make while they work (docs/taxonomy.md,
"Feedback from the desk"). The only writer of ``core.label_feedback``.

- ``correct``: a person sets a message's intent/risk on the UI's message page. The message
  takes the person's label (``mail.messages.relabel``; the classifier never overwrites it) and
  the example is recorded with the model's label as ``old_*``: ``ui_correction``, confirmed.
- ``record_draft_edit``: an approver rewrote a draft heavily before approving (word similarity
  under ``HEAVY_EDIT_BELOW``): the template was wrong for that message, perhaps because its
  intent was. Recorded as ``draft_edit`` with the message's label at that moment; confirmed only
  when a person had set that label (the approvals page does not show the intent, so approving
  says nothing about it). Only confirmed examples are trained on.
- ``examples``: every example, for ``seller-inbox classify feedback export``.

The text is the message's stored words (already redacted by the parser) redacted again, so
nothing a person could have pasted around it leaks into training files.
"""

from __future__ import annotations

from typing import Any

from seller_inbox.domain import taxonomy as tx

SOURCES = ("ui_correction", "draft_edit")
HEAVY_EDIT_BELOW = 0.5      # word similarity (delivery.shadow.similarity) of approved text to draft
MAX_TEXT = 4000

_MESSAGE = """SELECT kind, direction, intent, risk, language, marketplace, body_text, subject, classifier_version,
                     labelled_at IS NOT NULL AS labelled
              FROM core.message WHERE store_id = %s AND message_id = %s"""
_COLS = ("kind", "direction", "intent", "risk", "language", "marketplace", "body_text", "subject",
         "classifier_version", "labelled")


class LabelRefused(ValueError):
    """A correction that cannot be stored; ``key`` names the UI's message for it."""

    def __init__(self, key: str, detail: str):
        super().__init__(detail)
        self.key = key


def check_label(intent: str, risk: str) -> None:
    """Refuse an unknown intent or risk, or a risk below what the intent implies (docs/taxonomy.md 'Risk')."""
    if intent not in tx.INTENTS:
        raise LabelRefused("label_unknown", f"intent {intent!r} is not one of {', '.join(tx.INTENTS)}")
    if risk not in tx.RISKS:
        raise LabelRefused("label_unknown", f"risk {risk!r} is not one of {', '.join(tx.RISKS)}")
    floor = tx.intent_risk(intent)
    if tx.RISK_ORDER[risk] < tx.RISK_ORDER[floor]:
        raise LabelRefused("label_risk_floor", f"risk {risk} is below {floor}, the least intent {intent} implies")


def _message(cur: Any, store_id: str, message_id: str, lock: bool = False) -> dict | None:
    cur.execute(_MESSAGE + (" FOR UPDATE" if lock else ""), (store_id, message_id))
    row = cur.fetchone()
    return dict(zip(_COLS, row)) if row else None


def _text(msg: dict) -> str:
    from seller_inbox.redaction import redact

    words = (msg["body_text"] or "").strip() or (msg["subject"] or "").strip()
    return redact(words, language=msg["language"])[:MAX_TEXT]


def _insert(cur: Any, store_id: str, message_id: str, msg: dict, *, source: str, intent: str, risk: str,
            confirmed: bool, user: str, template: str | None = None, similarity: float | None = None) -> None:
    cur.execute(
        """INSERT INTO core.label_feedback (store_id, message_id, source, old_intent, old_risk, new_intent, new_risk,
               confirmed, language, marketplace, kind, text_redacted, classifier_version, template,
               draft_similarity, created_by)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
        (store_id, message_id, source, msg["intent"], msg["risk"], intent, risk, confirmed, msg["language"],
         msg["marketplace"], msg["kind"], _text(msg), msg["classifier_version"], template,
         None if similarity is None else round(similarity, 4), user))


def correct(cur: Any, store_id: str, message_id: str, intent: str, risk: str, user: str) -> dict:
    """A person's intent/risk for an inbound message, on the caller's cursor and transaction.

    Returns ``{"changed": bool, "old_intent", "old_risk"}``; raises ``LabelRefused`` for an
    unknown message, an outbound one, or a label the taxonomy does not allow. The same label
    again changes and records nothing."""
    from seller_inbox.mail import messages

    check_label(intent, risk)
    msg = _message(cur, store_id, message_id, lock=True)
    if msg is None:
        raise LabelRefused("label_no_message", f"store {store_id}: no message {message_id}")
    if msg["direction"] != "inbound":
        raise LabelRefused("label_outbound", f"store {store_id}: message {message_id} is the seller's own; "
                                             "only inbound messages are classified")
    out = {"changed": (msg["intent"], msg["risk"]) != (intent, risk), "old_intent": msg["intent"],
           "old_risk": msg["risk"]}
    if out["changed"]:
        messages.relabel(cur, store_id, message_id, intent, risk, user)
        _insert(cur, store_id, message_id, msg, source="ui_correction", intent=intent, risk=risk, confirmed=True,
                user=user)
    return out


def record_draft_edit(cur: Any, store_id: str, message_id: str | None, draft: str | None, approved: str | None,
                      user: str, template: str | None = None) -> bool:
    """Record a ``draft_edit`` example when the approved text is far from the draft; True if recorded."""
    from seller_inbox.delivery.shadow import similarity

    if not message_id:
        return False
    sim = similarity(draft, approved)
    if sim >= HEAVY_EDIT_BELOW:
        return False
    msg = _message(cur, store_id, message_id)
    if msg is None or msg["intent"] is None or msg["direction"] != "inbound":
        return False
    _insert(cur, store_id, message_id, msg, source="draft_edit", intent=msg["intent"], risk=msg["risk"],
            confirmed=bool(msg["labelled"]), user=user, template=template, similarity=sim)
    return True


_EXAMPLE_COLS = ("id", "store_id", "message_id", "source", "old_intent", "old_risk", "new_intent", "new_risk",
                 "confirmed", "language", "marketplace", "kind", "text_redacted", "template", "draft_similarity",
                 "created_by", "created_at")


def examples(cur: Any, store_id: str | None = None) -> list[dict]:
    """Every recorded example, oldest first (the export keeps the latest per message)."""
    cur.execute(f"""SELECT {', '.join(_EXAMPLE_COLS)} FROM core.label_feedback
                    WHERE (%s::text IS NULL OR store_id = %s) ORDER BY created_at, id""", (store_id, store_id))
    return [dict(zip(_EXAMPLE_COLS, r)) for r in cur.fetchall()]


def history(cur: Any, store_id: str, message_id: str) -> list[dict]:
    """A message's examples, newest first (the message page shows the model's label and who changed it)."""
    cur.execute(f"""SELECT {', '.join(_EXAMPLE_COLS)} FROM core.label_feedback
                    WHERE store_id = %s AND message_id = %s ORDER BY created_at DESC, id DESC""",
                (store_id, message_id))
    return [dict(zip(_EXAMPLE_COLS, r)) for r in cur.fetchall()]
