"""Desk feedback into training, behind a frozen-set guard (docs/taxonomy.md "Feedback from the desk").

- ``export``: ``core.label_feedback`` (written by ``seller_inbox.classify.feedback``) to
  ``data/classify/feedback.v1.jsonl``: the latest example per message, redacted text, no
  Message-ID (a hash stands for it). Examples that are a frozen evaluation text or a near
  duplicate of one are left out (counted), so the frozen sets stay unseen;
  ``tests/unit/test_classify_frozen_eval.py`` checks the exported files as well.
- ``training_rows``: the *confirmed* examples (a person set the label: every UI correction, and
  draft edits on a message a person had corrected) as corpus rows, each ``REPEAT`` times so a
  handful of corrections weigh against thousands of generated messages. Unconfirmed draft edits
  (the template was wrong, the label is still the model's) are exported for review, never
  trained on: training on them would only teach the model its own guess.
- ``retrain``: train on the corpus + those rows, classify the frozen sets with the shipped and
  the retrained model, and replace the shipped model only when neither the frozen intent
  macro-F1 nor the high-risk recall got worse (``force`` overrides).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from seller_inbox_dev.classify import corpus

FEEDBACK_FILE = corpus.DATA_DIR / "feedback.v1.jsonl"
FEEDBACK_GLOB = "feedback*.jsonl"
REPEAT = corpus.REAL_TEXT_REPEAT   # each confirmed example counts as this many training messages
GUARDED = ("intent_macro_f1", "high_risk_recall")   # frozen-set figures that must not get worse
_FIELDS = ("id", "source", "kind", "marketplace", "language", "intent", "risk", "old_intent", "old_risk",
           "confirmed", "body")


def _row(ex: dict) -> dict:
    mid = hashlib.sha256(f"{ex['store_id']}\x00{ex['message_id']}".encode()).hexdigest()[:12]
    return {"id": f"fb-{ex['store_id']}-{mid}", "source": ex["source"], "kind": ex["kind"] or "buyer_message",
            "marketplace": ex["marketplace"], "language": ex["language"], "intent": ex["new_intent"],
            "risk": ex["new_risk"], "old_intent": ex["old_intent"], "old_risk": ex["old_risk"],
            "confirmed": bool(ex["confirmed"]), "body": ex["text_redacted"]}


def export(url: str | None = None, path: Path = FEEDBACK_FILE, frozen: list[dict] | None = None) -> dict:
    """Write the warehouse's examples to ``path`` (sorted, one JSON object a line); return counts."""
    from seller_inbox import warehouse
    from seller_inbox.classify import feedback
    from seller_inbox_dev.classify.evaluate import load_frozen, near_duplicates

    conn = warehouse.connect(url or warehouse.dsn())
    try:
        with conn.cursor() as cur:
            examples = feedback.examples(cur)
        conn.rollback()
    finally:
        conn.close()
    latest = {}
    for ex in examples:   # oldest first: a later example of a message replaces an earlier one
        latest[(ex["store_id"], ex["message_id"])] = _row(ex)
    rows = sorted(latest.values(), key=lambda r: r["id"])
    frozen = load_frozen() if frozen is None else frozen
    from seller_inbox.domain import relay

    hits = near_duplicates([relay.own_text(r["body"], r["kind"]) or r["subject"] for r in frozen],
                           [r["body"] for r in rows])
    dropped = {j for _, j, _ in hits}
    rows = [r for j, r in enumerate(rows) if j not in dropped]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps({k: r[k] for k in _FIELDS}, ensure_ascii=False) + "\n" for r in rows),
                    encoding="utf-8")
    return {"path": path, "examples": len(rows), "confirmed": sum(r["confirmed"] for r in rows),
            "by_source": {s: sum(r["source"] == s for r in rows) for s in ("ui_correction", "draft_edit")},
            "dropped_frozen": len(dropped)}


def load(paths: list[Path] | None = None) -> list[dict]:
    """Every exported example (``data/classify/feedback*.jsonl``); a malformed line names file and line."""
    from seller_inbox.domain import taxonomy as tx

    paths = sorted(corpus.DATA_DIR.glob(FEEDBACK_GLOB)) if paths is None else paths
    rows = []
    for path in paths:
        for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{n}: invalid JSON ({exc.msg}); re-export with "
                                 "`seller-inbox classify feedback export`") from None
            if row.get("intent") not in tx.INTENTS or not row.get("body"):
                raise ValueError(f"{path}:{n}: field intent {row.get('intent')!r} or body missing/unknown; "
                                 "re-export with `seller-inbox classify feedback export`")
            rows.append(row)
    return rows


def training_rows(examples: list[dict]) -> list[dict]:
    """Confirmed examples as corpus training rows, each ``REPEAT`` times."""
    return [{"id": f"{r['id']}#{k}", "body": r["body"], "kind": r.get("kind") or "buyer_message",
             "intent": r["intent"], "risk": r["risk"], "split": "train"}
            for r in examples if r.get("confirmed") for k in range(REPEAT)]


