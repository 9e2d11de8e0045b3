"""Airflow on the CeleryExecutor as real processes on this machine, for test_celery_run.py.

Metadata on the machine's PostgreSQL (a database of its own, also the Celery result backend),
Redis as the broker, and ``airflow scheduler``, ``dag-processor``, ``triggerer``, ``api-server``
and two ``airflow celery worker`` (``w1``, ``w2``: own Celery hostname, own queue beside the
shared default queue). Each process has its own session (process group); ``stop`` ends every
group started and every process below them (task runners put themselves in groups of their own).

The "world" the DAGs talk to — demo mail in Maildirs, the SP-API simulator, an SMTP server, a
migrated warehouse — is built by ``World`` the way the demo builds it (``demo/run.py``), so the
same world can be made twice: once for the Celery run, once for an embedded ``dag.test`` run.

Kept out of Airflow's imports: the workers import only ``worker_hostname`` from here.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

WORKER_ENV = "SI_TEST_CELERY_WORKER"
WORKERS = ("w1", "w2")
COMPONENTS = (
    ("scheduler", ["scheduler", "--skip-serve-logs"]),
    ("dag-processor", ["dag-processor"]),
    ("triggerer", ["triggerer", "--skip-serve-logs"]),
    ("api-server", ["api-server"]),
)
# What the test proves and docs/distributed.md recommends: a killed worker's running task is
# found by its missing heartbeat after TASK_HEARTBEAT_TIMEOUT s (Airflow's default: 300) and
# retried on another worker; a task lost between the broker and a worker start (queued, never
# running) is re-queued after QUEUED_TIMEOUT s (default 600).
TASK_HEARTBEAT_TIMEOUT = 40
QUEUED_TIMEOUT = 120


# imported once by each worker before it forks its slots, so that a task's process does not import
# them again: Great Expectations alone takes 4-10 s per gate task here (docs/distributed.md)
PRELOAD = ("pandas", "great_expectations", "seller_inbox.gates", "seller_inbox.stages")


def __getattr__(name: str):
    """``CELERY_CONFIG`` (``[celery] celery_config_options``): Airflow's Celery settings plus
    ``imports``, built when a worker asks for it (nothing heavy at import)."""
    if name == "CELERY_CONFIG":
        from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG

        return {**DEFAULT_CELERY_CONFIG, "imports": PRELOAD}
    raise AttributeError(name)


def worker_hostname() -> str:
    """``[core] hostname_callable`` for the test: two workers on one machine would both report
    its FQDN in ``task_instance.hostname``; each worker's processes carry their own name."""
    return os.environ.get(WORKER_ENV) or socket.getfqdn()


