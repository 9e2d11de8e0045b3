"""The ``spapi`` connection form, once: the extra fields and how the standard fields are shown,
in the provider-info format Airflow 3 reads. Stdlib only: Airflow imports it while loading
providers (``seller_inbox.provider``), before any hook.
"""

from __future__ import annotations

CONN_TYPE = "spapi"
HOOK_NAME = "Amazon SP-API"


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
