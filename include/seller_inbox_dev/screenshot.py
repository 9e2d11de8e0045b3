"""Screenshots of the Seller Inbox pages, served by a real Airflow API server.

    .venv/bin/python -m seller_inbox_dev.screenshot               # demo rows in a scratch database
    .venv/bin/python -m seller_inbox_dev.screenshot --dsn URL     # an existing warehouse, as it is
    .venv/bin/python -m seller_inbox_dev.screenshot --pages kpis,approvals --lang zh --in-airflow

Starts ``airflow api-server`` (uvicorn) on a free port with a throw-away AIRFLOW_HOME (SQLite),
this repository's plugins folder and the simple auth manager with one user; logs in through
Airflow's own ``POST /auth/token``; hands the JWT to headless Chromium as the UI's ``_token``
cookie (Chrome DevTools Protocol over a websocket) and saves full-page PNGs to
``docs/img/ui_<page>[_<lang>].png``. ``--in-airflow`` also captures the KPI page inside Airflow's
own UI (the plugin's navigation entry, ``/plugin/seller-inbox-kpis``).

Needs Chromium (Debian: ``apt-get install -y chromium``; a CJK font such as
``fonts-wqy-microhei`` for the Chinese pages). Without ``--dsn`` the scratch database is made
on the server ``seller_inbox.warehouse.dsn()`` points at (embedded PostgreSQL by default) and
dropped afterwards.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from contextlib import ExitStack, contextmanager
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from seller_inbox.domain.response_clock import due_at

ROOT = Path(__file__).resolve().parents[2]  # the repository (include/seller_inbox_dev/screenshot.py)
UTC = timezone.utc
PAGES = ("kpis", "health", "approvals", "messages")


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, timeout: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited ({proc.returncode}) before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status < 500:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


# ------------------------------------------------------------------ warehouse
def _with_db(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


@contextmanager
def scratch_warehouse(server_url: str):
    """A fresh, migrated database on the server of ``server_url``; dropped on exit."""
    import psycopg2

    from seller_inbox.warehouse import migrate

    name = f"si_ui_shot_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(server_url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    url = _with_db(server_url, name)
    try:
        migrate(url)
        yield url
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def seed_demo(url: str, days: int = 30, seed: int = 7) -> None:
    """Deterministic demo rows for every page: KPIs, auth, gates, API calls, drafts, open messages."""
    import psycopg2

    now = datetime.now(UTC)
    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cur:
        _seed_kpis(cur, random.Random(seed), date.today(), days)
        _seed_odr(cur, random.Random(seed), date.today(), now)
        _seed_ops(cur, now)
        _seed_drafts(cur)
        _seed_open_messages(cur, now)
    conn.close()


def _seed_kpis(cur, rnd: random.Random, today: date, days: int) -> None:
    groups = [("us-outdoor", "US", 42), ("eu-home", "DE", 25), ("eu-home", "FR", 12), ("jp-gadgets", "JP", 18)]
    for store, mkt, base in groups:
        for i in range(days, 0, -1):
            day = today - timedelta(days=i)
            weekend = day.weekday() >= 5
            msgs = max(1, int(base * (0.7 if weekend else 1.0) + rnd.randint(-6, 6)))
            needing = max(1, int(msgs * 0.8))
            pending = rnd.randint(0, 1) if i <= 1 else 0
            late = rnd.choice([0, 0, 0, 1, 1, 2, 3]) + (2 if weekend and store == "eu-home" else 0)
            late = min(late, needing - pending)
            responded = needing - pending
            avg = round(rnd.uniform(180, 720) + late * 90, 1)
            orders = int(base * 6 + rnd.randint(-20, 20))
            claims = 1 if rnd.random() < 0.12 else 0
            high = rnd.choice([0, 0, 1, 1, 2])
            wismo = int(msgs * rnd.uniform(0.25, 0.45))
            cur.execute(
                """INSERT INTO kpi.store_daily (store_id, marketplace, day, buyer_messages, needing_response, responded,
                       responded_within_24h, late_responses, pending_within_sla, avg_response_minutes,
                       median_response_minutes, late_response_rate, high_risk_messages, wismo_messages, wismo_share,
                       orders, a_to_z_claims, a_to_z_claim_rate)
                   VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)""",
                (store, mkt, day, msgs, needing, responded, responded - late, late, pending, avg, avg * 0.8,
                 round(late / responded, 4), high, wismo, round(wismo / msgs, 4), orders, claims,
                 round(claims / orders, 5)))


# (store, marketplace, channel, orders in a 60-day window, defects per 1,000 orders)
_ODR_GROUPS = [("us-outdoor", "US", "AFN", 6200, 4), ("us-outdoor", "US", "MFN", 1900, 7),
               ("eu-home", "DE", "MFN", 4100, 6), ("eu-home", "FR", "MFN", 1900, 12),
               ("jp-gadgets", "JP", "AFN", 3000, 3)]


def _seed_odr(cur, rnd: random.Random, today: date, now: datetime) -> None:
    """ODR windows for 45 days and the latest reconciliation per channel: one agreeing, one drifted
    (eu-home FR: a claim notice never reached the mailbox), one not comparable yet (jp-gadgets,
    whose desk started reading mail three weeks ago)."""
    from seller_inbox import metrics

    lag, span = metrics.ODR_LAG_DAYS, metrics.ODR_WINDOW_DAYS - 1
    for store, mkt, channel, orders, per_mille in _ODR_GROUPS:
        for i in range(45, -1, -1):
            end = today - timedelta(days=lag + i)
            n = orders + rnd.randint(-150, 150)
            claims = max(0, round(n * per_mille / 2000) + rnd.randint(-1, 1))
            negative = max(0, round(n * per_mille / 2000) + rnd.randint(-1, 2))
            defective = claims + negative
            cur.execute(
                """INSERT INTO kpi.order_defect_rate (store_id, marketplace, fulfillment_channel, window_end,
                       window_start, orders, a_to_z_claims, negative_feedback, defective_orders, order_defect_rate,
                       a_to_z_claim_rate) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)""",
                (store, mkt, channel, end, end - timedelta(days=span), n, claims, negative, defective,
                 round(defective / n, 5), round(claims / n, 5)))
        last = today - timedelta(days=lag)
        n = orders
        ours = round(n * per_mille / 1000)
        theirs = ours + (6 if (store, mkt) == ("eu-home", "FR") else 0)  # 6 claims we never saw
        comparable = store != "jp-gadgets"
        claims_ours, claims_theirs = ours // 2, ours // 2 + (theirs - ours)
        diff = round((ours - theirs) / n, 5)
        cur.execute(
            """INSERT INTO kpi.reconciliation (store_id, marketplace, fulfillment_channel, window_start, window_end,
                   amazon_orders, amazon_a_to_z_claims, amazon_negative_feedback, amazon_chargebacks,
                   amazon_defective_orders, amazon_order_defect_rate, amazon_a_to_z_claim_rate, our_orders,
                   our_a_to_z_claims, our_negative_feedback, our_defective_orders, our_order_defect_rate,
                   our_a_to_z_claim_rate, odr_difference, a_to_z_claim_rate_difference, tolerance, flagged,
                   report_made_at, orders_read_since, mail_read_since, comparable)
               VALUES (%s,%s,%s,%s,%s,%s,%s,%s,0,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)""",
            (store, mkt, channel, last - timedelta(days=span), last, n, claims_theirs, ours - ours // 2, theirs,
             round(theirs / n, 5), round(claims_theirs / n, 5), n, claims_ours, ours - ours // 2, ours,
             round(ours / n, 5), round(claims_ours / n, 5), diff, round((claims_ours - claims_theirs) / n, 5),
             metrics.RECONCILE_TOLERANCE, comparable and abs(diff) > metrics.RECONCILE_TOLERANCE, now,
             now - timedelta(days=400), now - timedelta(days=21 if not comparable else 400), comparable))


def _seed_ops(cur, now: datetime) -> None:
    cur.execute(
        """INSERT INTO ops.store_auth (store_id, seller_id, status, last_success_at, authorized_at, days_until_reauth,
               client_secret_created_at, client_secret_age_days, checked_at, last_error_at, last_error)
           VALUES ('us-outdoor','A1DEMOUSOUTDOOR','ok', %(now)s, current_date - 120, 245, current_date - 60, 60, %(now)s, NULL, NULL),
                  ('eu-home','A2DEMOEUHOME','ok', %(now)s, current_date - 341, 24, current_date - 163, 163, %(now)s, NULL, NULL),
                  ('jp-gadgets','A3DEMOJPGADGETS','revoked', %(now)s - interval '2 days', current_date - 200, 165,
                   current_date - 90, 90, %(now)s, %(now)s - interval '3 hours', 'invalid_grant: the refresh token was revoked')""",
        {"now": now})
    cur.execute(
        """INSERT INTO ops.gate_run (store_id, stage, interval_start, interval_end, success, rows_checked,
               failed_expectations, failing_rows, run_id)
           VALUES ('eu-home','classify', %s, %s, false, 37, %s, %s, 'scheduled__demo')""",
        (now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1),
         now.replace(hour=0, minute=0, second=0, microsecond=0),
         json.dumps([{"batch": "messages", "expectation": "ExpectColumnValuesToBeInSet", "column": "language",
                      "unexpected_count": 2, "observed_value": None}]),
         json.dumps([{"batch": "messages", "expectation": "ExpectColumnValuesToBeInSet",
                      "message_id": "<CA+demo-17@mail.example>", "language": "nl"},
                     {"batch": "messages", "expectation": "ExpectColumnValuesToBeInSet",
                      "message_id": "<CA+demo-21@mail.example>", "language": "pl"}])))
    for store, ok, thr, err in (("us-outdoor", 412, 9, 0), ("eu-home", 388, 31, 2), ("jp-gadgets", 12, 0, 5)):
        for outcome, n in (("ok", ok), ("throttled", thr), ("retry", thr // 3), ("error", err)):
            cur.execute(
                """INSERT INTO ops.api_calls (store_id, operation, status, outcome, called_at)
                   SELECT %s, op, %s, %s, now() - (g %% 23) * interval '1 hour'
                   FROM generate_series(1, %s) g, (VALUES ('getOrders')) o(op)""",
                (store, {"ok": 200, "throttled": 429, "retry": 503, "error": 403}[outcome], outcome, n))


def _seed_drafts(cur) -> None:
    drafts = [
        ("eu-home", "302-1234567-7654321", "de", "Ihre Bestellung 302-1234567-7654321",
         "Hallo,\n\nvielen Dank für Ihre Nachricht. Ihr Paket wurde gestern versandt und sollte in 2–3 Werktagen ankommen.\n\nViele Grüße\nHome & Kitchen EU",
         []),
        ("us-outdoor", "114-3141592-6535897", "en", "Re: sizing question",
         "Hi,\n\nthanks for asking! The jacket runs small; we suggest one size up. [ANSWER]\nFor faster help email us at help@outdoor-gear.example.\n\nBest regards",
         [{"code": "email_address", "detail": "remove the e-mail address: buyers are contacted only through Amazon"},
          {"code": "unfilled_placeholder", "detail": "complete the [ANSWER] part before approving"}]),
    ]
    for k, (store, order, loc, subj, body, finds) in enumerate(drafts):
        cur.execute(
            """INSERT INTO core.outbox (idempotency_key, store_id, message_id, order_id, action, template, locale,
                   subject, body, mode, status, lint_findings, created_at)
               VALUES (%s,%s,%s,%s,'reply','generic_reply',%s,%s,%s,'draft','pending_approval',%s, now() - %s * interval '1 hour')""",
            (f"reply:{store}:<draft-{k}@mail.example>", store, f"<draft-{k}@mail.example>", order, loc, subj, body,
             json.dumps(finds), 3 - k))


def _seed_open_messages(cur, now: datetime) -> None:
    msgs = [("us-outdoor", "US", "a_to_z_claim", "high", "en", 26), ("eu-home", "DE", "return_request", "medium", "de", 21),
            ("eu-home", "FR", "order_status", "low", "fr", 17), ("jp-gadgets", "JP", "product_defect", "high", "ja", 9),
            ("us-outdoor", "US", "size_fit", "low", "en", 4), ("eu-home", "DE", "invoice_request", "low", "de", 2)]
    for k, (store, mkt, intent, risk, lang, age_h) in enumerate(msgs):
        rec = now - timedelta(hours=age_h)
        cur.execute(
            """INSERT INTO core.message (store_id, message_id, kind, direction, marketplace, order_id, received_at,
                   intent, risk, language, sla_due_at)
               VALUES (%s,%s,'buyer_message','inbound',%s,%s,%s,%s,%s,%s,%s)""",
            (store, f"<buyer-{k}@marketplace.amazon.example>", mkt, f"{100 + k}-{1000000 + k * 7919}-{2000000 + k * 104729}",
             rec, intent, risk, lang, due_at(rec)))


# ------------------------------------------------------------------ Airflow
@contextmanager
def airflow_api_server(warehouse_url: str):
    """``airflow api-server`` with this repo's plugin; yields (base_url, JWT of user 'lead')."""
    home = Path(tempfile.mkdtemp(prefix="si-ui-airflow-"))
    (home / "dags").mkdir()
    password = secrets.token_urlsafe(12)
    (home / "passwords.json").write_text(json.dumps({"lead": password}))
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not (k.startswith("AIRFLOW__") or k == "AIRFLOW_HOME")}
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "lead:op",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(64),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "SELLER_INBOX_WAREHOUSE_URL": warehouse_url,
    })
    airflow = str(Path(sys.executable).with_name("airflow"))
    _say("• airflow db migrate (throw-away SQLite)…")
    subprocess.run([airflow, "db", "migrate"], env=env, check=True, capture_output=True)
    log = open(home / "api-server.log", "w")
    proc = subprocess.Popen([airflow, "api-server", "-H", "127.0.0.1", "-p", str(port), "-w", "1"],
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _say(f"• airflow api-server on {base} (log {home / 'api-server.log'})…")
        _wait_http(f"{base}/api/v2/monitor/health", 120, proc)
        req = urllib.request.Request(f"{base}/auth/token", data=json.dumps({"username": "lead", "password": password}).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(req, timeout=10) as r:
            token = json.loads(r.read())["access_token"]
        yield base, token
    finally:
        _stop(proc)
        log.close()
        shutil.rmtree(home, ignore_errors=True)


# ------------------------------------------------------------------ Chromium (CDP)
class Chromium:
    def __init__(self, width: int = 1400, height: int = 900):
        from websockets.sync.client import connect

        exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
        if not exe:
            raise SystemExit("Chromium not found: apt-get install -y chromium")
        self.profile = Path(tempfile.mkdtemp(prefix="si-ui-chromium-"))
        self.proc = subprocess.Popen(
            [exe, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
             "--disable-dev-shm-usage", "--remote-debugging-port=0", f"--user-data-dir={self.profile}",
             f"--window-size={width},{height}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        port_file = self.profile / "DevToolsActivePort"
        deadline = time.time() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            if time.time() > deadline or self.proc.poll() is not None:
                raise RuntimeError("Chromium did not start")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as r:
            page = next(t for t in json.loads(r.read()) if t["type"] == "page")
        self._stack = ExitStack()
        self.ws = self._stack.enter_context(connect(page["webSocketDebuggerUrl"], max_size=None))
        self._id = 0
        self.width, self.height = width, height
        self.call("Page.enable")
        self.call("Network.enable")
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)

    def call(self, method: str, **params):
        self._id += 1
        my = self._id
        self.ws.send(json.dumps({"id": my, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv(timeout=60))
            if msg.get("id") == my:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def wait_event(self, name: str, timeout: float = 30) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            msg = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.time())))
            if msg.get("method") == name:
                return
        raise TimeoutError(name)

    def shot(self, url: str, out: Path, *, settle: float = 0.3, full_page: bool = True) -> None:
        self.call("Page.navigate", url=url)
        self.wait_event("Page.loadEventFired")
        time.sleep(settle)
        clip = None
        if full_page:
            m = self.call("Page.getLayoutMetrics")
            size = m.get("cssContentSize") or m["contentSize"]
            clip = {"x": 0, "y": 0, "width": self.width, "height": min(int(size["height"]), 6000), "scale": 1}
        params = {"format": "png", "captureBeyondViewport": bool(full_page)}
        if clip:
            params["clip"] = clip
        data = self.call("Page.captureScreenshot", **params)["data"]
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        try:
            self._stack.close()
        finally:
            _stop(self.proc)
            shutil.rmtree(self.profile, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dsn", help="existing warehouse URL (default: a scratch database with demo rows)")
    ap.add_argument("--pages", default="kpis", help=f"comma-separated, from {','.join(PAGES)} (default kpis)")
    ap.add_argument("--lang", default="en", choices=["en", "zh"])
    ap.add_argument("--out", default=str(ROOT / "docs" / "img"))
    ap.add_argument("--in-airflow", action="store_true", help="also capture the KPI page inside Airflow's UI")
    args = ap.parse_args(argv)
    pages = [p.strip() for p in args.pages.split(",") if p.strip()]
    bad = [p for p in pages if p not in PAGES]
    if bad:
        ap.error(f"unknown page(s) {bad}")
    out = Path(args.out)
    suffix = "" if args.lang == "en" else f"_{args.lang}"

    @contextmanager
    def warehouse():
        if args.dsn:
            yield args.dsn
            return
        from seller_inbox.warehouse import dsn

        with scratch_warehouse(dsn()) as url:
            _say("• scratch warehouse with demo rows")
            seed_demo(url)
            yield url

    with warehouse() as url, airflow_api_server(url) as (base, token):
        browser = Chromium()
        try:
            browser.call("Network.setCookie", name="_token", value=token, url=base + "/", httpOnly=True)
            for page in pages:
                path = out / f"ui_{page}{suffix}.png"
                browser.shot(f"{base}/seller-inbox/{page}?lang={args.lang}", path)
                _say(f"• {path}")
            if args.in_airflow:
                path = out / f"ui_in_airflow{suffix}.png"
                browser.shot(f"{base}/plugin/seller-inbox-kpis", path, settle=6.0, full_page=False)
                _say(f"• {path}")
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
