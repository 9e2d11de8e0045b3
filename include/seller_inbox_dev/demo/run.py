"""The run command: the whole system on one machine, with the demo stores.

Embedded PostgreSQL (pgserver) as the warehouse, the local SP-API simulator, demo Maildirs
filled with realistic relay mail for the last DAYS days, and Airflow on SQLite with the
LocalExecutor. Connections are passed the way Airflow reads them in production
(``AIRFLOW_CONN_*``), so the DAGs run exactly the code a real installation runs.

* ``--once`` (headless): runs every store's pipeline for each day with ``dag.test()`` (the
  days before the last typed as a backfill, as ``make run`` runs them: ``dag_runs.py``), then
  its deliver DAG, prints the KPI table and what was sent, held, expired and blocked, and
  exits; a second run over the same days changes nothing. Both modes print the same KPI table
  for the same seed and days (``Stack``: the world stands at the window end).

Replies go to a local SMTP server (aiosmtpd on a free port) that delivers them into the
Maildir ``<home>/sent-to-buyers`` (open it with any mail client) and files a copy in the
store's own Sent folder, as a real provider does (docs/delivery.md).
* interactive: starts Airflow's scheduler, dag-processor, triggerer and api-server (UI on
  127.0.0.1) as supervised children (``supervisor.py``: one that dies or stops heartbeating is
  named and restarted, at most twice), prints the UI address and login as soon as the UI
  answers, creates one backfill per store over the days, shows per store the runs done,
  running and queued, prints the KPI table and the login again, and stays up until Ctrl-C.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from seller_inbox.config import get_registry, registry_path
from seller_inbox.paths import DAGS, PLUGINS, REPO_ROOT, home
from seller_inbox_dev.demo.airflow_cli import save_env

DEMO_REGISTRY = REPO_ROOT / "include" / "stores.yaml"
LWA_CLIENT_ID, LWA_CLIENT_SECRET = "sandbox-client", "sandbox-secret"


def _say(msg: str) -> None:
    print(msg, flush=True)


def airflow_env(base: Path, ui_port: int = 8080) -> dict[str, str]:
    """Airflow's settings for the embedded default (SQLite, LocalExecutor, small parallelism)."""
    af = base / "airflow"
    af.mkdir(parents=True, exist_ok=True)
    venv_bin = str(Path(sys.executable).parent)  # standalone spawns `airflow …` from PATH
    return {
        "PATH": venv_bin + os.pathsep + os.environ.get("PATH", ""),
        "AIRFLOW_HOME": str(af),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PLUGINS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{af / 'airflow.db'}",
        "AIRFLOW__API__HOST": "127.0.0.1",  # the UI on this machine only (default: every interface)
        "AIRFLOW__API__PORT": str(ui_port),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{ui_port}",
        # task logs are read from $AIRFLOW_HOME/logs: the demo starts no log server (supervisor.py)
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST": "127.0.0.1",
        # a restarted scheduler re-queues what the dead one had queued after 1 min, not 5 (supervisor.py)
        "AIRFLOW__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL": "60",
        "AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL": "30",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
    }


def demo_sender(store) -> str:
    """The sender address a demo store registered with Amazon."""
    return f"support@{store.id}.demo.example"


