"""``SpApiHook``: the Airflow hook of an ``spapi`` connection (one store), and its connection form.

The form is defined here once, in the provider-info format Airflow 3 reads (``CONN_FIELDS``,
``UI_FIELD_BEHAVIOUR``); ``seller_inbox.provider`` publishes it and the hook's classmethods
derive from it. The hook is a plain class carrying Airflow's hook attributes (Airflow finds
hooks by those, not by base class), so importing it costs no Airflow import: DAG files and
the simulator import ``seller_inbox.spapi`` for free. Airflow is imported when a connection is
read, at execution time.
"""

from __future__ import annotations

import logging
import time

from seller_inbox.spapi.client import SpApiClient
from seller_inbox.spapi.credentials import SpApiCredentials, load_credentials
from seller_inbox.spapi.errors import SpApiFinalError


def _field(label: str, default=None, enum=None) -> dict:
    schema: dict = {"type": ["string", "null"]}
    if default is not None:
        schema["default"] = default
    if enum:
        schema["enum"] = [*enum, None]
    return {"label": label, "schema": schema}


# the connection's extra fields (Admin > Connections), as Airflow's provider info ``conn-fields``
CONN_FIELDS: dict[str, dict] = {
    "refresh_token": _field("Refresh token (Atzr|…)"),
    "region": _field("SP-API region", default="na", enum=["na", "eu", "fe"]),
    "authorized_at": _field("Authorized on (YYYY-MM-DD; re-authorize every 365 days)"),
    "client_secret_created_at": _field("Client secret created on (YYYY-MM-DD; rotate every 180 days)"),
    "orders_api": _field("Orders API (2026-01-01: one call per 100 orders; v0 is deprecated 2027-03-27)",
                         default="v0", enum=["v0", "2026-01-01"]),
    "endpoint": _field("SP-API endpoint override (the local simulator)"),
    "lwa_endpoint": _field("LWA token URL override (the local simulator)"),
}
# the standard fields: hidden, relabelled, hinted (provider info ``ui-field-behaviour``)
UI_FIELD_BEHAVIOUR: dict = {
    "hidden-fields": ["host", "port", "schema"],
    "relabeling": {"login": "LWA client id", "password": "LWA client secret"},
    "placeholders": {"login": "amzn1.application-oa2-client.…", "refresh_token": "Atzr|…"},
}


class SpApiHook(SpApiClient):
    """Airflow hook for Amazon SP-API (one store per connection).

    Connection: login = LWA client id, password = LWA client secret; extra JSON:
    ``refresh_token``, ``region`` (na/eu/fe), optional ``endpoint`` / ``lwa_endpoint``
    overrides (the local simulator), ``authorized_at`` and ``client_secret_created_at``
    (YYYY-MM-DD). Credentials are read at first use (execution time), never at parse time.
    """

    conn_name_attr = "spapi_conn_id"
    default_conn_name = "spapi_default"
    conn_type = "spapi"
    hook_name = "Amazon SP-API"

    def __init__(self, spapi_conn_id: str = default_conn_name, store_id: str | None = None, dsn: str | None = None,
                 marketplace_ids: list[str] | None = None):
        self.spapi_conn_id = spapi_conn_id
        self._init_core(None, store_id or spapi_conn_id, dsn, marketplace_ids, time.sleep)

    @property
    def log(self) -> logging.Logger:
        return logging.getLogger(f"{__name__}.SpApiHook")

    @property
    def credentials(self) -> SpApiCredentials:
        if self._creds is None:
            self._creds = load_credentials(self.spapi_conn_id)
        return self._creds

    def get_conn(self) -> SpApiClient:
        self.credentials  # noqa: B018 - reads the connection now, failing early if it is wrong
        return self

    @classmethod
    def get_connection(cls, conn_id: str):
        from airflow.sdk import BaseHook

        return BaseHook.get_connection(conn_id)

    @classmethod
    def get_connection_form_widgets(cls) -> dict:
        """The extra fields as wtforms widgets (Airflow before 3.2; 3.2+ reads ``CONN_FIELDS`` itself)."""
        from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
        from wtforms import StringField

        return {name: StringField(f["label"], widget=BS3TextFieldWidget()) for name, f in CONN_FIELDS.items()}

    @classmethod
    def get_ui_field_behaviour(cls) -> dict:
        return {k.replace("-", "_"): v for k, v in UI_FIELD_BEHAVIOUR.items()}


def store_hook(store, dsn: str | None = None) -> SpApiHook:
    """The SP-API hook of a registry store (its ``spapi`` connection, every marketplace it sells on)."""
    return SpApiHook(store.connections.spapi, store_id=store.id, dsn=dsn,
                     marketplace_ids=[m.info.marketplace_id for m in store.marketplaces])


class fail_fast:
    """Context manager for DAG tasks: a final SP-API error (revoked authorization, bad secret,
    403, bad request) fails the task without Airflow's retries, keeping the store-naming message.

        with fail_fast():
            ingest_orders(store, dsn, start, end)
    """

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc is not None and isinstance(exc, SpApiFinalError):
            from airflow.sdk.exceptions import AirflowFailException

            raise AirflowFailException(str(exc)) from exc
        return False
