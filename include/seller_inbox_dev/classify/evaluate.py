"""Evaluation of the classifier on two kinds of set, side by side:

- the **generated held-out split** of the corpus (held-out phrase banks: phrasings, greetings,
  product names and threats that training never sees). Its banks were revised while looking at
  its errors, so it is an upper estimate;
- the **frozen sets** ``tests/fixtures/classify/frozen_eval*.v1.jsonl``: messages written one by
  one by people, in the styles buyers really use. They live outside ``data/classify`` so no
  training path reads them, they are never trained or tuned on, and
  ``tests/unit/test_classify_frozen_eval.py`` fails if one of their texts (or a near duplicate)
  turns up in the training data.

Both are classified through the full pipeline (header rules, language id, model, lexicon) exactly
as in production: each whole mail is first cut the way the mail parser stores it
(``stored_item``). Per set: per-intent and per-language precision/recall/F1, high-risk recall,
confusion matrix, language accuracy (``zh`` included), the low-confidence flag (share, accuracy
of flagged vs unflagged) and a reliability diagram (confidence bins vs accuracy).
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from seller_inbox.domain import relay
from seller_inbox.domain import taxonomy as tx
from seller_inbox.domain.languages import SERVED

REPO = Path(__file__).resolve().parents[3]
# the held-out split gates `classify eval`'s exit status against regressions. Its macro-F1 floor was
# 0.90 until round 9 of the phrase bank added held-out phrasings written as the hard cases (returns
# that mention damage, refunds after a return, complaint-questions, pl/sv/pt buyers): the model
# before round 9 scores 0.78 on that split, the one after it 0.846 (docs/taxonomy.md#evaluation).
TARGETS = {"intent_macro_f1": 0.84, "high_risk_recall": 0.97, "language_accuracy": 0.98}
# issue 15's targets on the frozen sets: reported, a gate only with `classify eval --gate-frozen`
FROZEN_TARGETS = {"intent_macro_f1": 0.93, "high_risk_recall": 0.99, "language_accuracy": 0.99}
DEFAULT_PNG = REPO / "docs" / "img" / "classifier_eval.png"
FROZEN_DIR = REPO / "tests" / "fixtures" / "classify"
FROZEN_GLOB = "frozen_eval*.v1.jsonl"
FROZEN_FIELDS = ("id", "subject", "body", "marketplace", "kind", "intent", "risk", "language", "tags", "source")
KINDS = ("buyer_message", "amazon_notice", "auto_reply")
CALIBRATION_BINS = 10


# --------------------------------------------------------------------------- the frozen sets
def frozen_files(directory: Path = FROZEN_DIR) -> list[Path]:
    return sorted(directory.glob(FROZEN_GLOB))


def check_labelled_row(row, where: str) -> None:
    """One clear line naming file, line and field when a hand-written row (a frozen evaluation row or a
    hand-written training message) is malformed."""
    if not isinstance(row, dict):
        raise ValueError(f"{where}: not a JSON object; write one message object per line")
    missing = [f for f in FROZEN_FIELDS if f not in row]
    if missing:
        raise ValueError(f"{where}: field(s) {', '.join(missing)} missing; every row needs {', '.join(FROZEN_FIELDS)}")
    allowed = {"intent": tx.INTENTS, "risk": tx.RISKS, "language": SERVED, "kind": KINDS}
    for field, values in allowed.items():
        if row[field] not in values:
            raise ValueError(f"{where}: field {field} is {row[field]!r}; use one of {', '.join(values)}")
    if tx.RISK_ORDER[row["risk"]] < tx.RISK_ORDER[tx.intent_risk(row["intent"])]:
        raise ValueError(f"{where}: field risk {row['risk']!r} is below what intent {row['intent']} implies "
                         f"(docs/taxonomy.md 'Risk'); raise it")
    if row["source"] != "hand-written":
        raise ValueError(f"{where}: field source must be 'hand-written' (these sets are never generated)")


def read_labelled(path: Path, what: str = "frozen sets") -> list[dict]:
    """The rows of one hand-written JSONL file, each checked (``check_labelled_row``), ids unique."""
    rows, seen = [], set()
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{where}: invalid JSON ({exc.msg}); fix the line") from None
        check_labelled_row(row, where)
        if row["id"] in seen:
            raise ValueError(f"{where}: field id {row['id']!r} used twice; ids must be unique across {what}")
        seen.add(row["id"])
        rows.append(row)
    return rows


def load_frozen(paths: list[Path] | None = None) -> list[dict]:
    """Every row of the frozen sets, checked; ``FileNotFoundError`` when there is none."""
    paths = frozen_files() if paths is None else paths
    if not paths:
        raise FileNotFoundError(f"no {FROZEN_GLOB} in {FROZEN_DIR}: the frozen evaluation set is missing; "
                                "restore it from git (tests/fixtures/classify/)")
    rows, seen = [], set()
    for path in paths:
        for row in read_labelled(path):
            if row["id"] in seen:
                raise ValueError(f"{path}: field id {row['id']!r} used twice; ids must be unique across frozen sets")
            seen.add(row["id"])
            rows.append(dict(row, set_file=Path(path).name))
    return rows


# --------------------------------------------------------------------------- classifying
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


def _classify(rows: list[dict]) -> tuple[list[dict], float]:
    from seller_inbox.classify.pipeline import classify_batch

    items = [stored_item(r) for r in rows]
    classify_batch(items[:8])  # load model and encoder outside the timing
    t0 = time.perf_counter()
    pred = classify_batch(items)
    return pred, time.perf_counter() - t0


# --------------------------------------------------------------------------- figures
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


def _macro(per: dict[str, dict], key: str = "f1") -> float:
    return sum(v[key] for v in per.values()) / len(per) if per else 0.0


def _high_recall(pairs) -> tuple[float, int]:
    high = [p for r, p in pairs if r["risk"] == "high"]
    return (sum(p["risk"] == "high" for p in high) / len(high) if high else 1.0), len(high)


def _per_language(rows: list[dict], pred: list[dict]) -> dict[str, dict]:
    """Per gold language: intent macro-P/R/F1 and accuracy within it, high-risk recall, and the
    language identifier's own precision/recall/F1 for that code."""
    lang_prf = _prf([r["language"] for r in rows], [p["language"] for p in pred], list(SERVED))
    out = {}
    for lang in SERVED:
        pairs = [(r, p) for r, p in zip(rows, pred) if r["language"] == lang]
        if not pairs:
            continue
        gi, pi = [r["intent"] for r, _ in pairs], [p["intent"] for _, p in pairs]
        per = _prf(gi, pi, [i for i in tx.INTENTS if i in set(gi)])
        hr, nh = _high_recall(pairs)
        out[lang] = {"n": len(pairs), "intent_precision": _macro(per, "precision"),
                     "intent_recall": _macro(per, "recall"), "intent_f1": _macro(per),
                     "intent_accuracy": sum(g == p for g, p in zip(gi, pi)) / len(pairs),
                     "high_risk_recall": hr, "n_high": nh, "language_id": lang_prf[lang]}
    return out


