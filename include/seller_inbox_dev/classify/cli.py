"""``seller-inbox classify eval|train|corpus``: added to the runtime ``classify`` group
(``seller_inbox.cli.command_group``) by the ``seller_inbox.commands`` entry point.

- ``classify eval [--png PATH] [--json] [--gate-frozen]``: figures on the generated held-out split
  and on the frozen hand-written sets side by side, and the PNG for the README; exit status 1 when
  a held-out target is missed (with ``--gate-frozen`` also a frozen-set target), 2 when a frozen
  set is missing or malformed.
- ``classify train``: retrain the intent model from the corpus' training split and write
  ``data/classify/intent_model.v1.npz`` and ``data/classify/spell_vocab.v1.json`` (deterministic).
- ``classify train --with-feedback [--warehouse URL] [--force]`` and ``classify feedback export``: the
  desk's corrections into training, behind the frozen-set guard (``seller_inbox_dev.classify.feedback``).
- ``classify corpus``: regenerate ``data/classify/corpus.v1.jsonl`` from the phrase banks.
"""

from __future__ import annotations

import json
import sys

from seller_inbox.classify.cli import _limit_threads


def _eval(args) -> int:
    _limit_threads()
    from pathlib import Path

    from seller_inbox_dev.classify.evaluate import DEFAULT_PNG, evaluate_sets, format_reports, plot

    try:
        results = evaluate_sets()
    except (FileNotFoundError, ValueError) as exc:
        print(f"classify eval: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(results, indent=2, default=str))
    else:
        print(format_reports(results))
    if not args.no_png:
        path = plot(results, Path(args.png) if args.png else DEFAULT_PNG)
        print(f"plot: {path}", file=sys.stderr)
    ok = results["heldout"]["meets_targets"] and (results["frozen"]["meets_targets"] or not args.gate_frozen)
    return 0 if ok else 1


def _train(args) -> int:
    _limit_threads()
    import time
    from pathlib import Path

    from seller_inbox.classify import model, spell
    from seller_inbox_dev.classify import train

    if args.with_feedback:  # desk feedback, behind the frozen-set guard
        from seller_inbox_dev.classify import feedback

        return feedback.train_command(args)
    t = time.perf_counter()
    m = train.train()
    path = m.save(Path(args.out) if args.out else model.MODEL_FILE)
    model.reset()
    print(f"trained on {m.meta['n_train']} messages (+ phrase-bank sentences) in {time.perf_counter() - t:.1f} s: "
          f"{path} (model {m.fingerprint}, corpus sha256 {m.corpus_sha256[:12]}); vocabulary {spell.VOCAB_FILE}")
    return 0


def _corpus(args) -> int:
    from collections import Counter

    from seller_inbox_dev.classify import corpus

    path = corpus.write()
    rows = corpus.load(path)
    c = Counter(r["split"] for r in rows)
    print(f"{path}: {len(rows)} messages ({c['train']} train, {c['heldout']} held-out); run `seller-inbox classify train` next")
    return 0


def register(subparsers) -> None:
    from seller_inbox.cli import command_group

    sub = command_group(subparsers, "classify", dest="classify_cmd", metavar="{eval,train,corpus,feedback}")
    e = sub.add_parser("eval", help="figures on the held-out split and the frozen hand-written sets "
                                    "+ docs/img/classifier_eval.png")
    e.add_argument("--png", help="where to write the plot (default docs/img/classifier_eval.png)")
    e.add_argument("--no-png", action="store_true")
    e.add_argument("--json", action="store_true", help="machine-readable output")
    e.add_argument("--gate-frozen", action="store_true",
                   help="exit 1 also when the frozen sets miss their targets (issue 15's)")
    e.set_defaults(func=_eval)
    t = sub.add_parser("train", help="retrain the intent model (deterministic) and write its weights")
    t.add_argument("--out", help="output .npz (default: the shipped data/classify/intent_model.v1.npz)")
    t.add_argument("--with-feedback", action="store_true",
                   help="also train on the desk's corrections (data/classify/feedback*.jsonl); replaces the model "
                        "only if the frozen set's macro-F1 and high-risk recall do not get worse")
    t.add_argument("--warehouse", help="with --with-feedback: export the feedback from this warehouse URL first")
    t.add_argument("--force", action="store_true", help="with --with-feedback: replace even if the frozen set got worse")
    t.set_defaults(func=_train)
    from seller_inbox_dev.classify import feedback

    feedback.register(sub)
    c = sub.add_parser("corpus", help="regenerate the labelled corpus from the phrase banks")
    c.set_defaults(func=_corpus)
