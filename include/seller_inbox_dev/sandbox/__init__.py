"""The local SP-API simulator: seeded sellers and orders, LWA, Orders, Tokens, Messaging,
Solicitations and Reports over real HTTP, with Amazon's per-seller token buckets enforced.

- ``data``: the deterministic order generator (pure; no server needed).
- ``rates``: the usage plans (rate, burst) per operation, read from the models; ``buckets``: token buckets.
- ``state``: configuration and state; ``http``: shared response and request helpers; ``routes``: one
  router per API.
- ``faults``: per-seller, per-operation fault switches for tests.
- ``app``: the FastAPI application (includes the routers).  ``server``: start/stop it (thread) for tests and the demo.
- ``cli``: ``seller-inbox sandbox serve`` / ``seller-inbox sandbox sellers``.

Demo credentials (stable): LWA client id ``sandbox-client``, secret ``sandbox-secret``,
refresh token ``Atzr|sandbox-<seller id>`` for every simulated seller.
"""

CLIENT_ID = "sandbox-client"
CLIENT_SECRET = "sandbox-secret"


def refresh_token_for(seller_id: str) -> str:
    """The simulator's stable demo refresh token of a seller."""
    return f"Atzr|sandbox-{seller_id}"
