"""Airflow provider metadata: the ``spapi`` connection type, its hook and its form in the UI.

Registered through the ``apache_airflow_provider`` entry point (pyproject.toml); Airflow 3
builds the connection form from ``conn-fields`` and ``ui-field-behaviour``, which are defined
once, with the hook (``seller_inbox.spapi.hook``).
"""

from seller_inbox.spapi.hook import CONN_FIELDS, UI_FIELD_BEHAVIOUR, SpApiHook


def get_provider_info() -> dict:
    return {
        "package-name": "seller-inbox",
        "name": "seller-inbox",
        "description": "Amazon Selling Partner API (SP-API) connection for seller-inbox",
        "versions": ["0.1.0"],
        "connection-types": [
            {
                "hook-class-name": "seller_inbox.spapi.SpApiHook",
                "hook-name": SpApiHook.hook_name,
                "connection-type": SpApiHook.conn_type,
                "ui-field-behaviour": UI_FIELD_BEHAVIOUR,
                "conn-fields": CONN_FIELDS,
            }
        ],
    }