def connection_env(stores, spapi_url: str, maildir_root: Path, warehouse_url: str, smtp_port: int = 2525,
                   crypto_key: str | None = None) -> dict[str, str]:
    """AIRFLOW_CONN_* for every demo connection: credentials live only here, never in the registry."""
    env = {"AIRFLOW_CONN_WAREHOUSE": json.dumps({"conn_type": "postgres", "extra": {"url": warehouse_url}})}
    if crypto_key:
        env["AIRFLOW_CONN_SELLER_INBOX_CRYPTO"] = json.dumps({"conn_type": "generic", "extra": {"keys": [crypto_key]}})
    today = datetime.now(timezone.utc).date()
    for s in stores:
        env[f"AIRFLOW_CONN_{s.connections.spapi.upper()}"] = json.dumps({
            "conn_type": "spapi", "login": LWA_CLIENT_ID, "password": LWA_CLIENT_SECRET,
            "extra": {
                "refresh_token": f"Atzr|sandbox-{s.seller_id}", "region": s.region,
                "endpoint": spapi_url, "lwa_endpoint": f"{spapi_url}/auth/o2/token",
                "orders_api": "2026-01-01",  # one searchOrders page per 100 orders, items included
                "authorized_at": (today - timedelta(days=120)).isoformat(),
                "client_secret_created_at": (today - timedelta(days=60)).isoformat(),
            },
        })
        env[f"AIRFLOW_CONN_{s.connections.mailbox.upper()}"] = json.dumps(
            {"conn_type": "maildir", "extra": {"path": str(maildir_root / s.id)}})
        env[f"AIRFLOW_CONN_{s.connections.smtp.upper()}"] = json.dumps(
            {"conn_type": "smtp", "host": "127.0.0.1", "port": smtp_port,
             "extra": {"disable_tls": True, "disable_ssl": True, "from_address": demo_sender(s)}})
    return env


def fresh_buckets(url: str, store_ids: list[str]) -> int:
    """A new simulator starts with full token buckets: so do the demo stores' client-side
    buckets, or a repeat run would wait for tokens the last run's simulator used up."""
    from seller_inbox import warehouse
    from seller_inbox.spapi import buckets

    conn = warehouse.connect(url)
    try:
        with conn, conn.cursor() as cur:
            return buckets.reset(cur, store_ids)
    finally:
        conn.close()


class Stack:
    """The embedded pieces this process owns: warehouse (persistent), simulator (thread).

    The demo's world stands still at the end of its window (``end``, fixed when the run starts, so
    a run that crosses midnight keeps its days): the simulator shows the orders as they were then
    and every stage evaluates the 24-hour clock, staleness and sending times as of then
    (``clock.ENV``), in both modes. Left at the real time, the KPI table would depend on the hour
    of the run: orders that changed after the window fall out of every window's
    LastUpdatedAfter/Before read, and messages cross their 24 hours while the demo runs."""

    def __init__(self, days: int, seed: int, ui_port: int = 8080):
        self.base = home()
        self.days = days
        self.seed = seed
        self.ui_port = ui_port
        self.sim = None
        self.smtp = None
        self.embedded = True
        self.end = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)

    def start(self) -> dict[str, str]:
        from seller_inbox import clock, warehouse
        from seller_inbox_dev.demo.mail import write_demo_mail

        os.environ.setdefault("SELLER_INBOX_STORES", str(DEMO_REGISTRY))
        reg = get_registry()
        _say(f"• store registry: {registry_path()} ({len(reg.enabled_stores)} stores)")
        self.embedded = not os.environ.get(warehouse.ENV_URL)
        url = os.environ.get(warehouse.ENV_URL) or warehouse.embedded_url()
        applied = warehouse.migrate(url)
        _say(f"• warehouse: {url}" + (f" (migrations applied: {len(applied)})" if applied else " (schema up to date)"))
        self.start_sim()
        fresh_buckets(url, [st.id for st in reg.enabled_stores])
        _say(f"• SP-API simulator: {self.sim.url}  (LWA client id {LWA_CLIENT_ID})")
        end = self.window_end()
        start = end - timedelta(days=self.days)
        maildir = self.base / "maildir"
        stats = write_demo_mail(maildir, reg.enabled_stores, start, end, seed=self.seed)
        _say(f"• demo mailboxes: {maildir} ({_mail_summary(stats)})")
        self.start_smtp()
        _say(f"• SMTP server: 127.0.0.1:{self.smtp.port} (replies land in {self.base / 'sent-to-buyers'})")
        env = {
            **airflow_env(self.base, self.ui_port),
            **connection_env(reg.enabled_stores, self.sim.url, maildir, url, smtp_port=self.smtp.port,
                             crypto_key=self.crypto_key()),
            clock.ENV: end.isoformat(),  # every stage's "now": the window end (see the class docstring)
            "SELLER_INBOX_HOME": str(self.base),
            "SELLER_INBOX_STORES": str(registry_path()),
            "SELLER_INBOX_WAREHOUSE_URL": url,
        }
        return env

    def start_sim(self) -> None:
        """(Re)start the SP-API simulator; a restart keeps its port (the connections name it)."""
        from seller_inbox_dev.sandbox.server import start as start_sim

        port = self.sim.port if self.sim is not None else 0
        if self.sim is not None:
            self.sim.stop()
        self.sim = start_sim(host="127.0.0.1", port=port, seed=self.seed, as_of=self.end)

    def start_smtp(self) -> None:
        """(Re)start the local SMTP server on the same port."""
        from seller_inbox_dev.demo.smtp import SmtpServer

        port = self.smtp.port if self.smtp is not None else None
        if self.smtp is not None:
            self.smtp.stop()
        maildir = self.base / "maildir"
        self.smtp = SmtpServer(maildir=self.base / "sent-to-buyers", port=port,
                               sent_copy={demo_sender(s): maildir / s.id for s in get_registry().enabled_stores}).start()

    def window_end(self) -> datetime:
        """End of the last complete day (UTC) when the run started: the demo pipelines run daily intervals."""
        return self.end

    def crypto_key(self) -> str:
        """The demo's Fernet key for buyer aliases, kept beside the demo data (a rerun reads what it wrote)."""
        path = self.base / "crypto.key"
        if not path.exists():
            from cryptography.fernet import Fernet

            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(Fernet.generate_key().decode())
            path.chmod(0o600)
        return path.read_text().strip()

    def stop(self) -> None:
        if self.smtp is not None:
            self.smtp.stop()
        if self.sim is not None:
            self.sim.stop()


