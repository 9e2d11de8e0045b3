"""Evaluation on the held-out split: per-intent precision/recall/F1, macro-F1, risk accuracy,
high-risk recall, language accuracy, confusion matrix; a PNG for the README.

The held-out split is generated from held-out phrase banks (phrasings, greetings, product
names, threats that training never sees) and classified through the full pipeline
(header rules, language id, model, lexicon), exactly as in production: each whole mail is
first cut the way the mail parser stores it (``stored_item``).
"""

from __future__ import annotations

import time
from pathlib import Path

from seller_inbox.domain import relay
from seller_inbox.domain import taxonomy as tx

TARGETS = {"intent_macro_f1": 0.90, "high_risk_recall": 0.97, "language_accuracy": 0.98}
DEFAULT_PNG = Path(__file__).resolve().parents[3] / "docs" / "img" / "classifier_eval.png"


def _prf(gold: list[str], pred: list[str], labels: list[str]) -> dict[str, dict]:
    out = {}
    for lab in labels:
        tp = sum(1 for g, p in zip(gold, pred) if g == lab and p == lab)
        fp = sum(1 for g, p in zip(gold, pred) if g != lab and p == lab)
        fn = sum(1 for g, p in zip(gold, pred) if g == lab and p != lab)
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        out[lab] = {"precision": prec, "recall": rec, "f1": f1, "support": tp + fn}
    return out


def stored_item(row: dict) -> dict:
    """A corpus row (a whole mail) as the pipeline gets it from core.message: the parser's cut of
    the body (``domain.relay``), its kind and language hint; no sender address (not stored)."""
    from seller_inbox.classify.lang import marketplace_language
    from seller_inbox.mail.parser import guess_language

    kind = row.get("kind") or "buyer_message"
    text = relay.own_text(row["body"], kind)
    return {"id": row["id"], "subject": row.get("subject"), "body": text, "parsed": True, "kind": kind,
            "marketplace": row.get("marketplace"),
            "language_hint": guess_language(text, marketplace_language(row.get("marketplace"), None))}


def evaluate(rows: list[dict] | None = None) -> dict:
    """Classify the held-out split and compute every figure the issue asks for."""
    from seller_inbox_dev.classify import corpus
    from seller_inbox.classify.pipeline import classifier_version, classify_batch

    if rows is None:
        rows = corpus.load(split="heldout")
    items = [stored_item(r) for r in rows]
    classify_batch(items[:8])  # load model and encoder outside the timing
    t0 = time.perf_counter()
    pred = classify_batch(items)
    elapsed = time.perf_counter() - t0
    gi = [r["intent"] for r in rows]
    pi = [p["intent"] for p in pred]
    labels = [i for i in tx.INTENTS if i in set(gi)]
    per = _prf(gi, pi, labels)
    macro = sum(v["f1"] for v in per.values()) / len(per)
    risk_acc = sum(r["risk"] == p["risk"] for r, p in zip(rows, pred)) / len(rows)
    high = [(r, p) for r, p in zip(rows, pred) if r["risk"] == "high"]
    high_recall = sum(p["risk"] == "high" for _, p in high) / len(high) if high else 1.0
    pred_high = [(r, p) for r, p in zip(rows, pred) if p["risk"] == "high"]
    high_precision = sum(r["risk"] == "high" for r, _ in pred_high) / len(pred_high) if pred_high else 1.0
    lang_acc = sum(r["language"] == p["language"] for r, p in zip(rows, pred)) / len(rows)
    confusion = [[sum(1 for g, p in zip(gi, pi) if g == a and p == b) for b in labels] for a in labels]
    low = sum(p["low_confidence"] for p in pred)
    low_acc = [g == p["intent"] for g, p in zip(gi, pred) if not p["low_confidence"]]
    by_tag: dict[str, list[int]] = {}
    for r, p in zip(rows, pred):
        for t in r.get("tags") or ["plain"]:
            by_tag.setdefault(t, [0, 0])
            by_tag[t][0] += r["intent"] == p["intent"]
            by_tag[t][1] += 1
    return {
        "n": len(rows), "classifier_version": classifier_version(), "labels": labels, "per_intent": per,
        "intent_macro_f1": macro, "intent_accuracy": sum(g == p for g, p in zip(gi, pi)) / len(rows),
        "risk_accuracy": risk_acc, "high_risk_recall": high_recall, "high_risk_precision": high_precision,
        "language_accuracy": lang_acc, "confusion": confusion, "low_confidence": low,
        "accuracy_when_confident": sum(low_acc) / len(low_acc) if low_acc else 0.0,
        "by_tag": {t: v[0] / v[1] for t, v in sorted(by_tag.items())},
        "seconds": elapsed, "messages_per_second": len(rows) / elapsed if elapsed else 0.0,
        "targets": TARGETS,
        "meets_targets": macro >= TARGETS["intent_macro_f1"] and high_recall >= TARGETS["high_risk_recall"]
        and lang_acc >= TARGETS["language_accuracy"],
    }


