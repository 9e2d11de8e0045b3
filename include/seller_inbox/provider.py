"""Airflow provider metadata: the ``spapi`` connection type, its hook and its form in the UI.

Registered through the ``apache_airflow_provider`` entry point (pyproject.toml); Airflow 3
builds the connection form from ``conn-fields`` and ``ui-field-behaviour``.
"""


def _field(label: str, kind: str = "string", default=None, enum=None) -> dict:
    schema: dict = {"type": [kind, "null"]}
    if default is not None:
        schema["default"] = default
    if enum:
        schema["enum"] = [*enum, None]
    return {"label": label, "schema": schema}


def get_provider_info() -> dict:
    return {
        "package-name": "seller-inbox",
        "name": "seller-inbox",
        "description": "Amazon Selling Partner API (SP-API) connection for seller-inbox",
        "versions": ["0.1.0"],
        "connection-types": [
            {
                "hook-class-name": "seller_inbox.spapi.SpApiHook",
                "hook-name": "Amazon SP-API",
                "connection-type": "spapi",
                "ui-field-behaviour": {
                    "hidden-fields": ["host", "port", "schema"],
                    "relabeling": {"login": "LWA client id", "password": "LWA client secret"},
                    "placeholders": {"login": "amzn1.application-oa2-client.…", "refresh_token": "Atzr|…"},
                },
                "conn-fields": {
                    "refresh_token": _field("Refresh token (Atzr|…)"),
                    "region": _field("SP-API region", default="na", enum=["na", "eu", "fe"]),
                    "authorized_at": _field("Authorized on (YYYY-MM-DD; re-authorize every 365 days)"),
                    "client_secret_created_at": _field("Client secret created on (YYYY-MM-DD; rotate every 180 days)"),
                    "orders_api": _field("Orders API (2026-01-01: one call per 100 orders; v0 is deprecated 2027-03-27)", default="v0", enum=["v0", "2026-01-01"]),
                    "endpoint": _field("SP-API endpoint override (the local simulator)"),
                    "lwa_endpoint": _field("LWA token URL override (the local simulator)"),
                },
            }
        ],
    }
