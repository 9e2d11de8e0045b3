"""Fuzzing (Hypothesis, the seeded profile of tests/conftest.py) of two inputs nobody controls:
the compliance linter gets any text a person or a template produces, the classifier any mail a
buyer sends. Neither may raise, both are deterministic, the classifier answers from the taxonomy."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from seller_inbox.classify import classify_batch
from seller_inbox.compliance import Finding, lint
from seller_inbox.config import INTENTS

RISKS = {"high", "medium", "low"}
# characters the linter's and classifier's rules look at, so the fuzzing reaches them
RULE_CHARS = "aZ09@.-+_%/:()<>[]★5 \n\t\x00\u200b\u2028é漢カ"
texts = st.one_of(st.text(), st.text(alphabet=RULE_CHARS), st.lists(st.sampled_from(
    ["free", " review", "5 star", "https://", "www.", "amazon.de/", "a@b.de", "+49 170 1234567", "302-1234567-7654321",
     "2026-11-20", "<a href=x>", "[ANSWER]", "😀", "\x00", "\r\n", " ", "Rabatt für Bewertung", "レビュー特典"])).map("".join))
# found by fuzzing: the e-mail pattern tried every position of a long run of address characters
# (quadratic: this body took over two minutes); now it starts only where a run starts
HUGE_RUN = "1" * 200_000 + "a"


@given(subject=texts, body=texts, order_id=st.one_of(st.none(), texts), proactive=st.booleans(),
       max_chars=st.integers(min_value=0, max_value=5000))
@example(subject="", body="", order_id=None, proactive=True, max_chars=2000)
@example(subject="x", body=HUGE_RUN, order_id=None, proactive=False, max_chars=2000)
@example(subject="x", body="a." * 50_000 + "@", order_id="", proactive=True, max_chars=2000)
@example(subject="x", body="http://" + "a" * 200_000, order_id=None, proactive=False, max_chars=2000)
def test_the_linter_never_raises_and_is_deterministic(subject, body, order_id, proactive, max_chars):
    found = lint(subject, body, order_id=order_id, proactive=proactive, max_chars=max_chars)
    assert found == lint(subject, body, order_id=order_id, proactive=proactive, max_chars=max_chars)
    assert all(isinstance(f, Finding) and f.code and f.detail for f in found)
    assert len({(f.code, f.detail) for f in found}) == len(found)  # no finding twice
    assert (len(body) > max_chars) == any(f.code == "too_long" for f in found)


def test_the_linter_still_finds_what_it_must():
    codes = {f.code for f in lint("Hi", "Write to anna.k@example.com or +49 170 1234567 for a free gift for your review")}
    assert {"email_address", "phone_number", "review_incentive"} <= codes
    assert lint("Re: order", "Your order 302-1234567-7654321 ships on 2026-11-20.") == []


MARKETPLACES = st.one_of(st.none(), st.sampled_from(["US", "DE", "JP", "CN", "xx", "", "\x00"]), st.text(max_size=5))
FROM = st.one_of(st.none(), st.sampled_from(["a1b2@marketplace.amazon.de", "mailer-daemon@x", ""]), st.text(max_size=30))


def classify_one(**item) -> dict:
    return classify_batch([{"id": "fuzz", **item}])[0]


@settings(max_examples=60)  # every example runs the sentence encoder
@given(subject=st.one_of(st.none(), texts), body=texts, marketplace=MARKETPLACES, from_addr=FROM)
@example(subject=None, body="", marketplace=None, from_addr=None)
@example(subject="", body="\x00" * 1000, marketplace="DE", from_addr="")
@example(subject="x", body="A" * 100_000, marketplace="US", from_addr=None)  # huge and shouting
@example(subject=None, body="🔥" * 5000 + "\u2028\u202e", marketplace="JP", from_addr=None)
@example(subject="[NAME] [ADDRESS]", body="[PHONE] [EMAIL]", marketplace="xx", from_addr="x@y")
@example(subject="\ud83d", body="\ud800 wo ist mein Paket", marketplace="DE", from_addr=None)  # lone surrogates
def test_the_classifier_never_raises_and_answers_from_the_taxonomy(subject, body, marketplace, from_addr):
    r = classify_one(subject=subject, body=body, marketplace=marketplace, from_addr=from_addr)
    assert "error" not in r, r
    assert r["id"] == "fuzz" and r["intent"] in INTENTS and r["risk"] in RISKS
    assert isinstance(r["language"], str) and r["language"]
    assert 0.0 <= r["confidence"] <= 1.0 and isinstance(r["low_confidence"], bool)
    assert r == classify_one(subject=subject, body=body, marketplace=marketplace, from_addr=from_addr)


@settings(max_examples=30)
@given(item=st.one_of(st.none(), st.integers(), st.text(), st.dictionaries(
    st.sampled_from(["id", "subject", "body", "marketplace", "from_addr", "kind", "headers"]),
    st.one_of(st.none(), st.integers(), st.text(max_size=20), st.lists(st.text(max_size=3), max_size=2)))))
def test_a_malformed_item_gets_an_error_not_an_exception(item):
    r = classify_batch([item])[0]
    assert ("error" in r) or (r["intent"] in INTENTS and r["risk"] in RISKS)
