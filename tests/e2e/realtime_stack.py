"""One store's real-time stack for the e2e test and benchmarks/bench_realtime.py: Airflow's
scheduler (LocalExecutor), dag-processor, triggerer and api-server as processes (the demo's
settings, SQLite metadata), a real Dovecot mailbox (or a Maildir, the embedded default), a
PostgreSQL warehouse and a local WeCom webhook receiver as the store's alert channel.

Only ``si_<store>_urgent`` is unpaused: the mailbox watcher in the triggerer starts it when
mail arrives. ``send(...)`` APPENDs a relay-format buyer mail and returns the time it did;
``alerts()`` maps each alerted order id to the first time the webhook received it.
"""

from __future__ import annotations

import imaplib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import yaml

from seller_inbox.config import DEFAULT_REGISTRY, load_registry
from seller_inbox.paths import REPO_ROOT
from seller_inbox_dev.demo.run import airflow_env, connection_env
from tests.servers.dovecot import Dovecot, free_port
from tests.servers.webhooks import WebhookReceiver

UTC = timezone.utc
STORE = "us-outdoor"
ORDER_ID = re.compile(r"\b\d{3}-\d{7}-\d{7}\b")
COMPONENTS = (("dag-processor", ["dag-processor"]), ("api-server", ["api-server"]),
              ("triggerer", ["triggerer", "--skip-serve-logs"]), ("scheduler", ["scheduler", "--skip-serve-logs"]))


def relay_mail(n: int, order_id: str, body: str, when: datetime | None = None) -> tuple[bytes, str]:
    """A buyer message as Amazon's relay delivers it (From the buyer's alias, the marker lines)."""
    when = when or datetime.now(UTC)
    mid = f"<rt-{n}-{time.time_ns()}@relay.example>"
    m = EmailMessage()
    m["From"] = f'"Pat - Amazon Marketplace" <rt{n:04d}buyer@marketplace.amazon.com>'
    m["To"] = f"support@{STORE}.demo.example"
    m["Subject"] = f"Order delivery inquiry from Amazon customer Pat (Order: {order_id})"
    m["Date"] = format_datetime(when)
    m["Message-ID"] = mid
    m.set_content("------------- Begin message -------------\n\n" + body + "\n\n------------- End message -------------\n")
    return m.as_bytes(), mid


THREAT = ("My package never arrived and the tracking has not moved for a week. If I do not get a refund "
          "today I will file an A-to-z claim and report you to Amazon.")


def kill_tree(pid: int) -> None:
    """SIGKILL ``pid`` and every process below it (Dovecot's imap processes outlive a lone master)."""
    parents = {}
    for st in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = st.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(st.parent.name))
    todo, tree = [pid], []
    while todo:
        p = todo.pop()
        tree.append(p)
        todo += parents.get(p, [])
    for p in tree:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass


