"""Tokens API 2021-03-01: restricted data tokens (usage plan from the model ``tokens_2021-03-01.json``)."""

from __future__ import annotations

from seller_inbox.spapi.operation import table

LIBRARY_API = "tokens"

OPERATIONS = table(
    ("createRestrictedDataToken", "tokens/2021-03-01", "POST", "/tokens/2021-03-01/restrictedDataToken", 1, 10),
)


class Tokens:
    """Client mixin: the Tokens call."""

    def create_restricted_data_token(self, resources: list[dict]) -> dict:
        res = self.call("createRestrictedDataToken",
                        lambda c: c.create_restricted_data_token(restrictedResources=resources), api=LIBRARY_API)
        return res.payload