def _calibration(rows: list[dict], pred: list[dict], bins: int = CALIBRATION_BINS) -> dict:
    """Reliability: per confidence bin, the mean confidence and the intent accuracy; ECE."""
    table = []
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        got = [(p["confidence"], r["intent"] == p["intent"]) for r, p in zip(rows, pred)
               if lo <= p["confidence"] < hi or (b == bins - 1 and p["confidence"] == 1.0)]
        if got:
            table.append({"lo": lo, "hi": hi, "n": len(got), "confidence": sum(c for c, _ in got) / len(got),
                          "accuracy": sum(ok for _, ok in got) / len(got)})
    ece = sum(t["n"] * abs(t["accuracy"] - t["confidence"]) for t in table) / len(rows)
    return {"bins": table, "ece": ece}


def _confidence_flag(rows: list[dict], pred: list[dict]) -> dict:
    """How the low-confidence flag splits the messages and the errors."""
    flagged = [r["intent"] == p["intent"] for r, p in zip(rows, pred) if p["low_confidence"]]
    rest = [r["intent"] == p["intent"] for r, p in zip(rows, pred) if not p["low_confidence"]]
    errors = len(flagged) - sum(flagged) + len(rest) - sum(rest)
    return {"flagged": len(flagged), "flagged_share": len(flagged) / len(rows),
            "accuracy_flagged": sum(flagged) / len(flagged) if flagged else None,
            "accuracy_unflagged": sum(rest) / len(rest) if rest else None,
            "errors_in_flagged": (len(flagged) - sum(flagged)) / errors if errors else None}


