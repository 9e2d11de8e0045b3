"""Reading SP-API responses: page tokens, request ids, timestamps, and following pages to the end."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from seller_inbox.spapi.errors import SpApiPagingError


def request_id(res: Any) -> str | None:
    """Amazon's ``x-amzn-RequestId`` of a response (what its support asks for), if any."""
    headers = getattr(res, "headers", None) or {}
    for k, v in dict(headers).items():
        if str(k).lower() == "x-amzn-requestid":
            return v
    return None


def next_page_token(res: Any) -> str | None:
    """The next-page token of an Orders response, wherever python-amazon-sp-api put it.

    v0 keeps ``NextToken`` inside ``payload``. For 2026-01-01 the body is not wrapped, so the
    library passes its top-level ``pagination`` to ``ApiResponse(pagination=...)``: it lands on
    ``res.pagination`` (and ``res.next_token``), not in ``res.payload``. Reading only the payload
    stops after the first page, so every place is read."""
    payload = res.payload if isinstance(getattr(res, "payload", None), dict) else {}
    pagination = getattr(res, "pagination", None)
    for token in (payload.get("NextToken"), (payload.get("pagination") or {}).get("nextToken"),
                  pagination.get("nextToken") if isinstance(pagination, dict) else None,
                  getattr(res, "next_token", None)):
        if token:
            return token
    return None


def iso(t: datetime) -> str:
    t = t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def window(names: tuple[str, str, str, str], last_updated_after, last_updated_before, created_after,
           created_before) -> dict[str, str]:
    """The set bounds of an orders window under the API's own parameter names."""
    values = (last_updated_after, last_updated_before, created_after, created_before)
    return {k: iso(v) for k, v in zip(names, values) if v is not None}


@dataclass
class PageCursor:
    """Where a paged read stands: pages read, the token of the next page, tokens followed.

    Updated only after a page's items were all consumed, so a read interrupted before the next
    call (``TokenWait``) can continue from here in a later attempt (``orders.ingest_orders``)."""

    page: int = 0
    token: str | None = None
    followed: set[str] = field(default_factory=set)


class Paging:
    """Mixin for the client: follow page tokens until the API stops sending one."""

    def _paged(self, operation: str, api: str, request: Callable[[str | None], Callable[[Any], Any]],
               items: str, on_page: Callable[[int, int], None] | None,
               cursor: PageCursor | None = None) -> Iterator[dict]:
        """A token seen before raises ``SpApiPagingError`` (naming the store) instead of looping
        forever. ``cursor``: continue a read from where it stood (its page and token)."""
        cursor = cursor if cursor is not None else PageCursor()
        followed = cursor.followed
        while True:
            res = self.call(operation, request(cursor.token), api=api)
            cursor.page += 1
            page = cursor.page
            body = res.payload if isinstance(res.payload, dict) else {}
            orders = body.get(items) or []
            if on_page:
                on_page(page, len(orders))
            yield from orders
            token = next_page_token(res)
            cursor.token = token
            if not token:
                return
            if token in followed:
                raise SpApiPagingError(
                    f"store {self.store_id}: {operation} page {page} returned a page token that was already "
                    f"followed; Amazon's paging repeats for this window, so the window was not read to its end. "
                    f"Retry later; if it persists, report it to Selling Partner API support.",
                    store_id=self.store_id, operation=operation, code="RepeatedPageToken")
            followed.add(token)
