"""The linter measured on the hand-written corpus (tests/fixtures/lint): recall >= 0.95 with the
expected code, false alarms <= 0.05, every served language in both halves. Speed: benchmarks/bench_lint.py."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from seller_inbox.compliance import CODES, lint

HERE = Path(__file__).resolve().parents[1] / "fixtures" / "lint"
VIOLATIONS = yaml.safe_load((HERE / "violations.yaml").read_text(encoding="utf-8"))
COMPLIANT = yaml.safe_load((HERE / "compliant.yaml").read_text(encoding="utf-8"))
LANGUAGES = {"en", "de", "fr", "it", "es", "ja", "zh"}
_ORDER = re.compile(r"\d{3}-\d{7}-\d{7}")


def _lint(case: dict) -> list:
    text = case["text"] * case.get("repeat", 1)
    found = _ORDER.search(text)
    return lint("", text, locale=case["locale"], kind=case.get("kind", "reply"), order_id=found and found.group(0))


def test_the_corpus_is_big_enough_and_covers_every_language():
    assert len(VIOLATIONS) >= 64 and len(COMPLIANT) >= 40
    assert LANGUAGES <= {c["locale"] for c in VIOLATIONS} and LANGUAGES <= {c["locale"] for c in COMPLIANT}
    assert {c["code"] for c in VIOLATIONS} <= set(CODES)
    assert len({c["text"] for c in VIOLATIONS + COMPLIANT}) == len(VIOLATIONS) + len(COMPLIANT)


def test_recall_and_false_alarms():
    missed = [c for c in VIOLATIONS if c["code"] not in {f.code for f in _lint(c)}]
    alarms = [(c, _lint(c)) for c in COMPLIANT if _lint(c)]
    recall = 1 - len(missed) / len(VIOLATIONS)
    false_alarm = len(alarms) / len(COMPLIANT)
    per_lang = {}
    for c in VIOLATIONS:
        hit, n = per_lang.get(c["locale"], (0, 0))
        per_lang[c["locale"]] = (hit + (c not in missed), n + 1)
    print(f"\nlint corpus: recall {recall:.3f} ({len(VIOLATIONS) - len(missed)}/{len(VIOLATIONS)}), "
          f"false alarms {false_alarm:.3f} ({len(alarms)}/{len(COMPLIANT)}); per language: "
          + ", ".join(f"{k} {h}/{n}" for k, (h, n) in sorted(per_lang.items())))
    assert recall >= 0.95, [(c["locale"], c["code"], c["text"][:60]) for c in missed]
    assert false_alarm <= 0.05, [(c["text"][:60], [str(f) for f in fs]) for c, fs in alarms]


def test_the_tester_examples_are_caught():
    tester = [c for c in VIOLATIONS if c["text"] in (
        "Leave a review and we'll send you a $10 gift card", "Könnten Sie Ihre negative Bewertung bitte löschen?",
        "Visit outdoor-gear.com", "Use code SAVE20", "Add me on WeChat", "麻烦给我们五星好评",
        "低評価のレビューを削除していただけませんか")]
    assert len(tester) == 7
    for c in tester:
        assert c["code"] in {f.code for f in _lint(c)}, c