def _mail_summary(stats: dict) -> str:
    """``1404 mails: 980 buyer messages, …`` — or, on a rerun, how many were already there."""
    kinds: dict[str, int] = {}
    written = existing = 0
    for per_store in (v for v in stats.values() if isinstance(v, dict)):
        written += per_store.get("written", 0)
        existing += per_store.get("existing", 0)
        for k, n in per_store.items():
            if k not in ("written", "existing"):
                kinds[k] = kinds.get(k, 0) + n
    names = {"buyer_message": "buyer messages", "seller_reply": "seller replies", "auto_reply": "auto-replies",
             "amazon_notice": "Amazon notices"}
    detail = ", ".join(f"{n} {names.get(k, k)}" for k, n in sorted(kinds.items(), key=lambda kv: -kv[1]))
    total = stats.get("total", written + existing)
    if not written:
        return f"{total} mails, already written"
    if existing:
        return f"{total} mails: {written} new ({detail}), {existing} already written"
    return f"{total} mails: {detail}"


def _airflow(args: list[str], env: dict, check: bool = True, **kw) -> subprocess.CompletedProcess:
    exe = str(Path(sys.executable).with_name("airflow"))
    return subprocess.run([exe, *args], env={**os.environ, **env}, check=check, text=True,
                          capture_output=kw.pop("capture_output", True), **kw)


def print_kpis(url: str, d0, d1) -> None:
    from rich.console import Console
    from rich.table import Table

    from seller_inbox.kpi import summary, summary_labels

    cols, rows = summary(url, d0, d1)
    labels = summary_labels()  # from the metric declarations (seller_inbox/metrics.py)
    t = Table(title=f"KPIs {d0} – {d1} (marketplace-local days)")
    for c in cols:
        t.add_column(labels.get(c, (c, ""))[0], justify="left" if c in ("store_id", "marketplaces") else "right")
    for r in rows:
        t.add_row(*["-" if v is None else (f"{v:.2%}" if labels.get(c, ("", ""))[1] == "rate" else str(v))
                    for c, v in zip(cols, r)])
    Console(width=160).print(t)


