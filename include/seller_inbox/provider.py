"""Airflow provider metadata: the ``spapi`` connection type, its hook and its form in the UI.

Registered through the ``apache_airflow_provider`` entry point (pyproject.toml); Airflow 3
builds the connection form from ``conn-fields`` and ``ui-field-behaviour``, which are defined
once (``seller_inbox.spapi.connection_form``) and read by the hook too. Airflow imports this
while it loads providers, so it must not import the hook (which imports Airflow).
"""

from seller_inbox.spapi.connection_form import CONN_FIELDS, CONN_TYPE, HOOK_NAME, UI_FIELD_BEHAVIOUR


def get_provider_info() -> dict:
    return {
        "package-name": "seller-inbox",
        "name": "seller-inbox",
        "description": "Amazon Selling Partner API (SP-API) connection for seller-inbox",
        "versions": ["0.1.0"],
        "connection-types": [
            {
                "hook-class-name": "seller_inbox.spapi.hook.SpApiHook",
                "hook-name": HOOK_NAME,
                "connection-type": CONN_TYPE,
                "ui-field-behaviour": UI_FIELD_BEHAVIOUR,
                "conn-fields": CONN_FIELDS,
            }
        ],
    }
