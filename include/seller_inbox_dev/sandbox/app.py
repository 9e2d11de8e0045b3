"""The SP-API simulator as a FastAPI application.

Paths, parameters, field names, status codes and ``errors`` bodies follow the official models
(Orders v0 and 2026-01-01, Tokens 2021-03-01, Messaging v1, Solicitations v1, Reports
2021-06-30) and LWA. Every operation draws from its own token bucket per seller (rate and
burst of the model's usage plan, ``rates.py``) and answers 429 ``QuotaExceeded`` beyond it;
2xx/400/404 carry ``x-amzn-RateLimit-Limit``, 429 never does.

One router per API lives in ``routes/``; test controls live under ``/_sandbox/`` (not part of
Amazon's API): sellers, faults, revocation, recorded mutations, per-operation statistics, reset.
"""

from __future__ import annotations

from fastapi import FastAPI, Request

from seller_inbox_dev.sandbox.http import Sim, iso, money, parse_iso, problem
from seller_inbox_dev.sandbox.routes import (
    controls,
    lwa,
    messaging,
    orders_2026,
    orders_v0,
    reports,
    solicitations,
    tokens,
)
from seller_inbox_dev.sandbox.state import Problem, SandboxConfig, SandboxState

# in this order (as Amazon's APIs are listed in the models, the controls last)
ROUTERS = (lwa.router, orders_v0.router, orders_2026.router, tokens.router, messaging.router,
           solicitations.router, reports.router, controls.router)

__all__ = ["Problem", "SandboxConfig", "SandboxState", "create_app", "iso", "money", "parse_iso"]


def create_app(config: SandboxConfig | None = None) -> FastAPI:
    config = config or SandboxConfig()
    state = SandboxState(config)
    app = FastAPI(title="seller-inbox SP-API simulator", docs_url="/_sandbox/docs",
                  openapi_url="/_sandbox/openapi.json", redoc_url=None)
    app.state.sandbox = state
    app.state.sim = Sim(state)

    @app.exception_handler(Problem)
    async def _on_problem(request: Request, exc: Problem):
        r = problem(state, getattr(request.state, "op", None), exc)
        if request.url.path.startswith(("/messaging/", "/solicitations/")):
            r.headers["content-type"] = "application/hal+json"
        return r

    @app.middleware("http")
    async def _count(request: Request, call_next):
        response = await call_next(request)
        op = getattr(request.state, "op", None)
        if op is not None:
            with state.lock:
                state.stats[(getattr(request.state, "seller", "?"), op, response.status_code)] += 1
        return response

    for router in ROUTERS:
        app.include_router(router)
    return app