def clean_env() -> dict[str, str]:
    """This process's environment without any Airflow setting of the test session."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("AIRFLOW_CONN_", "AIRFLOW__", "_AIRFLOW")) and k != "AIRFLOW_HOME"}


class World:
    """Demo mail, SP-API simulator, SMTP server and a migrated warehouse, as ``demo.run.Stack``
    makes them: the world pinned at ``end``, the demo registry, mail of the ``days`` before."""

    def __init__(self, base: Path, warehouse_url: str, end, days: int, seed: int, crypto_key: str):
        from datetime import timedelta

        from seller_inbox import clock, warehouse
        from seller_inbox.config import load_registry
        from seller_inbox.paths import REPO_ROOT
        from seller_inbox_dev.demo.mail import write_demo_mail
        from seller_inbox_dev.demo.run import DEMO_REGISTRY, connection_env, demo_sender
        from seller_inbox_dev.sandbox.server import start as start_sim
        from tests.servers.smtp import SmtpServer

        self.base, self.url, self.end, self.days = base, warehouse_url, end, days
        self.stores = load_registry(DEMO_REGISTRY).enabled_stores
        warehouse.migrate(warehouse_url)
        self.maildir = base / "maildir"
        write_demo_mail(self.maildir, self.stores, end - timedelta(days=days), end, seed=seed)
        self.sim = start_sim(host="127.0.0.1", port=0, seed=seed, as_of=end)
        self.smtp = SmtpServer(sent_copy={demo_sender(s): self.maildir / s.id for s in self.stores}).start()
        docs = base / "data-docs"
        docs.mkdir(parents=True, exist_ok=True)
        self.env = {
            **connection_env(self.stores, self.sim.url, self.maildir, warehouse_url, smtp_port=self.smtp.port,
                             crypto_key=crypto_key),
            clock.ENV: end.isoformat(),
            "SELLER_INBOX_HOME": str(base),
            "SELLER_INBOX_STORES": str(DEMO_REGISTRY),
            "SELLER_INBOX_WAREHOUSE_URL": warehouse_url,
            "SELLER_INBOX_DATA_DOCS": str(docs),
            "PYTHONPATH": str(REPO_ROOT),
        }

    def stop(self) -> None:
        self.smtp.stop()
        self.sim.stop()


def celery_env(base: Path, metadata_url: str, broker_url: str, api_port: int, queue: str) -> dict[str, str]:
    """The demo's Airflow settings (paths, UI on 127.0.0.1) turned into a Celery installation."""
    from seller_inbox_dev.demo.run import airflow_env

    meta = metadata_url.replace("postgresql://", "postgresql+psycopg2://", 1)
    env = airflow_env(base, api_port)
    env.update({
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": meta,
        # seven processes share the server with other tests: small pools
        "AIRFLOW__DATABASE__SQL_ALCHEMY_POOL_SIZE": "2",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_MAX_OVERFLOW": "4",
        "AIRFLOW__CELERY__BROKER_URL": broker_url,
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + metadata_url,
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
        "AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS": "tests.e2e.celery_stack.CELERY_CONFIG",
        # the queue every task goes to (each worker also serves its own); unique per test run so that
        # two runs sharing the Redis database never take each other's tasks
        "AIRFLOW__OPERATORS__DEFAULT_QUEUE": queue,
        "AIRFLOW__CORE__PARALLELISM": "8",
        # only the runs the test triggers: no cron or asset-triggered runs, no DAG unpaused by itself
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(TASK_HEARTBEAT_TIMEOUT),
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": str(QUEUED_TIMEOUT),
        # every component signs and checks the same tokens (workers call the api-server's execution API)
        "AIRFLOW__API_AUTH__JWT_SECRET": uuid.uuid4().hex,
        "AIRFLOW__API__SECRET_KEY": uuid.uuid4().hex,
        "AIRFLOW__CORE__HOSTNAME_CALLABLE": "tests.e2e.celery_stack.worker_hostname",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
    })
    return env


