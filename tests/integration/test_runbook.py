"""docs/runbook.md, step by step: each test does what its section tells an operator to do, with
the commands it names (the ``seller-inbox`` CLI, run in-process through ``cli.main``) and the
pipeline's own stage functions standing for the DAG runs Airflow would start — real PostgreSQL
(a fresh warehouse per test), the SP-API simulator over HTTP, a Maildir of demo mail, a local
SMTP server. Nothing of ours is mocked.

What stands in for Airflow: ``run_pipeline`` calls the stages of ``airflow_glue.PIPELINE_STAGES``
in order with the DAG's trigger rules (a failed task's downstream is ``upstream_failed``;
``kpi`` runs whatever its branches did), ``RunInfo.run_type`` set as Airflow sets it
(``scheduled`` or ``backfill``) and the clock pinned at the end of the interval, as a punctual
scheduler's run sees it. Where a step acts on Airflow itself (pausing a store's DAGs, a
connection kept in Airflow's database) the command runs as typed, in a subprocess, against a real
Airflow metadata database (``airflow_home``); the README's backfill command is run the same way by
tests/integration/test_readme_backfill.py.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from datetime import datetime, timedelta, timezone

import psycopg2
import pytest
from cryptography.fernet import Fernet

from seller_inbox import cli, clock, stages, warehouse
from seller_inbox.airflow_glue import ALL_DONE, KINDS, PIPELINE_STAGES, dag_id
from seller_inbox_dev.demo.run import connection_env
from tests.airflow_world import write_registry
from tests.servers.smtp import SmtpServer

UTC = timezone.utc
STORE = "us-outdoor"
SELLER = "A1DEMOUSOUTDOOR"
MAILBOX_ENV = "AIRFLOW_CONN_MAILBOX_US_OUTDOOR"
SPAPI_ENV = "AIRFLOW_CONN_SPAPI_US_OUTDOOR"
KPI_COLS = None  # filled by _kpi_rows: every column of kpi.store_daily but computed_at


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """One store (us-outdoor: order-status questions answered in ``auto``) with 7 days of demo
    mail in a Maildir, the simulator, an SMTP server; connections as AIRFLOW_CONN_* variables."""
    from seller_inbox_dev.demo.mail import write_demo_mail
    from seller_inbox_dev.sandbox.server import start as start_sim

    base = tmp_path_factory.mktemp("runbook")
    reg_path, stores = write_registry(base, (STORE,))
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    maildir = base / "maildir"
    write_demo_mail(maildir, stores, midnight - timedelta(days=7), midnight, seed=42)
    sim = start_sim(host="127.0.0.1", port=0, seed=42, time_scale=50.0)
    smtp = SmtpServer().start()
    env = connection_env(stores, sim.url, maildir, "postgresql://unused", smtp_port=smtp.port,
                         crypto_key=Fernet.generate_key().decode())
    spapi = json.loads(env[SPAPI_ENV])
    spapi["extra"].update(rate_scale=50.0, backoff_base=0.01, backoff_cap=0.2)
    env[SPAPI_ENV] = json.dumps(spapi)
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        mp.setenv("SELLER_INBOX_STORES", str(reg_path))
        mp.delenv(clock.ENV, raising=False)
        yield {"base": base, "store": stores[0], "midnight": midnight, "maildir": maildir, "sim": sim,
               "smtp": smtp, "env": env, "mp": mp}
    smtp.stop()
    sim.stop()


VENV_BIN = str(Path(sys.executable).parent)


@pytest.fixture(scope="module")
def airflow_home(world, tmp_path_factory):
    """Airflow's metadata database (SQLite, the demo's settings) with the DAGs of us-outdoor and
    eu-home serialized, as the DAG processor leaves them; ``shell(url)``: a user's shell on it."""
    from seller_inbox_dev.demo.run import airflow_env

    base = tmp_path_factory.mktemp("runbook_airflow")
    reg_path, _ = write_registry(base, (STORE, "eu-home"))
    plain = {k: v for k, v in os.environ.items()
             if not k.startswith(("AIRFLOW_CONN_", "AIRFLOW__", "_AIRFLOW", "SELLER_INBOX")) and k != "AIRFLOW_HOME"}
    env = {**plain, **airflow_env(base), "SELLER_INBOX_STORES": str(reg_path), "SELLER_INBOX_HOME": str(base),
           "SELLER_INBOX_SALT": os.environ["SELLER_INBOX_SALT"]}
    env["PATH"] = VENV_BIN + os.pathsep + env.get("PATH", "")
    for args in (["db", "migrate"], ["dags", "reserialize"]):
        subprocess.run([os.path.join(VENV_BIN, "airflow"), *args], env=env, check=True, capture_output=True, timeout=300)

    def shell(url: str) -> dict:
        return {**env, warehouse.ENV_URL: url}

    return {"shell": shell, "db": base / "airflow" / "airflow.db"}


