"""The Seller Inbox UI in a real browser, and every plugin route's protection.

Headless Chromium (Debian's ``chromium``, ``make system-deps``) driven over the DevTools
protocol with the ``websockets`` client the project already pins (the start-up code is
``seller_inbox_dev.screenshot.Chromium``'s). It logs in through Airflow's own login page, opens
every page of the plugin's navigation in English and Chinese (plus one message's page) and one
store's DAG page in Airflow's React UI, and fails on a JavaScript error, a console error or a
request answered 4xx/5xx. Data: the screenshot tool's demo rows (``seed_demo``), so the
screenshots saved are the README's pictures; the API server is ``test_ui.py``'s.

The protection tests are parametrised over the app's own route table: a route added later is
covered without touching this file.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from tests.integration.test_ui import JWT_SECRET, PASSWORDS, PREFIX, airflow_api, tokens  # noqa: F401

# parsed into the API server's metadata DB by test_ui's airflow_api fixture
AIRFLOW_DAG_FILES = ("si_pipeline.py",)
DAG_STORE = "us-outdoor"
LANGS = ("en", "zh")


# ------------------------------------------------------------------ the route table
def _app_routes() -> list[tuple[str, str]]:
    """(method, path) of every route the plugin's app serves, path parameters filled in."""
    from seller_inbox.ui.app import create_app

    out = []
    for r in create_app().routes:
        for m in sorted(getattr(r, "methods", None) or ()):
            if m != "HEAD":
                out.append((m, re.sub(r"\{[^}]+\}", "index.html", r.path)))
    return out


ROUTES = _app_routes()


