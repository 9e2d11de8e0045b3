"""``seller-inbox sandbox serve --busy-seller SELLER=N``: a standalone simulator with a busy seller
(windows of hundreds of orders, paged like Amazon), and a one-line error for a bad spec."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import httpx

from seller_inbox_dev.sandbox.data import generate_orders

UTC = timezone.utc
SELLER = "A1DEMOUSOUTDOOR"
CLI = [sys.executable, "-m", "seller_inbox_dev.sandbox.cli", "sandbox", "serve"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_bad_busy_seller_spec_is_one_line():
    out = subprocess.run([*CLI, "--busy-seller", f"{SELLER}=many"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.strip() == (f"--busy-seller '{SELLER}=many': expected SELLER_ID=ORDERS_PER_DAY, "
                                  f"e.g. A1DEMOUSOUTDOOR=400")


def test_busy_seller_serves_hundreds_of_orders_in_pages_of_100():
    port = free_port()
    proc = subprocess.Popen([*CLI, "--port", str(port), "--time-scale", "100", "--busy-seller", f"{SELLER}=400"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(base + "/_sandbox/sellers", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, "simulator did not start"
                time.sleep(0.1)
        tok = httpx.post(base + "/auth/o2/token", data={
            "grant_type": "refresh_token", "refresh_token": f"Atzr|sandbox-{SELLER}",
            "client_id": "sandbox-client", "client_secret": "sandbox-secret"}).json()["access_token"]
        lo = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=10)
        hi = lo + timedelta(days=2)
        params = {"MarketplaceIds": "ATVPDKIKX0DER", "CreatedAfter": lo.strftime("%Y-%m-%dT%H:%M:%SZ"),
                  "CreatedBefore": hi.strftime("%Y-%m-%dT%H:%M:%SZ")}
        got, nxt = [], None
        with httpx.Client(base_url=base, headers={"x-amz-access-token": tok}, timeout=10) as c:
            while True:
                body = c.get("/orders/v0/orders", params={**params, "NextToken": nxt} if nxt else params).json()
                got.append([o["AmazonOrderId"] for o in body["payload"]["Orders"]])
                nxt = body["payload"].get("NextToken")
                if not nxt:
                    break
        want = [o.amazon_order_id for o in generate_orders(SELLER, lo, hi + timedelta(seconds=1), 42,
                                                            orders_per_day=400)]
        assert len(want) > 500 and sum(got, []) == want
        assert [len(p) for p in got[:-1]] == [100] * (len(got) - 1) and 0 < len(got[-1]) <= 100
    finally:
        proc.terminate()
        proc.wait(timeout=10)