def print_delivery(url: str) -> None:
    """What was sent, held, expired and blocked per store (docs/delivery.md)."""
    from rich.console import Console
    from rich.table import Table

    from seller_inbox.delivery.summary import summary

    cols, rows = summary(url)
    labels = {"store_id": "store 店铺", "sent": "sent 已发送", "held": "held 暂缓", "expired": "expired 过期",
              "blocked": "blocked 拦截", "failed": "failed 失败", "pending_approval": "to approve 待审批",
              "shadow": "shadow 影子"}
    t = Table(title="Delivery 发送 (core.outbox)")
    for c in cols:
        t.add_column(labels.get(c, c), justify="left" if c == "store_id" else "right")
    for r in rows:
        t.add_row(*[str(v) for v in r])
    Console(width=160).print(t)


def run_once(stack: Stack, env: dict) -> int:
    """Headless: every store's pipeline for each day via dag.test(), then the KPI table."""
    os.environ.update(env)  # dag.test() runs the tasks in this process
    _say("• Airflow metadata DB (SQLite): migrating…")
    _airflow(["db", "migrate"], env)
    import logging

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from airflow.dag_processing.dagbag import DagBag
    from seller_inbox_dev.demo.dag_runs import run_interval

    for name in ("airflow", "airflow.task", "great_expectations"):
        logging.getLogger(name).setLevel(logging.WARNING)
    bag = DagBag(dag_folder=str(DAGS))
    if bag.import_errors:
        for f, err in bag.import_errors.items():
            _say(f"DAG import error in {f}: {err.strip().splitlines()[-1]}")
        return 1
    reg = get_registry()
    end = stack.window_end()
    days = [end - timedelta(days=i) for i in range(stack.days, 0, -1)]
    failed: list[str] = []
    jobs = ([(s, "auth", None) for s in reg.enabled_stores] + [(s, "pipeline", d) for d in days for s in reg.enabled_stores]
            + [(s, "deliver", end) for s in reg.enabled_stores])
    log_path = stack.base / "logs" / "demo-once.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    _say(f"• running {len(jobs)} DAG runs with dag.test() (task logs: {log_path})")
    with _output_to(log_path) as console:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console) as prog:
            bar = prog.add_task("pipeline runs", total=len(jobs))
            for store, kind, day in jobs:
                dag = bag.dags[f"si_{store.id}_{kind}"]
                label = f"{store.id} {kind}" + (f" {day:%Y-%m-%d}" if day else "")
                prog.update(bar, description=label.ljust(38))
                if kind == "pipeline":  # the day's interval, dated at its start as the scheduler dates it;
                    # the days before the last as a backfill, as make run runs them (dag_runs.py)
                    dr = run_interval(dag, day + timedelta(days=1), backfill=day + timedelta(days=1) < end)
                else:
                    dr = dag.test(logical_date=day or datetime.now(timezone.utc))
                problem = _run_problem(dag, dr)
                if problem:
                    failed.append(f"{label}: {problem}")
                prog.advance(bar)
    d0 = (end - timedelta(days=stack.days)).date()
    d1 = (end - timedelta(days=1)).date()
    print_kpis(env["SELLER_INBOX_WAREHOUSE_URL"], d0, d1)
    print_delivery(env["SELLER_INBOX_WAREHOUSE_URL"])
    if failed:
        _say("Some runs failed (task logs: " + str(log_path) + "):")
        for f in failed:
            _say(f"  ✗ {f}")
        return 1
    _say(f"All {len(jobs)} runs succeeded. Query the tables: seller-inbox warehouse psql")
    return 0


def _run_problem(dag, dr) -> str | None:
    """What went wrong with a dag.test() run, or None. A run Airflow calls successful whose
    tasks did not all run (a task whose dates exclude the run gets no task instance, and the
    empty run succeeds) is reported too: "succeeded" must mean every stage ran."""
    tis = {ti.task_id: str(getattr(ti.state, "value", ti.state)) for ti in dr.get_task_instances()}
    if str(getattr(dr.state, "value", dr.state)) != "success":
        bad = [t for t, state in tis.items() if "fail" in state]
        return f"{getattr(dr.state, 'value', dr.state)} ({', '.join(bad) or '?'})"
    never = [t for t in dag.task_ids if tis.get(t) not in ("success", "skipped")]
    if never:
        return f"success, but these tasks never ran: {', '.join(never)}"
    return None


