"""Airflow's components for ``seller-inbox demo``, each a child process this one watches.

Not ``airflow standalone``: it restarts nothing when a component dies (a scheduler crash left
the demo silent), and its log servers listen on every interface. Here the scheduler,
dag-processor, triggerer and api-server run as four children (UI on 127.0.0.1, no log server:
the api-server reads the local task logs). ``check()`` looks at them every few seconds: a
child that exited, or whose heartbeat (``/api/v2/monitor/health``) is older than
``STALE_AFTER`` seconds, is named with the last lines of its log and restarted, at most
``max_restarts`` times in all; then ``ComponentDied`` says what to do. In-process services
(the SP-API simulator, the SMTP server) are watched the same way through a probe.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

COMPONENTS = (
    ("scheduler", ["scheduler", "--skip-serve-logs"]),
    ("dag-processor", ["dag-processor"]),
    ("triggerer", ["triggerer", "--skip-serve-logs"]),
    ("api-server", ["api-server"]),
)
HEARTBEATS = {"scheduler": "scheduler", "triggerer": "triggerer", "dag-processor": "dag_processor"}
STARTUP_GRACE = 90.0  # s after a (re)start before a missing heartbeat or health answer counts
STALE_AFTER = 40.0    # s without a heartbeat (or, for the api-server, a health answer): stuck


class ComponentDied(RuntimeError):
    """A component failed again after the restarts were used up; the message says what to do."""


@dataclass
class _Child:
    name: str
    args: list[str]
    log: Path
    proc: subprocess.Popen | None = None
    started: float = 0.0


@dataclass
class _Service:
    name: str
    probe: Callable[[], bool]
    restart: Callable[[], None]
    failing_since: float | None = None


@dataclass
class Supervisor:
    env: dict
    logs: Path
    health_url: str
    say: Callable[[str], None] = print
    max_restarts: int = 2
    restarts: int = 0
    children: list[_Child] = field(default_factory=list)
    services: list[_Service] = field(default_factory=list)
    _groups: list[int] = field(default_factory=list)
    _health_ok: float = 0.0

    def start(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        for name, args in COMPONENTS:
            child = _Child(name, args, self.logs / f"airflow-{name}.log")
            self.children.append(child)
            self._spawn(child)

    def child(self, name: str) -> _Child:
        return next(c for c in self.children if c.name == name)

    def watch(self, name: str, probe: Callable[[], bool], restart: Callable[[], None]) -> None:
        """Also watch an in-process service (probe() False twice, 5 s apart → restart())."""
        self.services.append(_Service(name, probe, restart))

    def alive(self, name: str) -> bool:
        c = self.child(name)
        return c.proc is not None and c.proc.poll() is None

    def _spawn(self, c: _Child) -> None:
        exe = str(Path(sys.executable).with_name("airflow"))
        with open(c.log, "a", encoding="utf-8") as out:
            c.proc = subprocess.Popen([exe, *c.args], env={**os.environ, **self.env}, stdout=out,
                                      stderr=subprocess.STDOUT, start_new_session=True)
        c.started = time.monotonic()
        self._groups.append(c.proc.pid)

    def health(self) -> dict | None:
        try:
            with urllib.request.urlopen(self.health_url, timeout=5) as r:
                data = json.load(r)
        except Exception:  # noqa: BLE001 - down or starting: the caller decides
            return None
        self._health_ok = time.monotonic()
        return data

    def check(self) -> None:
        """One look at every component; restarts what died or hangs. Raises ComponentDied."""
        now = time.monotonic()
        problems: list[tuple[_Child, str]] = []
        for c in self.children:
            if c.proc.poll() is not None:
                problems.append((c, f"died ({_exit(c.proc.returncode)})"))
        health = self.health() if not problems else None
        api = self.child("api-server")
        if health is None and not problems and now - max(api.started, self._health_ok) > STARTUP_GRACE:
            quiet = now - max(api.started, self._health_ok)
            problems.append((api, f"does not answer {self.health_url} for {quiet:.0f} s"))
        for name, key in HEARTBEATS.items():
            c = self.child(name)
            if health is None or now - c.started < STARTUP_GRACE:
                continue
            age = age_s((health.get(key) or {}).get(f"latest_{key}_heartbeat"))
            if age is None or age > STALE_AFTER:
                problems.append((c, "stopped heartbeating" + (f" ({age:.0f} s ago)" if age is not None else "")))
        for c, why in problems:
            self._restart_child(c, why)
        for s in self.services:
            self._check_service(s, now)

    def _budget(self, what: str, hint: str) -> None:
        if self.restarts >= self.max_restarts:
            raise ComponentDied(f"error: {what}, and the {self.max_restarts} restarts are used up. {hint} "
                                "Then run `make run` again: the backfills already created resume.")
        self.restarts += 1

    def _restart_child(self, c: _Child, why: str) -> None:
        self.say(f"✗ Airflow {c.name} {why}; last lines of {c.log}:")
        for line in tail(c.log, 6):
            self.say(f"    {line}")
        self._budget(f"Airflow {c.name} {why}", f"Read {c.log}.")
        _killpg(c.proc.pid, signal.SIGKILL)  # the whole group: a dead scheduler's executor workers too
        if c.proc.poll() is None:
            c.proc.wait(10)
        self.say(f"↻ restarting the {c.name} (restart {self.restarts} of {self.max_restarts}); "
                 "runs already queued resume")
        self._spawn(c)

    def _check_service(self, s: _Service, now: float) -> None:
        try:
            ok = s.probe()
        except Exception:  # noqa: BLE001 - a failing probe is a failing service
            ok = False
        if ok:
            s.failing_since = None
            return
        if s.failing_since is None:
            s.failing_since = now
            return
        if now - s.failing_since < 5:
            return
        self.say(f"✗ {s.name} stopped answering")
        self._budget(f"the {s.name} stopped answering", "")
        self.say(f"↻ restarting the {s.name} (restart {self.restarts} of {self.max_restarts})")
        s.restart()
        s.failing_since = None

    def stop(self) -> None:
        """SIGTERM every process group started (workers of a killed scheduler too), then SIGKILL."""
        for pgid in self._groups:
            _killpg(pgid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for c in self.children:
            if c.proc is not None:
                try:
                    c.proc.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    pass
        for pgid in self._groups:
            _killpg(pgid, signal.SIGKILL)


def _killpg(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _exit(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            pass
    return f"exit code {code}"


def age_s(stamp: str | None) -> float | None:
    """Seconds since an ISO timestamp (naive: UTC, as SQLite keeps them); None if absent."""
    if not stamp:
        return None
    try:
        t = datetime.fromisoformat(str(stamp))
    except ValueError:
        return None
    t = t if t.tzinfo else t.replace(tzinfo=timezone.utc)
    return (datetime.now(timezone.utc) - t).total_seconds()


def tail(path: Path, n: int) -> list[str]:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return []
    words = re.compile(r"[^\W\d_]{3}")  # skips blank lines and Airflow's ASCII-art banner
    return [l.rstrip()[:200] for l in lines if words.search(l)][-n:]


def port_answers(port: int, host: str = "127.0.0.1") -> bool:
    """A TCP connect succeeds (the SMTP server, the simulator)."""
    try:
        with socket.create_connection((host, port), timeout=3):
            return True
    except OSError:
        return False
