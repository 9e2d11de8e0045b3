"""The mailbox watcher alone, in an asyncio loop, against a real Dovecot (IMAP IDLE) and a Maildir.

The trigger is driven the way the triggerer drives it (``run()`` as an async generator); the
connection comes from an ``AIRFLOW_CONN_*`` variable, as it would from Airflow's secrets.
"""

from __future__ import annotations

import asyncio
import imaplib
import os
import shutil
import tempfile
import time
from email.message import EmailMessage

import pytest

from seller_inbox.realtime.watch import MailboxTrigger
from tests.e2e.realtime_stack import kill_tree
from tests.servers.dovecot import Dovecot, dovecot_server  # noqa: F401 - pytest fixture


def _mail(n: int) -> bytes:
    m = EmailMessage()
    m["From"] = "Buyer <abc123@marketplace.amazon.com>"
    m["To"] = "seller@example.com"
    m["Subject"] = f"Message {n}"
    m["Message-ID"] = f"<watch-{n}-{time.time_ns()}@example.com>"
    m.set_content("Where is my order?")
    return m.as_bytes()


def _append(srv, user: str, pw: str, n: int) -> None:
    c = imaplib.IMAP4(srv.host, srv.port)
    c.login(user, pw)
    assert c.append("INBOX", None, None, _mail(n))[0] == "OK"
    c.logout()