def _nav_pages() -> list[str]:
    """The pages of the plugin's navigation entries (``seller-inbox/<slug>`` → slug)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("si_plugin_nav", Path(__file__).resolve().parents[2]
                                                  / "plugins" / "seller_inbox_plugin.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return [v["href"].split("/", 1)[1] for v in mod.SellerInboxPlugin.external_views]


# ------------------------------------------------------------------ the browser
class Browser:
    """Headless Chromium over CDP that records, per page, JS exceptions, console errors and
    responses >= 400 / failed loads (events the screenshot tool's client reads past)."""

    def __init__(self):
        from seller_inbox_dev import screenshot

        self.errors: list[str] = []
        self.events: list[dict] = []
        chromium = screenshot.Chromium.__new__(screenshot.Chromium)
        # the screenshot tool's start-up, with this class's call() receiving the events
        chromium.call = self.call
        self._c = chromium
        self._id = 0
        screenshot.Chromium.__init__(chromium, width=1400, height=900)
        self.call("Runtime.enable")
        self.call("Log.enable")

    @property
    def ws(self):
        return self._c.ws

    def _record(self, msg: dict) -> None:
        m, p = msg.get("method"), msg.get("params", {})
        self.events.append(msg)
        if m == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            self.errors.append(f"JS exception: {d.get('exception', {}).get('description') or d.get('text')}")
        elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            self.errors.append("console.error: " + " ".join(str(a.get("value", a.get("description", ""))) for a in p["args"]))
        elif m == "Log.entryAdded" and p["entry"]["level"] == "error":
            self.errors.append(f"log error: {p['entry'].get('text')} {p['entry'].get('url', '')}")
        elif m == "Network.responseReceived" and p["response"]["status"] >= 400:
            self.errors.append(f"HTTP {p['response']['status']} {p['response']['url']}")
        elif m == "Network.loadingFailed" and not p.get("canceled"):
            self.errors.append(f"request failed: {p.get('errorText')} ({p.get('type')})")

    def _recv(self, timeout: float) -> dict:
        msg = json.loads(self.ws.recv(timeout=timeout))
        if "method" in msg:
            self._record(msg)
        return msg

    def call(self, method: str, **params):
        self._id += 1
        my = self._id
        self.ws.send(json.dumps({"id": my, "method": method, "params": params}))
        while True:
            msg = self._recv(60)
            if msg.get("id") == my:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def drain(self, seconds: float) -> None:
        """Read events for a while (requests a page makes after its load event)."""
        deadline = time.time() + seconds
        while (left := deadline - time.time()) > 0:
            try:
                self._recv(left)
            except TimeoutError:
                return

    def js(self, expr: str):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise AssertionError(f"{expr}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def wait_for(self, expr: str, timeout: float = 60):
        """Poll a JS expression until truthy (React pages render after their load event)."""
        deadline = time.time() + timeout
        while True:
            v = self.js(f"!!({expr})")
            if v:
                return v
            assert time.time() < deadline, f"timed out waiting for {expr}; at {self.js('location.href')}"
            self.drain(0.25)

    def goto(self, url: str) -> None:
        self.errors.clear()
        self.call("Page.navigate", url=url)
        deadline = time.time() + 60
        while True:
            msg = self._recv(max(0.1, deadline - time.time()))
            if msg.get("method") == "Page.loadEventFired":
                return

    def type_into(self, selector: str, text: str) -> None:
        self.js(f"document.querySelector({json.dumps(selector)}).focus()")
        self.call("Input.insertText", text=text)

    def shot(self, path: Path) -> None:
        import base64

        m = self.call("Page.getLayoutMetrics")
        h = min(int((m.get("cssContentSize") or m["contentSize"])["height"]), 6000)
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                         clip={"x": 0, "y": 0, "width": 1400, "height": h, "scale": 1})["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        self._c.close()


@pytest.fixture(scope="module")
def browser():
    b = Browser()
    yield b
    b.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    return Path(os.environ.get("SELLER_INBOX_UI_SHOTS") or tmp_path_factory.mktemp("ui_shots"))


def _text(b: Browser, selector: str) -> str:
    return b.js(f"(document.querySelector({json.dumps(selector)}) || {{}}).innerText || ''")


def _count(b: Browser, selector: str) -> int:
    return b.js(f"document.querySelectorAll({json.dumps(selector)}).length")


# what each nav page must show from the demo rows (seller_inbox_dev.screenshot.seed_demo)
def _check_kpis(b, lang):
    rows = b.js("[...document.querySelectorAll('tr[data-store][data-marketplace]:not([data-channel])')]"
                ".map(r => r.dataset.store + '/' + r.dataset.marketplace)")
    assert set(rows) >= {"us-outdoor/US", "eu-home/DE", "eu-home/FR", "jp-gadgets/JP"}, rows
    assert _count(b, "div.kpi-group svg rect.bar") >= 4 * 30  # 30 demo days per group, drawn
    assert _count(b, "div.kpi-group svg.c-purple line.target") == 4  # each group's ODR against Amazon's 1 %
    assert _count(b, "div.kpi-group svg.c-purple circle.point") >= 4 * 29
    assert re.search(r"\d+\.\d\d %", _text(b, 'tr[data-store="us-outdoor"][data-marketplace="US"]'))
    odr = b.js("[...document.querySelectorAll('table.kpi-odr tr[data-channel]')].map(r => r.dataset.store + '/' + "
               "r.dataset.marketplace + '/' + r.dataset.channel)")
    assert sorted(odr) == ["eu-home/DE/MFN", "eu-home/FR/MFN", "jp-gadgets/JP/AFN", "us-outdoor/US/AFN", "us-outdoor/US/MFN"]
    # reconciliation: the seeded drift (eu-home FR) is marked, the young desk (jp-gadgets) is not comparable yet
    assert b.js("[...document.querySelectorAll('table.kpi-recon tr.flagged')].map(r => r.dataset.store + '/' + "
                "r.dataset.marketplace).join()") == "eu-home/FR"
    assert b.js("[...document.querySelectorAll('table.kpi-recon tr.not-comparable')].map(r => r.dataset.store)"
                ".join()") == "jp-gadgets"


def _check_health(b, lang):
    jp = _text(b, 'tr[data-store="jp-gadgets"]')
    assert "invalid_grant" in jp, jp
    assert b.js("""[...document.querySelectorAll('div.gate-failure')].map(d => d.dataset.store + '/' + d.dataset.stage)
                   .join()""") == "eu-home/classify"
    assert "31" in _text(b, 'table.api-calls tr[data-store="eu-home"]')  # 31 throttled calls


def _check_approvals(b, lang):
    keys = b.js("[...document.querySelectorAll('div.approval')].map(d => d.dataset.key)")
    assert set(keys) == {"reply:eu-home:<draft-0@mail.example>", "reply:us-outdoor:<draft-1@mail.example>"}, keys
    assert "email_address" in _text(b, 'div.approval[data-key="reply:us-outdoor:<draft-1@mail.example>"]')
    assert b.js("document.querySelector('input[name=csrf_token]').value.length") == 40


def _check_messages(b, lang):
    ids = b.js("[...document.querySelectorAll('tr.msg')].map(r => r.dataset.message)")
    assert len(ids) == 6 and ids[0] == "<buyer-0@marketplace.amazon.example>", ids  # the oldest (26 h) first
    assert "overdue" in b.js("document.querySelector('tr.msg').className")


CHECKS = {"kpis": _check_kpis, "health": _check_health, "approvals": _check_approvals, "messages": _check_messages}


def _login_in_the_browser(b: Browser, base: str, next_path: str) -> None:
    """Open a page anonymously: the app sends the browser to Airflow's login page; sign in there."""
    b.call("Network.clearBrowserCookies")
    b.goto(base + next_path)
    b.wait_for("document.querySelector('input[type=password]')")
    assert b.js("location.pathname").startswith("/auth/login"), b.js("location.href")
    assert "next=" in b.js("location.search")
    b.type_into("form input:not([type=password])", "lead")
    b.type_into("input[type=password]", PASSWORDS["lead"])
    b.js("document.querySelector('form button[type=submit]').click()")
    b.wait_for(f"location.pathname === {json.dumps(next_path.split('?')[0])} && document.querySelector('h1')")
    b.drain(0.5)


# ------------------------------------------------------------------ the browser test
def test_every_page_in_a_real_browser_after_airflows_login(db, warehouse_dsn, airflow_api, tokens, browser, shots):  # noqa: F811
    from seller_inbox.ui import i18n
    from seller_inbox_dev.screenshot import seed_demo

    seed_demo(warehouse_dsn)
    pages = _nav_pages()
    assert set(pages) == set(CHECKS), f"a navigation page without a check here: {set(pages) ^ set(CHECKS)}"
    b = browser
    _login_in_the_browser(b, airflow_api, f"{PREFIX}/{pages[0]}?lang=en")
    assert not b.errors, b.errors
    # the recorder sees what the checks below fail on: a page answered 404, an uncaught JS error
    b.goto(f"{airflow_api}{PREFIX}/message?store=nope&id=nope")
    b.js("setTimeout(() => { throw new Error('canary') }, 0)")
    b.drain(0.3)
    assert any(e.startswith("HTTP 404") for e in b.errors) and any("canary" in e for e in b.errors), b.errors
    seen = []
    for page in pages:
        for lang in LANGS:
            b.goto(f"{airflow_api}{PREFIX}/{page}?lang={lang}")
            b.drain(0.3)
            assert b.js("document.documentElement.lang").startswith(lang), (page, lang)
            h1 = _text(b, "h1")
            assert h1 == i18n.t(f"{page}_title", lang), (page, lang, h1)
            CHECKS[page](b, lang)
            assert not b.errors, (page, lang, b.errors)
            b.shot(shots / f"ui_{page}{'' if lang == 'en' else '_' + lang}.png")
            seen.append((page, lang))
        if page == "messages":  # one message's page, reached through the link on the list
            href = b.js("document.querySelector('tr.msg a').getAttribute('href')")
            b.goto(airflow_api + href)
            b.drain(0.3)
            assert i18n.t("message_title", lang) in _text(b, "h1")  # the link keeps the language
            assert "<buyer-0@marketplace.amazon.example>" in _text(b, "h1")
            assert not b.errors, ("message", b.errors)
    assert len(seen) == 2 * len(pages)

    # the pages inside Airflow's own frame (the plugin's navigation entry)
    b.goto(f"{airflow_api}/plugin/seller-inbox-kpis")
    b.wait_for("document.querySelector('iframe') && document.querySelector('iframe').contentDocument"
               " && document.querySelector('iframe').contentDocument.querySelector('h1')")
    assert b.js("document.querySelector('iframe').contentDocument.querySelector('h1').innerText") == i18n.t(
        "kpis_title", "en")
    b.drain(1.0)
    assert not b.errors, ("in airflow", b.errors)
    b.shot(shots / "ui_in_airflow.png")

    # one store's DAG page in Airflow's React UI: the DAG and its tasks rendered
    dag_id = f"si_{DAG_STORE}_pipeline"
    b.goto(f"{airflow_api}/dags/{quote(dag_id)}")
    tasks = httpx.get(f"{airflow_api}/api/v2/dags/{quote(dag_id)}/tasks", timeout=20,
                      headers={"Authorization": f"Bearer {tokens['lead']}"}).json()["tasks"]
    assert len(tasks) >= 10
    b.wait_for(f"document.body.innerText.includes({json.dumps(dag_id)})")
    for t in tasks:  # the grid's task column: every task of the store's pipeline
        b.wait_for(f"document.body.innerText.split(/\\s+/).includes({json.dumps(t['task_id'])})", timeout=20)
    b.drain(2.0)
    assert not b.errors, ("dag page", b.errors)
    b.shot(shots / "dag_grid.png")
    assert all((shots / f).stat().st_size > 10_000 for f in os.listdir(shots))


# ------------------------------------------------------------------ every route's protection
def _forged_and_expired(token: str) -> dict[str, str]:
    import jwt

    claims = jwt.decode(token, options={"verify_signature": False})
    header = jwt.get_unverified_header(token)
    past = int(time.time()) - 7200
    return {
        "forged": jwt.encode({**claims, "role": "admin"}, secrets.token_urlsafe(64), algorithm="HS512", headers=header),
        "expired": jwt.encode({**claims, "iat": past, "nbf": past, "exp": past + 60}, JWT_SECRET, algorithm="HS512",
                              headers=header),
        "garbage": "not-a-jwt",
    }


def _send(client: httpx.Client, method: str, path: str, extra: dict | None = None, **kw) -> httpx.Response:
    body = {**(extra or {}), "key": "reply:us-outdoor:<guard@x>", "store": "us-outdoor", "id": "<guard@x>", "scope": "global",
            "on": "1", "body": "Fine text.", "intent": "other", "risk": "low"}
    if method == "POST":
        kw["json" if path.startswith("/api/") else "data"] = body
    return client.request(method, PREFIX + path, **kw)


def _refused_as_anonymous(r: httpx.Response, path: str) -> None:
    if path.startswith("/api/"):
        assert r.status_code == 401 and r.headers.get("www-authenticate") == "Bearer", (path, r.status_code, r.text[:200])
    else:
        assert r.status_code == 303 and r.headers["location"].startswith("/auth/login?next="), (path, r.status_code)


def _state(db) -> tuple:
    with db.cursor() as cur:
        cur.execute("SELECT status, decided_by FROM core.outbox WHERE idempotency_key = 'reply:us-outdoor:<guard@x>'")
        outbox = cur.fetchone()
        cur.execute("SELECT count(*) FROM ops.delivery_control_log")
        log = cur.fetchone()
        cur.execute("SELECT intent, risk FROM core.message WHERE message_id = '<guard@x>'")
        label = cur.fetchone()
    return outbox, log, label


@pytest.fixture
def guarded(db):
    """A pending draft and an open message a write route could change; their state before."""
    from datetime import datetime, timezone

    from tests.integration.rows import add_message

    add_message(db, "us-outdoor", "<guard@x>", datetime.now(timezone.utc), risk="medium", intent="order_status")
    with db.cursor() as cur:
        cur.execute("""INSERT INTO core.outbox (idempotency_key, store_id, message_id, order_id, action, template, locale,
                           subject, body, mode, status)
                       VALUES ('reply:us-outdoor:<guard@x>', 'us-outdoor', '<guard@x>', '111-0000001-0000001', 'reply',
                               'generic_reply', 'en', 'Re: your order', 'Fine text.', 'draft', 'pending_approval')""")
    return _state(db)


def test_the_route_table_is_what_the_protection_tests_cover():
    paths = {p for _, p in ROUTES}
    assert {"/kpis", "/health", "/approvals", "/messages", "/message", "/approvals/approve", "/api/kpis",
            "/api/message/label", "/data-docs/index.html"} <= paths
    assert sum(m == "POST" for m, _ in ROUTES) >= 6


@pytest.mark.parametrize("method,path", ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_route_refuses_anonymous_forged_and_expired(method, path, airflow_api, tokens, db, guarded):  # noqa: F811
    with httpx.Client(base_url=airflow_api, timeout=20) as anon:
        _refused_as_anonymous(_send(anon, method, path), path)
        for kind, bad in _forged_and_expired(tokens["lead"]).items():
            r = _send(anon, method, path, headers={"Authorization": f"Bearer {bad}"})
            _refused_as_anonymous(r, path)
            r = _send(anon, method, path, cookies={"_token": bad})
            _refused_as_anonymous(r, path)
    assert _state(db) == guarded, "a refused request changed something"


WRITES = [(m, p) for m, p in ROUTES if m not in ("GET", "HEAD", "OPTIONS")]


@pytest.mark.parametrize("method,path", WRITES, ids=[f"{m} {p}" for m, p in WRITES])
def test_write_route_refuses_a_cookie_session_without_csrf(method, path, airflow_api, tokens, db, guarded):  # noqa: F811
    """Logged in by the UI's cookie (what a forged cross-site form would ride on): no token or a
    wrong one, in the form field or the ``X-CSRF-Token`` header, is refused and changes nothing."""
    api = path.startswith("/api/")
    with httpx.Client(base_url=airflow_api, cookies={"_token": tokens["lead"]}, timeout=20) as lead:
        for token in (None, "0" * 40):
            if api:
                r = _send(lead, method, path, headers={"X-CSRF-Token": token} if token else {})
            else:
                r = _send(lead, method, path, extra={"csrf_token": token} if token else {})
            assert r.status_code == 403, (path, token, r.status_code, r.text[:300])
    assert _state(db) == guarded, "a request without a valid CSRF token changed something"
