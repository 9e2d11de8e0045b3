"""Amazon Selling Partner API for seller-inbox: client and operation table (docs/spapi.md);
the Airflow hook is ``seller_inbox.spapi.hook.SpApiHook``.

Importing this package costs only the standard library: python-amazon-sp-api, httpx, psycopg2
and Airflow are imported inside the functions that call Amazon, the warehouse or Airflow.
"""

from seller_inbox.spapi.buckets import LocalBuckets, PgBuckets
from seller_inbox.spapi.client import SpApiClient, client_for
from seller_inbox.spapi.credentials import (
    DEFAULT_LWA_URL,
    SpApiCredentials,
    load_credentials,
)
from seller_inbox.spapi.errors import (
    AccessDenied,
    AuthorizationRevoked,
    InvalidClientCredentials,
    SpApiConfigError,
    SpApiError,
    SpApiFinalError,
    SpApiNotFound,
    SpApiPagingError,
    SpApiRequestError,
    SpApiThrottled,
    SpApiUnavailable,
    TokenWait,
)
from seller_inbox.spapi.lwa import (
    LWA_OPERATION,
    REAUTH_DAYS,
    SECRET_ROTATION_DAYS,
    TOKEN_CACHE_ENV,
    token_cache,
    token_cache_size,
)
from seller_inbox.spapi.messaging import MESSAGE_KINDS
from seller_inbox.spapi.operation import Operation
from seller_inbox.spapi.operations import OPERATIONS
from seller_inbox.spapi.orders_v0 import ORDERS_FRESHNESS
from seller_inbox.spapi.paging import next_page_token, request_id

__all__ = [
    "DEFAULT_LWA_URL",
    "LWA_OPERATION",
    "MESSAGE_KINDS",
    "OPERATIONS",
    "ORDERS_FRESHNESS",
    "REAUTH_DAYS",
    "SECRET_ROTATION_DAYS",
    "TOKEN_CACHE_ENV",
    "AccessDenied",
    "AuthorizationRevoked",
    "InvalidClientCredentials",
    "LocalBuckets",
    "Operation",
    "PgBuckets",
    "SpApiClient",
    "SpApiConfigError",
    "SpApiCredentials",
    "SpApiError",
    "SpApiFinalError",
    "SpApiNotFound",
    "SpApiPagingError",
    "SpApiRequestError",
    "SpApiThrottled",
    "SpApiUnavailable",
    "TokenWait",
    "client_for",
    "load_credentials",
    "next_page_token",
    "request_id",
    "token_cache",
    "token_cache_size",
]
