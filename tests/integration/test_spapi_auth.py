"""Token refresh per store: ops.store_auth, alerts, revoked stores fail fast, others unaffected."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from seller_inbox.auth import StoreUnusable, assert_store_usable, check_store_auth
from seller_inbox.orders import ingest_orders
from seller_inbox.spapi import AuthorizationRevoked, InvalidClientCredentials
from tests.integration.conftest_spapi import past_window, rows, sandbox, set_conn, stores  # noqa: F401


def test_all_stores_ok_then_one_revoked(sandbox, stores, db, warehouse_dsn):
    for s in stores.values():
        res = check_store_auth(s, warehouse_dsn)
        assert res["status"] == "ok" and res["alerts"] == []
        assert res["days_until_reauth"] == 265 and res["client_secret_age_days"] == 20
    assert {r[0]: r[1] for r in rows(db, "SELECT store_id, status FROM ops.store_auth")} == {
        "us-outdoor": "ok", "eu-home": "ok", "jp-gadgets": "ok"}

    sandbox.state.revoke("A1DEMOUSOUTDOOR")
    with pytest.raises(AuthorizationRevoked) as ei:
        check_store_auth(stores["us-outdoor"], warehouse_dsn)
    msg = str(ei.value)
    assert "us-outdoor" in msg and "re-authorize" in msg and "spapi_us_outdoor" in msg
    for sid in ("eu-home", "jp-gadgets"):
        assert check_store_auth(stores[sid], warehouse_dsn)["status"] == "ok"

    auth = {r[0]: r[1:] for r in rows(db, "SELECT store_id, status, last_error, revoked_at, last_success_at "
                                           "FROM ops.store_auth")}
    assert auth["us-outdoor"][0] == "revoked" and "invalid_grant" in auth["us-outdoor"][1]
    assert auth["us-outdoor"][2] is not None and auth["us-outdoor"][3] is not None  # success kept
    assert auth["eu-home"][0] == auth["jp-gadgets"][0] == "ok"
    alerts = rows(db, "SELECT store_id, alert_kind, channel, status FROM ops.alert_log")
    assert alerts == [("us-outdoor", "auth_revoked", "log", "sent")]
    # invalid_grant is final: exactly one LWA attempt, no retry
    lwa = rows(db, "SELECT outcome, status FROM ops.api_calls WHERE store_id = 'us-outdoor' "
                   "AND operation = 'lwaToken' AND outcome <> 'ok'")
    assert lwa == [("error", 400)]

    # the store's other DAGs fail fast; the other stores work
    with pytest.raises(StoreUnusable, match="us-outdoor.*revoked"):
        assert_store_usable(stores["us-outdoor"], warehouse_dsn)
    start, end = past_window(days=1)
    with pytest.raises(StoreUnusable):
        ingest_orders(stores["us-outdoor"], warehouse_dsn, start, end)
    assert ingest_orders(stores["eu-home"], warehouse_dsn, start, end)["orders"] > 0
    assert assert_store_usable(stores["jp-gadgets"], warehouse_dsn)["status"] == "ok"

    # a second failing run alerts no second time; re-authorization (a new token works) clears it
    with pytest.raises(AuthorizationRevoked):
        check_store_auth(stores["us-outdoor"], warehouse_dsn)
    assert len(rows(db, "SELECT 1 FROM ops.alert_log WHERE alert_kind = 'auth_revoked'")) == 1
    sandbox.state.restore("A1DEMOUSOUTDOOR")
    assert check_store_auth(stores["us-outdoor"], warehouse_dsn)["status"] == "ok"
    assert assert_store_usable(stores["us-outdoor"], warehouse_dsn)["status"] == "ok"


def test_api_call_of_a_revoked_store_reports_revocation_not_a_bare_403(sandbox, stores, db, warehouse_dsn):
    store = stores["jp-gadgets"]
    start, end = past_window(days=1)
    ingest_orders(store, warehouse_dsn, start, end)          # token now cached
    sandbox.state.revoke(store.seller_id)
    with pytest.raises(AuthorizationRevoked, match="jp-gadgets"):
        ingest_orders(store, warehouse_dsn, start - timedelta(days=1), start)
    # the ingestion marked the store: its next tasks fail fast without calling Amazon
    assert rows(db, "SELECT status FROM ops.store_auth WHERE store_id = 'jp-gadgets'") == [("revoked",)]
    assert rows(db, "SELECT alert_kind FROM ops.alert_log WHERE store_id = 'jp-gadgets'") == [("auth_revoked",)]
    calls = sandbox.state.stat(seller_id=store.seller_id)
    with pytest.raises(StoreUnusable):
        ingest_orders(store, warehouse_dsn, start - timedelta(days=2), start - timedelta(days=1))
    assert sandbox.state.stat(seller_id=store.seller_id) == calls
    # the token-refresh check agrees and does not alert a second time for the same refresh token
    with pytest.raises(AuthorizationRevoked):
        check_store_auth(store, warehouse_dsn)
    assert len(rows(db, "SELECT 1 FROM ops.alert_log WHERE store_id = 'jp-gadgets'")) == 1


def test_reauthorization_and_secret_rotation_alerts(sandbox, stores, db, warehouse_dsn, monkeypatch):
    today = date.today()
    store = stores["eu-home"]
    set_conn(monkeypatch, sandbox, store, authorized_at=(today - timedelta(days=340)).isoformat(),
             client_secret_created_at=(today - timedelta(days=160)).isoformat())
    first = check_store_auth(store, warehouse_dsn)
    assert first["status"] == "ok"
    assert first["days_until_reauth"] == 25 and first["client_secret_age_days"] == 160
    assert sorted(first["alerts"]) == ["reauth_due", "secret_rotation"]
    again = check_store_auth(store, warehouse_dsn)
    assert again["alerts"] == []
    alerts = rows(db, "SELECT alert_kind, payload->>'message' FROM ops.alert_log ORDER BY 1")
    assert [a[0] for a in alerts] == ["reauth_due", "secret_rotation"]
    assert "25 days left" in alerts[0][1] and "160 days old" in alerts[1][1]
    row = rows(db, "SELECT reauth_due_on, secret_rotation_due_on FROM ops.store_auth WHERE store_id = 'eu-home'")
    assert row == [(today + timedelta(days=25), today + timedelta(days=20))]
    # another store, well inside both limits, raises nothing
    assert check_store_auth(stores["jp-gadgets"], warehouse_dsn)["alerts"] == []


def test_bad_client_secret_is_final_and_recorded(sandbox, stores, db, warehouse_dsn, monkeypatch):
    store = stores["us-outdoor"]
    set_conn(monkeypatch, sandbox, store, client_secret="wrong-secret")
    with pytest.raises(InvalidClientCredentials, match="us-outdoor.*client id/secret"):
        check_store_auth(store, warehouse_dsn)
    assert rows(db, "SELECT status FROM ops.store_auth WHERE store_id = 'us-outdoor'") == [("error",)]
    assert rows(db, "SELECT count(*) FROM ops.api_calls WHERE store_id = 'us-outdoor' AND operation = 'lwaToken'") \
        == [(1,)]
    # an error that is not a revocation does not block the store's other DAGs
    assert assert_store_usable(store, warehouse_dsn)["status"] == "error"
