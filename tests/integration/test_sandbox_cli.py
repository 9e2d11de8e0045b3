"""The standalone simulator (``seller-inbox sandbox serve``) as a separate process, used by a plain
python-amazon-sp-api client with only the documented demo credentials."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import httpx

UTC = timezone.utc


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_sellers_command_lists_demo_credentials():
    out = subprocess.run([sys.executable, "-m", "seller_inbox_dev.sandbox.cli", "sandbox", "sellers", "--json",
                          "--extra-sellers", "2"], capture_output=True, text=True, check=True).stdout
    data = json.loads(out)
    assert data["client_id"] == "sandbox-client" and data["client_secret"] == "sandbox-secret"
    ids = [s["seller_id"] for s in data["sellers"]]
    assert ids[:3] == ["A1DEMOUSOUTDOOR", "A2DEMOEUHOME", "A3DEMOJPGADGETS"] and len(ids) == 5
    assert data["sellers"][1]["refresh_token"] == "Atzr|sandbox-A2DEMOEUHOME"
    assert data["sellers"][1]["marketplaces"] == ["DE", "FR", "IT", "ES"]


def test_serve_process_answers_a_plain_sp_api_client():
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "seller_inbox_dev.sandbox.cli", "sandbox", "serve",
                             "--host", "127.0.0.1", "--port", str(port), "--seed", "42"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
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
        after = (datetime.now(UTC) - timedelta(days=9)).replace(microsecond=0)
        code = f"""
import json
from sp_api.api import Orders
from sp_api.auth import AccessTokenClient
from sp_api.base import Marketplaces
class Lwa(AccessTokenClient):
    scheme, host, path = "http://", "127.0.0.1:{port}", "/auth/o2/token"
c = Orders(Marketplaces.DE, refresh_token="Atzr|sandbox-A2DEMOEUHOME",
           credentials=dict(lwa_app_id="sandbox-client", lwa_client_secret="sandbox-secret"),
           auth_token_client_class=Lwa)
c.endpoint = "{base}"
r = c.get_orders(CreatedAfter="{after.strftime('%Y-%m-%dT%H:%M:%SZ')}",
                 CreatedBefore="{(after + timedelta(days=1)).strftime('%Y-%m-%dT%H:%M:%SZ')}",
                 MarketplaceIds=["A1PA6795UKMFR9"])
print(json.dumps({{"n": len(r.payload["Orders"]), "rate": r.rate_limit,
                  "first": r.payload["Orders"][0]["AmazonOrderId"]}}))
"""
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                             env={**os.environ, "SP_API_DEFAULT_MARKETPLACE": "DE"})
        assert out.returncode == 0, out.stderr[-2000:]
        res = json.loads(out.stdout.strip().splitlines()[-1])
        # the same answer the in-process generator gives (Amazon's real volume: tens of orders a day)
        from seller_inbox_dev.sandbox.data import generate_orders
        assert res["n"] > 10 and res["rate"] == "0.0167"
        want = [o for o in generate_orders("A2DEMOEUHOME", after, after + timedelta(days=1))
                if o.marketplace == "DE"]
        assert res["first"] == want[0].amazon_order_id
    finally:
        proc.terminate()
        proc.wait(timeout=10)