def typed(env: dict, command: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def paused(airflow_home) -> dict[str, bool]:
    with sqlite3.connect(airflow_home["db"]) as meta:
        return {d: bool(p) for d, p in meta.execute("SELECT dag_id, is_paused FROM dag WHERE dag_id LIKE 'si_%'")}


@pytest.fixture
def wh(world, new_database, monkeypatch):
    """A fresh, migrated warehouse for the test; the CLI's default (SELLER_INBOX_WAREHOUSE_URL)."""
    url = new_database("si_runbook")
    warehouse.migrate(url)
    monkeypatch.setenv(warehouse.ENV_URL, url)
    world["sim"].state.reset()
    world["smtp"].messages.clear()
    return url


def day(world, k: int) -> datetime:
    """The UTC day k days before today (its midnight)."""
    return world["midnight"] - timedelta(days=k)


def run_pipeline(world, dsn: str, start: datetime, run_type: str = "scheduled", *, store=None,
                 cleared: dict | None = None) -> dict:
    """One ``si_<store>_pipeline`` run of [start, start + 1 day): task states, and the task results.
    ``cleared``: an earlier result of this run whose failed and upstream-failed tasks were cleared
    (``airflow tasks clear --only-failed``): only those run again, the others keep their state."""
    end = start + timedelta(days=1)
    store = store or world["store"]
    info = stages.RunInfo(dag_id=dag_id(store.id, "pipeline"), run_id=f"{run_type}__{start.isoformat()}",
                          run_type=run_type)
    states: dict[str, str] = {}
    results: dict[str, object] = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(clock.ENV, end.isoformat())
        for task, upstream in PIPELINE_STAGES:
            if cleared and cleared["states"][task] == "success":
                states[task], results[task] = "success", cleared["results"][task]
                continue
            if task not in ALL_DONE and any(states[u] != "success" for u in upstream):
                states[task] = "upstream_failed"
                continue
            try:
                results[task] = getattr(stages, task)(store, dsn, start, end, replace(info, task_id=task))
                states[task] = "success"
            except Exception as exc:  # noqa: BLE001 - a failed task, as Airflow records it
                states[task], results[task] = "failed", exc
    return {"states": states, "results": results}


def deliver(world, dsn: str, now: datetime) -> dict:
    """One ``si_<store>_deliver`` run's ``deliver`` task at ``now``."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(clock.ENV, now.isoformat())
        return stages.deliver(world["store"], dsn, now, now, stages.RunInfo(run_type="scheduled"))


def run_auth(world, dsn: str, now: datetime | None = None) -> str:
    """One ``si_<store>_auth`` run: its ``refresh_auth`` task, then the callback Airflow calls on
    the outcome (incident opened and alerted, or resolved with a recovery notice). Returns the state."""
    from types import SimpleNamespace

    from seller_inbox import airflow_glue

    store = world["store"]
    did = dag_id(store.id, "auth")
    ctx = {"dag": SimpleNamespace(dag_id=did), "ti": SimpleNamespace(task_id="refresh_auth"), "run_id": f"auth__{now}"}
    try:
        stages.refresh_auth(store, dsn, now, now, stages.RunInfo(dag_id=did, task_id="refresh_auth"))
    except Exception as exc:  # noqa: BLE001 - a failed task, as Airflow records it
        airflow_glue.on_task_failure({**ctx, "exception": exc})
        return "failed"
    airflow_glue.on_task_success(ctx)
    return "success"


def spapi_conn(world, **changes) -> str:
    """The store's ``spapi`` connection (AIRFLOW_CONN_* JSON) with ``changes`` (password, extra keys)."""
    c = json.loads(world["env"][SPAPI_ENV])
    if "password" in changes:
        c["password"] = changes.pop("password")
    c["extra"].update(changes)
    return json.dumps(c)


def alerts(dsn: str, kind: str) -> int:
    return q(dsn, "SELECT count(*) FROM ops.alert_log WHERE alert_kind = %s AND channel = 'log'", (kind,))[0][0]


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    """A ``seller-inbox`` command as typed (in this process: same entry point, no start-up cost)."""
    capsys.readouterr()
    rc = cli.main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


def q(dsn: str, sql: str, args=()) -> list[tuple]:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def sent_journal(dsn: str) -> list[tuple]:
    return q(dsn, "SELECT idempotency_key, status, sent_at FROM core.outbox WHERE status IN ('sending', 'sent') "
                  "ORDER BY 1")


def kpi_rows(dsn: str) -> list[tuple]:
    cols = [c for c, in q(dsn, "SELECT column_name FROM information_schema.columns WHERE table_schema = 'kpi' "
                              "AND table_name = 'store_daily' AND column_name <> 'computed_at' ORDER BY ordinal_position")]
    return q(dsn, f"SELECT {', '.join(cols)} FROM kpi.store_daily ORDER BY store_id, marketplace, day")


# ---------------------------------------------------------------------------------- 1. mail outage
def test_runbook_mail_outage(world, wh, capsys, monkeypatch):
    d5, d4, d3, d2, d1 = (day(world, k) for k in (5, 4, 3, 2, 1))
    first = run_pipeline(world, wh, d5)
    assert set(first["states"].values()) == {"success"}, first
    deliver(world, wh, d4)
    sent_before = sent_journal(wh)
    assert sent_before and len(world["smtp"].messages) == len(sent_before)  # order-status mail answered in auto

    # the mailbox is unreachable (IMAP down) for two daily runs: the mail branch fails alone
    monkeypatch.setenv(MAILBOX_ENV, json.dumps({"conn_type": "imap", "host": "127.0.0.1", "port": 1,
                                                "login": "x", "password": "x", "extra": {"use_ssl": False}}))
    for d in (d4, d3):
        r = run_pipeline(world, wh, d)
        s = r["states"]
        assert s["ingest_mail"] == "failed" and s["classify"] == "upstream_failed" and s["act"] == "upstream_failed"
        assert s["ingest_orders"] == "success" and s["kpi"] == "success"
        assert r["results"]["kpi"]["inputs_missing"] == ["mail"]

    # runbook: fix the mailbox; the next run reads from where the last complete read ended
    monkeypatch.setenv(MAILBOX_ENV, world["env"][MAILBOX_ENV])
    after = run_pipeline(world, wh, d2)
    assert set(after["states"].values()) == {"success"}, after
    assert after["results"]["ingest_mail"]["read_from"] == d4.isoformat()
    (gap,) = q(wh, "SELECT payload FROM ops.alert_log WHERE alert_kind = 'ingest_gap' AND channel = 'log'")
    assert gap[0]["filled"] is True
    # nothing is left to backfill: the dry run lists no gap (an older one would be listed here)
    rc, out, _ = run_cli(capsys, "backfill", "--store", STORE, "--since", f"{d5:%Y-%m-%d}", "--until",
                         f"{d1:%Y-%m-%d}", "--dry-run")
    assert rc == 0 and "no gaps recorded" in out, out

    window = (d4, d1)
    # re-fetched: the outage's mail is in; re-reading it (a backfill of those days) stores nothing twice
    n = q(wh, "SELECT count(*) FROM core.message WHERE received_at >= %s AND received_at < %s", (d4, d2))[0][0]
    assert n > 20
    again = run_pipeline(world, wh, d4, run_type="backfill")
    assert set(again["states"].values()) == {"success"}, again
    assert again["results"]["ingest_mail"]["stored"] == 0 and again["results"]["ingest_mail"]["duplicates"] > 0
    # recomputed: every buyer message classified; each KPI day of the outage counts its messages
    assert q(wh, "SELECT count(*) FROM core.message WHERE direction = 'inbound' AND intent IS NULL "
                 "AND received_at >= %s AND received_at < %s", window) == [(0,)]
    per_day = q(wh, "SELECT day, buyer_messages FROM kpi.store_daily WHERE day >= %s AND day < %s ORDER BY day",
                (d4.date(), d2.date()))
    assert len(per_day) == 2 and all(n > 0 for _, n in per_day), per_day
    # never re-sent: what went out stays sent as it was; the backfill queued nothing that sends by itself;
    # each reply reached the buyer once
    assert q(wh, "SELECT count(*) FROM core.outbox WHERE status IN ('queued', 'approved') AND mode = 'auto' "
                 "AND status_reason LIKE 'backfill%%'") == [(0,)]
    deliver(world, wh, d1)
    sent_after = sent_journal(wh)
    assert set(sent_before) <= set(sent_after)
    assert len(world["smtp"].messages) == len(sent_after)
    assert len({m["message"]["In-Reply-To"] for m in world["smtp"].messages}) == len(sent_after)


# ---------------------------------------------------------------------------------- 2. SP-API outage
def test_runbook_spapi_outage(world, wh, capsys):
    d5, d4, d3, d2, d1 = (day(world, k) for k in (5, 4, 3, 2, 1))
    assert set(run_pipeline(world, wh, d5)["states"].values()) == {"success"}
    deliver(world, wh, d4)
    sent_before = sent_journal(wh)
    orders_on = "SELECT coalesce(sum(orders), 0) FROM kpi.store_daily WHERE day >= %s AND day < %s"

    # Amazon answers 503 to every call of this seller for two daily runs: the SP-API branch fails alone
    world["sim"].state.faults.add("error", SELLER, "*", status=503)
    for d in (d4, d3):
        r = run_pipeline(world, wh, d)
        s = r["states"]
        assert s["ingest_orders"] == "failed" and s["act"] == "upstream_failed", s
        assert s["gate_alert"] == "success" and s["kpi"] == "success"  # mail read, classified, alerted
        assert r["results"]["kpi"]["inputs_missing"] == ["orders"]
    assert q(wh, orders_on, (d4.date(), d2.date())) == [(0,)]

    # runbook: Amazon is back; the next run reads orders from where the last complete read ended
    world["sim"].state.faults.clear()
    after = run_pipeline(world, wh, d2)
    assert set(after["states"].values()) == {"success"}, after
    assert after["results"]["ingest_orders"]["read_from"] == d4.isoformat()
    rc, out, _ = run_cli(capsys, "backfill", "--store", STORE, "--since", f"{d4:%Y-%m-%d}", "--until",
                         f"{d2:%Y-%m-%d}", "--dry-run")
    assert rc == 0 and "no gaps recorded" in out and "reprocess: failed" in out, out
    # ... and the backfill of the failed runs (--reprocess failed) gives their messages to act
    undecided = ("SELECT count(*) FROM core.message m WHERE m.kind = 'buyer_message' AND m.received_at >= %s "
                 "AND m.received_at < %s AND NOT EXISTS (SELECT 1 FROM core.outbox o WHERE o.message_id = m.message_id)")
    assert q(wh, undecided, (d4, d2))[0][0] > 0
    for d in (d4, d3):
        r = run_pipeline(world, wh, d, run_type="backfill")
        assert set(r["states"].values()) == {"success"}, r
        assert r["results"]["ingest_orders"]["orders"] >= 0
    # recomputed: the orders are in and counted on their KPI days; act decided every message
    assert q(wh, orders_on, (d4.date(), d2.date()))[0][0] > 0
    assert q(wh, "SELECT count(*) FROM ops.ingest_gaps") == [(0,)]
    decided = q(wh, "SELECT o.status, o.mode FROM core.outbox o JOIN core.message m ON m.message_id = o.message_id "
                    "WHERE m.received_at >= %s AND m.received_at < %s", (d4, d2))
    assert decided and not [x for x in decided if x[0] in ("queued", "approved")], decided  # none sends by itself
    # never re-sent: the earlier sends stay as they were; nothing new leaves for the outage's messages
    deliver(world, wh, d1)
    assert [r for r in sent_journal(wh) if r[2] is not None and r[2] < d2] == sent_before
    assert len(world["smtp"].messages) == len(sent_journal(wh))


# ---------------------------------------------------------------------------------- 3. failed gate
def test_runbook_failed_gate(world, wh, capsys, monkeypatch):
    """A registry edit dropped the store's marketplace: every mail of the day is from a marketplace
    the store "does not sell on", too many rows to set aside, so the ingest gate fails the mail branch."""
    d3 = day(world, 3)
    (world["base"] / "bad").mkdir(exist_ok=True)
    bad_path, (bad,) = write_registry(world["base"] / "bad", (STORE,), marketplaces=[{"code": "CA"}])
    monkeypatch.setenv("SELLER_INBOX_STORES", str(bad_path))
    failed = run_pipeline(world, wh, d3, store=bad)
    s = failed["states"]
    assert s["gate_ingest_mail"] == "failed" and s["classify"] == "upstream_failed" and s["act"] == "upstream_failed"
    assert "too many rows to set aside" in str(failed["results"]["gate_ingest_mail"])
    assert q(wh, "SELECT count(*) FROM ops.alert_log WHERE alert_kind = 'gate_failed' AND channel = 'log'") == [(1,)]

    # runbook: inspect what failed and on which rows
    rc, out, _ = run_cli(capsys, "gates", "--store", STORE)
    assert rc == 0 and "FAILED  ingest_mail" in out and "marketplace" in out and "failing rows" in out, out
    # nothing was set aside (the batch's defect, not single rows): nothing to release afterwards
    assert q(wh, "SELECT count(*) FROM ops.dq_quarantine") == [(0,)]
    # fix the registry, check it, clear the failed tasks: the gate passes and the branch goes on
    monkeypatch.setenv("SELLER_INBOX_STORES", str(world["base"] / "stores.yaml"))
    rc, out, _ = run_cli(capsys, "stores", "validate")
    assert rc == 0 and "us-outdoor [US]" in out, out
    fixed = run_pipeline(world, wh, d3, cleared=failed)
    assert set(fixed["states"].values()) == {"success"}, fixed["states"]
    assert fixed["results"]["classify"]["classified"] > 0 and fixed["results"]["act"]["decisions"]
    assert q(wh, "SELECT count(*) FROM core.message WHERE direction = 'inbound' AND intent IS NULL") == [(0,)]
    rc, out, _ = run_cli(capsys, "gates", "--store", STORE, "--all")
    assert rc == 0 and "passed  ingest_mail" in out and "FAILED" not in out, out  # the re-run's verdict replaced it


# ---------------------------------------------------------------------------------- 4. pause and resume
def test_runbook_pause_and_resume(world, wh, capsys, airflow_home):
    d5, d4, d2, d1 = (day(world, k) for k in (5, 4, 2, 1))
    assert set(run_pipeline(world, wh, d5)["states"].values()) == {"success"}
    queued = q(wh, "SELECT idempotency_key FROM core.outbox WHERE status = 'queued'")
    assert queued  # auto replies waiting for the next deliver run
    shell = airflow_home["shell"](wh)
    assert not any(paused(airflow_home).values())

    # pause: the kill switch on, then exactly the store's six DAGs paused in Airflow
    r = typed(shell, ["seller-inbox", "stores", "pause", "--store", STORE, "--by", "ops", "--reason", "dispute"])
    assert r.returncode == 0, r.stdout + r.stderr
    state = paused(airflow_home)
    assert {d for d, p in state.items() if p} == {dag_id(STORE, k) for k in KINDS}
    assert any(d.startswith("si_eu-home_") for d in state)  # the other store's DAGs stay as they were
    # a deliver task already on a worker when the DAGs were paused sends nothing:
    got = deliver(world, wh, d4)
    assert got.get("sent", 0) == 0 and world["smtp"].messages == []
    assert {s for s, in q(wh, "SELECT DISTINCT status FROM core.outbox WHERE idempotency_key = ANY(%s)",
                          ([k for k, in queued],))} == {"held"}
    # no pipeline run while paused (d4, d3): nothing is read
    rc, out, _ = run_cli(capsys, "kill-switch", "status")
    assert f"{STORE}" in out and "ON" in out and "by ops" in out and "dispute" in out, out

    # resume: DAGs unpaused (Airflow then starts only the latest interval's run: catchup=False), switch off
    r = typed(shell, ["seller-inbox", "stores", "resume", "--store", STORE, "--by", "ops"])
    assert r.returncode == 0, r.stdout + r.stderr
    assert not any(paused(airflow_home).values())
    rc, out, _ = run_cli(capsys, "kill-switch", "status")
    assert f"{STORE}" in out and "ON" not in out.split(STORE, 1)[1].splitlines()[0], out
    r = run_pipeline(world, wh, d2)
    assert set(r["states"].values()) == {"success"}, r["states"]
    # what catches up: the paused days' mail and orders, read by this run
    assert r["results"]["ingest_mail"]["read_from"] == d4.isoformat()
    assert r["results"]["ingest_orders"]["read_from"] == d4.isoformat()
    assert q(wh, "SELECT count(*) FROM ops.ingest_gaps") == [(0,)]
    assert q(wh, "SELECT count(*) FROM core.message WHERE direction = 'inbound' AND intent IS NULL") == [(0,)]
    assert q(wh, "SELECT count(*) FROM core.message WHERE received_at >= %s AND received_at < %s", (d4, d2))[0][0] > 20
    # what is sent after: only replies still fresh; the held and caught-up ones to older mail expire
    deliver(world, wh, d1)
    max_age = timedelta(hours=world["store"].max_reply_age_hours)
    sent = q(wh, "SELECT m.received_at FROM core.outbox o JOIN core.message m ON m.message_id = o.message_id "
                 "WHERE o.status = 'sent'")
    assert len(world["smtp"].messages) == len(sent)
    assert all(d1 - t <= max_age for t, in sent), sent
    assert {s for s, in q(wh, "SELECT DISTINCT status FROM core.outbox WHERE idempotency_key = ANY(%s)",
                          ([k for k, in queued],))} == {"expired"}


# ---------------------------------------------------------------------------------- 5. re-authorize
def test_runbook_reauthorize(world, wh, capsys, monkeypatch, airflow_home):
    d4, d3, d2 = day(world, 4), day(world, 3), day(world, 2)
    assert set(run_pipeline(world, wh, d4)["states"].values()) == {"success"}
    # the seller revoked the app (or the 365-day authorization ran out): the auth DAG fails, alerts once
    world["sim"].state.revoke(SELLER)
    assert run_auth(world, wh) == "failed"
    assert alerts(wh, "auth_revoked") == 1
    assert q(wh, "SELECT count(*) FROM ops.incident WHERE resolved_at IS NULL") == [(1,)]
    r = run_pipeline(world, wh, d3)
    assert r["states"]["preflight"] == "failed" and r["states"]["act"] == "upstream_failed"
    assert r["states"]["gate_alert"] == "success" and r["states"]["kpi"] == "success"  # mail goes on
    rc, _, err = run_cli(capsys, "auth", "check", "--store", STORE)
    assert rc == 1 and ("revoked" in err.lower() or "invalid_grant" in err), err

    # runbook: the seller authorizes the app again in Seller Central; the new refresh token and the
    # authorization date go into the store's spapi connection (extra.refresh_token, extra.authorized_at)
    world["sim"].state.restore(SELLER)
    today = datetime.now(UTC).date().isoformat()
    new_conn = spapi_conn(world, authorized_at=today)
    # here: kept in Airflow's metadata database (Admin → Connections), checked from a plain shell
    shell = airflow_home["shell"](wh)
    r = typed(shell, ["airflow", "connections", "add", "spapi_us_outdoor", "--conn-json", new_conn])
    assert r.returncode == 0, r.stderr
    r = typed(shell, ["seller-inbox", "auth", "check", "--store", STORE])
    out = r.stdout
    assert r.returncode == 0 and f"ok: store {STORE}" in out and "auth_recovered" in out, out + r.stderr
    monkeypatch.setenv(SPAPI_ENV, new_conn)  # what the tasks of this test's runs read
    (status, due), = q(wh, "SELECT status, reauth_due_on FROM ops.store_auth WHERE store_id = %s", (STORE,))
    assert status == "ok" and (due - datetime.now(UTC).date()).days == 365
    # the auth DAG's next run (or `airflow dags trigger si_<store>_auth`) succeeds: the incident closes
    assert run_auth(world, wh) == "success"
    assert q(wh, "SELECT count(*) FROM ops.incident WHERE resolved_at IS NULL") == [(0,)]
    assert alerts(wh, "auth_revoked") == 1 and alerts(wh, "auth_recovered") == 1
    # and the next pipeline run is whole again: the orders of the revoked day are read too
    r = run_pipeline(world, wh, d2)
    assert set(r["states"].values()) == {"success"}, r["states"]
    assert r["results"]["ingest_orders"]["read_from"] == d3.isoformat()


# ---------------------------------------------------------------------------------- 6. rotate the client secret
def test_runbook_rotate_client_secret(world, wh, capsys, monkeypatch):
    d3, d2 = day(world, 3), day(world, 2)
    old_date = (datetime.now(UTC) - timedelta(days=170)).date().isoformat()
    monkeypatch.setenv(SPAPI_ENV, spapi_conn(world, client_secret_created_at=old_date))
    rc, out, _ = run_cli(capsys, "auth", "check", "--store", STORE)
    assert rc == 0 and "secret_rotation" in out, out  # 10 days left: alerted ahead, once
    assert alerts(wh, "secret_rotation") == 1
    assert set(run_pipeline(world, wh, d3)["states"].values()) == {"success"}

    # runbook: a new secret in the developer console; once Amazon refuses the old one ...
    sim_config = world["sim"].state.config
    monkeypatch.setattr(sim_config, "client_secret", "sandbox-secret-2")
    rc, _, err = run_cli(capsys, "auth", "check", "--store", STORE)
    assert rc == 1 and "client" in err.lower(), err
    # ... update the connection: password = the new secret, extra.client_secret_created_at = today
    today = datetime.now(UTC).date().isoformat()
    monkeypatch.setenv(SPAPI_ENV, spapi_conn(world, password="sandbox-secret-2", client_secret_created_at=today))
    rc, out, err = run_cli(capsys, "auth", "check", "--store", STORE)
    assert rc == 0 and "secret_rotation" not in out, out + err
    (status, age), = q(wh, "SELECT status, client_secret_age_days FROM ops.store_auth WHERE store_id = %s", (STORE,))
    assert (status, age) == ("ok", 0)
    assert run_auth(world, wh) == "success" and alerts(wh, "secret_rotation") == 1  # no new rotation alert
    # no store goes quiet: the next run reads mail and orders as before
    r = run_pipeline(world, wh, d2)
    assert set(r["states"].values()) == {"success"}, r["states"]
    assert r["results"]["ingest_orders"]["orders"] > 0


# ---------------------------------------------------------------------------------- 7. restore and re-derive
CORE_MESSAGE = "SELECT * FROM core.message ORDER BY store_id, message_id"
CORE_THREAD = "SELECT * FROM core.thread ORDER BY thread_id"


def _rows(dsn: str, sql: str, drop: tuple[str, ...] = ()) -> list[dict]:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(sql)
        cols = [d[0] for d in cur.description]
        return [{c: v for c, v in zip(cols, r) if c not in drop} for r in cur.fetchall()]


def _table_counts(dsn: str) -> dict[str, int]:
    tables = [f"{s}.{t}" for s, t in q(dsn, "SELECT table_schema, table_name FROM information_schema.tables WHERE "
                                            "table_schema IN ('raw', 'core', 'kpi', 'ops') AND table_type = 'BASE TABLE'")]
    return {t: q(dsn, f"SELECT count(*) FROM {t}")[0][0] for t in sorted(tables)}


def test_runbook_restore_and_rederive(world, wh, capsys, monkeypatch, new_database, tmp_path):
    d4, d3, d2 = day(world, 4), day(world, 3), day(world, 2)
    # Amazon as it stood at the end of the last run (an order's later updates are not in raw either)
    monkeypatch.setattr(world["sim"].state.config, "as_of", d2)
    for d in (d4, d3):
        assert set(run_pipeline(world, wh, d)["states"].values()) == {"success"}
    kpi_sql = {t: f"SELECT * FROM kpi.{t} ORDER BY 1, 2, 3, 4" for t in ("store_daily", "order_defect_rate")}
    piped = {t: _rows(wh, sql, drop=("computed_at",)) for t, sql in kpi_sql.items()}
    assert any(r["buyer_messages"] for r in piped["store_daily"])
    messages = _rows(wh, CORE_MESSAGE, drop=("classified_at",))
    threads = _rows(wh, CORE_THREAD)

    # backup, then restore into an empty database (a new server after losing the old one)
    backup = tmp_path / "warehouse.dump"
    rc, out, err = run_cli(capsys, "warehouse", "backup", "--file", str(backup))
    assert rc == 0 and backup.stat().st_size > 0, out + err
    restored = new_database("si_runbook_restored")
    rc, out, err = run_cli(capsys, "warehouse", "restore", "--file", str(backup), "--dsn", restored)
    assert rc == 0 and "migrations applied after it: none" in out, out + err
    assert _table_counts(restored) == _table_counts(wh)
    assert _rows(restored, kpi_sql["store_daily"]) == _rows(wh, kpi_sql["store_daily"])  # computed_at too
    # restoring again over a warehouse that has rows replaces them, it does not add to them
    rc, out, err = run_cli(capsys, "warehouse", "restore", "--file", str(backup), "--dsn", restored)
    assert rc == 0 and _table_counts(restored) == _table_counts(wh), out + err

    # the KPI rows of that raw: a rederive of the intact warehouse (its messages are all there)
    monkeypatch.setenv(clock.ENV, d2.isoformat())  # the last run's clock: pending counts as it saw them
    since, until = f"{d4:%Y-%m-%d}", f"{d2:%Y-%m-%d}"
    rc, out, _ = run_cli(capsys, "warehouse", "rederive", "--store", STORE, "--since", since, "--until", until)
    assert rc == 0 and "0 messages put back, 0 classified" in out, out
    assert _rows(wh, CORE_MESSAGE, drop=("classified_at",)) == messages
    kpis = {t: _rows(wh, sql, drop=("computed_at",)) for t, sql in kpi_sql.items()}
    # the pipeline's own rows are those rows, every day: the orders act loaded with an older
    # LastUpdateDate were counted on their purchase days by the runs' KPI task too
    assert kpis == piped

    # core and kpi of the store lost (or not trusted): re-derive them from raw
    with psycopg2.connect(restored) as conn, conn.cursor() as cur:
        for t in ("kpi.store_daily", "kpi.order_defect_rate", "kpi.reconciliation", "core.message", "core.thread"):
            cur.execute(f"DELETE FROM {t} WHERE store_id = %s", (STORE,))
    rc, out, err = run_cli(capsys, "warehouse", "rederive", "--store", STORE, "--since", since, "--until", until,
                           "--dsn", restored)
    assert rc == 0 and f"{len(messages)} messages put back" in out, out + err
    assert _rows(restored, CORE_MESSAGE, drop=("classified_at",)) == messages
    assert _rows(restored, CORE_THREAD) == threads
    for t, sql in kpi_sql.items():  # the same KPI rows, value for value (only computed_at is new)
        assert _rows(restored, sql, drop=("computed_at",)) == kpis[t], t
    # a second rederive changes nothing
    rc, out, _ = run_cli(capsys, "warehouse", "rederive", "--store", STORE, "--since", since, "--until", until,
                         "--dsn", restored)
    assert rc == 0 and "0 messages put back, 0 classified" in out and "(0 rows changed)" in out, out
    # a message a gate set aside (ops.dq_quarantine, not released) stays out, as the gate left it
    aside = messages[0]["message_id"]
    with psycopg2.connect(restored) as conn, conn.cursor() as cur:
        cur.execute("DELETE FROM core.message WHERE store_id = %s", (STORE,))
        cur.execute("INSERT INTO ops.dq_quarantine (store_id, stage, batch, row_key, expectation, interval_start, "
                    "interval_end) VALUES (%s, 'ingest_mail', 'messages', %s, 'test', %s, %s)", (STORE, aside, d4, d2))
    rc, out, _ = run_cli(capsys, "warehouse", "rederive", "--store", STORE, "--since", since, "--until", until,
                         "--dsn", restored)
    assert rc == 0 and f"{len(messages) - 1} messages put back" in out, out
    assert q(restored, "SELECT count(*) FROM core.message WHERE message_id = %s", (aside,)) == [(0,)]


# ------------------------------------------------- connections kept in Airflow's metadata database
@pytest.fixture(scope="module")
def mailbox_in_airflow(world, airflow_home):
    """The store's mailbox connection added to Airflow's metadata database (Admin → Connections),
    as a desk that keeps its connections there has it; the shell has no AIRFLOW_CONN_* at all."""
    conn_id = MAILBOX_ENV.removeprefix("AIRFLOW_CONN_").lower()
    r = typed(airflow_home["shell"]("postgresql://unused"),
              ["airflow", "connections", "add", conn_id, "--conn-json", world["env"][MAILBOX_ENV]])
    assert r.returncode == 0, r.stderr
    return airflow_home["shell"]


def test_mail_ingest_reads_a_mailbox_connection_kept_in_airflow(world, wh, mailbox_in_airflow):
    d5, d4 = day(world, 5), day(world, 4)
    r = typed(mailbox_in_airflow(wh), ["seller-inbox", "mail", "ingest", "--store", STORE,
                                       "--start", d5.isoformat(), "--end", d4.isoformat()])
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(r.stdout.strip().splitlines()[-1])["stored"] > 0, r.stdout
    assert q(wh, "SELECT count(*) FROM core.message WHERE store_id = %s", (STORE,))[0][0] > 0


def test_quarantine_retry_reads_a_mailbox_connection_kept_in_airflow(world, wh, mailbox_in_airflow):
    """retry opens the store's mailbox whether or not anything waits (nothing does here): without
    the connection it exits 1 with "cannot open mailbox connection 'mailbox_us_outdoor'"."""
    r = typed(mailbox_in_airflow(wh), ["seller-inbox", "quarantine", "retry", "--store", STORE])
    assert r.returncode == 0 and "quarantine retry" in r.stdout, r.stdout + r.stderr


def test_the_runbook_commands_say_what_is_wrong(world, wh, capsys, tmp_path):
    """One line naming the store, file or option, exit 1; nothing done."""
    for argv, needle in (
            (["gates", "--store", "nope"], "unknown store 'nope'"),
            (["auth", "check", "--store", "nope"], "unknown store 'nope'"),
            (["stores", "pause", "--store", "nope", "--by", "ops"], "unknown store 'nope'"),
            (["warehouse", "rederive", "--store", "nope", "--since", "2026-11-01"], "unknown store 'nope'"),
            (["warehouse", "rederive", "--store", STORE], "needs --since"),
            (["warehouse", "rederive", "--store", STORE, "--since", "2026-11-08", "--until", "2026-11-01"],
             "must be after --since"),
            (["warehouse", "rederive", "--store", STORE, "--since", "last week"], "not a date"),
            (["warehouse", "backup"], "needs --file"),
            (["warehouse", "restore", "--file", str(tmp_path / "missing.dump")], "no backup file"),
            (["warehouse", "restore", "--file", __file__], "pg_restore failed (nothing changed)")):
        rc, out, err = run_cli(capsys, *argv)
        assert rc == 1 and needle in err and len(err.strip().splitlines()) == 1, (argv, out, err)
    assert q(wh, "SELECT count(*) FROM ops.delivery_control") == [(0,)]


def test_the_readme_names_a_test_beside_every_runbook_step():
    """README.md's Runbook table: one row per section of docs/runbook.md, each naming a test of this module."""
    import re

    from seller_inbox.paths import REPO_ROOT

    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Runbook", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| .+? \| \[§(\d)\]\(docs/runbook\.md#([a-z0-9-]+)\) \| `(test_runbook_\w+)` \|$", table, re.M)
    sections = re.findall(r"^## (\d)\. (.+)$", (REPO_ROOT / "docs" / "runbook.md").read_text(encoding="utf-8"), re.M)
    assert [n for n, _, _ in rows] == [n for n, _ in sections] == [str(i) for i in range(1, 8)]
    for (n, anchor, test), (_, title) in zip(rows, sections):
        assert anchor == re.sub(r"[^a-z0-9 -]", "", f"{n}. {title}".lower()).replace(" ", "-"), (anchor, title)
        assert callable(globals().get(test)), f"README names {test}, which is not in {__name__}"
    assert {t for *_, t in rows} == {k for k in globals() if k.startswith("test_runbook_")}