def _by_tag(rows: list[dict], pred: list[dict]) -> dict[str, float]:
    by_tag: dict[str, list[int]] = {}
    for r, p in zip(rows, pred):
        for t in r.get("tags") or ["plain"]:
            by_tag.setdefault(t, [0, 0])
            by_tag[t][0] += r["intent"] == p["intent"]
            by_tag[t][1] += 1
    return {t: v[0] / v[1] for t, v in sorted(by_tag.items())}


def figures(rows: list[dict], pred: list[dict], *, name: str, targets: dict) -> dict:
    """Every figure of one set from its gold rows and the pipeline's predictions."""
    from seller_inbox.classify.pipeline import classifier_version

    gi, pi = [r["intent"] for r in rows], [p["intent"] for p in pred]
    labels = [i for i in tx.INTENTS if i in set(gi)]
    per = _prf(gi, pi, labels)
    macro = _macro(per)
    high_recall, n_high = _high_recall(zip(rows, pred))
    pred_high = [r for r, p in zip(rows, pred) if p["risk"] == "high"]
    lang_acc = sum(r["language"] == p["language"] for r, p in zip(rows, pred)) / len(rows)
    lang_errors: dict[str, int] = {}
    for r, p in zip(rows, pred):
        if r["language"] != p["language"]:
            key = f"{r['language']}->{p['language']}"
            lang_errors[key] = lang_errors.get(key, 0) + 1
    return {
        "name": name, "n": len(rows), "classifier_version": classifier_version(), "labels": labels,
        "per_intent": per, "intent_macro_f1": macro, "intent_accuracy": sum(g == p for g, p in zip(gi, pi)) / len(rows),
        "risk_accuracy": sum(r["risk"] == p["risk"] for r, p in zip(rows, pred)) / len(rows),
        "high_risk_recall": high_recall, "n_high": n_high,
        "high_risk_precision": sum(r["risk"] == "high" for r in pred_high) / len(pred_high) if pred_high else 1.0,
        "missed_high": [r["id"] for r, p in zip(rows, pred) if r["risk"] == "high" and p["risk"] != "high"],
        "language_accuracy": lang_acc, "language_errors": dict(sorted(lang_errors.items())),
        "per_language": _per_language(rows, pred),
        "confusion": [[sum(1 for g, p in zip(gi, pi) if g == a and p == b) for b in labels] for a in labels],
        "confidence_flag": _confidence_flag(rows, pred), "calibration": _calibration(rows, pred),
        "by_tag": _by_tag(rows, pred), "targets": targets,
        "meets_targets": macro >= targets["intent_macro_f1"] and high_recall >= targets["high_risk_recall"]
        and lang_acc >= targets["language_accuracy"],
    }


def evaluate(rows: list[dict] | None = None, *, name: str = "held-out split", targets: dict = TARGETS) -> dict:
    """Classify one set (default: the corpus' held-out split) and compute its figures."""
    from seller_inbox_dev.classify import corpus

    if rows is None:
        rows = corpus.load(split="heldout")
    return _evaluated(rows, name, targets)[0]


def _evaluated(rows: list[dict], name: str, targets: dict) -> tuple[dict, list[dict]]:
    """``evaluate``'s figures and the predictions they came from."""
    pred, elapsed = _classify(rows)
    res = figures(rows, pred, name=name, targets=targets)
    res.update(seconds=elapsed, messages_per_second=len(rows) / elapsed if elapsed else 0.0)
    return res, pred


def evaluate_sets(frozen_paths: list[Path] | None = None) -> dict[str, dict]:
    """The generated held-out split and the frozen sets (all files together), side by side."""
    paths = frozen_files() if frozen_paths is None else frozen_paths
    rows = load_frozen(paths)
    frozen, pred = _evaluated(rows, "frozen hand-written set", FROZEN_TARGETS)
    frozen["files"] = {p.name: sum(r["set_file"] == p.name for r in rows) for p in paths}
    frozen["per_file"] = {}
    for p in paths:  # each file alone: a set written after the training material was can be read apart
        idx = [i for i, r in enumerate(rows) if r["set_file"] == p.name]
        if idx:
            f = figures([rows[i] for i in idx], [pred[i] for i in idx], name=p.name, targets=FROZEN_TARGETS)
            frozen["per_file"][p.name] = {k: f[k] for k in ("n", "intent_macro_f1", "intent_accuracy", "high_risk_recall",
                                                             "n_high", "language_accuracy")}
    return {"heldout": evaluate(), "frozen": frozen}


