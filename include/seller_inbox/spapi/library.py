"""The adapter between the client core and python-amazon-sp-api: the only module that builds its clients.

What the library's public API covers is used as is: each API class is built with the
marketplace, the LWA app and refresh token, ``timeout``, ``verify`` and
``auth_token_client_class`` (our ``LwaTokenClient``, so the token exchange and cache are ours,
see ``lwa.py``); ``endpoint`` is a public attribute (the simulator's URL goes there).

What it lacks, a subclass per API class adds, and nothing else:
- the HTTP response of the last request (``last_response``): the library returns a 201, a 202
  and a gateway's non-JSON 502 alike as an ``ApiResponse`` without a status, so the client core
  could not tell success from failure. ``_check_response`` is the one method every request's
  raw response passes through; the subclass notes the response there and defers to the library.
- a right ``Host`` header: the library's public ``headers`` derives it from ``endpoint[8:]``,
  which assumes ``https://``; the subclass's ``headers`` takes it from the endpoint's netloc.
"""

from __future__ import annotations

import threading
from functools import partial
from typing import Any

from seller_inbox.spapi.credentials import SpApiCredentials
from seller_inbox.spapi.errors import SpApiRequestError
from seller_inbox.spapi.lwa import LwaExchange

_THREAD = threading.local()
_CLASSES: dict[str, type] = {}


class LwaTokenClient:
    """The library's ``auth_token_client_class`` protocol over our ``LwaExchange``.

    The library builds it as ``cls(refresh_token=, credentials=, proxies=, verify=)`` and reads
    ``get_auth().access_token`` for each request; the exchange is bound with ``partial``."""

    def __init__(self, exchange: LwaExchange, refresh_token=None, credentials=None, proxies=None, verify=True):
        self.exchange = exchange

    def get_auth(self):
        from sp_api.auth import AccessTokenResponse

        return AccessTokenResponse(**self.exchange.access_token())

    def get_grantless_auth(self, scope: str = ""):
        raise SpApiRequestError(f"grantless SP-API operations ({scope}) are not used by seller-inbox")


def _library_class(api: str) -> type:
    cls = _CLASSES.get(api)
    if cls is not None:
        return cls
    from urllib.parse import urlsplit

    from sp_api.api import Messaging, Reports, Solicitations, Tokens
    from sp_api.api.orders.orders_2026_01_01 import OrdersV20260101
    from sp_api.api.orders.orders_v0 import (
        OrdersV0,  # ``Orders`` itself only dispatches to a version
    )

    base = {"orders": OrdersV0, "orders2026": OrdersV20260101, "messaging": Messaging,
            "solicitations": Solicitations, "reports": Reports, "tokens": Tokens}[api]

    class Adapted(base):
        last_response = None

        @property
        def headers(self):
            return {**super().headers, "host": urlsplit(self.endpoint).netloc}

        def _check_response(self, res, *args, **kwargs):
            self.last_response = res
            return super()._check_response(res, *args, **kwargs)

    Adapted.__qualname__ = f"Adapted{base.__name__}"
    _CLASSES[api] = Adapted
    return Adapted


def marketplace(creds: SpApiCredentials, marketplace_id: str | None, default_ids: list[str] | None,
                store_id: str | None):
    """The library's ``Marketplaces`` member for an id (default: the store's first, else the region's)."""
    from sp_api.base import Marketplaces

    from seller_inbox.domain import marketplaces as mp

    if marketplace_id is None:
        region_default = {"na": "US", "eu": "DE", "fe": "JP"}[creds.region]
        marketplace_id = (default_ids or [mp.get(region_default).marketplace_id])[0]
    for m in Marketplaces:
        if m.marketplace_id == marketplace_id:
            return m
    raise SpApiRequestError(f"store {store_id}: unknown marketplace id {marketplace_id}", store_id=store_id)


def api_client(creds: SpApiCredentials, api: str, marketplace_id: str | None, default_ids: list[str] | None,
               store_id: str | None) -> Any:
    """A library client for ``api`` (see ``LIBRARY_API`` in each API module), reused per thread.

    Building one costs TLS contexts; clients keep per-request state (``last_response``), so a
    thread never shares its clients with another."""
    key = (creds.base_url, creds.lwa_url, creds.client_id, creds.refresh_token, creds.timeout, api,
           marketplace_id or "")
    cache = _THREAD.__dict__.setdefault("clients", {})
    c = cache.get(key)
    if c is None:
        plain_http = creds.base_url.startswith("http://") and creds.lwa_url.startswith("http://")
        c = _library_class(api)(
            marketplace(creds, marketplace_id, default_ids, store_id), refresh_token=creds.refresh_token,
            credentials={"lwa_app_id": creds.client_id, "lwa_client_secret": creds.client_secret},
            timeout=creds.timeout, auth_token_client_class=partial(LwaTokenClient, LwaExchange(creds)),
            verify=not plain_http)  # no TLS context to build for a plain-HTTP simulator
        c.endpoint = creds.base_url
        cache[key] = c
    return c