class _output_to:
    """Send everything written to fd 1/2 (task logs, Airflow's handlers) to a file; return a
    console on the real terminal for the progress bar."""

    def __init__(self, path: Path):
        self.path = path

    def __enter__(self):
        from rich.console import Console

        sys.stdout.flush()
        sys.stderr.flush()
        self.saved = os.dup(1), os.dup(2)
        self.term = os.fdopen(os.dup(1), "w", buffering=1)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        return Console(file=self.term)

    def __exit__(self, *exc):
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(self.saved[0], 1)
        os.dup2(self.saved[1], 2)
        for fd in self.saved:
            os.close(fd)
        self.term.close()
        return False


def _say_login(base_url: str, env: dict, prefix: str = "", wait: float = 0) -> None:
    """The UI address and the login the api-server generated (it writes the file as it starts)."""
    pw_file = Path(env["AIRFLOW_HOME"]) / "simple_auth_manager_passwords.json.generated"
    deadline = time.monotonic() + wait
    while not pw_file.exists() and time.monotonic() < deadline:
        time.sleep(1)
    login = ""
    try:
        login = ", ".join(f"{u} / {p}" for u, p in json.loads(pw_file.read_text()).items())
    except (OSError, ValueError):
        pass
    _say(f"{prefix}Airflow UI / 界面: {base_url}   login 登录: {login or 'see ' + str(pw_file)}")


def _wait_up(sup, timeout: float) -> bool:
    """Until the api-server answers its health check; children that die meanwhile are restarted."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sup.health() is not None:
            return True
        sup.check()
        time.sleep(2)
    return False


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def run_interactive(stack: Stack, env: dict) -> int:
    """Airflow's components, supervised, + one backfill per store; stays up until Ctrl-C."""
    from seller_inbox.airflow_glue import SCHEDULE_UNTIL_ENV
    from seller_inbox_dev.demo.supervisor import ComponentDied, Supervisor, port_answers, tail

    # the demo's world ends with its window: left up past midnight, the scheduler starts no run
    # for a day that world does not hold
    env = {**env, SCHEDULE_UNTIL_ENV: stack.window_end().isoformat()}

    _say("• Airflow metadata DB (SQLite): migrating…")
    _airflow(["db", "migrate"], env)
    logs = stack.base / "logs"
    base_url = f"http://127.0.0.1:{stack.ui_port}"
    sup = Supervisor(env, logs, f"{base_url}/api/v2/monitor/health", say=_say)
    sup.watch("SP-API simulator", lambda: port_answers(stack.sim.port), stack.start_sim)
    sup.watch("SMTP server", lambda: port_answers(stack.smtp.port), stack.start_smtp)
    for sig in (signal.SIGTERM, signal.SIGHUP):  # a closed terminal or `kill` stops the children too
        signal.signal(sig, _interrupt)
    sup.start()
    try:
        _say(f"• Airflow starting: scheduler, dag-processor, triggerer, api-server (logs: {logs}/airflow-*.log)…")
        if not _wait_up(sup, 240):
            _say(f"error: the Airflow UI did not answer {base_url} within 240 s; last lines of "
                 f"{sup.child('api-server').log}:")
            for line in tail(sup.child("api-server").log, 6):
                _say(f"    {line}")
            return 1
        _say_login(base_url, env, prefix="• ", wait=30)
        _airflow(["dags", "reserialize"], env)
        pipelines, frm, to = _create_backfills(stack, env)
        failed = _wait_backfills(env, pipelines, frm, to, sup) if pipelines else []
        _wait_delivered(env, [p.removesuffix("_pipeline") for p in pipelines], sup)
        print_kpis(env["SELLER_INBOX_WAREHOUSE_URL"], frm.date(), to.date())
        for f in failed:
            _say(f"  ✗ failed run: {f} (open it in the UI to see which task and why)")
        _say("")
        _say_login(base_url, env)
        _say("Warehouse for SQL: seller-inbox warehouse psql")
        _say("Ctrl-C stops Airflow, the simulator and the SMTP server.")
        if stack.embedded:
            _say("The warehouse (embedded PostgreSQL) keeps running after Ctrl-C; stop it with: "
                 "seller-inbox warehouse stop")
        while True:
            sup.check()
            time.sleep(3)
    except (ComponentDied, TimeoutError) as e:
        _say(str(e))
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        sup.stop()