class Watch:
    """Runs a trigger in a background task and collects its events."""

    def __init__(self, trigger: MailboxTrigger):
        self.trigger, self.events = trigger, []
        self.task = asyncio.ensure_future(self._run())

    async def _run(self):
        async for ev in self.trigger.run():
            self.events.append(ev.payload)

    async def until(self, count: int, timeout: float = 20.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while len(self.events) < count:
            if self.task.done():
                self.task.result()  # raises what killed the watcher
            assert time.monotonic() < deadline, f"waited {timeout} s for {count} events, got {self.events}"
            await asyncio.sleep(0.05)
        return self.events

    async def stop(self):
        """Cancel the watcher as the triggerer does; it must stop within seconds (not at its next IDLE renewal)."""
        self.task.cancel()
        try:
            async with asyncio.timeout(10):
                await self.task
        except asyncio.CancelledError:
            pass
        except TimeoutError:
            raise AssertionError("the watcher ignored its cancellation for 10 s") from None


def _imap_conn(monkeypatch, srv, user, pw, conn_id):
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", srv.connection_json(user, pw))


def test_append_gives_one_event_each_and_idle_is_renewed(dovecot_server, monkeypatch):  # noqa: F811
    user, pw = dovecot_server.new_user()
    _imap_conn(monkeypatch, dovecot_server, user, pw, "watch_a")
    _append(dovecot_server, user, pw, 0)  # already there before watching: no event

    async def scenario():
        w = Watch(MailboxTrigger("us-outdoor", "watch_a", idle_renew_s=0.7, command_timeout_s=5))
        try:
            await asyncio.sleep(1.0)
            assert w.events == []
            await asyncio.to_thread(_append, dovecot_server, user, pw, 1)
            (ev,) = await w.until(1)
            assert ev["store"] == "us-outdoor" and ev["source"] == "imap:INBOX" and ev["reason"] == "idle"
            assert ev["uidnext"] == ev["previous_uidnext"] + 1 and ev["uidvalidity"]
            await asyncio.sleep(2.0)  # several IDLE renewals (0.7 s) without mail: no event, no reconnect
            assert len(w.events) == 1 and w.trigger.reconnects == 0
            await asyncio.to_thread(_append, dovecot_server, user, pw, 2)
            await w.until(2)
            assert w.events[1]["uidnext"] == ev["uidnext"] + 1 and w.events[1]["previous_uidnext"] == ev["uidnext"]
        finally:
            await w.stop()

    asyncio.run(scenario())


def test_server_restart_mid_idle_reconnects_and_reports_mail_of_the_outage(monkeypatch):
    """Dovecot killed while the watcher is in IDLE; mail delivered to the mailbox while it is down
    (as an LDA would) gives an event once the watcher is back; later mail too."""
    srv = Dovecot(tempfile.mkdtemp(prefix="dovecot-watch-", dir="/tmp")).start()
    try:
        user, pw = srv.new_user()
        _imap_conn(monkeypatch, srv, user, pw, "watch_b")
        _append(srv, user, pw, 0)

        async def scenario():
            w = Watch(MailboxTrigger("eu-home", "watch_b", backoff_max_s=1.0, command_timeout_s=5))
            try:
                await asyncio.sleep(1.0)
                kill_tree(srv.proc.pid)  # the server dies mid-IDLE: master and imap processes, no goodbye
                srv.proc.wait(5)
                srv.proc = None
                new = srv.maildir(user) / "new"
                new.mkdir(parents=True, exist_ok=True)
                (new / f"{time.time_ns()}.outage.host").write_bytes(_mail(99))
                await asyncio.sleep(1.5)  # the watcher notices and retries against a dead port
                assert w.events == []
                srv.start()
                (ev,) = await w.until(1, timeout=30)
                assert ev["reason"] == "reconnect" and ev["uidnext"] == ev["previous_uidnext"] + 1
                assert w.trigger.reconnects >= 1
                await asyncio.to_thread(_append, srv, user, pw, 3)
                await w.until(2)
                assert w.events[1]["reason"] == "idle" and w.events[1]["uidnext"] == ev["uidnext"] + 1
            finally:
                await w.stop()

        asyncio.run(scenario())
    finally:
        srv.stop()
        shutil.rmtree(srv.base, ignore_errors=True)


class _MemoryState:
    """What the triggerer injects as ``asset_state_store`` (async get/set of JSON values)."""

    def __init__(self):
        self.values = {}

    async def aget(self, key, default=None):
        return self.values.get(key, default)

    async def aset(self, key, value):
        self.values[key] = value


def test_maildir_new_files_give_events_and_a_restart_reports_what_came_meanwhile(tmp_path, monkeypatch):
    root = tmp_path / "maildir"
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True)
    (root / "new" / "1.old.host").write_bytes(_mail(0))
    monkeypatch.setenv("AIRFLOW_CONN_WATCH_M", f'{{"conn_type": "maildir", "extra": {{"path": "{root}"}}}}')
    state = _MemoryState()

    def deliver(name: str) -> None:  # tmp/ then rename into new/, as a Maildir writer does
        (root / "tmp" / name).write_bytes(_mail(1))
        os.rename(root / "tmp" / name, root / "new" / name)

    async def scenario():
        trig = MailboxTrigger("jp-gadgets", "watch_m", poll_s=0.1)
        trig.asset_state_store = state
        w = Watch(trig)
        try:
            await asyncio.sleep(0.5)
            assert w.events == []
            deliver("2.fresh.host")
            (ev,) = await w.until(1, timeout=5)
            assert ev == {**ev, "store": "jp-gadgets", "source": "maildir:INBOX", "files": ["2.fresh.host"], "count": 1}
            os.rename(root / "new" / "2.fresh.host", root / "cur" / "2.fresh.host:2,S")  # read and flagged: no new mail
            await asyncio.sleep(0.5)
            assert len(w.events) == 1
            (root / "cur" / "4.demo-writer.host:2,").write_bytes(_mail(4))  # straight into cur/, as the demo writes
            await w.until(2, timeout=5)
            assert w.events[1]["files"] == ["4.demo-writer.host"]
        finally:
            await w.stop()
        time.sleep(0.01)
        deliver("3.while-down.host")  # nothing watches now
        trig2 = MailboxTrigger("jp-gadgets", "watch_m", poll_s=0.1)
        trig2.asset_state_store = state
        w2 = Watch(trig2)
        try:
            (ev,) = await w2.until(1, timeout=5)
            assert ev["reason"] == "start" and ev["files"] == ["3.while-down.host"]
        finally:
            await w2.stop()

    asyncio.run(scenario())


