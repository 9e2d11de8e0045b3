"""The classification contract (intents, risk levels and their precedence) as constants and two small functions."""

from __future__ import annotations

# highest first
PRECEDENCE = (
    "a_to_z_claim", "account_health", "auto_reply", "not_received", "damaged_defective",
    "wrong_item", "cancel_order", "address_change", "return_refund", "invoice_request",
    "size_fit", "order_status", "feedback_review", "product_question", "other",
)
INTENTS = PRECEDENCE
RANK = {intent: i for i, intent in enumerate(PRECEDENCE)}  # lower = higher precedence
RISKS = ("low", "medium", "high")
RISK_ORDER = {"low": 0, "medium": 1, "high": 2}

HIGH_INTENTS = frozenset({"a_to_z_claim", "account_health", "not_received"})
MEDIUM_INTENTS = frozenset({"damaged_defective", "wrong_item", "return_refund", "cancel_order"})
# the intents of a buyer message (one from the buyer's relay alias) that owe no reply: the buyer's
# mailbox answering automatically. Not a_to_z_claim or account_health: those are Amazon's notices,
# which never come from an alias, so on a buyer's message they are the classifier reading a buyer
# who writes about a claim ("Amazonマーケットプレイス保証を申請しました"), and that buyer waits for an answer
NO_REPLY_OWED = frozenset({"auto_reply"})


def by_precedence(intents) -> str:
    """The intent that decides what the seller must do first."""
    return min(intents, key=lambda i: RANK[i])


def max_risk(*risks: str) -> str:
    return max(risks, key=lambda r: RISK_ORDER[r])


def intent_risk(intent: str) -> str:
    if intent in HIGH_INTENTS:
        return "high"
    if intent in MEDIUM_INTENTS:
        return "medium"
    return "low"
