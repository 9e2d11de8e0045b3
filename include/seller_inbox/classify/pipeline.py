"""classify_batch: rules -> language -> intent model -> risk, for a list of messages.

Deterministic: the same batch gives the same output (one thread, fixed weights,
probabilities rounded to 4 decimals).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from seller_inbox.domain import taxonomy as tx
from seller_inbox.classify.lang import detect_languages
from seller_inbox.classify.lexicon import load_lexicon, shouting
from seller_inbox.classify.rules import forwarded_subject, header_intent
from seller_inbox.classify.spell import correct
from seller_inbox.domain.relay import own_text

PIPELINE_VERSION = "1.7"
# below this calibrated confidence the prediction is flagged: `auto` mode must never act on it.
# `classify train` chooses it on the held-out split (model meta "low_confidence"); this is the
# fallback for a model file without one.
LOW_CONFIDENCE = 0.6
# label-specific thresholds: a high-risk intent is proposed when the message gives it this much,
# even if another intent scores higher (a missed A-to-z claim costs more than a false alarm)
HIGH_RISK_INTENT_MIN = {"a_to_z_claim": 0.3, "account_health": 0.3}
# the model's probability mass on high-risk intents (a_to_z_claim, account_health, not_received)
# that raises the risk to high on its own
HIGH_RISK_PROB = 0.2
# a sentence's intent becomes a precedence candidate when the model is this sure of it
SEGMENT_MIN = 0.5
# ... and the whole message gives it at least this (filters one-sentence false alarms)
MESSAGE_SUPPORT = 0.1
# kinds of mail, not requests a sentence can make: only the whole message decides them
MESSAGE_LEVEL = frozenset({"auto_reply", "a_to_z_claim", "account_health"})
# "other" is what is left when no sentence asks for anything: never a sentence's proposal
NOT_PROPOSED = MESSAGE_LEVEL | {"other"}
# the model calls a message no rule decided an auto-reply only when this sure: filed as a machine's
# mail, a buyer's "Je suis absent du 3 au 10, pouvez-vous livrer après ?" would never be answered
# (no SLA clock runs for auto-replies). Below it the best buyer intent is taken. Of the true
# auto-replies the rules leave to the model (held-out split, hand-written sets) the least sure has 0.72.
AUTO_REPLY_MIN = 0.7
RULE_CONFIDENCE = 0.99
_MAX_TEXT = 4000
# redaction placeholders of the mail parser ([NAME], [PHONE], [ADDRESS], [EMAIL]...): not the buyer's words
_PLACEHOLDER = re.compile(r"\[[A-Z][A-Z_]{1,20}\]")


class InvalidItem(ValueError):
    pass


def classifier_version() -> str:
    from seller_inbox.classify.model import get_model

    m = get_model()
    return f"{PIPELINE_VERSION}+{load_lexicon().version}+m{m.fingerprint}"


def warm_up() -> float:
    """Load everything classification loads lazily (intent weights and the char model's index, the
    encoder's tokenizer and weights, the spelling vocabulary, the lexicon, language identification); return the seconds
    it took. Once per worker process: later batches pay only per-message work."""
    import time

    from seller_inbox.classify import lang, spell
    from seller_inbox.classify.model import encoder, get_model

    t0 = time.perf_counter()
    m = get_model()
    if m.char:
        m.char_proba(["."])  # builds the char model's n-gram index
    encoder()._model  # noqa: B018 - loads the tokenizer and the weights
    spell._load()
    load_lexicon()
    lang._get_identifier()
    return time.perf_counter() - t0


def _validate(item: Any) -> dict:
    if not isinstance(item, dict):
        raise InvalidItem("item is not an object")
    if item.get("id") in (None, ""):
        raise InvalidItem("missing id")
    body = item.get("body")
    subject = item.get("subject")
    if body is not None and not isinstance(body, str):
        raise InvalidItem("body must be a string")
    if subject is not None and not isinstance(subject, str):
        raise InvalidItem("subject must be a string")
    if body is None and subject is None:
        raise InvalidItem("missing body")
    mk = item.get("marketplace")
    if mk is not None and not isinstance(mk, str):
        raise InvalidItem("marketplace must be a string")
    for key in ("from_addr", "kind", "language_hint"):
        if item.get(key) is not None and not isinstance(item[key], str):
            raise InvalidItem(f"{key} must be a string")
    # lone surrogates (a mislabelled utf-7 part, a JSON "\\ud800") would crash the encoder's tokenizer
    return {**item, **{k: _valid_utf8(item[k]) for k in ("subject", "body") if item.get(k)}}


def _valid_utf8(s: str) -> str:
    if s.isascii():  # (a flag of the string: no scan)
        return s
    try:
        s.encode("utf-8")
        return s  # no lone surrogate: the round trip below would give the same string
    except UnicodeEncodeError:
        return s.encode("utf-8", "replace").decode("utf-8")


def risk_for(intent: str, text: str, language: str, p_high: float = 0.0) -> tuple[str, list[str]]:
    """Taxonomy risk: intent floor, lexicon hits (high/medium), the model's probability of a
    high-risk intent (high) and shouting (medium)."""
    risk = tx.intent_risk(intent)
    reasons: list[str] = [f"intent:{intent}"] if risk != "low" else []
    if intent == "auto_reply":
        return "low", []
    if p_high >= HIGH_RISK_PROB and risk != "high":
        risk = "high"
        reasons.append(f"model:p_high={p_high:.2f}")
    lexicon = load_lexicon()
    hits = lexicon.find(text, (language,))
    repaired = correct(text)  # "conester le paiement", "Aamzon": a threat with a typo is still a threat
    if repaired != text:
        seen = {(h.category, h.term) for h in hits}
        hits = hits + [h for h in lexicon.find(repaired, (language,)) if (h.category, h.term) not in seen]
    for h in hits:
        if tx.RISK_ORDER[h.risk] > 0:
            reasons.append(f"{h.category}:{h.term}")
        risk = tx.max_risk(risk, h.risk)
    if risk != "high" and shouting(text):
        risk = tx.max_risk(risk, "medium")
        reasons.append("shouting")
    return risk, reasons


def _floats(row) -> list[float]:
    return row.tolist() if hasattr(row, "tolist") else [float(x) for x in row]


@lru_cache(maxsize=8)
def _plan(classes: tuple[str, ...]) -> tuple[tuple, tuple, tuple, tuple, int | None]:
    """What ``decide`` asks of each class, once per class list: (may a sentence propose it, the real
    intents' indices, is it message-level, (index, threshold) of the label-specific thresholds, the
    index of ``auto_reply``)."""
    return (tuple(not c.startswith("_") and c not in NOT_PROPOSED for c in classes),
            tuple(i for i, c in enumerate(classes) if not c.startswith("_")),
            tuple(c in MESSAGE_LEVEL for c in classes),
            tuple((j, HIGH_RISK_INTENT_MIN[c]) for j, c in enumerate(classes) if c in HIGH_RISK_INTENT_MIN),
            classes.index("auto_reply") if "auto_reply" in classes else None)


def decide(msg_probs, seg_probs, classes: list[str], segment_min: float = SEGMENT_MIN) -> tuple[str, float, list]:
    """Taxonomy precedence over the message's requests.

    Each sentence the model is sure about (top intent >= segment_min, ``_none`` = greeting,
    closing, complaint or threat ignored) proposes its intent; the proposal with the highest
    precedence wins. With no confident sentence, the message-level top intent is used.
    Confidence is the larger of the sentence's and the message's probability for it.
    """
    return _decide(_floats(msg_probs), [_floats(sp) for sp in seg_probs], classes, segment_min)


def _decide(msg: list[float], seg_rows: list[list[float]], classes: list[str], segment_min: float = SEGMENT_MIN):
    """``decide`` over rows that are lists of Python floats already (``ndarray.tolist()``)."""
    proposable, real, message_level, high_min, auto = _plan(tuple(classes))
    cands: dict[int, float] = {}
    for row in seg_rows:
        best = max(row)
        j = row.index(best)  # the first of equal maxima: the lowest index, as before
        if not proposable[j] or best < segment_min:
            continue
        if msg[j] < MESSAGE_SUPPORT:  # one odd sentence the whole message does not back
            continue
        cands[j] = max(cands.get(j, 0.0), best, msg[j])
    top = max(real, key=msg.__getitem__)  # the first of equal maxima among the real intents
    if top == auto and msg[top] < AUTO_REPLY_MIN:
        top = max((j for j in real if j != auto), key=msg.__getitem__)
    if not cands or (message_level[top] and msg[top] >= segment_min):
        cands[top] = msg[top]
    for j, threshold in high_min:
        if msg[j] >= threshold:
            cands[j] = max(cands.get(j, 0.0), msg[j])
    choice = min(cands, key=lambda i: tx.RANK[classes[i]])
    return classes[choice], cands[choice], sorted((classes[i], round(p, 4)) for i, p in cands.items())


def calibrated(conf: float, cal: dict) -> float:
    """Platt scaling of the decision's confidence, fitted by ``classify train`` on the held-out
    split: sigmoid(a * logit(conf) + b). Monotone, so it reorders nothing."""
    if not cal:
        return conf
    import math

    c = min(max(conf, 1e-4), 1 - 1e-4)
    return 1.0 / (1.0 + math.exp(-(cal["a"] * math.log(c / (1 - c)) + cal["b"])))


def classify_batch(items: list[dict], *, explain: bool = False) -> list[dict]:
    """Classify messages: ``{id, subject, body, marketplace[, from_addr, kind, language_hint, parsed]}``
    -> ``{id, intent, risk, language, confidence, low_confidence}`` in the same order.

    ``kind`` and ``language_hint`` are the mail parser's; ``parsed`` true says the body is the
    parser's stored text (core.message.body_text: already the buyer's words), which is used as
    it is. Otherwise the body is a whole mail and ``domain.relay`` cuts it (``own_text``), the
    same cut the parser makes. Invalid items give ``{id, error}`` instead of raising.
    """
    import numpy as np

    from seller_inbox.classify.model import CHAR_WEIGHT, get_model

    results: list[dict | None] = [None] * len(items)
    valid: list[tuple[int, dict, str, str, str]] = []  # index, item, body, own words, text (language, risk)
    for idx, raw in enumerate(items):
        try:
            item = _validate(raw)
        except InvalidItem as exc:
            rid = raw.get("id") if isinstance(raw, dict) else None
            results[idx] = {"id": rid, "error": str(exc)}
            continue
        body = (item.get("body") or "")[: _MAX_TEXT * 3]
        own_words = (body if item.get("parsed") else own_text(body, item.get("kind") or "buyer_message"))[:_MAX_TEXT]
        # for language, lexicon and shouting (a placeholder has a "[": most texts none, no scan then)
        text = _PLACEHOLDER.sub(" ", own_words) if "[" in own_words else own_words
        if not text.strip():
            text = (item.get("subject") or "").strip()
        valid.append((idx, item, body, own_words, text))
    # one call for the batch: py3langid scores the texts its rules do not decide together
    languages = detect_languages([(text, item.get("marketplace"), item.get("language_hint"))
                                  for _, item, _, _, text in valid])
    pending: list[tuple] = []  # index, item, text, language, language method, the model's text
    for (idx, item, body, own_words, text), (lang, _, lmethod) in zip(valid, languages):
        fwd = forwarded_subject(item.get("subject"))
        if fwd:  # what a colleague forwarded: its subject is all the parser kept of it
            text, own_words = f"{fwd}\n{text}", f"{fwd}\n{own_words}"
        rule = header_intent(item.get("subject"), item.get("from_addr"), body, item.get("kind"), item.get("headers"))
        if rule is not None:
            intent, why = rule
            risk, reasons = risk_for(intent, text, lang)
            res = {"id": item["id"], "intent": intent, "risk": risk, "language": lang,
                   "confidence": RULE_CONFIDENCE, "low_confidence": False}
            if explain:
                res["explain"] = {"rule": why, "risk": reasons, "language_method": lmethod}
            results[idx] = res
            continue
        # for the model a placeholder still says what stood there ("ship to [ADDRESS]")
        model_text = own_words if "[" not in own_words else \
            _PLACEHOLDER.sub(lambda m: m.group(0)[1:-1].lower().replace("_", " "), own_words)
        if not own_words.strip():
            model_text = text
        pending.append((idx, item, text, lang, lmethod, model_text))
    if pending:
        model = get_model()
        msg_p, seg_p, owner = model.predict([p[5] for p in pending])
        unread = [k for k, p in enumerate(pending) if p[3] in model.char_languages]
        if unread:  # a language the encoder cannot read: its char model too, and no sentence proposals
            char_p = model.char_proba([pending[k][5] for k in unread])
            msg_p[unread] = (1 - CHAR_WEIGHT) * msg_p[unread] + CHAR_WEIGHT * char_p
            keep = ~np.isin(owner, unread)
            seg_p, owner = seg_p[keep], owner[keep]
        msg_p = msg_p.round(4)
        seg_p = seg_p.round(4)
        by_owner: dict[int, list] = {}
        for row, o in zip(seg_p.tolist(), owner.tolist()):
            by_owner.setdefault(o, []).append(row)
        high = [j for j, c in enumerate(model.classes) if not c.startswith("_") and tx.intent_risk(c) == "high"]
        cal = model.meta.get("calibration") or {}
        low = float(cal.get("low_confidence", LOW_CONFIDENCE))
        p_high = msg_p[:, high].sum(axis=1).tolist()  # float32 sums, in the order of ``high``
        for k, ((idx, item, text, lang, lmethod, _), pr) in enumerate(zip(pending, msg_p.tolist())):
            intent, conf, cands = _decide(pr, by_owner.get(k, []), model.classes)  # rows from tolist()
            conf = calibrated(conf, cal)
            risk, reasons = risk_for(intent, text, lang, p_high[k])
            empty = not text.strip()
            res = {"id": item["id"], "intent": "other" if empty else intent, "risk": risk, "language": lang,
                   "confidence": 0.0 if empty else round(conf, 4),
                   "low_confidence": bool(empty or conf < low)}
            if explain:
                top = sorted(((c, float(p)) for c, p in zip(model.classes, pr)), key=lambda t: -t[1])[:3]
                res["explain"] = {"rule": None, "top": top, "candidates": cands, "risk": reasons, "language_method": lmethod}
            results[idx] = res
    return results  # type: ignore[return-value]