def format_report(res: dict) -> str:
    lines = [f"held-out split: {res['n']} messages, classifier {res['classifier_version']}", "",
             f"{'intent':<20}{'precision':>10}{'recall':>10}{'F1':>10}{'support':>9}"]
    for lab in res["labels"]:
        v = res["per_intent"][lab]
        lines.append(f"{lab:<20}{v['precision']:>10.3f}{v['recall']:>10.3f}{v['f1']:>10.3f}{v['support']:>9}")
    t = res["targets"]

    def mark(val, key):
        return "ok" if val >= t[key] else "BELOW TARGET"

    lines += ["",
              f"intent macro-F1      {res['intent_macro_f1']:.4f}  (target >= {t['intent_macro_f1']}: {mark(res['intent_macro_f1'], 'intent_macro_f1')})",
              f"intent accuracy      {res['intent_accuracy']:.4f}",
              f"risk accuracy        {res['risk_accuracy']:.4f}",
              f"high-risk recall     {res['high_risk_recall']:.4f}  (target >= {t['high_risk_recall']}: {mark(res['high_risk_recall'], 'high_risk_recall')})",
              f"high-risk precision  {res['high_risk_precision']:.4f}",
              f"language accuracy    {res['language_accuracy']:.4f}  (target >= {t['language_accuracy']}: {mark(res['language_accuracy'], 'language_accuracy')})",
              f"low-confidence       {res['low_confidence']} flagged; accuracy on the rest {res['accuracy_when_confident']:.4f}",
              f"throughput           {res['messages_per_second']:.0f} messages/s in this process (see benchmarks/bench_classify.py)",
              "", "intent accuracy by hard-case tag: " + ", ".join(f"{k} {v:.2f}" for k, v in res["by_tag"].items()),
              "", "confusion matrix (rows = true, columns = predicted):"]
    abbrev = [lab[:6] for lab in res["labels"]]
    lines.append(" " * 20 + "".join(f"{a:>7}" for a in abbrev))
    for lab, row in zip(res["labels"], res["confusion"]):
        lines.append(f"{lab:<20}" + "".join(f"{n:>7}" for n in row))
    lines.append("")
    lines.append("all targets met" if res["meets_targets"] else "TARGETS NOT MET")
    return "\n".join(lines)


def plot(res: dict, path: Path = DEFAULT_PNG) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    labels = res["labels"]
    cm = np.array(res["confusion"], dtype=float)
    norm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(15, 6.5), gridspec_kw={"width_ratios": [1.35, 1]})
    im = ax1.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax1.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=8)
    ax1.set_yticks(range(len(labels)), labels, fontsize=8)
    for i in range(len(labels)):
        for j in range(len(labels)):
            if cm[i, j]:
                ax1.text(j, i, int(cm[i, j]), ha="center", va="center", fontsize=7,
                         color="white" if norm[i, j] > 0.5 else "black")
    ax1.set_xlabel("predicted")
    ax1.set_ylabel("true")
    ax1.set_title("Confusion matrix, held-out split (row-normalised colour)")
    fig.colorbar(im, ax=ax1, fraction=0.046, pad=0.04)
    f1 = [res["per_intent"][lab]["f1"] for lab in labels]
    y = np.arange(len(labels))
    ax2.barh(y, f1, color=["#2b8a3e" if v >= 0.9 else "#e67700" for v in f1])
    ax2.set_yticks(y, labels, fontsize=8)
    ax2.invert_yaxis()
    ax2.set_xlim(0, 1)
    ax2.axvline(res["targets"]["intent_macro_f1"], color="grey", ls="--", lw=1)
    ax2.set_xlabel(f"F1\nhigh-risk recall {res['high_risk_recall']:.3f} · risk accuracy {res['risk_accuracy']:.3f} · "
                   f"language accuracy {res['language_accuracy']:.3f} · n={res['n']}", fontsize=9)
    ax2.set_title(f"Per-intent F1 (macro-F1 {res['intent_macro_f1']:.3f}; dashed: target)")
    fig.suptitle(f"seller-inbox classifier {res['classifier_version']}", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