def _create_backfills(stack: Stack, env: dict) -> tuple[list[str], datetime, datetime]:
    """One backfill per enabled store over the demo days; returns the pipelines that got one."""
    end = stack.window_end()
    frm, to = end - timedelta(days=stack.days), end - timedelta(days=1)
    pipelines = []
    for s in get_registry().enabled_stores:
        _airflow(["dags", "unpause", f"si_{s.id}_pipeline"], env, check=False)
        _airflow(["dags", "unpause", f"si_{s.id}_auth"], env, check=False)
        active = _active_backfill(env, f"si_{s.id}_pipeline")
        if active == (f"{frm:%Y-%m-%d}", f"{to:%Y-%m-%d}"):  # an earlier `make run` stopped before it ended
            pipelines.append(f"si_{s.id}_pipeline")
            _say(f"• backfill {s.id}: {frm:%Y-%m-%d} … {to:%Y-%m-%d} (created earlier; resumes)")
            continue
        err = (f"the backfill {active[0]} … {active[1]} is still running (see the UI)" if active
               else _create_backfill(env, f"si_{s.id}_pipeline", frm, to))
        if err:
            _say(f"• backfill {s.id}: could not be created: {err}")
        else:
            pipelines.append(f"si_{s.id}_pipeline")
            _say(f"• backfill {s.id}: {frm:%Y-%m-%d} … {to:%Y-%m-%d}")
    return pipelines, frm, to


def _active_backfill(env: dict, dag_id: str) -> tuple[str, str] | None:
    """First and last day of the DAG's unfinished backfill (Airflow allows one), if any."""
    import sqlite3

    db = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].removeprefix("sqlite:///")
    with sqlite3.connect(db, timeout=10) as c:
        row = c.execute("SELECT substr(from_date, 1, 10), substr(to_date, 1, 10) FROM backfill "
                        "WHERE dag_id = ? AND completed_at IS NULL", [dag_id]).fetchone()
    return tuple(row) if row else None


def _create_backfill(env: dict, dag_id: str, frm: datetime, to: datetime, attempts: int = 6) -> str | None:
    """`airflow backfill create` for the days frm..to (both included), every day redone, one run at
    a time; retried while the DAG processor is still registering the DAG or SQLite is busy.
    Returns None on success, else the last error line."""
    from seller_inbox import backfill

    return backfill.create(dag_id, frm, to + timedelta(days=1), reprocess="completed", env={**os.environ, **env},
                           attempts=attempts)


STALL_AFTER = 60.0  # s without any change in runs or task states before saying what waits