# --------------------------------------------------------------------------- the report
def _mark(res: dict, key: str) -> str:
    t = res["targets"][key]
    return f"(target >= {t}: {'ok' if res[key] >= t else 'BELOW TARGET'})"


def _fmt_intents(res: dict) -> list[str]:
    lines = [f"{'intent':<20}{'precision':>10}{'recall':>10}{'F1':>10}{'support':>9}"]
    for lab in res["labels"]:
        v = res["per_intent"][lab]
        lines.append(f"{lab:<20}{v['precision']:>10.3f}{v['recall']:>10.3f}{v['f1']:>10.3f}{v['support']:>9}")
    return lines


def _fmt_languages(res: dict) -> list[str]:
    lines = ["per language (intent: macro over the intents present; language id: P/R/F1 of that code):",
             f"{'language':<10}{'n':>5}{'intent P':>10}{'intent R':>10}{'intent F1':>10}{'int acc':>9}"
             f"{'high rec':>10}{'lang P':>8}{'lang R':>8}{'lang F1':>8}"]
    for lang, v in res["per_language"].items():
        li = v["language_id"]
        high = f"{v['high_risk_recall']:.3f}" if v["n_high"] else "-"
        lines.append(f"{lang:<10}{v['n']:>5}{v['intent_precision']:>10.3f}{v['intent_recall']:>10.3f}"
                     f"{v['intent_f1']:>10.3f}{v['intent_accuracy']:>9.3f}{high:>10}{li['precision']:>8.3f}"
                     f"{li['recall']:>8.3f}{li['f1']:>8.3f}")
    errs = ", ".join(f"{k} {n}" for k, n in res["language_errors"].items()) or "none"
    return lines + [f"language errors (true->predicted): {errs}"]


def _fmt_confidence(res: dict) -> list[str]:
    f, c = res["confidence_flag"], res["calibration"]

    def pct(x):
        return "-" if x is None else f"{x:.3f}"

    lines = [f"low-confidence flag  {f['flagged']} of {res['n']} flagged ({f['flagged_share']:.1%}); intent accuracy "
             f"flagged {pct(f['accuracy_flagged'])}, unflagged {pct(f['accuracy_unflagged'])}; "
             f"share of the errors that are flagged {pct(f['errors_in_flagged'])}",
             f"reliability (confidence bins vs intent accuracy), ECE {c['ece']:.3f}:"]
    lines += [f"  [{b['lo']:.1f}, {b['hi']:.1f})  n {b['n']:>5}  mean confidence {b['confidence']:.3f}  "
              f"accuracy {b['accuracy']:.3f}" for b in c["bins"]]
    return lines


def _fmt_confusion(res: dict) -> list[str]:
    lines = ["confusion matrix (rows = true, columns = predicted):",
             " " * 20 + "".join(f"{lab[:6]:>7}" for lab in res["labels"])]
    for lab, row in zip(res["labels"], res["confusion"]):
        lines.append(f"{lab:<20}" + "".join(f"{n:>7}" for n in row))
    return lines