def train_with(examples: list[dict], base_rows: list[dict] | None = None):
    """The intent model trained on ``base_rows`` (default: what ``classify train`` learns from) + the
    confirmed examples; stamped with what it was trained on."""
    from seller_inbox_dev.classify import train

    extra = training_rows(examples)
    m = train.train((corpus.training_rows() if base_rows is None else base_rows) + extra)
    h = hashlib.sha256(m.corpus_sha256.encode())
    for r in extra:
        h.update(json.dumps(r, sort_keys=True, ensure_ascii=False).encode())
    m.corpus_sha256 = h.hexdigest()   # corpus + bank + feedback: not the shipped corpus' stamp
    m.meta["feedback_examples"] = sum(1 for r in examples if r.get("confirmed"))
    return m


def frozen_figures(m, frozen: list[dict]) -> dict:
    """The guarded figures of model ``m`` (an IntentModel) on the frozen rows, through the full pipeline."""
    from seller_inbox.classify import model as model_mod
    from seller_inbox_dev.classify.evaluate import FROZEN_TARGETS, evaluate

    previous, model_mod._model = model_mod._model, m
    try:
        res = evaluate(frozen, name="frozen hand-written set", targets=FROZEN_TARGETS)
    finally:
        model_mod._model = previous
    return {k: res[k] for k in GUARDED}


def worse(candidate: dict, shipped: dict) -> list[str]:
    """The guarded figures that got worse, as 'name old -> new'."""
    return [f"{k} {shipped[k]:.3f} -> {candidate[k]:.3f}" for k in GUARDED if candidate[k] < shipped[k] - 1e-9]


def retrain(*, shipped: Path, out: Path | None = None, force: bool = False, examples: list[dict] | None = None,
            base_rows: list[dict] | None = None, frozen: list[dict] | None = None) -> tuple[int, list[str]]:
    """Train with the feedback, compare on the frozen sets, replace ``out`` (default ``shipped``)
    unless worse. Returns (exit status, lines to print): 0 replaced, 1 refused."""
    from seller_inbox.classify.model import IntentModel
    from seller_inbox_dev.classify.evaluate import load_frozen

    examples = load() if examples is None else examples
    frozen = load_frozen() if frozen is None else frozen
    n = sum(1 for r in examples if r.get("confirmed"))
    cand = train_with(examples, base_rows)
    before = frozen_figures(IntentModel.load(shipped), frozen)
    after = frozen_figures(cand, frozen)
    lines = [f"feedback: {n} confirmed of {len(examples)} examples (x{REPEAT}); frozen set ({len(frozen)}): "
             + ", ".join(f"{k} {before[k]:.3f} -> {after[k]:.3f}" for k in GUARDED)]
    bad = worse(after, before)
    if bad and not force:
        lines.append(f"refused: the retrained model is worse on the frozen set ({'; '.join(bad)}); "
                     f"{shipped} stays as it was (--force replaces it anyway)")
        return 1, lines
    target = out or shipped
    cand.save(target)
    lines.append(f"{target}: model {cand.fingerprint} written" + (" despite a worse frozen set (--force)" if bad else ""))
    return 0, lines


# ------------------------------------------------------------------ the command line
def _export(args) -> int:
    try:
        res = export(args.warehouse, Path(args.out) if args.out else FEEDBACK_FILE)
    except Exception as exc:  # noqa: BLE001 - one line naming what failed
        print(f"classify feedback export: {type(exc).__name__}: {str(exc).strip().splitlines()[0]}", flush=True)
        return 2
    print(f"{res['path']}: {res['examples']} examples ({res['confirmed']} confirmed, trained on; "
          f"{res['by_source']['ui_correction']} corrections, {res['by_source']['draft_edit']} draft edits), "
          f"{res['dropped_frozen']} left out as frozen-set near duplicates")
    return 0


def train_command(args) -> int:
    """``classify train --with-feedback``: export first when ``--warehouse`` is given."""
    import sys

    from seller_inbox.classify import model

    if args.warehouse:
        try:
            res = export(args.warehouse)
        except Exception as exc:  # noqa: BLE001 - one line naming what failed
            print(f"classify train: export from {args.warehouse}: {str(exc).strip().splitlines()[0]}", file=sys.stderr)
            return 2
        print(f"{res['path']}: {res['examples']} examples ({res['confirmed']} confirmed), "
              f"{res['dropped_frozen']} left out as frozen-set near duplicates")
    try:
        examples = load()
    except ValueError as exc:
        print(f"classify train: {exc}", file=sys.stderr)
        return 2
    if not any(r.get("confirmed") for r in examples):
        print(f"classify train: no confirmed desk-feedback examples in {corpus.DATA_DIR}/{FEEDBACK_GLOB}; "
              "run `seller-inbox classify feedback export --warehouse URL` first", file=sys.stderr)
        return 2
    status, lines = retrain(shipped=model.MODEL_FILE, out=Path(args.out) if args.out else None, force=args.force,
                            examples=examples)
    print("\n".join(lines))
    model.reset()
    return status


def register(sub) -> None:
    """``classify feedback export`` (the ``classify`` group's parsers are ``sub``)."""
    f = sub.add_parser("feedback", help="desk feedback: export corrected labels for training")
    fsub = f.add_subparsers(dest="feedback_cmd", metavar="{export}", required=True)
    e = fsub.add_parser("export", help="core.label_feedback -> data/classify/feedback.v1.jsonl (redacted)")
    e.add_argument("--warehouse", help="warehouse URL (default: the configured one, `seller-inbox warehouse url`)")
    e.add_argument("--out", help=f"output file (default {FEEDBACK_FILE.name} in data/classify)")
    e.set_defaults(func=_export)