def _wait_backfills(env: dict, dag_ids: list[str], frm: datetime, to: datetime, sup,
                    timeout: float = 1800) -> list[str]:
    """Show per store how many runs are done, running and queued until every (DAG, day) in
    [frm, to] has a finished run and none is pending; the supervisor looks at Airflow each round.

    A day may be run by the backfill or, for the latest day, by the scheduler itself (the
    backfill then marks it "in flight" and leaves it alone): either run counts.
    Returns the (DAG, day) pairs whose run failed.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    db = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].removeprefix("sqlite:///")
    days = (to - frm).days + 1
    deadline = time.monotonic() + timeout
    last, changed, told = None, time.monotonic(), 0.0
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[state]}"), TimeElapsedColumn()) as prog:
        bars = {d: prog.add_task(d.removeprefix("si_").removesuffix("_pipeline").ljust(14), total=days, state="")
                for d in dag_ids}
        sup.say = lambda m: (prog.console.print(m, markup=False, highlight=False, soft_wrap=True), sys.stdout.flush())
        shown = None
        try:
            while time.monotonic() < deadline:
                sup.check()
                rows, tis = _run_rows(db, dag_ids, frm, to)
                per = _per_dag(rows, dag_ids)
                waits = _token_waits(db, dag_ids)
                for d, (done, running, queued) in per.items():
                    prog.update(bars[d], completed=done, state=f"{running} running · {queued} queued{waits.get(d, '')}")
                snap = (sorted(rows), sorted(tis))
                now = time.monotonic()
                if snap != last:
                    last, changed = snap, now
                    if not prog.console.is_terminal and per != shown:  # piped (CI, a log file): a line per change
                        shown = per
                        sup.say("runs: " + " | ".join(f"{d.removeprefix('si_').removesuffix('_pipeline')} "
                                                      f"{a}/{days} done, {b} running, {c} queued{waits.get(d, '')}"
                                                      for d, (a, b, c) in per.items()))
                elif now - changed >= STALL_AFTER and now - told >= STALL_AFTER:
                    told = now
                    sup.say(_stall_line(tis, now - changed, env["SELLER_INBOX_WAREHOUSE_URL"]))
                finished = {(d, day) for d, day, st in rows if st in ("success", "failed")}
                pending = {(d, day) for d, day, st in rows if st not in ("success", "failed")}
                if len(finished) >= len(dag_ids) * days and not pending:
                    ok = {(d, day) for d, day, st in rows if st == "success"}
                    return sorted(f"{d} {day}" for d, day in finished - ok)
                time.sleep(3)
        finally:
            sup.say = _say
    raise TimeoutError(f"error: the pipeline runs did not finish within {timeout:.0f} s; see the Airflow UI")


def _wait_delivered(env: dict, prefixes: list[str], sup, timeout: float = 420) -> None:
    """Until each store's deliver DAG has run once after its last act task: the replies act queued
    are sent (or held, expired) and their KPI days refreshed, as ``--once``'s final deliver run does.
    The act task's asset triggers that run at once; the deliver schedule (every 5 min) is the fallback."""
    import sqlite3

    db = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].removeprefix("sqlite:///")
    deadline = time.monotonic() + timeout
    said = False
    while True:
        waiting = []
        with sqlite3.connect(db, timeout=10) as c:
            for p in prefixes:
                acted = c.execute("SELECT max(end_date) FROM task_instance WHERE dag_id = ? AND task_id = 'act'",
                                  [f"{p}_pipeline"]).fetchone()[0]
                if acted and not c.execute("SELECT 1 FROM dag_run WHERE dag_id = ? AND start_date > ? AND "
                                           "state IN ('success', 'failed')", [f"{p}_deliver", acted]).fetchone():
                    waiting.append(p.removeprefix("si_"))
        if not waiting:
            return
        if time.monotonic() > deadline:
            sup.say(f"• deliver runs still pending for {', '.join(waiting)} after {timeout:.0f} s: the table below may "
                    "not count their last replies yet (see the UI)")
            return
        if not said:
            said = True
            sup.say(f"• waiting for the deliver runs after the last replies were queued ({', '.join(waiting)})…")
        sup.check()
        time.sleep(3)


def _run_rows(db: str, dag_ids: list[str], frm: datetime, to: datetime) -> tuple[list, list]:
    """The (DAG, day, state) of every run in the window, and (state, count, oldest queued, oldest start)
    of the unfinished task instances of those DAGs."""
    import sqlite3

    marks = ",".join("?" * len(dag_ids))
    with sqlite3.connect(db, timeout=10) as c:
        rows = c.execute(f"SELECT dag_id, substr(logical_date, 1, 10), state FROM dag_run WHERE dag_id IN ({marks}) "
                         "AND substr(logical_date, 1, 10) BETWEEN ? AND ?",
                         [*dag_ids, frm.strftime("%Y-%m-%d"), to.strftime("%Y-%m-%d")]).fetchall()
        tis = c.execute(f"SELECT state, count(*), min(queued_dttm), min(start_date) FROM task_instance "
                        f"WHERE dag_id IN ({marks}) AND state IN ('scheduled', 'queued', 'running', "
                        "'up_for_retry', 'deferred') GROUP BY state", dag_ids).fetchall()
    return rows, tis


