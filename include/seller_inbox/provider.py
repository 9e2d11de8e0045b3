"""Airflow provider metadata: registers the ``spapi`` connection type and its hook in the UI."""


def get_provider_info() -> dict:
    return {
        "package-name": "seller-inbox",
        "name": "seller-inbox",
        "description": "Amazon SP-API connection for seller-inbox",
        "versions": ["0.1.0"],
        "connection-types": [
            {"hook-class-name": "seller_inbox.spapi.SpApiHook", "connection-type": "spapi"},
        ],
    }
