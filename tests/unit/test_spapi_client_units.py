"""Pure parts of seller_inbox.spapi: connection parsing, the operation table, bucket maths."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from seller_inbox import spapi
from seller_inbox.spapi import (
    MESSAGE_KINDS,
    OPERATIONS,
    LocalBuckets,
    SpApiConfigError,
    SpApiCredentials,
    SpApiFinalError,
)
from seller_inbox.spapi.hook import fail_fast


def conn(login="cid", password="secret", **extra):
    from airflow.sdk import Connection

    base = {"refresh_token": "Atzr|x", "region": "eu"}
    base.update(extra)
    return Connection(conn_id="spapi_test", conn_type="spapi", login=login, password=password,
                      extra=json.dumps({k: v for k, v in base.items() if v is not None}))


def test_connection_parsing():
    c = SpApiCredentials.from_connection(conn(endpoint="http://127.0.0.1:9/", lwa_endpoint="http://127.0.0.1:9/t",
                                              authorized_at="2026-01-31", client_secret_created_at="2026-02-01"))
    assert (c.client_id, c.client_secret, c.refresh_token, c.region) == ("cid", "secret", "Atzr|x", "eu")
    assert c.base_url == "http://127.0.0.1:9" and c.lwa_url == "http://127.0.0.1:9/t"
    assert str(c.authorized_at) == "2026-01-31" and str(c.client_secret_created_at) == "2026-02-01"
    assert "secret" not in repr(c) and "Atzr" not in repr(c)
    prod = SpApiCredentials.from_connection(conn(region="fe"))
    assert prod.base_url == "https://sellingpartnerapi-fe.amazon.com"
    assert prod.lwa_url == "https://api.amazon.com/auth/o2/token"
    assert prod.max_attempts == 8 and prod.rate_scale == 1.0


@pytest.mark.parametrize("kwargs, field", [
    ({"login": ""}, "login"),
    ({"password": ""}, "password"),
    ({"refresh_token": None}, "refresh_token"),
    ({"region": "us"}, "region"),
    ({"authorized_at": "31/01/2026"}, "authorized_at"),
    ({"endpoint": "127.0.0.1:9"}, "endpoint"),
    ({"rate_scale": "fast"}, "rate_scale"),
])
def test_connection_errors_name_the_connection_and_field(kwargs, field):
    with pytest.raises(SpApiConfigError) as ei:
        SpApiCredentials.from_connection(conn(**kwargs))
    assert "spapi_test" in str(ei.value) and field in str(ei.value)


def test_operation_table_matches_the_usage_plans():
    # a few plans as documented in the models
    assert (OPERATIONS["getOrders"].rate, OPERATIONS["getOrders"].burst) == (0.0167, 20)
    assert (OPERATIONS["getOrderItems"].rate, OPERATIONS["getOrderItems"].burst) == (0.5, 30)
    assert (OPERATIONS["searchOrders"].rate, OPERATIONS["searchOrders"].burst) == (0.0056, 20)
    assert (OPERATIONS["createRestrictedDataToken"].rate, OPERATIONS["createRestrictedDataToken"].burst) == (1, 10)
    assert (OPERATIONS["getReport"].rate, OPERATIONS["getReport"].burst) == (2, 15)
    assert (OPERATIONS["createReport"].rate, OPERATIONS["createReport"].burst) == (0.0167, 15)
    assert all(OPERATIONS[op].method == "POST" for op, _ in MESSAGE_KINDS.values())
    assert MESSAGE_KINDS["confirmCustomizationDetails"][1] == 800 and MESSAGE_KINDS["digitalAccessKey"][1] == 400
    assert "negativeFeedbackRemoval" not in MESSAGE_KINDS


def test_client_plan_stays_under_the_server_plan():
    c = spapi.SpApiClient(SpApiCredentials("a", "b", "Atzr|x", rate_scale=10), "s")
    for name, op in OPERATIONS.items():
        rate, burst = c.plan(name)
        assert rate < op.rate * 10 and 1 <= burst < op.burst or op.burst == 1


def test_local_bucket_reservations():
    b = LocalBuckets()
    key = f"unit-{time.monotonic_ns()}"
    waits = [b.reserve(key, "op", rate=10.0, burst=3) for _ in range(6)]
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3] == pytest.approx(0.1, abs=0.02) and waits[5] == pytest.approx(0.3, abs=0.02)
    b.drain(key, "op", 10.0, 3)
    assert b.reserve(key, "op", 10.0, 3) >= 0.1 - 0.02


def test_backoff_grows_with_jitter_and_cap():
    c = spapi.SpApiClient(SpApiCredentials("a", "b", "Atzr|x", backoff_base=1.0, backoff_cap=8.0), "s")
    for attempt, (lo, hi) in enumerate([(0.5, 1), (1, 2), (2, 4), (4, 8), (4, 8), (4, 8)], start=1):
        d = [c._backoff(attempt) for _ in range(50)]
        assert all(lo <= x <= hi for x in d) and len(set(d)) > 1
    assert c._backoff(1, floor=3.0) >= 3.0


def test_fail_fast_turns_final_errors_into_task_failures():
    from airflow.sdk.exceptions import AirflowFailException

    with pytest.raises(AirflowFailException, match="store x: revoked"):
        with fail_fast():
            raise spapi.AuthorizationRevoked("store x: revoked", store_id="x")
    with pytest.raises(spapi.SpApiUnavailable):          # transient: Airflow may retry
        with fail_fast():
            raise spapi.SpApiUnavailable("store x: 503")
    assert issubclass(spapi.AccessDenied, SpApiFinalError)


def test_import_is_stdlib_only():
    code = ("import sys, seller_inbox.spapi, seller_inbox.orders, seller_inbox.auth, seller_inbox_dev.sandbox; "
            "heavy = [m for m in ('airflow', 'sp_api', 'psycopg2', 'httpx', 'fastapi') if m in sys.modules]; "
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
