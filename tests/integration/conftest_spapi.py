"""SP-API test helpers (imported explicitly by the SP-API/orders/sandbox tests).

The simulator runs for real on 127.0.0.1 (a free port) in a background thread; its rates are
scaled up (``TIME_SCALE``) and the client is told the same scale through its connection, so
tests exercise Amazon's bucket shapes in seconds instead of hours.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest

from seller_inbox.config import DEFAULT_REGISTRY, load_registry

UTC = timezone.utc
TIME_SCALE = 200.0


def demo_stores() -> dict:
    return {s.id: s for s in load_registry(DEFAULT_REGISTRY).stores}


def conn_env_name(conn_id: str) -> str:
    return "AIRFLOW_CONN_" + conn_id.upper()


def conn_json(sandbox, store, **extra) -> str:
    today = date.today()
    base = sandbox.connection_extra(store.seller_id)
    base.update(rate_scale=sandbox.state.config.time_scale, backoff_base=0.01, backoff_cap=0.2, max_attempts=10, timeout=5,
                authorized_at=(today - timedelta(days=100)).isoformat(),
                client_secret_created_at=(today - timedelta(days=20)).isoformat())
    secret = extra.pop("client_secret", "sandbox-secret")
    base.update(extra)
    return json.dumps({"conn_type": "spapi", "login": "sandbox-client", "password": secret, "extra": base})


def past_window(days: int, end_days_ago: int = 8) -> tuple[datetime, datetime]:
    """A window far enough in the past that every order in it reached its final state."""
    end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=end_days_ago)
    return end - timedelta(days=days), end


@pytest.fixture(scope="module")
def sandbox():
    from seller_inbox_dev.sandbox.server import start

    h = start(time_scale=TIME_SCALE, orders_per_day=12, report_queue_seconds=0.5 * TIME_SCALE,
              report_processing_seconds=0.5 * TIME_SCALE)
    yield h
    h.stop()


@pytest.fixture
def stores(sandbox, monkeypatch, db):
    """The three demo stores, their spapi connections pointing at the simulator; clean state."""
    sandbox.state.reset()
    st = demo_stores()
    for s in st.values():
        monkeypatch.setenv(conn_env_name(s.connections.spapi), conn_json(sandbox, s))
    return st


def set_conn(monkeypatch, sandbox, store, **extra) -> None:
    monkeypatch.setenv(conn_env_name(store.connections.spapi), conn_json(sandbox, store, **extra))


def rows(db, sql: str, *args) -> list[tuple]:
    with db.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()
