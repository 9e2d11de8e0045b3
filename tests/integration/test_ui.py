"""The Seller Inbox UI inside a real Airflow API server, against a real warehouse.

One ``airflow api-server`` per module (SQLite metadata DB in a temp AIRFLOW_HOME, the
project's plugins folder, the simple auth manager with two test users), so the plugin is
mounted exactly as in production and tokens come from Airflow's own ``POST /auth/token``.
Rows go into the session warehouse with the ``db`` fixture; the pages read them over HTTP.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import date, datetime, timedelta, timezone
from datetime import time as dtime
from pathlib import Path

import httpx
import pytest

from tests.integration.rows import add_message

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "/seller-inbox"
PASSWORDS = {"lead": secrets.token_urlsafe(12), "viewer": secrets.token_urlsafe(12)}
JWT_SECRET = secrets.token_urlsafe(64)
UTC = timezone.utc


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def airflow_api(request, tmp_path_factory):
    """A real Airflow 3 API server with the project's plugin; yields its base URL."""
    home = tmp_path_factory.mktemp("airflow_ui")
    (home / "dags").mkdir()
    pw_file = home / "passwords.json"
    pw_file.write_text(json.dumps(PASSWORDS))
    port = _free_port()
    env = {k: v for k, v in os.environ.items()
           if not (k.startswith("AIRFLOW__") or k.startswith("AIRFLOW_CONN_") or k == "AIRFLOW_HOME")}
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__LAZY_LOAD_PLUGINS": "False",
        "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "lead:op,viewer:viewer",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(pw_file),
        "AIRFLOW__API_AUTH__JWT_SECRET": JWT_SECRET,
        "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
    })
    airflow = str(Path(sys.executable).with_name("airflow"))
    # Airflow's metadata DB (JWT revocation list, ...) migrates while the warehouse is prepared
    mig = subprocess.Popen([airflow, "db", "migrate"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    env["SELLER_INBOX_WAREHOUSE_URL"] = request.getfixturevalue("warehouse_dsn")
    out, _ = mig.communicate(timeout=120)
    assert mig.returncode == 0, out[-2000:]
    # a module that opens DAG pages (test_ui_browser.py) names its DAG files: parsed into the metadata DB
    dag_files = getattr(request.module, "AIRFLOW_DAG_FILES", ())
    for name in dag_files:
        shutil.copy(ROOT / "dags" / name, home / "dags" / name)
    if dag_files:
        ser = subprocess.run([airflow, "dags", "reserialize"], env=env, capture_output=True, text=True, timeout=300)
        assert ser.returncode == 0, (ser.stdout + ser.stderr)[-3000:]
    log = open(home / "api-server.log", "w")
    proc = subprocess.Popen([airflow, "api-server", "--apps", "core", "-H", "127.0.0.1", "-p", str(port), "-w", "1"],
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while True:
            assert proc.poll() is None, (home / "api-server.log").read_text()[-3000:]
            try:
                if httpx.get(f"{base}/api/v2/monitor/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.time() < deadline, "api-server did not start: " + (home / "api-server.log").read_text()[-3000:]
            time.sleep(0.3)
        yield base
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        log.close()


def _login(base: str, user: str) -> str:
    """A JWT issued by Airflow itself (the simple auth manager's token endpoint)."""
    r = httpx.post(f"{base}/auth/token", json={"username": user, "password": PASSWORDS[user]}, timeout=10)
    assert r.status_code in (200, 201), r.text
    return r.json()["access_token"]


@pytest.fixture(scope="module")
def tokens(airflow_api):
    return {u: _login(airflow_api, u) for u in PASSWORDS}


@pytest.fixture
def lead(airflow_api, tokens):
    """A browser session of user 'lead' (role op): the Airflow UI's ``_token`` cookie."""
    with httpx.Client(base_url=airflow_api, cookies={"_token": tokens["lead"]}, timeout=20) as c:
        yield c


@pytest.fixture
def anon(airflow_api):
    with httpx.Client(base_url=airflow_api, timeout=20) as c:
        yield c


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert m, "no CSRF token in the form"
    return m.group(1)


# ------------------------------------------------------------------ rows
def _daily(db, store, mkt, day, *, msgs, needing, late, pending=0, avg=None, responded=None, claims=0, orders=10,
           high=0):
    responded = needing - pending if responded is None else responded
    with db.cursor() as cur:
        cur.execute(
            """INSERT INTO kpi.store_daily (store_id, marketplace, day, buyer_messages, needing_response, responded,
                   responded_within_24h, late_responses, pending_within_sla, avg_response_minutes, median_response_minutes,
                   late_response_rate, high_risk_messages, wismo_messages, wismo_share, orders, a_to_z_claims, a_to_z_claim_rate)
               VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,0,0,%s,%s,%s)""",
            (store, mkt, day, msgs, needing, responded, responded - late, late, pending, avg, avg,
             (late / (needing - pending)) if needing - pending else None, high, orders, claims,
             claims / orders if orders else None))


def _outbox(db, key, *, store="us-outdoor", status="pending_approval", subject="Re: your order", body="Hello",
            findings=(), action="reply", order_id="111-0000001-0000001"):
    with db.cursor() as cur:
        cur.execute(
            """INSERT INTO core.outbox (idempotency_key, store_id, message_id, order_id, action, template, locale,
                   subject, body, mode, status, lint_findings)
               VALUES (%s,%s,%s,%s,%s,'generic_reply','en',%s,%s,'draft',%s,%s)""",
            (key, store, key.split(":")[-1], order_id, action, subject, body, status, json.dumps(list(findings))))


def _outbox_row(db, key) -> dict:
    with db.cursor() as cur:
        cur.execute("SELECT status, decided_by, decided_at, body, lint_findings, status_reason FROM core.outbox "
                    "WHERE idempotency_key = %s", (key,))
        r = cur.fetchone()
    return dict(zip(("status", "decided_by", "decided_at", "body", "lint_findings", "status_reason"), r))


# ------------------------------------------------------------------ protection
def test_every_route_needs_an_airflow_login(db, anon, airflow_api, tokens):
    _outbox(db, "reply:us-outdoor:<m1@x>")
    for path in ("/api/kpis", "/api/health", "/api/approvals", "/api/messages"):
        r = anon.get(PREFIX + path)
        assert r.status_code == 401, (path, r.status_code)
        assert r.headers.get("www-authenticate") == "Bearer"
    for path in ("/", "/kpis", "/health", "/approvals", "/messages", "/kpis?lang=zh"):
        r = anon.get(PREFIX + path)
        assert r.status_code == 303, (path, r.status_code)
        loc = r.headers["location"]
        assert loc.startswith("/auth/login") and "next=" in loc, loc
    # a POST without login changes nothing and is sent to the login page
    r = anon.post(PREFIX + "/approvals/approve", data={"key": "reply:us-outdoor:<m1@x>", "body": "ok"})
    assert r.status_code == 303 and r.headers["location"].startswith("/auth/login")
    r = anon.post(PREFIX + "/api/approvals/approve", json={"key": "reply:us-outdoor:<m1@x>"})
    assert r.status_code == 401
    assert _outbox_row(db, "reply:us-outdoor:<m1@x>")["status"] == "pending_approval"
    # garbage, forged (another secret) and expired-looking tokens are refused
    import jwt

    claims = jwt.decode(tokens["lead"], options={"verify_signature": False})
    header = jwt.get_unverified_header(tokens["lead"])
    forged = jwt.encode({**claims, "role": "admin"}, secrets.token_urlsafe(64), algorithm="HS512", headers=header)
    past = int(time.time()) - 7200
    expired = jwt.encode({**claims, "iat": past, "nbf": past, "exp": past + 60}, JWT_SECRET, algorithm="HS512",
                         headers=header)
    for bad in ("garbage", forged, expired):
        assert anon.get(PREFIX + "/api/kpis", headers={"Authorization": f"Bearer {bad}"}).status_code == 401
        r = anon.get(PREFIX + "/kpis", cookies={"_token": bad})
        assert r.status_code == 303 and r.headers["location"].startswith("/auth/login")
    # Airflow's own token works as a Bearer header and as the UI's cookie
    assert anon.get(PREFIX + "/api/approvals", headers={"Authorization": f"Bearer {tokens['lead']}"}).status_code == 200
    assert anon.get(PREFIX + "/approvals", cookies={"_token": tokens["viewer"]}).status_code == 200


def test_plugin_imports_cheaply_and_registers_the_app():
    probe = r"""
import importlib.util, json, sys, time
import airflow.plugins_manager
before = set(sys.modules)
t0 = time.perf_counter()
spec = importlib.util.spec_from_file_location("seller_inbox_plugin", sys.argv[1])
mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
dt = time.perf_counter() - t0
new = set(sys.modules) - before
p = mod.SellerInboxPlugin
app = p.fastapi_apps[0]["app"]
heavy = sorted(m for m in ("fastapi", "psycopg2", "seller_inbox.ui.app", "seller_inbox.compliance", "matplotlib") if m in new)
built = app.app
print("JSON" + json.dumps({
    "seconds": dt, "heavy": heavy, "is_plugin": issubclass(p, airflow.plugins_manager.AirflowPlugin),
    "apps": [{k: v for k, v in a.items() if k != "app"} for a in p.fastapi_apps],
    "views": p.external_views, "built": type(built).__module__ + "." + type(built).__name__,
    "routes": sorted(getattr(r, "path", "") for r in built.routes)}))
"""
    env = {k: v for k, v in os.environ.items() if k != "SELLER_INBOX_WAREHOUSE_URL"}
    out = subprocess.run([sys.executable, "-c", probe, str(ROOT / "plugins" / "seller_inbox_plugin.py")],
                         env=env, capture_output=True, text=True, timeout=120)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("JSON")), None)
    assert line, out.stderr[-2000:]
    info = json.loads(line[4:])
    assert info["is_plugin"]
    assert info["apps"] == [{"url_prefix": "/seller-inbox", "name": "Seller Inbox"}]
    assert info["heavy"] == [], f"plugin import pulled in {info['heavy']}"
    assert info["seconds"] < 0.5
    assert info["built"] == "fastapi.applications.FastAPI"
    for path in ("/kpis", "/health", "/approvals", "/messages", "/approvals/approve", "/approvals/reject", "/api/kpis"):
        assert path in info["routes"]
    hrefs = {v["href"] for v in info["views"]}
    assert hrefs == {"seller-inbox/kpis", "seller-inbox/health", "seller-inbox/approvals", "seller-inbox/messages"}
    assert all(v["destination"] == "nav" and v["url_route"] for v in info["views"])


def test_plugin_is_listed_by_the_api_server(lead, tokens):
    r = lead.get("/api/v2/plugins", headers={"Authorization": f"Bearer {tokens['lead']}"})
    assert r.status_code == 200
    plugin = next(p for p in r.json()["plugins"] if p["name"] == "seller_inbox")
    assert plugin["fastapi_apps"][0]["url_prefix"] == "/seller-inbox"
    assert len(plugin["external_views"]) == 4


# ------------------------------------------------------------------ pages
def test_kpis_page_in_both_languages_with_numbers_and_charts(db, lead):
    today = date.today()
    # us-outdoor/US: 10 days ending yesterday; day i has 10 messages, 8 needing response, i % 3 late
    for i in range(1, 11):
        _daily(db, "us-outdoor", "US", today - timedelta(days=i), msgs=10 + i, needing=8, late=i % 3,
               avg=60.0 + i, claims=1 if i == 2 else 0, orders=20, high=1 if i in (1, 4) else 0)
    _daily(db, "eu-home", "DE", today - timedelta(days=1), msgs=5, needing=4, late=0, avg=30.0)
    with db.cursor() as cur:  # the latest 60-day ODR window (claims dated by order), MFN
        cur.execute("""INSERT INTO kpi.order_defect_rate (store_id, marketplace, fulfillment_channel, window_end,
                           window_start, orders, a_to_z_claims, negative_feedback, defective_orders, order_defect_rate,
                           a_to_z_claim_rate) VALUES ('us-outdoor', 'US', 'MFN', %s, %s, 200, 1, 2, 3, 0.015, 0.005)""",
                    (today - timedelta(days=14), today - timedelta(days=73)))
        # the day before's window in both channels: the ODR chart's point for yesterday (Amazon's lag)
        for ch, orders, defective in (("MFN", 150, 2), ("AFN", 50, 1)):
            cur.execute("""INSERT INTO kpi.order_defect_rate (store_id, marketplace, fulfillment_channel, window_end,
                               window_start, orders, defective_orders) VALUES ('us-outdoor', 'US', %s, %s, %s, %s, %s)""",
                        (ch, today - timedelta(days=15), today - timedelta(days=74), orders, defective))
        cur.execute("""INSERT INTO kpi.reconciliation (store_id, marketplace, fulfillment_channel, window_start, window_end,
                           our_orders, our_a_to_z_claims, our_negative_feedback, our_defective_orders, our_order_defect_rate,
                           our_a_to_z_claim_rate, amazon_order_defect_rate, amazon_a_to_z_claim_rate, odr_difference,
                           a_to_z_claim_rate_difference, tolerance, flagged)
                       VALUES ('us-outdoor', 'US', 'AFN', %s, %s, 500, 3, 3, 6, 0.012, 0.006, 0.007, 0.006, 0.005, 0, 0.0025, true)""",
                    (today - timedelta(days=73), today - timedelta(days=14)))
        # MFN: the desk has read orders and mail for a week only: not comparable yet, not drift
        cur.execute("""INSERT INTO kpi.reconciliation (store_id, marketplace, fulfillment_channel, window_start, window_end,
                           our_orders, our_a_to_z_claims, our_negative_feedback, our_defective_orders, our_order_defect_rate,
                           our_a_to_z_claim_rate, amazon_order_defect_rate, amazon_a_to_z_claim_rate, odr_difference,
                           a_to_z_claim_rate_difference, tolerance, flagged, report_made_at, orders_read_since,
                           mail_read_since, comparable)
                       VALUES ('us-outdoor', 'US', 'MFN', %s, %s, 0, 0, 0, 0, NULL, NULL, 0.007, 0.006, NULL, NULL, 0.0025,
                               false, %s, %s, %s, false)""",
                    (today - timedelta(days=73), today - timedelta(days=14), datetime.combine(today, dtime(5, 30), UTC),
                     datetime.combine(today - timedelta(days=7), dtime(0), UTC), None))
    add_message(db, "us-outdoor", "<open-high@x>", datetime.now(UTC) - timedelta(hours=3), risk="high", intent="a_to_z_claim")

    # 7-day window = days 1..6 (day > current_date - 7)
    late7 = sum(i % 3 for i in range(1, 7))
    rate7 = f"{late7 / (8 * 6) * 100:.2f} %"
    late30 = sum(i % 3 for i in range(1, 11))
    rate30 = f"{late30 / 80 * 100:.2f} %"
    avg7 = sum((60 + i) * 8 for i in range(1, 7)) / 48 / 60

    en = lead.get(PREFIX + "/kpis?lang=en")
    assert en.status_code == 200, en.text[:500]
    assert en.headers["content-language"] == "en"
    for label in ("KPIs per store and marketplace", "Late response rate", "Average response time",
                  "A-to-z claim rate (60 days)", "High-risk messages still open", "Store health", "Approvals"):
        assert label in en.text, label
    row = re.search(r'<tr data-store="us-outdoor" data-marketplace="US">(.*?)</tr>', en.text, re.S).group(1)
    assert rate7 in row and rate30 in row
    assert f"{avg7:.1f} h" in row
    assert re.search(r'class="num high-risk"><span class="badge high">2</span>', row)
    assert re.search(r'class="num high-open"><span class="badge high">1</span>', row)
    assert "1 / 200" in row  # A-to-z claims / orders over 60 days
    # every declared metric the page shows (seller_inbox/metrics.py), and the ODR against its target
    import html

    from seller_inbox import metrics
    for m in metrics.of("store_daily") + metrics.of("order_defect_rate"):
        if m.ui and m.rollup:
            assert f'data-metric="{m.name}" title="{m.en}">{m.label_en}<' in html.unescape(en.text), m.name
    odr = re.search(r'<tr data-store="us-outdoor" data-marketplace="US" data-channel="MFN">(.*?)</tr>', en.text, re.S).group(1)
    assert 'm-order_defect_rate overdue">1.500 %' in odr and "200" in odr
    recon = re.search(r'<tr data-store="us-outdoor" data-marketplace="US" data-channel="AFN" class="recon flagged">(.*?)</tr>',
                      en.text, re.S).group(1)  # ours against Amazon's report, drifted
    assert "1.200 %" in recon and "0.700 %" in recon and "0.500 %" in recon and "drifted" in recon
    early = re.search(r'<tr data-store="us-outdoor" data-marketplace="US" data-channel="MFN" class="recon not-comparable">'
                      r'(.*?)</tr>', en.text, re.S).group(1)
    assert (f"not comparable yet: the desk has read orders only since {today - timedelta(days=7)}, mail not up to "
            f"{today} 05:30 UTC; the comparison needs orders and mail from {today - timedelta(days=73)}") in early
    assert "drifted" not in early
    assert "<script" not in en.text.lower(), en.text[en.text.lower().find("<script") - 300:][:1500]
    assert not re.search(r"(src|href)=\"https?://", en.text)  # nothing loaded from the network

    # one bar / point per day with a row; the 30-day charts show the 10 days there are
    card = re.search(r'<div class="card kpi-group" data-store="us-outdoor" data-marketplace="US">(.*?)</div>', en.text, re.S).group(1)
    svgs = re.findall(r"<svg .*?</svg>", card, re.S)
    assert len(svgs) == 4
    msgs_bars = re.findall(r'<rect class="bar"[^>]*data-day="([\d-]+)" data-value="(\d+)"', svgs[0])
    assert len(msgs_bars) == 10
    assert dict(msgs_bars)[(today - timedelta(days=3)).isoformat()] == "13"
    late_pts = re.findall(r'<circle class="point"[^>]*data-day="([\d-]+)" data-value="(\d+)"', svgs[1])
    assert len(late_pts) == 10 and dict(late_pts)[(today - timedelta(days=5)).isoformat()] == "2"
    assert len(re.findall(r'<rect class="bar"', svgs[2])) == 10
    # the ODR Amazon shows on each day (the window ending 14 days before, channels together) against 1 %
    assert re.findall(r'<circle class="point"[^>]*data-day="([\d-]+)" data-value="([\d.]+)"', svgs[3]) == [
        ((today - timedelta(days=1)).isoformat(), "1.5")]  # (2 + 1) / (150 + 50)
    assert re.search(r'<line class="target"[^>]*data-value="1"', svgs[3])

    # the 7-day charts: exactly 7 bars, the last 7 days of data
    wk = lead.get(PREFIX + "/kpis?lang=en&days=7&store=us-outdoor")
    card = re.search(r'<div class="card kpi-group" data-store="us-outdoor".*?</div>', wk.text, re.S).group(0)
    assert len(re.findall(r'<rect class="bar"', re.findall(r"<svg .*?</svg>", card, re.S)[0])) == 7
    assert 'data-store="eu-home"' not in wk.text  # store filter

    zh = lead.get(PREFIX + "/kpis?lang=zh")
    assert zh.headers["content-language"] == "zh-CN"
    for label in ("KPI 看板", "各店铺与站点 KPI", "超时回复率", "平均响应时间", "A-to-z 索赔率（60 天）", "店铺健康", "待审批回复", "近 7 天"):
        assert label in zh.text, label
    assert rate7 in zh.text and "买家消息" in zh.text
    assert "Late response rate" not in zh.text
    # language from Accept-Language when there is no ?lang=
    r = lead.get(PREFIX + "/kpis", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"})
    assert "超时回复率" in r.text
    r = lead.get(PREFIX + "/kpis", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert "Late response rate" in r.text

    api = lead.get(PREFIX + "/api/kpis").json()
    g = next(x for x in api["groups"] if x["store_id"] == "us-outdoor")
    assert g["windows"]["7"]["late_responses"] == late7 and len(g["daily"]) == 10


def test_store_health_page(db, lead):
    now = datetime.now(UTC)
    with db.cursor() as cur:
        cur.execute("""INSERT INTO ops.store_auth (store_id, seller_id, status, last_success_at, authorized_at,
                           days_until_reauth, client_secret_created_at, client_secret_age_days, checked_at)
                       VALUES ('us-outdoor', 'A1DEMOUSOUTDOOR', 'ok', %s, current_date - 100, 265, current_date - 40, 40, %s),
                              ('eu-home', 'A2DEMOEUHOME', 'ok', %s, current_date - 353, 12, current_date - 171, 171, %s)""",
                    (now, now, now, now))
        cur.execute("""INSERT INTO ops.store_auth (store_id, seller_id, status, last_error_at, last_error, checked_at)
                       VALUES ('jp-gadgets', 'A3DEMOJPGADGETS', 'revoked', %s, 'invalid_grant: refresh token revoked', %s)""",
                    (now, now))
        cur.execute("""INSERT INTO ops.gate_run (store_id, stage, interval_start, interval_end, success, rows_checked,
                           failed_expectations, failing_rows, run_id, evaluated_at)
                       VALUES ('eu-home', 'classify', %s, %s, false, 42, %s, %s, 'scheduled__x', %s),
                              ('eu-home', 'ingest', %s, %s, true, 40, '[]', '[]', 'scheduled__y', %s)""",
                    (now - timedelta(days=1), now, json.dumps([{"batch": "messages", "expectation": "ExpectColumnValuesToNotBeNull",
                                                               "column": "intent", "unexpected_count": 2, "observed_value": None}]),
                     json.dumps([{"batch": "messages", "expectation": "ExpectColumnValuesToNotBeNull",
                                  "message_id": "<gate-bad-1@x>", "intent": None}]), now,
                     now - timedelta(days=1), now, now))
        rows = ([("us-outdoor", "getOrders", "ok", 1)] * 5 + [("us-outdoor", "getOrders", "throttled", 1)] * 3
                + [("us-outdoor", "getOrderItems", "error", 1)] + [("eu-home", "getOrders", "ok", 1)] * 2)
        for s, op, outcome, h in rows:
            cur.execute("INSERT INTO ops.api_calls (store_id, operation, status, outcome, called_at) VALUES (%s,%s,%s,%s, now() - %s * interval '1 hour')",
                        (s, op, 429 if outcome == "throttled" else 200, outcome, h))
        for _ in range(4):  # older than 24 h: not counted
            cur.execute("INSERT INTO ops.api_calls (store_id, operation, status, outcome, called_at) VALUES ('us-outdoor','getOrders',429,'throttled', now() - interval '30 hours')")
        for waited in (40000, 20000):  # two long waits that freed the worker slot: no request sent
            cur.execute("INSERT INTO ops.api_calls (store_id, operation, outcome, waited_ms) "
                        "VALUES ('us-outdoor', 'searchOrders', 'deferred', %s)", (waited,))

    en = lead.get(PREFIX + "/health?lang=en")
    assert en.status_code == 200
    for label in ("SP-API authorization", "Days until re-authorization", "Client secret age (days)",
                  "Latest data-quality gate failures", "SP-API calls in the last 24 h (throttling)"):
        assert label in en.text, label
    eu = re.search(r'<tr data-store="eu-home">(.*?)</tr>', en.text, re.S).group(1)
    assert re.search(r'class="num reauth due">12', eu) and re.search(r'class="num secret due">171', eu)
    us = re.search(r'<tr data-store="us-outdoor">(.*?)</tr>', en.text, re.S).group(1)
    assert re.search(r'class="num reauth">265', us) and re.search(r'class="num secret">40', us)
    jp = re.search(r'<tr data-store="jp-gadgets">(.*?)</tr>', en.text, re.S).group(1)
    assert "badge bad" in jp and "invalid_grant" in jp
    gates = re.findall(r'<div class="card gate-failure" data-store="([^"]+)" data-stage="([^"]+)"', en.text)
    assert gates == [("eu-home", "classify")]
    assert "ExpectColumnValuesToNotBeNull" in en.text and "&lt;gate-bad-1@x&gt;" in en.text
    calls = re.search(r'<table class="api-calls">.*?<tr data-store="us-outdoor">(.*?)</tr>', en.text, re.S).group(1)
    assert re.search(r'class="num ok">5<', calls) and re.search(r'class="num throttled due">3<', calls)
    assert re.search(r'class="num err overdue">1<', calls) and re.search(r'class="num total">9<', calls)
    assert re.search(r'class="num deferred">2<', calls) and re.search(r'class="num waited">60 s<', calls)

    zh = lead.get(PREFIX + "/health?lang=zh")
    for label in ("店铺健康", "SP-API 授权", "距重新授权（天）", "客户端密钥已用（天）", "即将到期", "已撤销", "被限流 (429)", "等待令牌时长"):
        assert label in zh.text, label


def test_store_health_shows_open_quarantine_per_store(db, lead):
    """Open quarantined mail per store, its latest items with their (redacted, bounded) reasons
    and the retry command; resolved items and other stores' items are not counted."""
    now = datetime.now(UTC)
    with db.cursor() as cur:
        for i in range(4):
            cur.execute("""INSERT INTO ops.quarantine (store_id, source_ref, source, folder_role, item_ref, reason,
                               quarantined_at, last_seen_at)
                           VALUES ('eu-home', %s, 'maildir:INBOX', 'inbox', %s, %s, %s, %s)""",
                        (f"maildir:INBOX/{i}.q.host", f"{i}.q.host",
                         "missing From header" if i else "database refused it: " + "x" * 290,
                         now - timedelta(days=2 if i == 0 else 0), now - timedelta(minutes=10 * i)))
        cur.execute("""INSERT INTO ops.quarantine (store_id, source_ref, source, item_ref, reason, status, resolved_at)
                       VALUES ('eu-home', 'imap:INBOX/7:9', 'imap:INBOX', '7:9', 'empty message', 'resolved', now()),
                              ('jp-gadgets', 'imap:INBOX/7:1', 'imap:INBOX', '7:1', 'empty message', 'resolved', now())""")
    en = lead.get(PREFIX + "/health?lang=en")
    assert en.status_code == 200 and "Mail that could not be processed (quarantine)" in en.text
    rows_ = re.findall(r'<table class="quarantine">.*?</table>', en.text, re.S)
    assert len(rows_) == 1
    eu = re.search(r'<tr data-store="eu-home">(.*?)</tr>', rows_[0], re.S).group(1)
    assert re.search(r'class="num open overdue">4<', eu) and re.search(r'class="num new">3<', eu)
    assert re.search(r'class="num resolved">1<', eu)
    assert eu.count("<li>") == 3 and "maildir:INBOX/0.q.host" in eu and "maildir:INBOX/3.q.host" not in eu
    assert "x" * 179 in eu and "x" * 180 not in eu  # reason bounded to 200 chars
    assert "missing From header" in eu and "seller-inbox quarantine retry --store eu-home" in eu
    assert 'data-store="jp-gadgets"' not in rows_[0]  # nothing open there
    api = lead.get(PREFIX + "/api/health?store=eu-home").json()
    assert [(q["store_id"], q["open"]) for q in api["quarantine"]] == [("eu-home", 4)]
    assert max(len(x["reason"]) for x in api["quarantine"][0]["latest"]) <= 200
    zh = lead.get(PREFIX + "/health?lang=zh")
    for label in ("无法处理的邮件（隔离区）", "待处理", "近 24 小时新增", "排除原因后重新处理："):
        assert label in zh.text, label
    with db.cursor() as cur:
        cur.execute("UPDATE ops.quarantine SET status = 'resolved', resolved_at = now()")
    assert "No quarantined mail." in lead.get(PREFIX + "/health?lang=en").text


def test_store_health_shows_incidents_gaps_and_data_quality_over_time(db, lead):
    """What keeps a store from going quiet, on one page: failing tasks, stretches never read
    (with the backfill that fills them), and data-quality results charted per day and level."""
    now = datetime.now(UTC)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    with db.cursor() as cur:
        cur.execute("""INSERT INTO ops.incident (store_id, incident_key, opened_at, last_failed_at, failures, last_error)
                       VALUES ('eu-home', 'si_eu-home_pipeline.ingest_orders', %s, %s, 3, 'SpApiError: 503 from getOrders'),
                              ('us-outdoor', 'si_us-outdoor_pipeline.classify', %s, %s, 1, 'gone')""",
                    (now - timedelta(hours=5), now, now - timedelta(days=2), now - timedelta(days=2)))
        cur.execute("UPDATE ops.incident SET resolved_at = now() WHERE store_id = 'us-outdoor'")
        for a, b in ((day - timedelta(days=3), day - timedelta(days=2)), (day - timedelta(days=1), day)):
            cur.execute("""INSERT INTO ops.ingest_coverage (store_id, source, interval_start, interval_end, rows_loaded)
                           VALUES ('eu-home', 'mail', %s, %s, 10)""", (a, b))
        for i, (level, ok) in enumerate((("error", False), ("quarantine", False), ("quarantine", True), ("warn", False))):
            cur.execute("""INSERT INTO ops.dq_results (store_id, stage, interval_start, interval_end, batch, expectation,
                               level, success, unexpected_count) VALUES ('eu-home', 'ingest_mail', %s, %s, 'messages', %s, %s, %s, 1)""",
                        (day - timedelta(days=1), day, f"e{i}", level, ok))
        cur.execute("""INSERT INTO ops.dq_quarantine (store_id, stage, batch, row_key, expectation, interval_start, interval_end)
                       VALUES ('eu-home', 'ingest_mail', 'messages', '<nl@x>', 'ExpectColumnValuesToBeInSet(marketplace)', %s, %s)""",
                    (day - timedelta(days=1), day))
    en = lead.get(PREFIX + "/health?lang=en")
    assert en.status_code == 200
    inc = re.search(r'<table class="incidents">(.*?)</table>', en.text, re.S).group(1)
    assert "si_eu-home_pipeline.ingest_orders" in inc and "503 from getOrders" in inc and "us-outdoor" not in inc
    gaps = re.search(r'<table class="gaps">(.*?)</table>', en.text, re.S).group(1)
    assert re.search(r'class="num overdue">24.0<', gaps)
    assert "airflow backfill create --dag-id si_eu-home_pipeline" in gaps
    totals = re.search(r'<p class="dq-totals">(.*?)</p>', en.text, re.S).group(1)
    assert re.findall(r"<b[^>]*>(\d+)</b>", totals) == ["4", "1", "1", "1"]
    charts = re.search(r'<div class="charts dq">(.*?)</div>', en.text, re.S).group(1)
    assert charts.count("<svg") == 3 and 'data-value="1"' in charts
    assert "&lt;nl@x&gt;" in re.search(r'<table class="dq-set-aside">(.*?)</table>', en.text, re.S).group(1)
    zh = lead.get(PREFIX + "/health?lang=zh")
    for label in ("失败中的任务（未恢复的故障）", "采集缺口（未读取的时段）", "数据质量（近 14 天）", "被数据检查隔离的记录"):
        assert label in zh.text, label
    with db.cursor() as cur:
        cur.execute("TRUNCATE ops.incident, ops.ingest_coverage, ops.dq_results, ops.dq_quarantine")
    en = lead.get(PREFIX + "/health?lang=en").text
    assert "No task is failing." in en and "No gaps" in en and "No rows set aside." in en


def test_open_messages_most_urgent_first(db, lead):
    now = datetime.now(UTC)
    add_message(db, "us-outdoor", "<late@x>", now - timedelta(hours=30), risk="medium", intent="return_request")
    add_message(db, "eu-home", "<soon@x>", now - timedelta(hours=20), marketplace="DE", risk="high", intent="a_to_z_claim", language="de")
    add_message(db, "us-outdoor", "<fresh@x>", now - timedelta(hours=1), risk="low")
    add_message(db, "us-outdoor", "<answered@x>", now - timedelta(hours=5), first_reply_at=now - timedelta(hours=4))
    add_message(db, "us-outdoor", "<nrn@x>", now - timedelta(hours=5), no_response_needed=True)

    en = lead.get(PREFIX + "/messages?lang=en")
    assert en.status_code == 200
    order = re.findall(r'<tr class="msg[^"]*" data-message="([^"]+)"', en.text)
    assert order == ["&lt;late@x&gt;", "&lt;soon@x&gt;", "&lt;fresh@x&gt;"]
    rows = dict(zip(order, re.findall(r'<tr class="msg([^"]*)" data-message', en.text)))
    assert rows["&lt;late@x&gt;"] == " overdue" and rows["&lt;soon@x&gt;"] == " due"
    assert '<span class="badge risk high">high</span>' in en.text
    assert re.search(r'class="v open-count">3<', en.text) and re.search(r'class="v overdue-count"[^>]*>1<', en.text)
    zh = lead.get(PREFIX + "/messages?lang=zh")
    assert "待回复买家消息（按紧急程度排序）" in zh.text and '<span class="badge risk high">高</span>' in zh.text
    assert "回复截止" in zh.text
    only_eu = lead.get(PREFIX + "/api/messages?store=eu-home").json()["messages"]
    assert [m["message_id"] for m in only_eu] == ["<soon@x>"]


# ------------------------------------------------------------------ approvals
def test_approve_relints_refuses_findings_and_records_the_reviewer(db, lead):
    key = "reply:us-outdoor:<draft-1@x>"
    bad_body = "Hi, please write to support@example.com or leave a 5-star review."
    _outbox(db, key, body=bad_body, findings=[{"code": "email_address", "detail": "remove the e-mail address"}])
    page = lead.get(PREFIX + "/approvals?lang=en")
    assert page.status_code == 200
    assert "Replies waiting for approval" in page.text and "email_address" in page.text
    assert "support@example.com" in page.text
    token = _csrf(page.text)

    # approving the unchanged text is refused, with the findings, and nothing changes
    r = lead.post(PREFIX + "/approvals/approve?lang=en", data={"csrf_token": token, "key": key, "subject": "Re: your order", "body": bad_body})
    assert r.status_code == 422
    assert "Not approved: the text still breaks the compliance rules" in r.text
    assert "email_address" in r.text and "positive_review_only" in r.text
    assert _outbox_row(db, key)["status"] == "pending_approval"
    # so is a body edited but still not compliant; the Chinese message in zh
    r = lead.post(PREFIX + "/approvals/approve?lang=zh", data={"csrf_token": token, "key": key, "subject": "Re: your order",
                                                               "body": "Call us at +1 555 123 4567."})
    assert r.status_code == 422 and "未批准：内容仍不符合合规规则" in r.text and "phone_number" in r.text
    assert "Call us at +1 555 123 4567." in r.text  # the reviewer's edit is kept in the form
    # without the CSRF token (or with a wrong one) the form is refused
    for bad in ({}, {"csrf_token": "0" * 40}):
        r = lead.post(PREFIX + "/approvals/approve", data={"key": key, "body": "Fine text.", **bad})
        assert r.status_code == 403
    assert _outbox_row(db, key)["status"] == "pending_approval"

    fixed = "Hello, your parcel left our warehouse yesterday and should arrive within three days."
    r = lead.post(PREFIX + "/approvals/approve?lang=en", data={"csrf_token": token, "key": key, "subject": "Re: your order", "body": fixed})
    assert r.status_code == 303
    assert "done=approved" in r.headers["location"]
    row = _outbox_row(db, key)
    assert row["status"] == "approved" and row["decided_by"] == "lead" and row["decided_at"] is not None
    assert row["body"] == fixed and row["lint_findings"] == [] and row["status_reason"] == "body edited by the reviewer"
    done = lead.get(r.headers["location"])
    assert "Approved: " + key.replace("<", "&lt;").replace(">", "&gt;") in done.text
    assert "Nothing waiting for approval." in done.text
    assert re.search(r'<td class="decided-by">lead</td>', done.text)

    # a row that is no longer pending cannot be approved (or rejected) again
    for action in ("approve", "reject"):
        r = lead.post(PREFIX + f"/approvals/{action}?lang=en", data={"csrf_token": token, "key": key, "body": fixed})
        assert r.status_code == 409 and "no longer waiting for approval (status: approved)" in r.text
    assert _outbox_row(db, key)["decided_by"] == "lead"


def test_approve_clean_text_reject_and_non_pending(db, lead, tokens, airflow_api):
    _outbox(db, "reply:us-outdoor:<clean@x>", body="Your order has shipped and should arrive on Friday.")
    _outbox(db, "reply:eu-home:<nope@x>", store="eu-home", body="Bonjour, votre colis est en route.")
    _outbox(db, "reply:us-outdoor:<sent@x>", status="sent", body="Already sent.")
    _outbox(db, "reply:us-outdoor:<blocked@x>", status="blocked", body="Contact me at a@b.co")
    token = _csrf(lead.get(PREFIX + "/approvals").text)

    # unchanged compliant text: approved as is
    r = lead.post(PREFIX + "/approvals/approve", data={"csrf_token": token, "key": "reply:us-outdoor:<clean@x>",
                                                       "subject": "Re: your order",
                                                       "body": "Your order has shipped and should arrive on Friday."})
    assert r.status_code == 303
    row = _outbox_row(db, "reply:us-outdoor:<clean@x>")
    assert row["status"] == "approved" and row["decided_by"] == "lead" and row["status_reason"] is None

    r = lead.post(PREFIX + "/approvals/reject?lang=zh", data={"csrf_token": token, "key": "reply:eu-home:<nope@x>",
                                                             "reason": "wrong language"})
    assert r.status_code == 303
    row = _outbox_row(db, "reply:eu-home:<nope@x>")
    assert row["status"] == "rejected" and row["decided_by"] == "lead" and row["decided_at"] is not None
    assert row["status_reason"] == "wrong language"
    assert "已拒绝：reply:eu-home:&lt;nope@x&gt;" in lead.get(r.headers["location"]).text

    for key, status in (("reply:us-outdoor:<sent@x>", "sent"), ("reply:us-outdoor:<blocked@x>", "blocked")):
        r = lead.post(PREFIX + "/approvals/approve", data={"csrf_token": token, "key": key, "body": "Clean text now."})
        assert r.status_code == 409
        row = _outbox_row(db, key)
        assert row["status"] == status and row["decided_by"] is None
    r = lead.post(PREFIX + "/approvals/approve", data={"csrf_token": token, "key": "reply:none:<x>", "body": "x"})
    assert r.status_code == 404

    # the JSON API with a Bearer token (no cookie, so no CSRF token needed)
    _outbox(db, "reply:us-outdoor:<api@x>", body="Visit www.my-shop.example for a discount.")
    bearer = {"Authorization": f"Bearer {tokens['lead']}"}
    with httpx.Client(base_url=airflow_api, timeout=20) as api:
        r = api.post(PREFIX + "/api/approvals/approve", json={"key": "reply:us-outdoor:<api@x>"}, headers=bearer)
        assert r.status_code == 422 and {f["code"] for f in r.json()["findings"]} >= {"external_link"}
        r = api.post(PREFIX + "/api/approvals/approve", headers=bearer,
                     json={"key": "reply:us-outdoor:<api@x>", "body": "Your parcel is on its way."})
        assert r.status_code == 200 and r.json() == {"key": "reply:us-outdoor:<api@x>", "status": "approved", "decided_by": "lead"}
    # a cookie session must send the CSRF token on the JSON API too
    _outbox(db, "reply:us-outdoor:<api2@x>", body="Fine.")
    assert lead.post(PREFIX + "/api/approvals/reject", json={"key": "reply:us-outdoor:<api2@x>"}).status_code == 403
    r = lead.post(PREFIX + "/api/approvals/reject", json={"key": "reply:us-outdoor:<api2@x>"}, headers={"X-CSRF-Token": token})
    assert r.status_code == 200 and _outbox_row(db, "reply:us-outdoor:<api2@x>")["status"] == "rejected"


def test_viewer_can_read_but_not_decide(db, airflow_api, tokens):
    _outbox(db, "reply:us-outdoor:<v@x>", body="Your order has shipped.")
    with httpx.Client(base_url=airflow_api, cookies={"_token": tokens["viewer"]}, timeout=20) as viewer:
        page = viewer.get(PREFIX + "/approvals?lang=en")
        assert page.status_code == 200 and "Signed in as" in page.text and ">viewer<" in page.text
        r = viewer.post(PREFIX + "/approvals/approve", data={"csrf_token": _csrf(page.text), "key": "reply:us-outdoor:<v@x>",
                                                             "body": "Your order has shipped."})
        assert r.status_code == 403 and "not allowed" in r.text
    assert _outbox_row(db, "reply:us-outdoor:<v@x>")["status"] == "pending_approval"


def test_every_template_label_is_in_the_i18n_table_in_both_languages():
    from seller_inbox.ui import i18n

    used: set[str] = set()
    for tpl in (ROOT / "include" / "seller_inbox" / "ui" / "templates").glob("*.html"):
        text = tpl.read_text(encoding="utf-8")
        used |= set(re.findall(r"\bL\.(\w+)", text)) - {"get"}
        used |= set(re.findall(r"\bt\('(\w+)'", text))
    app_src = (ROOT / "include" / "seller_inbox" / "ui" / "app.py").read_text(encoding="utf-8")
    used |= set(re.findall(r'i18n\.t\("(\w+)"', app_src))
    missing = used - set(i18n.keys())
    assert not missing, missing
    for key in i18n.keys():
        kw = dict(n=1, key="k", status="s", error="e", target=1, tol=1, sources="s", start="d", source="s", since="d",
                  until="d")
        en, zh = i18n.t(key, "en", **kw), i18n.t(key, "zh", **kw)
        assert en and zh
    assert i18n.pick_language("zh", "en-US") == "zh"
    assert i18n.pick_language("zh-CN", None) == "zh"
    assert i18n.pick_language("xx", "fr-FR;q=0.9, zh-TW;q=0.8, en;q=0.5") == "zh"
    assert i18n.pick_language(None, "en;q=0.4, zh;q=0.6") == "zh"
    assert i18n.pick_language(None, "zh;q=0, de") == "en"
    assert i18n.pick_language(None, None) == "en"


# ------------------------------------------------------------------ kill switches, listen mode, findings
def test_kill_switch_toggle_on_the_approvals_page_is_audited(db, lead, airflow_api, tokens):
    page = lead.get(PREFIX + "/approvals?lang=en")
    assert page.status_code == 200 and "Kill switches" in page.text
    scopes = re.findall(r'<tr data-scope="([^"]+)" class="(on|off)">', page.text)
    assert scopes == [("global", "off"), ("us-outdoor", "off"), ("eu-home", "off"), ("jp-gadgets", "off")]
    token = _csrf(page.text)
    # no CSRF token, a viewer, an unknown scope: refused, nothing flipped
    assert lead.post(PREFIX + "/approvals/kill-switch", data={"scope": "us-outdoor", "on": "1"}).status_code == 403
    with httpx.Client(base_url=airflow_api, cookies={"_token": tokens["viewer"]}, timeout=20) as viewer:
        vt = _csrf(viewer.get(PREFIX + "/approvals").text)
        r = viewer.post(PREFIX + "/approvals/kill-switch", data={"csrf_token": vt, "scope": "us-outdoor", "on": "1"})
        assert r.status_code == 403
    r = lead.post(PREFIX + "/approvals/kill-switch?lang=en", data={"csrf_token": token, "scope": "nope", "on": "1"})
    assert r.status_code == 404 and "No such store or scope." in r.text
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM ops.delivery_control_log")
        assert cur.fetchone() == (0,)

    r = lead.post(PREFIX + "/approvals/kill-switch?lang=en",
                  data={"csrf_token": token, "scope": "us-outdoor", "on": "1", "reason": "template bug"})
    assert r.status_code == 303 and "done=switch_on" in r.headers["location"]
    with db.cursor() as cur:
        cur.execute("SELECT kill_switch, changed_by, reason FROM ops.delivery_control WHERE scope = 'us-outdoor'")
        assert cur.fetchone() == (True, "lead", "template bug")
    done = lead.get(r.headers["location"])
    assert "Kill switch on: us-outdoor" in done.text
    row = re.search(r'<tr data-scope="us-outdoor" class="on">(.*?)</tr>', done.text, re.S).group(1)
    assert "ON: nothing leaves" in row and '<td class="changed-by">lead</td>' in row and "template bug" in row
    assert re.search(r'<td class="changed-at">\d{4}-\d\d-\d\d \d\d:\d\d UTC</td>', row)
    assert 'name="on" value="0"' in row and "Resume sending" in row
    zh = lead.get(PREFIX + "/approvals?lang=zh")
    assert "紧急停发开关" in zh.text and "已开启：停止发送" in zh.text and "恢复发送" in zh.text
    # and off again; both flips in the audit log
    r = lead.post(PREFIX + "/approvals/kill-switch?lang=zh", data={"csrf_token": token, "scope": "us-outdoor", "on": "0"})
    assert r.status_code == 303 and "已关闭停发开关：us-outdoor" in lead.get(r.headers["location"]).text
    with db.cursor() as cur:
        cur.execute("SELECT scope, kill_switch, changed_by, reason FROM ops.delivery_control_log ORDER BY id")
        assert cur.fetchall() == [("us-outdoor", True, "lead", "template bug"), ("us-outdoor", False, "lead", None)]
    api = lead.get(PREFIX + "/api/approvals").json()["kill_switches"]
    assert [(k["scope"], k["on"], k["changed_by"]) for k in api][:2] == [("global", False, None), ("us-outdoor", False, "lead")]


def test_listen_mode_shows_shadow_drafts_and_how_many_a_person_answered_differently(db, lead):
    from seller_inbox.delivery import shadow

    now = datetime.now(UTC)
    draft = ("Hello, your order 111-0000001-0000001 was shipped on November 24 with UPS. "
             "The tracking number is 1Z999AA10123456784. It should arrive by December 1.")

    def case(n, *, store="us-outdoor", days_ago=1.0, reply=None, thread=True):
        mid, t = f"<s{n}@x>", now - timedelta(days=days_ago)
        add_message(db, store, mid, t)
        with db.cursor() as cur:
            cur.execute("INSERT INTO core.thread (thread_id, store_id) VALUES (%s, %s)", (f"t{n}", store))
            cur.execute("UPDATE core.message SET thread_id = %s WHERE message_id = %s", (f"t{n}", mid))
            cur.execute("""INSERT INTO core.outbox (idempotency_key, store_id, message_id, order_id, action, template,
                               locale, subject, body, mode, status, created_at)
                           VALUES (%s, %s, %s, '111-0000001-0000001', 'reply', 'order_status', 'en',
                                   'Re: your order', %s, 'listen', 'shadow', %s)""",
                        (f"reply:{store}:{mid}", store, mid, draft, t))
        if reply is not None:
            add_message(db, store, f"<r{n}@store>", t + timedelta(hours=2), kind="seller_reply", body=reply)
            with db.cursor() as cur:
                cur.execute("UPDATE core.message SET thread_id = %s, in_reply_to = %s WHERE message_id = %s",
                            (f"t{n}" if thread else None, None if thread else mid, f"<r{n}@store>"))

    similar = ("Hi, your order 111-0000001-0000001 was shipped on November 24 with UPS. Tracking number "
               "1Z999AA10123456784; it should arrive by December 1.\n\n> Where is my package?")
    other = "Sorry for the wait! We had a stock problem; your parcel leaves tomorrow and we refunded the shipping."
    case(1, reply=similar)
    case(2, reply=other)
    case(3, reply=other, thread=False)        # linked by In-Reply-To only
    case(4)                                   # nobody answered
    case(5, days_ago=20, reply=other)         # outside the 14 days
    case(6, store="eu-home", reply=draft)     # answered with the draft itself
    assert shadow.similarity(draft, similar) >= shadow.DIFFERENT_BELOW > shadow.similarity(draft, other)

    en = lead.get(PREFIX + "/approvals?lang=en")
    assert en.status_code == 200 and "Listen mode: what would have been sent (last 14 days)" in en.text
    counts = {s: tuple(int(x) for x in re.findall(r'class="n-\w+">(\d+)<', body)) for s, body in
              re.findall(r'<p class="shadow-summary" data-store="([^"]+)">(.*?)</p>', en.text, re.S)}
    assert counts == {"us-outdoor": (4, 3, 2), "eu-home": (1, 1, 0)}
    assert "Shadow drafts" in en.text and "a person answered" in en.text and "differently" in en.text
    classes = dict(re.findall(r'<tr data-key="reply:[^:]+:&lt;(s\d)@x&gt;" class="(\w+)">', en.text))
    assert classes == {"s1": "same", "s2": "differently", "s3": "differently", "s4": "unanswered", "s6": "same"}
    assert "1Z999AA10123456784" in en.text   # the draft itself is shown
    only = lead.get(PREFIX + "/approvals?lang=en&store=eu-home").text
    assert 'data-store="us-outdoor"' not in re.search(r"Listen mode.*", only, re.S).group(0).split("</table>")[0]
    zh = lead.get(PREFIX + "/approvals?lang=zh").text
    assert "监听模式：本应发送的草稿（近 14 天）" in zh and "影子草稿" in zh and "人工已回复" in zh and "回复不同" in zh
    api = lead.get(PREFIX + "/api/approvals").json()["shadow"]
    assert {s["store_id"]: (s["shadow"], s["answered"], s["differently"]) for s in api["summary"]} == {
        "us-outdoor": (4, 3, 2), "eu-home": (1, 1, 0)}


def test_each_finding_shows_the_text_it_matched(db, lead):
    key = "reply:us-outdoor:<match@x>"
    _outbox(db, key, body="Write to support@example.com please.",
            findings=[{"code": "email_address", "detail": "remove the e-mail address", "match": "support@example.com"}])
    page = lead.get(PREFIX + "/approvals?lang=en").text
    card = re.search(r'<div class="card approval" data-key="reply:us-outdoor:&lt;match@x&gt;">(.*?)</form>', page, re.S).group(1)
    assert re.search(r'<code>email_address</code>: remove the e-mail address · matched: '
                     r'<mark class="match">support@example.com</mark>', card)
    r = lead.post(PREFIX + "/approvals/approve?lang=zh", data={"csrf_token": _csrf(page), "key": key,
                                                               "body": "Call us at +1 555 123 4567."})
    assert r.status_code == 422 and re.search(r'命中内容: <mark class="match">\+1 555 123 4567</mark>', r.text)