class CeleryStack:
    """The Airflow processes; ``api`` talks to the api-server as a logged-in user."""

    def __init__(self, base: Path, env: dict[str, str], queue: str):
        self.base, self.env, self.queue = base, env, queue
        self.logs = base / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.procs: dict[str, subprocess.Popen] = {}
        self.url = env["AIRFLOW__API__BASE_URL"]
        self._token: str | None = None

    def airflow(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        exe = str(Path(sys.executable).with_name("airflow"))
        return subprocess.run([exe, *args], env=self.env, capture_output=True, text=True, timeout=timeout,
                              check=True)

    def _spawn(self, name: str, args: list[str], extra: dict | None = None) -> None:
        exe = str(Path(sys.executable).with_name("airflow"))
        with open(self.logs / f"{name}.log", "a", encoding="utf-8") as out:
            self.procs[name] = subprocess.Popen([exe, *args], env={**self.env, **(extra or {})}, stdout=out,
                                                stderr=subprocess.STDOUT, start_new_session=True)

    def start(self) -> None:
        for name, args in COMPONENTS:
            self._spawn(name, args)
        for w in WORKERS:
            self.start_worker(w)

    def start_worker(self, name: str) -> None:
        self._spawn(name, ["celery", "worker", "--celery-hostname", f"{name}@%h", "--queues",
                           f"{self.queue},{self.queue}-{name}", "--concurrency", "2", "--skip-serve-logs",
                           "--without-mingle", "--without-gossip"], {WORKER_ENV: name})

    def log(self, name: str, n: int = 25) -> str:
        try:
            return "\n".join((self.logs / f"{name}.log").read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def died(self) -> dict[str, int]:
        return {n: p.returncode for n, p in self.procs.items() if p.poll() is not None}

    def wait_ready(self, timeout: float = 300) -> None:
        """Until the api-server answers, a scheduler heartbeats, and both workers say ``ready``."""
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dead = self.died()
            assert not dead, f"{dead} exited; last lines:\n" + "\n".join(f"{n}:\n{self.log(n)}" for n in dead)
            try:
                health = httpx.get(f"{self.url}/api/v2/monitor/health", timeout=5).json()
            except (httpx.HTTPError, ValueError):
                health = {}
            workers_up = all(" ready." in self.log(w, 400) for w in WORKERS)
            if (health.get("scheduler") or {}).get("status") == "healthy" and workers_up:
                return
            time.sleep(2)
        raise AssertionError("the Celery stack did not come up: " + "\n".join(
            f"--- {n}:\n{self.log(n)}" for n in self.procs))

    # --- REST API (the simple auth manager's generated admin password, POST /auth/token) ---

    def token(self) -> str:
        import httpx

        if self._token is None:
            pw = json.loads((Path(self.env["AIRFLOW_HOME"]) / "simple_auth_manager_passwords.json.generated")
                            .read_text())
            r = httpx.post(f"{self.url}/auth/token", json={"username": "admin", "password": pw["admin"]}, timeout=30)
            r.raise_for_status()
            self._token = r.json()["access_token"]
        return self._token

    def api(self, method: str, path: str, body: dict | None = None, ok=(200, 201)) -> dict:
        import httpx

        for attempt in range(5):  # a loaded machine: the api-server may be slow to answer, never wrong
            try:
                r = httpx.request(method, f"{self.url}/api/v2{path}", json=body, timeout=60,
                                  headers={"Authorization": f"Bearer {self.token()}"})
                break
            except httpx.TransportError:
                if attempt == 4:
                    raise
                time.sleep(3)
        assert r.status_code in ok, f"{method} {path}: {r.status_code} {r.text[:500]}"
        return r.json() if r.content else {}

    def wait_dags(self, dag_ids: list[str], timeout: float = 240) -> None:
        """Until the dag-processor has parsed and serialized every DAG the test triggers."""
        deadline = time.monotonic() + timeout
        missing = list(dag_ids)
        while missing and time.monotonic() < deadline:
            missing = [d for d in missing if "dag_id" not in self.api("GET", f"/dags/{d}", ok=(200, 404))]
            if missing:
                time.sleep(3)
        assert not missing, f"DAGs never parsed: {missing}\n{self.log('dag-processor')}"

    def trigger(self, dag_id: str, logical_date, interval=None) -> str:
        self.api("PATCH", f"/dags/{dag_id}", {"is_paused": False})
        body = {"logical_date": logical_date.isoformat(), "conf": {}}
        if interval:
            body.update(data_interval_start=interval[0].isoformat(), data_interval_end=interval[1].isoformat())
        return self.api("POST", f"/dags/{dag_id}/dagRuns", body)["dag_run_id"]

    def run_state(self, dag_id: str, run_id: str) -> str:
        return self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}")["state"]

    def wait_runs(self, runs: list[tuple[str, str]], timeout: float = 600) -> dict[tuple[str, str], str]:
        deadline = time.monotonic() + timeout
        states: dict[tuple[str, str], str] = {}
        while time.monotonic() < deadline:
            states = {r: self.run_state(*r) for r in runs}
            if all(s in ("success", "failed") for s in states.values()):
                return states
            dead = {n: c for n, c in self.died().items() if n not in self.killed}
            assert not dead, f"{dead} exited:\n" + "\n".join(self.log(n) for n in dead)
            time.sleep(3)
        raise AssertionError(f"runs not finished after {timeout:.0f} s: {states}\n--- scheduler:\n"
                             f"{self.log('scheduler')}")

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        return self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances?limit=100")["task_instances"]

    def tries(self, dag_id: str, run_id: str, task_id: str) -> list[dict]:
        return self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/tries")["task_instances"]

    # --- processes ---

    killed: set[str] = set()

    def kill_worker(self, name: str) -> list[int]:
        """SIGKILL the worker and everything below it at once, as when its machine dies. Returns the pids."""
        pids = [self.procs[name].pid, *descendants(self.procs[name].pid)]
        self.killed = self.killed | {name}
        for pid in pids:
            _signal(pid, signal.SIGKILL)
        self.procs[name].wait(30)
        return pids

    def stop(self) -> None:
        """SIGTERM every process group started and every process below them, then SIGKILL what is left."""
        everything = {pid for p in self.procs.values() for pid in (p.pid, *descendants(p.pid))}
        for p in self.procs.values():
            _killpg(p.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for p in self.procs.values():
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        everything |= {pid for p in self.procs.values() for pid in descendants(p.pid)}
        for p in self.procs.values():
            _killpg(p.pid, signal.SIGKILL)
        for pid in everything:
            _signal(pid, signal.SIGKILL)
        for p in self.procs.values():
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                pass


def descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` (/proc), whatever process group it moved to."""
    children: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(d.name))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _killpg(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass
