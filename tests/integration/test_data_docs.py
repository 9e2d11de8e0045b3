"""GX Data Docs of the gates, served by the UI inside a real Airflow API server, behind its login.

Real gates (real GX, real PostgreSQL) write the docs into a temporary ``$SELLER_INBOX_DATA_DOCS``
that the API server (test_ui's fixture, started after this module sets the variable) serves.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone

import pytest

from seller_inbox import data_docs
from seller_inbox.config import load_registry
from seller_inbox.gates import GateFailed, run_gate
from seller_inbox.ui.app import data_docs_file

from .rows import add_message
from .test_ui import PREFIX, ROOT, airflow_api, anon, lead, tokens  # noqa: F401 - fixtures

T0 = datetime(2026, 11, 20, tzinfo=timezone.utc)
T1 = T0 + timedelta(days=1)
T2 = T1 + timedelta(days=1)
NOW = T2 + timedelta(hours=1)
LEAK = "please write to john.smith@gmail.com"
HOSTILE_ID = '<x"><script>alert(1)</script>@evil>'
NOT_FOUND = "No such Data Docs page."


@pytest.fixture(scope="module", autouse=True)
def docs_dir(tmp_path_factory):
    """The Data Docs directory of this module, set before the API server starts (autouse: first)."""
    path = tmp_path_factory.mktemp("data_docs")
    old = os.environ.get(data_docs.ENV)
    os.environ[data_docs.ENV] = str(path)
    yield path
    if old is None:
        os.environ.pop(data_docs.ENV, None)
    else:
        os.environ[data_docs.ENV] = old


def _page_links(index_html: str, suite: str) -> list[str]:
    prefix = "validations/" + suite.replace(".", "/") + "/"
    return sorted(set(re.findall(rf"""["']({re.escape(prefix)}[^"']+\.html)["']""", index_html)))  # the table's data


def test_before_any_gate_the_ui_says_what_to_run(lead, docs_dir):
    assert not (docs_dir / "site").exists()
    r = lead.get(PREFIX + "/data-docs/")
    assert r.status_code == 404
    assert "Data Docs are not built yet" in r.text and data_docs.BUILD_COMMAND in r.text
    r = lead.get(PREFIX + "/data-docs", follow_redirects=False)  # relative links need the slash
    assert r.status_code == 303 and r.headers["location"] == PREFIX + "/data-docs/"


def test_failing_and_passing_gates_in_data_docs_behind_the_login(db, warehouse_dsn, lead, anon, docs_dir):
    reg = load_registry()
    us, eu = reg.store("us-outdoor"), reg.store("eu-home")
    # a failing gate: most of the batch in another store's marketplace (quarantine escalated to error)
    add_message(db, us.id, "<ok@x>", T0 + timedelta(hours=1))
    for i in range(3):
        add_message(db, us.id, f"<de{i}@x>", T0 + timedelta(hours=2 + i), marketplace="DE")
    with pytest.raises(GateFailed):
        run_gate("ingest_mail", us, warehouse_dsn, T0, T1, run_id="manual__1", now=NOW)
    # a gate that sets rows aside: personal data, and a Message-ID made to inject a script
    for i in range(5):
        add_message(db, us.id, f"<fine{i}@x>", T1 + timedelta(hours=1, minutes=i))
    add_message(db, us.id, "<leak@x>", T1 + timedelta(hours=3), body=LEAK)
    add_message(db, us.id, HOSTILE_ID, T1 + timedelta(hours=4), body=LEAK)
    assert run_gate("ingest_mail", us, warehouse_dsn, T1, T2, now=NOW)["quarantined"] == 2
    # a passing gate: stored, rendered by the build step
    add_message(db, eu.id, "<eu@x>", T0 + timedelta(hours=2), marketplace="DE")
    assert run_gate("ingest_mail", eu, warehouse_dsn, T0, T1, now=NOW)["success"]

    index = lead.get(PREFIX + "/data-docs/")
    assert index.status_code == 200 and index.headers["content-type"] == "text/html; charset=utf-8"
    assert len(_page_links(index.text, "us-outdoor.ingest_mail.messages")) == 2
    assert _page_links(index.text, "eu-home.ingest_mail.messages") == []  # passing: not rendered yet
    assert not list((docs_dir / "site").rglob(".tmp-*"))

    build = subprocess.run([sys.executable, "-m", "seller_inbox.data_docs", "build"], capture_output=True, text=True,
                           timeout=300, env={**os.environ, data_docs.ENV: str(docs_dir)})
    assert build.returncode == 0, build.stderr[-2000:]
    assert build.stdout.strip() == f"Data Docs built: {docs_dir / 'site' / 'index.html'}"

    index = lead.get(PREFIX + "/data-docs/index.html")
    assert index.status_code == 200
    assert "us-outdoor.ingest_mail.messages" in index.text and "eu-home.ingest_mail.messages" in index.text
    assert len(_page_links(index.text, "eu-home.ingest_mail.messages")) == 1
    failed, quarantined = _page_links(index.text, "us-outdoor.ingest_mail.messages")  # by interval
    assert data_docs.run_name(T0, T1) in failed and data_docs.run_name(T1, T2) in quarantined

    page = lead.get(f"{PREFIX}/data-docs/{failed}")
    assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "connect-src 'none'" in page.headers["content-security-policy"]
    assert "us-outdoor.ingest_mail.messages" in page.text and "Failed" in page.text
    # the gate's own expectation name with the level it was finally judged at
    assert "ExpectColumnValuesToBeInSet(marketplace) · level error · expect_column_values_to_be_in_set" in page.text
    for i in range(3):
        assert f"&lt;de{i}@x&gt;" in page.text  # the failing rows, by key

    page = lead.get(f"{PREFIX}/data-docs/{quarantined}")
    assert page.status_code == 200
    assert "no_unredacted_email · level quarantine · expect_column_values_to_not_match_regex(text)" in page.text
    assert "&lt;leak@x&gt;" in page.text
    assert "john.smith" not in page.text  # the failing value was personal data: only its key is shown
    assert "<script>alert(1)" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    for path in (failed, quarantined):
        assert "john.smith" not in lead.get(f"{PREFIX}/data-docs/{path}").text

    suite_page = lead.get(PREFIX + "/data-docs/expectations/us-outdoor/ingest_mail/messages.html")
    assert suite_page.status_code == 200 and "no_unredacted_phone · level quarantine" in suite_page.text
    assert 'href="./static/images/favicon.ico"' in index.text
    for asset, ctype in (("static/images/favicon.ico", "image/x-icon"), ("static/images/logo-long.png", "image/png"),
                         ("static/styles/data_docs_default_styles.css", "text/css; charset=utf-8")):
        r = lead.get(f"{PREFIX}/data-docs/{asset}")
        assert r.status_code == 200 and r.headers["content-type"] == ctype, asset
        assert r.content == (docs_dir / "site" / asset).read_bytes()
    css = "static/styles/data_docs_default_styles.css"
    r = lead.get(PREFIX + "/data-docs/validations/nope.html")
    assert r.status_code == 404 and NOT_FOUND in r.text

    # not logged in: sent to Airflow's login like every other page; a forged token neither
    for path in ("/data-docs/", "/data-docs/index.html", f"/data-docs/{failed}", f"/data-docs/{css}"):
        r = anon.get(PREFIX + path)
        assert r.status_code == 303 and r.headers["location"].startswith("/auth/login"), path
        r = anon.get(PREFIX + path, cookies={"_token": "garbage"})
        assert r.status_code == 303 and r.headers["location"].startswith("/auth/login"), path

    # the store-health page links to them, in both languages
    health = lead.get(PREFIX + "/health?lang=en")
    assert f'<a href="{PREFIX}/data-docs/?lang=en">Data Docs</a>' in health.text
    health = lead.get(PREFIX + "/health?lang=zh")
    assert f'<a href="{PREFIX}/data-docs/?lang=zh">数据文档（Data Docs）</a>' in health.text


def test_paths_outside_the_site_are_refused(lead, docs_dir):
    site = docs_dir / "site"
    site.mkdir(parents=True, exist_ok=True)
    (site / "index.html").touch()
    (docs_dir / "outside.html").write_text("secret outside the site")
    (site / "link.html").symlink_to(docs_dir / "outside.html")
    (site / "notes.txt").write_text("a type the site does not hold")
    assert lead.get(PREFIX + "/data-docs/index.html").status_code == 200
    for path in ("%2e%2e/outside.html", "..%2foutside.html", "%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
                 "static/%2e%2e/%2e%2e/outside.html", "/etc/passwd", "link.html", "notes.txt", "%2e%2e/.lock",
                 "..%5coutside.html"):
        r = lead.get(f"{PREFIX}/data-docs/{path}")
        assert r.status_code == 404 and NOT_FOUND in r.text and "secret" not in r.text, path


def test_data_docs_file_stays_inside_the_site(tmp_path):
    site = tmp_path / "site"
    (site / "validations").mkdir(parents=True)
    (site / "validations" / "a.html").write_text("ok")
    (site / ".tmp-abc.html").write_text("half written")
    (tmp_path / "secret.html").write_text("no")
    assert data_docs_file(site, "validations/a.html") == (site / "validations" / "a.html").resolve()
    for rel in ("../secret.html", "validations/../../secret.html", str(tmp_path / "secret.html"), ".tmp-abc.html",
                "validations", "", "validations/a.html\x00.png", "..\\secret.html"):
        assert data_docs_file(site, rel) is None, rel


WRITER = textwrap.dedent("""
    import sys
    from datetime import datetime, timedelta, timezone
    from seller_inbox.config import load_registry
    from seller_inbox.gates import run_gate
    store, dsn, t0 = load_registry().store(sys.argv[1]), sys.argv[2], datetime.fromisoformat(sys.argv[3])
    for d in range(3):
        start = t0 + timedelta(days=d)
        out = run_gate("ingest_mail", store, dsn, start, start + timedelta(days=1), now=start + timedelta(days=5))
        assert out["quarantined"] == 1, out
""")


def test_concurrent_gates_write_one_intact_site(db, warehouse_dsn, docs_dir):
    reg = load_registry()
    start = T0 + timedelta(days=10)
    stores = {"us-outdoor": "US", "eu-home": "DE", "jp-gadgets": "JP"}
    for sid, mkt in stores.items():
        for d in range(3):
            day = start + timedelta(days=d)
            for i in range(2):
                add_message(db, sid, f"<{sid}-{d}-{i}@x>", day + timedelta(hours=1 + i), marketplace=mkt)
            add_message(db, sid, f"<{sid}-{d}-leak@x>", day + timedelta(hours=5), marketplace=mkt, body=LEAK)
    assert {s.id for s in reg.stores} >= set(stores)
    env = {**os.environ, data_docs.ENV: str(docs_dir), "PYTHONPATH": str(ROOT / "include")}
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, sid, warehouse_dsn, start.isoformat()], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for sid in stores]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-3000:]
        assert "Data Docs of gate" not in err, err[-3000:]  # no writer gave up on the docs
    assert not list(docs_dir.rglob(".tmp-*"))
    for f in (docs_dir / "validations").rglob("*.json"):
        json.loads(f.read_text())  # every stored result is whole
    index = (docs_dir / "site" / "index.html").read_text()
    assert index.rstrip().endswith("</html>")
    for sid in stores:
        links = _page_links(index, f"{sid}.ingest_mail.messages")
        wanted = {data_docs.run_name(start + timedelta(days=d), start + timedelta(days=d + 1)) for d in range(3)}
        assert {link.split("/")[4] for link in links} >= wanted, (sid, links)
        for link in links:
            assert (docs_dir / "site" / link).read_text().rstrip().endswith("</html>")


def test_a_docs_directory_that_cannot_be_written_changes_no_gate(db, warehouse_dsn, tmp_path, monkeypatch, caplog):
    us = load_registry().store("us-outdoor")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv(data_docs.ENV, str(blocker / "docs"))
    add_message(db, us.id, "<a@x>", T0 + timedelta(hours=2))
    add_message(db, us.id, "<leak@x>", T0 + timedelta(hours=3), body=LEAK)
    add_message(db, us.id, "<b@x>", T0 + timedelta(hours=4))
    with caplog.at_level("WARNING", logger="seller_inbox.data_docs"):
        out = run_gate("ingest_mail", us, warehouse_dsn, T0, T1, now=NOW)
    assert out == {"stage": "ingest_mail", "rows_checked": 4, "success": True, "quarantined": 1, "warnings": 0}
    (msg,) = [r.getMessage() for r in caplog.records if r.name == "seller_inbox.data_docs"]
    assert msg.startswith("store us-outdoor: Data Docs of gate ingest_mail not written (") and "\n" not in msg
