"""Speed of the compliance linter: mean time to lint one message (target, issue 10: well under
5 ms), over the hand-written corpus (tests/fixtures/lint) and every shipped template rendered
with its sample contexts.

    python benchmarks/bench_lint.py [--rounds 20]
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=20)
    args = ap.parse_args()

    from seller_inbox import templating
    from seller_inbox.compliance import lint

    cases = []
    for f in ("violations.yaml", "compliant.yaml"):
        for c in yaml.safe_load((ROOT / "tests/fixtures/lint" / f).read_text(encoding="utf-8")):
            text = c["text"] * c.get("repeat", 1)
            oid = re.search(r"\d{3}-\d{7}-\d{7}", text)
            cases.append(("", text, c["locale"], c.get("kind", "reply"), oid and oid.group(0)))
    for name, spec in templating.CATALOG.items():
        for loc in templating.locales_for(name):
            for _, ctx in templating.sample_contexts(name, loc):
                s, b = templating.render(name, loc, ctx)
                cases.append((s, b, loc, spec.kind, ctx["order"].get("id")))
    t0 = time.perf_counter()
    lint(*cases[0][:2], locale=cases[0][2])
    warm = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(args.rounds):
        for s, b, loc, kind, oid in cases:
            lint(s, b, locale=loc, kind=kind, order_id=oid)
    n = args.rounds * len(cases)
    mean = (time.perf_counter() - t0) / n * 1000
    chars = sum(len(c[1]) for c in cases) / len(cases)
    print(f"lint: {mean:.3f} ms per message on average over {n} messages (mean {chars:.0f} chars); "
          f"first call with the language model load {warm * 1000:.0f} ms; target < 5 ms")


if __name__ == "__main__":
    main()
