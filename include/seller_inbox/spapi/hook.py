"""``SpApiHook``: the Airflow hook of an ``spapi`` connection (one store), and its connection form.

The connection form is defined once in ``connection_form`` (the provider-info format Airflow 3
reads); ``seller_inbox.provider`` publishes it and the hook's classmethods derive from it. As in Airflow's own provider hooks, ``get_conn()`` returns the client
(``SpApiClient``); ``store_client(store)`` is the one way stages get a store's client. This
module imports Airflow; ``seller_inbox.spapi`` itself does not (the simulator and DAG files
import it for free).
"""
from __future__ import annotations

import time

from airflow.sdk import BaseHook

from seller_inbox.spapi.client import SpApiClient
from seller_inbox.spapi.connection_form import CONN_FIELDS, CONN_TYPE, HOOK_NAME, UI_FIELD_BEHAVIOUR
from seller_inbox.spapi.credentials import SpApiCredentials, load_credentials
from seller_inbox.spapi.errors import SpApiFinalError


class ConnectionClient(SpApiClient):
    """A client whose credentials are read from an Airflow connection at first use (execution
    time), so building one for a store costs nothing until it calls Amazon."""

    def __init__(self, spapi_conn_id: str, store_id: str | None = None, dsn: str | None = None,
                 marketplace_ids: list[str] | None = None):
        self.spapi_conn_id = spapi_conn_id
        self._init_core(None, store_id or spapi_conn_id, dsn, marketplace_ids, time.sleep)

    @property
    def credentials(self) -> SpApiCredentials:
        if self._creds is None:
            self._creds = load_credentials(self.spapi_conn_id)
        return self._creds


class SpApiHook(BaseHook):
    """Airflow hook for Amazon SP-API (one store per connection).

    Connection: login = LWA client id, password = LWA client secret; extra JSON:
    ``refresh_token``, ``region`` (na/eu/fe), optional ``endpoint`` / ``lwa_endpoint``
    overrides (the local simulator), ``authorized_at`` and ``client_secret_created_at``
    (YYYY-MM-DD). ``get_conn()`` returns the store's ``SpApiClient``.
    """

    conn_name_attr = "spapi_conn_id"
    default_conn_name = "spapi_default"
    conn_type = CONN_TYPE
    hook_name = HOOK_NAME

    def __init__(self, spapi_conn_id: str = default_conn_name, store_id: str | None = None, dsn: str | None = None,
                 marketplace_ids: list[str] | None = None, **kwargs):
        super().__init__(**kwargs)
        self.spapi_conn_id = spapi_conn_id
        self._client = ConnectionClient(spapi_conn_id, store_id, dsn, marketplace_ids)

    def get_conn(self) -> SpApiClient:
        return self._client

    def test_connection(self) -> tuple[bool, str]:
        return self._client.test_connection()

    @classmethod
    def get_connection_form_widgets(cls) -> dict:
        """The extra fields as wtforms widgets (Airflow before 3.2; 3.2+ reads ``CONN_FIELDS`` itself)."""
        from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
        from wtforms import StringField

        return {name: StringField(f["label"], widget=BS3TextFieldWidget()) for name, f in CONN_FIELDS.items()}

    @classmethod
    def get_ui_field_behaviour(cls) -> dict:
        return {k.replace("-", "_"): v for k, v in UI_FIELD_BEHAVIOUR.items()}


def store_client(store, dsn: str | None = None) -> SpApiClient:
    """The SP-API client of a registry store (its ``spapi`` connection, every marketplace it sells on)."""
    return SpApiHook(store.connections.spapi, store_id=store.id, dsn=dsn,
                     marketplace_ids=[m.info.marketplace_id for m in store.marketplaces]).get_conn()


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
