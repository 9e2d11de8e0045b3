"""The data-quality suites as data (``data/gates/<stage>.yaml``): cheap to read, no GX.

Shared by the gates (which run them) and the registry (which validates per-store level
overrides against the expectation names here) — docs/data-quality.md.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

SUITES = Path(__file__).resolve().parent / "data" / "gates"
LEVELS = ("error", "quarantine", "warn")


class SuiteMissing(LookupError):
    pass


def load_suite(stage: str) -> dict:
    path = SUITES / f"{stage}.yaml"
    try:
        suite = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SuiteMissing(f"no data-quality suite for stage {stage!r} ({path})") from None
    for b in suite["batches"]:
        if b.get("metrics"):
            _with_metrics(b)
    return suite


def _with_metrics(batch: dict) -> None:
    """A KPI batch (``metrics: <table>``): its columns and checks come from the metric declarations
    (seller_inbox/metrics.py), so a new metric is checked without touching the suite."""
    from seller_inbox import metrics

    table = batch["metrics"]
    batch["sql"] = batch["sql"].format(metric_columns=metrics.columns(table), odr_lag_days=metrics.ODR_LAG_DAYS)
    batch["expectations"] = list(batch.get("expectations") or []) + metrics.gate_expectations(table)


def expectation_name(cfg_type: str, kwargs: dict) -> str:
    """An expectation's name when the suite gives none: class and column, e.g. ``ExpectColumnValuesToBeInSet(marketplace)``."""
    col = kwargs.get("column") or (f"{kwargs.get('column_A')},{kwargs.get('column_B')}" if "column_A" in kwargs else "")
    return f"{cfg_type}({col})"


def name_of(e: dict) -> str:
    return e.get("name") or expectation_name(e["type"], e.get("kwargs", {}))


@lru_cache(maxsize=1)
def all_expectations() -> frozenset[str]:
    """``<stage>.<name>`` of every expectation of every shipped suite."""
    return frozenset(f"{p.stem}.{name_of(e)}" for p in SUITES.glob("*.yaml")
                     for b in load_suite(p.stem)["batches"] for e in b["expectations"])