def _token_waits(db: str, dag_ids: list[str]) -> dict[str, str]:
    """Per DAG, a note when a task gave its worker slot back to wait for SP-API tokens (it is
    up_for_reschedule; docs/spapi.md, "Waiting for tokens"): ' · waiting for SP-API tokens, 40 s'."""
    import sqlite3

    marks = ",".join("?" * len(dag_ids))
    with sqlite3.connect(db, timeout=10) as c:
        rows = c.execute(f"SELECT ti.dag_id, ti.task_id, max(r.reschedule_date) FROM task_instance ti "
                         f"JOIN task_reschedule r ON r.ti_id = ti.id WHERE ti.dag_id IN ({marks}) "
                         "AND ti.state = 'up_for_reschedule' GROUP BY ti.dag_id, ti.task_id", dag_ids).fetchall()
    now = datetime.now(timezone.utc)
    out: dict[str, str] = {}
    for dag, task, until in rows:
        t = datetime.fromisoformat(str(until).replace(" ", "T"))
        left = max(0, int(((t if t.tzinfo else t.replace(tzinfo=timezone.utc)) - now).total_seconds()))
        out[dag] = f" · {task} waiting for SP-API tokens, {left} s"
    return out


def _per_dag(rows: list, dag_ids: list[str]) -> dict[str, tuple[int, int, int]]:
    """Per DAG: days finished (and not rerunning), runs running, runs queued."""
    out = {}
    for d in dag_ids:
        mine = [(day, st) for dd, day, st in rows if dd == d]
        pending = {day for day, st in mine if st not in ("success", "failed")}
        done = {day for day, st in mine if st in ("success", "failed")} - pending
        out[d] = (len(done), sum(st == "running" for _, st in mine), sum(st == "queued" for _, st in mine))
    return out


def _stall_line(tis: list, quiet: float, url: str) -> str:
    """What the runs wait for: task instances by state (how long), and SP-API rate-limit waits."""
    from seller_inbox_dev.demo.supervisor import age_s

    parts = []
    for state, n, queued_at, started_at in tis:
        since = age_s(started_at if state == "running" else queued_at or started_at)
        parts.append(f"{n} task instances {state}" + (f" (oldest for {since:.0f} s)" if since is not None else ""))
    return (f"… nothing changed for {quiet:.0f} s: " + (", ".join(parts) or "no task instance is queued or running")
            + _spapi_waits(url))


def _spapi_waits(url: str) -> str:
    """SP-API calls that waited for a rate-limit token or were throttled in the last minute (ops.api_calls)."""
    from contextlib import closing

    from seller_inbox import warehouse

    try:
        with closing(warehouse.connect(url, connect_timeout=5)) as conn, conn.cursor() as cur:
            cur.execute("SELECT count(*) FILTER (WHERE waited_ms >= 1000), count(*) FILTER (WHERE outcome = 'throttled') "
                        "FROM ops.api_calls WHERE called_at > now() - interval '1 minute'")
            waited, throttled = cur.fetchone()
    except Exception:  # noqa: BLE001 - a hint only
        return ""
    if not (waited or throttled):
        return ""
    return f"; SP-API in the last minute: {waited} calls waited for a rate-limit token, {throttled} throttled (429)"


def main(days: int = 7, once: bool = False, seed: int = 42, port: int = 8080) -> int:
    stack = Stack(days=days, seed=seed, ui_port=port)
    try:
        env = stack.start()
        save_env(env)  # `seller-inbox airflow …` reaches this demo's connections
        return run_once(stack, env) if once else run_interactive(stack, env)
    finally:
        stack.stop()
