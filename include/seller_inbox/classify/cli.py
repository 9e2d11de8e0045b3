"""Classification subcommands for the ``seller-inbox`` CLI.

``register(subparsers)`` adds:
- ``classify --input FILE|-`` (``-`` = stdin): lines ``{"id","subject","body","marketplace","from_addr"}``
  (subject, from_addr optional; also the parser's ``kind`` and ``language_hint``, and ``parsed``
  true when the body is already the parser's text, not a whole mail) -> one ``{"id","intent","risk","language","confidence"}`` per line on
  stdout (plus ``low_confidence``); an invalid line gives ``{"id", "error"}`` for that line and the
  exit status is 1 if any line failed. ``--explain`` adds the rule/candidates/risk reasons.

``classify eval|train|corpus`` are dev tooling: their entry point (pyproject.toml,
``seller_inbox.commands``) adds them to this group.

Standalone: ``python -m seller_inbox.classify.cli classify --input -``.
"""

from __future__ import annotations

import argparse
import json
import sys

CHUNK = 512


def _limit_threads() -> None:
    import os

    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")


def _lines(args):
    if args.input in (None, "-"):
        return sys.stdin
    return open(args.input, encoding="utf-8", errors="replace")


def _classify(args) -> int:
    _limit_threads()
    from seller_inbox.classify.pipeline import classify_batch

    if args.input is None:
        print("error: classify needs --input FILE (or - for stdin), or a subcommand: eval, train, corpus",
              file=sys.stderr)
        return 2
    try:
        src = _lines(args)
    except OSError as exc:
        print(f"error: cannot read {args.input}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    failed = 0
    out = sys.stdout
    buf: list[tuple[int, object]] = []  # (line number, parsed object or error dict)

    def flush() -> None:
        nonlocal failed
        items = [obj for _, obj in buf if isinstance(obj, dict) and "__error__" not in obj]
        results = iter(classify_batch(items, explain=args.explain)) if items else iter(())
        for lineno, obj in buf:
            if isinstance(obj, dict) and "__error__" not in obj:
                r = next(results)
            else:
                r = {"id": obj.get("id") if isinstance(obj, dict) else None,
                     "error": obj["__error__"] if isinstance(obj, dict) else "invalid line"}
            if "error" in r:
                failed += 1
                r = {"id": r.get("id"), "error": f"line {lineno}: {r['error']}"}
            else:
                r = {k: r[k] for k in ("id", "intent", "risk", "language", "confidence", "low_confidence", "explain") if k in r}
            out.write(json.dumps(r, ensure_ascii=False) + "\n")
        out.flush()
        buf.clear()

    with src:
        for lineno, line in enumerate(src, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                if not isinstance(obj, dict):
                    obj = {"__error__": "line is not a JSON object"}
            except ValueError as exc:
                obj = {"__error__": f"invalid JSON: {exc.msg}"}
            buf.append((lineno, obj))
            if len(buf) >= CHUNK:
                flush()
        flush()
    return 1 if failed else 0


def register(subparsers) -> None:
    p = subparsers.add_parser("classify", help="classify messages (JSONL in, JSONL out); eval, train, corpus")
    p.add_argument("--input", "-i", metavar="FILE", help="JSONL file of messages, or - for stdin")
    p.add_argument("--explain", action="store_true", help="add why: rule, sentence candidates, risk reasons")
    p.set_defaults(func=_classify)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="seller-inbox")
    register(parser.add_subparsers(dest="cmd", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
