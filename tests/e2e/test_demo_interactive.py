"""The interactive run command, end to end: Airflow's components, real backfills through the scheduler.

One start of `seller-inbox demo --days 2` (module fixture) as a user would, on a fresh home,
serves both tests: first the scheduler is SIGKILLed mid-run and the command must say so and
recover (or exit non-zero); then the UI, the login, the binding and the backfill runs are
checked, and Ctrl-C stops it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import psycopg2
import pytest

CLOSING = "Ctrl-C stops"
PIPELINES = ["si_eu-home_pipeline", "si_jp-gadgets_pipeline", "si_us-outdoor_pipeline"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Demo:
    """The running command and everything it printed so far (read on a thread)."""

    def __init__(self, proc: subprocess.Popen, home: Path, port: int, url: str):
        self.proc, self.home, self.port, self.url = proc, home, port, url
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)

    @property
    def out(self) -> str:
        return "".join(self.lines)

    def wait_for(self, text: str, timeout: float, start: int = 0) -> bool:
        """Until a line from index ``start`` on contains ``text``, the command exits, or the timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.lines[start:]):
                return True
            if self.proc.poll() is not None:
                time.sleep(0.5)  # the reader drains the pipe
                return any(text in line for line in self.lines[start:])
            time.sleep(0.5)
        return False

    def children(self) -> dict[int, str]:
        """pid → command line of this command's direct children (/proc)."""
        found = {}
        for d in Path("/proc").iterdir():
            if not d.name.isdigit():
                continue
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
                cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except (OSError, IndexError, ValueError):
                continue
            if ppid == self.proc.pid:
                found[int(d.name)] = cmd
        return found


@pytest.fixture(scope="module")
def demo(new_database, tmp_path_factory):
    url = new_database("si_live")
    home = tmp_path_factory.mktemp("demo-home")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not (k.startswith("AIRFLOW") or k.startswith("_AIRFLOW"))}
    env.update({"SELLER_INBOX_HOME": str(home), "SELLER_INBOX_WAREHOUSE_URL": url})
    proc = subprocess.Popen([sys.executable, "-m", "seller_inbox", "demo", "--days", "2", "--port", str(port)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    d = Demo(proc, home, port, url)
    try:
        yield d
    finally:
        kids = d.children()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        for pid in kids:  # each component has its own process group; leave none behind
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def _task_started(db: Path) -> bool:
    try:
        with sqlite3.connect(db, timeout=10) as c:
            return c.execute("SELECT count(*) FROM task_instance WHERE state IN ('running', 'success')").fetchone()[0] > 0
    except sqlite3.Error:
        return False


def test_a_killed_scheduler_is_named_and_restarted(demo):
    assert demo.wait_for("• backfill us-outdoor", 600), demo.out[-4000:]
    db = demo.home / "airflow" / "airflow.db"
    deadline = time.monotonic() + 300
    while not _task_started(db) and time.monotonic() < deadline:
        time.sleep(1)
    assert _task_started(db), demo.out[-4000:]
    schedulers = [pid for pid, cmd in demo.children().items() if "airflow scheduler" in cmd]
    assert len(schedulers) == 1, demo.children()
    mark = len(demo.lines)
    os.kill(schedulers[0], signal.SIGKILL)
    assert demo.wait_for("Airflow scheduler died", 60, start=mark), demo.out[-4000:]
    assert demo.wait_for("restarting the scheduler", 5, start=mark) or demo.proc.poll() not in (None, 0), \
        demo.out[-4000:]
    # then it either recovers (every run finishes, the KPI table and the closing lines) or exits non-zero
    recovered = demo.wait_for(CLOSING, 480, start=mark)
    if recovered:
        for s in ("us-outdoor", "eu-home", "jp-gadgets"):
            assert s in "".join(demo.lines[mark:])  # the KPI table
    else:
        assert demo.proc.poll() not in (None, 0), demo.out[-4000:]


def test_run_command_serves_the_ui_and_backfills_every_store(demo):
    assert demo.wait_for(CLOSING, 480), demo.out[-4000:]
    out, port, url = demo.out, demo.port, demo.url
    base = f"http://127.0.0.1:{port}"
    first_ui = next(i for i, l in enumerate(demo.lines) if "Airflow UI" in l)
    first_backfill = next(i for i, l in enumerate(demo.lines) if "• backfill" in l)
    assert first_ui < first_backfill, out  # the login as soon as the UI is up, not only at the end
    pw = json.loads((demo.home / "airflow" / "simple_auth_manager_passwords.json.generated").read_text())
    assert out.count(f"{base}   login 登录: admin / {pw['admin']}") == 2, out
    with urllib.request.urlopen(f"{base}/api/v2/monitor/health", timeout=10) as r:
        assert json.load(r)["scheduler"]["status"] == "healthy"
    assert _listening(port) == {"127.0.0.1"}  # the UI on this machine only
    db = demo.home / "airflow" / "airflow.db"
    with sqlite3.connect(db) as c:
        runs = c.execute("SELECT dag_id, substr(logical_date, 1, 10), run_type, state FROM dag_run "
                         "WHERE dag_id LIKE '%pipeline' ORDER BY 1, 2").fetchall()
    # two days per store, each run to success; the older day always by the backfill
    assert sorted({(d, day) for d, day, _, st in runs if st == "success"}) == sorted(
        (d, day) for d in PIPELINES for day in sorted({r[1] for r in runs}))
    assert len({r[1] for r in runs}) == 2
    assert {d for d, _, typ, st in runs if typ == "backfill" and st == "success"} == set(PIPELINES)
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT DISTINCT store_id FROM kpi.store_daily ORDER BY 1")
        assert [r[0] for r in cur.fetchall()] == ["eu-home", "jp-gadgets", "us-outdoor"]
    for s in ("us-outdoor", "eu-home", "jp-gadgets"):
        assert s in out  # the KPI table
    assert "runs: us-outdoor" in out or "runs: eu-home" in out  # progress per store, piped output


def _listening(port: int) -> set[str]:
    """The IPv4 addresses a socket listens on for this port (/proc/net/tcp; 0.0.0.0 = every interface)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        addr, p = local.split(":")
        if state == "0A" and int(p, 16) == port:
            found.add(socket.inet_ntoa(bytes.fromhex(addr)[::-1]))
    return found
