"""Generate a large, valid store registry (for the parse benchmark and DAG-scale tests)."""

from __future__ import annotations

import yaml

_REGIONS = [("na", ["US"]), ("eu", ["DE", "FR", "IT", "ES"]), ("fe", ["JP"]), ("eu", ["UK"]), ("na", ["US", "CA", "MX"])]


def registry_dict(n: int) -> dict:
    stores = []
    for i in range(n):
        region, mps = _REGIONS[i % len(_REGIONS)]
        sid = f"store-{i:04d}"
        key = sid.replace("-", "_")
        stores.append({
            "id": sid, "name": f"Store {i}", "seller_id": f"A{i:012d}", "region": region,
            "marketplaces": [{"code": c} for c in mps],
            "connections": {"spapi": f"spapi_{key}", "mailbox": f"mailbox_{key}", "smtp": f"smtp_{key}"},
            "modes": {"order_status": "draft"},
        })
    return {"defaults": {"owner": "seller-ops"}, "stores": stores}


def write_registry(path, n: int) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        yaml.safe_dump(registry_dict(n), fh, sort_keys=False)