def test_a_connection_of_another_kind_is_one_clear_error_and_an_incident(monkeypatch, warehouse_dsn, db):
    monkeypatch.setenv("AIRFLOW_CONN_WATCH_X", '{"conn_type": "http", "host": "example.com"}')

    async def scenario():
        async for _ in MailboxTrigger("us-outdoor", "watch_x").run():
            pass

    with pytest.raises(ValueError, match="store us-outdoor: connection 'watch_x' has conn_type 'http'"):
        asyncio.run(scenario())
    with db.cursor() as cur:  # the watcher stopped for good: the store's channels are told, not only the log
        cur.execute("SELECT incident_key, resolved_at FROM ops.incident")
        assert cur.fetchall() == [("si_us-outdoor_urgent.mailbox_watcher", None)]


def test_a_mailbox_unreachable_too_long_is_an_incident_once_and_recovers_once(monkeypatch, tmp_path, db,
                                                                                 warehouse_dsn):
    """No silent stop: the store's channels hear once that the watcher cannot reach the mailbox, and once
    that it works again (the incident bookkeeping of failed tasks: ops.incident, WeCom receiver)."""
    import json

    from seller_inbox.config import DEFAULT_REGISTRY
    from tests.servers.webhooks import WebhookReceiver

    reg = tmp_path / "stores.yaml"
    reg.write_text(DEFAULT_REGISTRY.read_text().replace(
        "alert_channels: [{type: log}]\n    alert_language: en",
        "alert_channels: [{type: wecom, conn_id: wecom_ops}]\n    alert_language: en", 1))
    monkeypatch.setenv("SELLER_INBOX_STORES", str(reg))
    srv = Dovecot(tempfile.mkdtemp(prefix="dovecot-watch-", dir="/tmp")).start()
    try:
        user, pw = srv.new_user()
        _imap_conn(monkeypatch, srv, user, pw, "watch_i")
        srv.stop()  # the mailbox is down before the watcher starts
        with WebhookReceiver(wecom_keys=("wk-1",)) as hooks:
            monkeypatch.setenv("AIRFLOW_CONN_WECOM_OPS", json.dumps({"conn_type": "http", "host": hooks.wecom_url("wk-1")}))

            def texts(needle: str) -> list[str]:
                return [r["json"]["markdown"]["content"] for r in hooks.accepted("wecom")
                        if needle in r["json"]["markdown"]["content"]]

            async def scenario():
                w = Watch(MailboxTrigger("us-outdoor", "watch_i", backoff_max_s=0.3, command_timeout_s=2,
                                         alert_after_s=1.0))
                try:
                    deadline = time.monotonic() + 30
                    while not texts("mail watcher") and time.monotonic() < deadline:
                        await asyncio.sleep(0.2)
                    await asyncio.sleep(1.5)  # still down: no second alert
                    assert len(texts("mail watcher")) == 1
                    await asyncio.to_thread(srv.start)
                    deadline = time.monotonic() + 30
                    while not texts("works again") and time.monotonic() < deadline:
                        await asyncio.sleep(0.2)
                finally:
                    await w.stop()

            asyncio.run(scenario())
            (down,) = texts("mail watcher")
            assert "us-outdoor" in down and "unreachable" in down and "si_us-outdoor_urgent" in down
            assert len(texts("works again")) == 1
        with db.cursor() as cur:
            cur.execute("SELECT incident_key, resolved_at IS NOT NULL FROM ops.incident")
            assert cur.fetchall() == [("si_us-outdoor_urgent.mailbox_watcher", True)]
    finally:
        srv.stop()
        shutil.rmtree(srv.base, ignore_errors=True)