def format_report(res: dict) -> str:
    """One set's report; the targets line closes it."""
    head = [f"== {res['name']}: {res['n']} messages, classifier {res['classifier_version']}"]
    if res.get("files"):
        head.append("files: " + ", ".join(f"{name} ({n})" for name, n in res["files"].items()))
    for name, f in (res.get("per_file") or {}).items():
        head.append(f"  {name:<26} n {f['n']:>4}  intent macro-F1 {f['intent_macro_f1']:.4f}  accuracy "
                    f"{f['intent_accuracy']:.4f}  high-risk recall {f['high_risk_recall']:.4f} of {f['n_high']}  "
                    f"language {f['language_accuracy']:.4f}")
    head.append("")
    summary = ["",
               f"intent macro-F1      {res['intent_macro_f1']:.4f}  {_mark(res, 'intent_macro_f1')}",
               f"intent accuracy      {res['intent_accuracy']:.4f}",
               f"risk accuracy        {res['risk_accuracy']:.4f}",
               f"high-risk recall     {res['high_risk_recall']:.4f}  of {res['n_high']} {_mark(res, 'high_risk_recall')}",
               f"high-risk precision  {res['high_risk_precision']:.4f}",
               f"language accuracy    {res['language_accuracy']:.4f}  {_mark(res, 'language_accuracy')}"]
    if res["missed_high"]:
        summary.append("high risk missed     " + ", ".join(res["missed_high"]))
    if "messages_per_second" in res:
        summary.append(f"throughput           {res['messages_per_second']:.0f} messages/s in this process "
                       "(see benchmarks/bench_classify.py)")
    tags = "intent accuracy by hard-case tag: " + ", ".join(f"{k} {v:.2f}" for k, v in res["by_tag"].items())
    lines = (head + _fmt_intents(res) + summary + [""] + _fmt_languages(res) + [""] + _fmt_confidence(res)
             + ["", tags, ""] + _fmt_confusion(res) + [""])
    lines.append(f"{res['name']}: " + ("all targets met" if res["meets_targets"] else "TARGETS NOT MET"))
    return "\n".join(lines)


def format_reports(results: dict[str, dict]) -> str:
    """Both sets, the generated split first, then a side-by-side summary."""
    parts = [format_report(r) for r in results.values()]
    keys = ("intent_macro_f1", "intent_accuracy", "risk_accuracy", "high_risk_recall", "language_accuracy")
    side = ["== side by side", f"{'':<22}" + "".join(f"{k:>14}" for k in results)]
    side += [f"{k:<22}" + "".join(f"{r[k]:>14.4f}" for r in results.values()) for k in keys]
    side.append(f"{'flagged share':<22}" + "".join(f"{r['confidence_flag']['flagged_share']:>14.4f}"
                                                     for r in results.values()))
    side.append(f"{'ECE':<22}" + "".join(f"{r['calibration']['ece']:>14.4f}" for r in results.values()))
    return "\n\n".join(parts + ["\n".join(side)])


# --------------------------------------------------------------------------- the plot
def _plot_confusion(fig, ax, res: dict) -> None:
    import numpy as np

    labels = res["labels"]
    cm = np.array(res["confusion"], dtype=float)
    norm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    for i in range(len(labels)):
        for j in range(len(labels)):
            if cm[i, j]:
                ax.text(j, i, int(cm[i, j]), ha="center", va="center", fontsize=6,
                        color="white" if norm[i, j] > 0.5 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"{res['name']}: confusion (n={res['n']})", fontsize=9)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)


