"""The ``spapi`` Airflow connection parsed into ``SpApiCredentials`` (read at execution time only)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from seller_inbox.spapi.errors import SpApiConfigError

DEFAULT_LWA_URL = "https://api.amazon.com/auth/o2/token"


@dataclass(frozen=True)
class SpApiCredentials:
    client_id: str
    client_secret: str
    refresh_token: str
    region: str = "na"
    endpoint: str | None = None          # SP-API base URL override (simulator)
    lwa_endpoint: str | None = None      # LWA token URL override
    authorized_at: date | None = None
    client_secret_created_at: date | None = None
    conn_id: str | None = None
    # client tuning (connection extra; defaults are right for Amazon)
    rate_scale: float = 1.0              # multiply the usage plans (only for a simulator run faster)
    max_attempts: int = 8
    backoff_base: float = 1.0            # seconds; doubles per attempt, with jitter
    backoff_cap: float = 60.0
    timeout: float = 30.0
    orders_api: str = "v0"               # orders ingestion: "v0" (getOrders + getOrderItems) or "2026-01-01"

    @property
    def base_url(self) -> str:
        if self.endpoint:
            return self.endpoint.rstrip("/")
        from seller_inbox.domain.marketplaces import SPAPI_HOSTS
        return "https://" + SPAPI_HOSTS[self.region]

    @property
    def lwa_url(self) -> str:
        return self.lwa_endpoint or DEFAULT_LWA_URL

    def __repr__(self) -> str:  # never print secrets
        return (f"SpApiCredentials(conn_id={self.conn_id!r}, client_id={self.client_id!r}, region={self.region!r}, "
                f"endpoint={self.base_url!r})")

    @classmethod
    def from_connection(cls, conn: Any) -> SpApiCredentials:
        """Parse an Airflow ``spapi`` connection (login = client id, password = secret, extra JSON)."""
        cid = getattr(conn, "conn_id", None)
        extra = conn.extra_dejson if hasattr(conn, "extra_dejson") else json.loads(getattr(conn, "extra", None) or "{}")

        def fail(field_: str, why: str) -> SpApiConfigError:
            return SpApiConfigError(f"connection {cid!r}: {field_} {why}. Edit the connection "
                                    f"(Admin > Connections) and set it.")

        if not conn.login:
            raise fail("login (LWA client id)", "is empty")
        if not conn.password:
            raise fail("password (LWA client secret)", "is empty")
        if not extra.get("refresh_token"):
            raise fail("extra.refresh_token", "is missing")
        region = extra.get("region", "na")
        if region not in ("na", "eu", "fe"):
            raise fail("extra.region", f"is {region!r}; use na, eu or fe")

        def day(name: str) -> date | None:
            v = extra.get(name)
            if not v:
                return None
            try:
                return date.fromisoformat(str(v)[:10])
            except ValueError:
                raise fail(f"extra.{name}", f"is {v!r}; use YYYY-MM-DD") from None

        def num(name: str, default: float, cast=float):
            v = extra.get(name, default)
            try:
                return cast(v)
            except (TypeError, ValueError):
                raise fail(f"extra.{name}", f"is {v!r}; expected a number") from None

        orders_api = str(extra.get("orders_api", "v0"))
        if orders_api not in ("v0", "2026-01-01"):
            raise fail("extra.orders_api", f"is {orders_api!r}; use v0 or 2026-01-01")
        for u in ("endpoint", "lwa_endpoint"):
            if extra.get(u) and not str(extra[u]).startswith(("http://", "https://")):
                raise fail(f"extra.{u}", f"is {extra[u]!r}; expected an http(s) URL")
        return cls(
            client_id=conn.login, client_secret=conn.password, refresh_token=extra["refresh_token"],
            region=region, endpoint=extra.get("endpoint") or None, lwa_endpoint=extra.get("lwa_endpoint") or None,
            authorized_at=day("authorized_at"), client_secret_created_at=day("client_secret_created_at"),
            conn_id=cid, rate_scale=num("rate_scale", 1.0), max_attempts=num("max_attempts", 8, int),
            backoff_base=num("backoff_base", 1.0), backoff_cap=num("backoff_cap", 60.0),
            timeout=num("timeout", 30.0), orders_api=orders_api,
        )


def load_credentials(conn_id: str) -> SpApiCredentials:
    """Read the connection now (execution time only)."""
    from airflow.sdk import BaseHook

    try:
        conn = BaseHook.get_connection(conn_id)
    except Exception as exc:  # noqa: BLE001 - Airflow raises its own not-found type
        raise SpApiConfigError(f"connection {conn_id!r} is not defined ({exc}). Create an 'spapi' connection "
                               f"with login = LWA client id, password = client secret and extra "
                               f"refresh_token/region.") from None
    return SpApiCredentials.from_connection(conn)
