"""Run the simulator: in a background thread (tests, the demo) or as a process (CLI)."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass


@dataclass
class SandboxHandle:
    url: str                 # base URL, e.g. http://127.0.0.1:8123 (SP-API paths and LWA)
    host: str
    port: int
    state: object            # seller_inbox_dev.sandbox.app.SandboxState (controls for tests)
    _server: object
    _thread: threading.Thread

    @property
    def lwa_url(self) -> str:
        return f"{self.url}/auth/o2/token"

    def connection_extra(self, seller_id: str, **more) -> dict:
        """The ``spapi`` connection extra that points a store at this simulator."""
        from seller_inbox_dev.sandbox import data, refresh_token_for
        region = data.seller_profile(seller_id).region
        return {"refresh_token": refresh_token_for(seller_id), "region": region, "endpoint": self.url,
                "lwa_endpoint": self.lwa_url, **more}

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def start(host: str = "127.0.0.1", port: int = 0, seed: int = 42, *, extra_sellers: int = 0,
          sellers: tuple[str, ...] = (), time_scale: float = 1.0, rate_overrides: dict | None = None,
          orders_per_day: int | None = None, seller_orders_per_day: dict | None = None,
          report_queue_seconds: float = 20.0,
          report_processing_seconds: float = 40.0, fault_seed: int = 0, as_of=None, log_level: str = "warning",
          ready_timeout: float = 15.0) -> SandboxHandle:
    """Start the simulator in a daemon thread; return once it answers. ``port=0``: a free port.

    ``time_scale`` multiplies every rate limit (1 = Amazon's plans); ``as_of`` (aware datetime)
    pins the data clock so orders look as they did then (reproducible demos);
    ``seller_orders_per_day`` makes some sellers busy ({seller id: mean orders per day})."""
    import uvicorn

    from seller_inbox_dev.sandbox.app import SandboxConfig, create_app

    cfg = SandboxConfig(seed=seed, extra_sellers=extra_sellers, sellers=tuple(sellers), time_scale=time_scale,
                        rate_overrides=dict(rate_overrides or {}), orders_per_day=orders_per_day,
                        seller_orders_per_day=dict(seller_orders_per_day or {}),
                        report_queue_seconds=report_queue_seconds,
                        report_processing_seconds=report_processing_seconds, fault_seed=fault_seed,
                        as_of=as_of)
    app = create_app(cfg)
    port = port or _free_port(host)
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level, access_log=False,
                            lifespan="off", timeout_keep_alive=30)
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # not the main thread
    thread = threading.Thread(target=server.run, name=f"spapi-sandbox-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + ready_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"SP-API simulator did not start on {host}:{port}")
        time.sleep(0.02)
    return SandboxHandle(f"http://{host}:{port}", host, port, app.state.sandbox, server, thread)


def serve(host: str = "127.0.0.1", port: int = 8700, seed: int = 42, **kw) -> None:
    """Run in the foreground (blocking) until interrupted."""
    import uvicorn

    from seller_inbox_dev.sandbox.app import SandboxConfig, create_app

    app = create_app(SandboxConfig(seed=seed, **kw))
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)