def _plot_f1(ax, res: dict) -> None:
    import numpy as np

    names = res["labels"] + [f"lang {lang}" for lang in res["per_language"]]
    f1 = [res["per_intent"][lab]["f1"] for lab in res["labels"]] + [v["intent_f1"] for v in res["per_language"].values()]
    y = np.arange(len(names))
    colours = ["#2b8a3e" if v >= res["targets"]["intent_macro_f1"] else "#e67700" for v in f1]
    ax.barh(y, f1, color=colours)
    ax.set_yticks(y, names, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.axvline(res["targets"]["intent_macro_f1"], color="grey", ls="--", lw=1)
    ax.set_xlabel(f"F1 (intents; then intent macro-F1 per language)\nhigh-risk recall {res['high_risk_recall']:.3f} · "
                  f"language accuracy {res['language_accuracy']:.3f}", fontsize=8)
    ax.set_title(f"macro-F1 {res['intent_macro_f1']:.3f} (dashed: target)", fontsize=9)


def _plot_reliability(ax, res: dict) -> None:
    bins = res["calibration"]["bins"]
    ax.plot([0, 1], [0, 1], color="grey", ls="--", lw=1)
    mids = [(b["lo"] + b["hi"]) / 2 for b in bins]
    ax.bar(mids, [b["accuracy"] for b in bins], width=1 / CALIBRATION_BINS * 0.9, color="#4263eb", alpha=0.7,
           label="accuracy")
    ax.plot([b["confidence"] for b in bins], [b["accuracy"] for b in bins], "o-", color="#c92a2a", ms=3,
            label="mean confidence")
    for m, b in zip(mids, bins):
        ax.text(m, min(b["accuracy"] + 0.03, 0.97), str(b["n"]), ha="center", fontsize=6)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence (numbers: messages per bin)", fontsize=8)
    ax.set_ylabel("intent accuracy", fontsize=8)
    flag = res["confidence_flag"]
    ax.set_title(f"reliability, ECE {res['calibration']['ece']:.3f}; flagged {flag['flagged_share']:.1%}", fontsize=9)
    ax.legend(fontsize=7, loc="lower right")


def plot(results: dict[str, dict] | dict, path: Path = DEFAULT_PNG) -> Path:
    """One row per set: confusion matrix, F1 per intent and per language, reliability diagram."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sets = [results] if "per_intent" in results else list(results.values())
    fig, axes = plt.subplots(len(sets), 3, figsize=(19, 6.5 * len(sets)), squeeze=False,
                             gridspec_kw={"width_ratios": [1.35, 1, 0.9]})
    for row, res in zip(axes, sets):
        _plot_confusion(fig, row[0], res)
        _plot_f1(row[1], res)
        _plot_reliability(row[2], res)
    fig.suptitle(f"seller-inbox classifier {sets[0]['classifier_version']} — `seller-inbox classify eval`", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


# --------------------------------------------------------------------------- overlap with training
def normalise(text: str) -> str:
    """Lower case, letters and digits only, single spaces: what two copies of a text share."""
    return " ".join(re.findall(r"[^\W_]+", (text or "").lower()))


def _shingles(text: str, k: int = 5) -> set[str]:
    t = normalise(text)
    return {t[i:i + k] for i in range(max(len(t) - k + 1, 1))} if t else set()


def near_duplicates(frozen: list[str], training: list[str], threshold: float = 0.8, k: int = 5):
    """``[(frozen index, training index, jaccard)]`` for every pair whose normalised texts are
    equal, one contains the other (``_contained``), or whose character
    ``k``-shingle Jaccard is >= ``threshold``. Sparse products keep it fast."""
    import numpy as np
    from scipy.sparse import csr_matrix

    vocab: dict[str, int] = {}

    def matrix(texts):
        rows, cols = [], []
        for i, t in enumerate(texts):
            for s in _shingles(t, k):
                rows.append(i)
                cols.append(vocab.setdefault(s, len(vocab)))
        return rows, cols

    fr, tr = matrix(frozen), matrix(training)
    F = csr_matrix((np.ones(len(fr[0]), dtype=np.int32), fr), shape=(len(frozen), len(vocab)))
    T = csr_matrix((np.ones(len(tr[0]), dtype=np.int32), tr), shape=(len(training), len(vocab)))
    shared = (F @ T.T).tocoo()
    fa, ta = np.asarray(F.sum(axis=1)).ravel(), np.asarray(T.sum(axis=1)).ravel()
    hits = {}
    for i, j, n in zip(shared.row, shared.col, shared.data):
        jac = n / (fa[i] + ta[j] - n)
        if jac >= threshold:
            hits[(int(i), int(j))] = float(jac)
    for i, j in _contained([normalise(t) for t in frozen], [normalise(t) for t in training]):
        hits.setdefault((i, j), 1.0)
    return sorted((i, j, jac) for (i, j), jac in hits.items())


def _contained(frozen: list[str], training: list[str], min_len: int = 20, min_sentence: int = 50):
    """Pairs where the normalised frozen text equals a training text or (at least ``min_len``
    characters) lies inside one, or a training text of at least ``min_sentence`` characters lies
    inside the frozen text (shorter stock phrases — "Mit freundlichen Grüßen", "Che taglia mi
    consigliate?" — occur in any independent writing and are no copy)."""
    big_train, big_frozen = "\n".join(training), "\n".join(frozen)
    for i, t in enumerate(frozen):
        if t and (len(t) >= min_len or f"\n{t}\n" in f"\n{big_train}\n") and t in big_train:
            yield from ((i, j) for j, o in enumerate(training) if t == o or (len(t) >= min_len and t in o))
    for j, o in enumerate(training):
        if len(o) >= min_sentence and o in big_frozen:
            yield from ((i, j) for i, t in enumerate(frozen) if o in t)