class RealtimeStack:
    def __init__(self, base: Path, warehouse_url: str, *, mailbox: str = "imap", idle_renew_s: float = 60.0):
        self.base, self.url, self.kind = Path(base), warehouse_url, mailbox
        self.hooks = WebhookReceiver(wecom_keys=("rt-1",))
        self.dovecot: Dovecot | None = None
        self.procs: dict[str, subprocess.Popen] = {}
        self.idle_renew_s = idle_renew_s
        self._seen: dict[str, float] = {}
        self._stop = threading.Event()

    # ------------------------------------------------------------------ set-up
    def _registry(self) -> Path:
        reg = yaml.safe_load(Path(DEFAULT_REGISTRY).read_text())
        store = next(s for s in reg["stores"] if s["id"] == STORE)
        store.update(alert_channels=[{"type": "wecom", "conn_id": "wecom_rt", "min_risk": "high"}],
                     alert_language="en")
        store.setdefault("schedules", {})["pipeline"] = "0 0 * * *"
        reg["stores"] = [store]
        path = self.base / "stores.yaml"
        path.write_text(yaml.safe_dump(reg, sort_keys=False))
        return path

    def _env(self, reg_path: Path) -> dict:
        stores = load_registry(reg_path).stores
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("AIRFLOW_CONN_", "AIRFLOW__", "_AIRFLOW")) and k != "AIRFLOW_HOME"}
        env.update(airflow_env(self.base, ui_port=free_port()))
        env.update(connection_env(stores, "http://127.0.0.1:9", self.base / "maildir", self.url))
        mailbox_var = f"AIRFLOW_CONN_{stores[0].connections.mailbox.upper()}"
        if self.kind == "imap":
            self.dovecot = Dovecot(tempfile.mkdtemp(prefix="dovecot-rt-", dir="/tmp")).start()
            self.user, self.pw = self.dovecot.new_user()
            env[mailbox_var] = self.dovecot.connection_json(self.user, self.pw)
        else:
            for sub in ("cur", "new", "tmp"):
                (self.base / "maildir" / STORE / sub).mkdir(parents=True, exist_ok=True)
        env.update({
            "AIRFLOW_CONN_WECOM_RT": json.dumps({"conn_type": "http", "host": self.hooks.wecom_url("rt-1")}),
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.5",
            "SELLER_INBOX_STORES": str(reg_path), "SELLER_INBOX_WAREHOUSE_URL": self.url,
            "SELLER_INBOX_HOME": str(self.base), "PYTHONPATH": str(REPO_ROOT),
            "SELLER_INBOX_IDLE_RENEW_S": str(self.idle_renew_s)})
        return env

    def _airflow(self, *args: str, timeout: float = 300) -> str:
        exe = str(Path(sys.executable).with_name("airflow"))
        p = subprocess.run([exe, *args], env=self.env, capture_output=True, text=True, timeout=timeout, cwd=REPO_ROOT)
        assert p.returncode == 0, f"airflow {' '.join(args)} failed: {p.stdout[-2000:]}{p.stderr[-3000:]}"
        return p.stdout

    def start(self, timeout: float = 420) -> "RealtimeStack":
        from seller_inbox import warehouse

        self.base.mkdir(parents=True, exist_ok=True)
        warehouse.migrate(self.url)
        self.hooks.start()
        self.env = self._env(self._registry())
        self._airflow("db", "migrate")
        logs = self.base / "logs"
        logs.mkdir(exist_ok=True)
        exe = str(Path(sys.executable).with_name("airflow"))
        for name, args in COMPONENTS:
            with open(logs / f"airflow-{name}.log", "a", encoding="utf-8") as out:
                self.procs[name] = subprocess.Popen([exe, *args], env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                                    start_new_session=True, cwd=REPO_ROOT)
        deadline = time.monotonic() + timeout
        dag = f"si_{STORE}_urgent"
        # the dag-processor stored the DAG: unpause it; then the triggerer takes up its watcher
        while self._db(f"SELECT count(*) FROM dag WHERE dag_id = '{dag}' AND NOT is_paused") == 0:
            self._alive()
            assert time.monotonic() < deadline, f"{dag} never appeared:\n{self.log('dag-processor')}"
            if self._db(f"SELECT count(*) FROM dag WHERE dag_id = '{dag}'"):
                self._airflow("dags", "unpause", dag)
            else:
                time.sleep(2)
        # the watcher saved what it saw (asset state store) once connected: mail from now on is its
        while not self._db("SELECT count(*) FROM asset_state_store WHERE key = 'mailbox'"):
            self._alive()
            assert time.monotonic() < deadline, "the mailbox watcher never started:\n" + self.log("triggerer")
            time.sleep(1)
        time.sleep(1)  # from EXAMINE to IDLE
        threading.Thread(target=self._collect, daemon=True).start()
        return self

    def _db(self, sql: str) -> int:
        """One number from Airflow's metadata database (SQLite)."""
        import sqlite3

        try:
            with sqlite3.connect(self.base / "airflow" / "airflow.db", timeout=30) as c:
                return c.execute(sql).fetchone()[0]
        except sqlite3.OperationalError:  # not migrated yet, or locked for longer than the timeout
            return 0

    def _alive(self) -> None:
        for name, p in self.procs.items():
            assert p.poll() is None, f"airflow {name} exited {p.returncode}:\n{self.log(name)}"

    def log(self, name: str, tail: int = 4000) -> str:
        p = self.base / "logs" / f"airflow-{name}.log"
        return p.read_text(errors="replace")[-tail:] if p.exists() else ""

    # ------------------------------------------------------------------ mail and alerts
    def send(self, n: int, order_id: str, body: str = THREAT) -> float:
        raw, mid = relay_mail(n, order_id, body)
        if self.kind == "imap":
            c = imaplib.IMAP4(self.dovecot.host, self.dovecot.port)
            c.login(self.user, self.pw)
            t = time.time()
            assert c.append("INBOX", None, None, raw)[0] == "OK"
            c.logout()
            return t
        from seller_inbox_dev.demo.mail import deliver

        t = time.time()
        deliver(self.base / "maildir" / STORE, raw, datetime.now(UTC), mid)
        return t

    def _collect(self) -> None:
        while not self._stop.is_set():
            for r in self.hooks.accepted("wecom"):
                text = (r["json"] or {}).get("markdown", {}).get("content", "")
                if "HIGH RISK" not in text.upper():
                    continue
                m = ORDER_ID.search(text)
                key = m.group(0) if m else None
                self._seen.setdefault(f"{key}#{id(r)}", time.time())
            time.sleep(0.1)

    def alerts(self) -> dict[str, list[float]]:
        """order id -> receipt times of its high-risk alerts (one entry per webhook request)."""
        out: dict[str, list[float]] = {}
        for key, t in list(self._seen.items()):
            out.setdefault(key.split("#")[0], []).append(t)
        return out

    def wait_alerts(self, order_ids: set[str], timeout: float) -> dict[str, list[float]]:
        deadline = time.monotonic() + timeout
        while not order_ids <= set(self.alerts()):
            self._alive()
            if time.monotonic() > deadline:
                missing = order_ids - set(self.alerts())
                raise AssertionError(f"no alert within {timeout:.0f} s for {sorted(missing)}\n"
                                     f"scheduler:\n{self.log('scheduler')}\ntriggerer:\n{self.log('triggerer')}")
            time.sleep(0.2)
        return self.alerts()

    def stop(self) -> None:
        self._stop.set()
        for p in self.procs.values():
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in self.procs.values():
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        self.hooks.stop()
        if self.dovecot:
            self.dovecot.stop()
