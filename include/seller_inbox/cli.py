"""The ``seller-inbox`` command line. Every subcommand imports what it needs when it runs.

Dev tooling (demo, simulator, classifier training) is not part of this package: it plugs its
subcommands in through the ``seller_inbox.commands`` entry-point group (pyproject.toml), each
entry a ``register(subparsers)``; ``command_group`` lets one add to a group registered here
(CONTRIBUTING.md, "Runtime and dev tooling").
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from contextlib import closing

# subcommand groups owned by their packages: each module has register(subparsers)
_PLUGGED = ("seller_inbox.mail.cli", "seller_inbox.classify.cli", "seller_inbox.lint_cli")
# installed packages add commands here (pyproject.toml [project.entry-points."seller_inbox.commands"])
COMMANDS_GROUP = "seller_inbox.commands"


def _load(path):
    """The registry, or None after printing its one-line error."""
    from seller_inbox.config import RegistryError, load_registry

    try:
        return load_registry(path)
    except RegistryError as err:
        print(f"error: {err}", file=sys.stderr)
        return None


def _load_with_store(path, store_id: str):
    """The registry holding ``store_id``, or None after printing a one-line error."""
    reg = _load(path)
    if reg is not None and store_id not in {s.id for s in reg.stores}:
        print(f"error: unknown store {store_id[:80]!r} (known: {', '.join(s.id for s in reg.stores)})", file=sys.stderr)
        return None
    return reg


def _span(args) -> tuple | None:
    """(since, until): [--since, --until or now), or None after printing a one-line error."""
    from datetime import datetime, timezone

    from seller_inbox import backfill

    try:
        since = backfill.parse_when(args.since)
        until = backfill.parse_when(args.until) if args.until else datetime.now(timezone.utc)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return None
    if until <= since:
        print(f"error: --until ({until:%Y-%m-%d %H:%M}) must be after --since ({since:%Y-%m-%d %H:%M})", file=sys.stderr)
        return None
    return since, until


def _stores_validate(args) -> int:
    from seller_inbox.config import registry_path

    reg = _load(args.path)
    if reg is None:
        return 1
    enabled = reg.enabled_stores
    print(f"ok: {registry_path(args.path)}: {len(reg.stores)} stores ({len(enabled)} enabled): "
          + ", ".join(f"{s.id} [{'/'.join(s.marketplace_codes)}]" for s in reg.stores))
    return 0


def _stores_list(args) -> int:
    from rich.console import Console
    from rich.table import Table

    reg = _load(args.path)
    if reg is None:
        return 1
    t = Table(title="stores / 店铺")
    for col in ("id", "name", "region", "marketplaces", "modes (non-listen)", "enabled"):
        t.add_column(col)
    for s in reg.stores:
        modes = ", ".join(f"{k}={v}" for k, v in sorted(s.modes.items()) if v != "listen") or "-"
        t.add_row(s.id, s.name, s.region, "/".join(s.marketplace_codes), modes, "yes" if s.enabled else "no")
    Console().print(t)
    return 0


def _warehouse(args) -> int:
    from seller_inbox import warehouse

    if args.action == "url":
        print(warehouse.dsn())
    elif args.action == "migrate":
        applied = warehouse.migrate()
        print("applied: " + (", ".join(applied) if applied else "nothing (up to date)"))
    elif args.action == "psql":
        url = warehouse.dsn()
        psql = _psql_binary()
        os.execvp(psql, [psql, url])
    elif args.action == "stop":
        print("stopped" if warehouse.stop_embedded() else "the embedded warehouse was not running")
    else:
        return _WAREHOUSE_RUNBOOK[args.action](args)
    return 0


def _need(args, *names: str) -> str | None:
    missing = [f"--{n}" for n in names if not getattr(args, n, None)]
    return f"error: warehouse {args.action} needs {' and '.join(missing)}" if missing else None


def _warehouse_backup(args) -> int:
    """``warehouse backup --file F``: pg_dump of the whole warehouse (custom format) into F."""
    import subprocess

    from seller_inbox import warehouse

    if err := _need(args, "file"):
        print(err, file=sys.stderr)
        return 1
    url = args.dsn or warehouse.dsn()
    r = subprocess.run([_pg_tool("pg_dump", url), "--format=custom", "--no-owner", "--file", args.file, url],
                       capture_output=True, text=True, check=False)
    if r.returncode:
        print(f"error: pg_dump failed: {_first_line(r.stderr)}; check `seller-inbox warehouse url`", file=sys.stderr)
        return 1
    print(f"backup: {args.file} ({os.path.getsize(args.file):,} bytes)")
    return 0


def _warehouse_restore(args) -> int:
    """``warehouse restore --file F``: pg_restore F into the warehouse, replacing what it holds
    (--clean --if-exists, one transaction), then the migrations newer than the dump."""
    import subprocess

    from seller_inbox import warehouse

    if err := _need(args, "file"):
        print(err, file=sys.stderr)
        return 1
    if not os.path.isfile(args.file):
        print(f"error: no backup file {args.file[:200]!r}", file=sys.stderr)
        return 1
    url = args.dsn or warehouse.dsn()
    with closing(warehouse.connect(url)) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_namespace WHERE nspname IN ('raw', 'core', 'kpi', 'ops')")
        holds = cur.fetchone()[0] > 0
    clean = ["--clean", "--if-exists"] if holds else []  # replace what is there; an empty database takes it as is
    r = subprocess.run([_pg_tool("pg_restore", url), *clean, "--no-owner", "--single-transaction",
                        "--exit-on-error", "--dbname", url, args.file], capture_output=True, text=True, check=False)
    if r.returncode:
        print(f"error: pg_restore failed (nothing changed): {_first_line(r.stderr)}", file=sys.stderr)
        return 1
    applied = warehouse.migrate(url)
    print(f"restored {args.file}; migrations applied after it: {', '.join(applied) if applied else 'none'}")
    return 0


def _warehouse_rederive(args) -> int:
    """``warehouse rederive --store S --since D [--until D2]``: core and kpi of the window from raw."""
    from seller_inbox import warehouse
    from seller_inbox.rederive import rederive

    if err := _need(args, "store", "since"):
        print(err, file=sys.stderr)
        return 1
    reg = _load_with_store(None, args.store)
    if reg is None:
        return 1
    if (span := _span(args)) is None:
        return 1
    since, until = span
    out = rederive(reg.store(args.store), args.dsn or warehouse.dsn(), since, until)
    k = out["kpi"]
    print(f"rederived {args.store} {since:%Y-%m-%d %H:%M} → {until:%Y-%m-%d %H:%M} UTC from raw: "
          f"{out['messages_restored']} messages put back, {out['classified']} classified, "
          f"{k['days_recomputed']} KPI days recomputed ({k['rows_changed']} rows changed)")
    return 0


_WAREHOUSE_RUNBOOK = {"backup": _warehouse_backup, "restore": _warehouse_restore, "rederive": _warehouse_rederive}


def _first_line(text: str) -> str:
    lines = [x for x in (text or "").strip().splitlines() if x.strip()]
    return lines[0][:300] if lines else "no message"


def _pg_tool(name: str, url: str) -> str:
    """``pg_dump``/``pg_restore`` for ``url``: the embedded server's own (same version) for the
    embedded warehouse, else the one on PATH, else the pgserver wheel's."""
    import shutil

    try:
        from pgserver._commands import POSTGRES_BIN_PATH
    except ImportError:
        POSTGRES_BIN_PATH = None
    wheel = POSTGRES_BIN_PATH / name if POSTGRES_BIN_PATH is not None else None
    embedded = "host=/" in url or "host=%2F" in url
    for cand in ((str(wheel) if wheel and wheel.exists() else None) if embedded else None, shutil.which(name),
                 str(wheel) if wheel and wheel.exists() else None):
        if cand:
            return cand
    raise SystemExit(f"error: {name} not found; install postgresql-client")


def _stores_pause(args) -> int:
    """``stores pause|resume --store S --by NAME``: the store's kill switch and its DAGs in Airflow.

    Pause: the kill switch first (read at send time, so a deliver task already on a worker sends
    nothing), then ``airflow dags pause`` of exactly the store's DAGs (no new runs: nothing is
    read). Resume: ``airflow dags unpause``, then the switch off (docs/runbook.md, section 4)."""
    import re

    from seller_inbox import backfill, warehouse
    from seller_inbox.airflow_glue import KINDS, dag_id
    from seller_inbox.delivery import controls

    reg = _load_with_store(None, args.store)
    if reg is None:
        return 1
    if not (args.by or "").strip():
        print(f"error: stores {args.action}: say who with --by NAME (the kill switch is audited)", file=sys.stderr)
        return 1
    pausing = args.action == "pause"
    dsn = args.dsn or warehouse.dsn()
    pattern = f"^{re.escape(dag_id(args.store, ''))}({'|'.join(KINDS)})$"

    def airflow() -> bool:
        r = backfill.airflow_cli(["dags", "pause" if pausing else "unpause", "--treat-dag-id-as-regex", "--yes",
                                  pattern])
        if r.returncode:
            print(f"error: store {args.store}: `airflow dags {'pause' if pausing else 'unpause'}` failed: "
                  f"{_first_line(r.stderr or r.stdout)}", file=sys.stderr)
        return r.returncode == 0

    reason = (args.reason or "").strip() or ("paused" if pausing else None)
    if pausing:
        controls.set_kill_switch(dsn, args.store, True, args.by.strip(), reason)
        print(f"kill switch {args.store}: ON (nothing leaves)")
        if not airflow():
            print("the kill switch stays on; pause the DAGs by hand", file=sys.stderr)
            return 1
        print(f"paused: {', '.join(dag_id(args.store, k) for k in KINDS)}")
        return 0
    if not airflow():
        print("the kill switch stays on until the DAGs are unpaused", file=sys.stderr)
        return 1
    print(f"unpaused: {', '.join(dag_id(args.store, k) for k in KINDS)} (the next run reads what the pause left unread)")
    controls.set_kill_switch(dsn, args.store, False, args.by.strip(), reason)
    print(f"kill switch {args.store}: off")
    in_registry = reg.store(args.store).kill_switch or reg.defaults.global_kill_switch
    if in_registry:
        print("note: the registry still sets a kill switch for this store; only editing it turns that one off")
    return 0


def _gates(args) -> int:
    """``gates --store S [--all]``: the store's gate runs that failed (``--all``: every one), newest
    first, with the expectations that failed and a sample of failing row keys (``ops.gate_run``)."""
    import psycopg2

    from seller_inbox import warehouse

    reg = _load_with_store(None, args.store)
    if reg is None:
        return 1
    try:
        with closing(warehouse.connect(args.dsn or warehouse.dsn())) as conn, conn.cursor() as cur:
            cur.execute("""SELECT stage, interval_start, interval_end, success, rows_checked, failed_expectations,
                                  failing_rows, run_id FROM ops.gate_run
                           WHERE store_id = %s AND (%s OR NOT success)
                           ORDER BY evaluated_at DESC, stage LIMIT %s""", (args.store, args.all, args.limit))
            rows = cur.fetchall()
    except psycopg2.Error as err:
        print(f"error: warehouse: {_first_line(str(err))}; check `seller-inbox warehouse url`", file=sys.stderr)
        return 1
    if not rows:
        print(f"{args.store}: no {'' if args.all else 'failed '}gate runs")
        return 0
    for stage, a, b, ok, n, failed, sample, run_id in rows:
        print(f"{'passed' if ok else 'FAILED'}  {stage:<14} {a:%Y-%m-%d %H:%M} – {b:%Y-%m-%d %H:%M} UTC  "
              f"{n} rows checked  run {run_id or '-'}")
        for f in failed or []:
            print(f"    {f.get('level')}: {f.get('batch')}.{f.get('column') or '-'}: {f.get('expectation')}"
                  + (f" ({f['unexpected_count']} rows)" if f.get("unexpected_count") is not None else
                     f" (observed {f.get('observed_value')})"))
        keys = sorted({str(next(iter(v for k, v in r.items() if k not in ("batch", "expectation", "level")), ""))
                       for r in (sample or [])})
        if keys:
            print(f"    failing rows (first {min(len(keys), 5)} of the sample): {', '.join(keys[:5])}")
    return 0


def _airflow_connections(*conn_ids: str) -> None:
    """Connections kept in Airflow's metadata database, for this process: Airflow 3 gives code
    outside a task only environment variables and secrets backends, so each connection not already
    in the environment is read as ``airflow connections get`` reads it and put into
    ``AIRFLOW_CONN_<ID>`` of this process only. One that cannot be read is left to the error that
    names it later."""
    for cid in conn_ids:
        name = f"AIRFLOW_CONN_{cid.upper()}"
        if os.environ.get(name):
            continue
        try:
            from airflow.models.connection import Connection

            os.environ[name] = Connection.get_connection_from_secrets(cid).as_json()
        except Exception:  # noqa: BLE001 - not defined there either: the check says which connection
            continue


def airflow_connections_for(stores, kinds: tuple[str, ...], dsn: str | None = None) -> None:
    """Before a command reads a store's connections outside a task: the ``kinds`` (``spapi``,
    ``mailbox``, ``smtp``) of each of ``stores`` and, unless the warehouse URL is given (``dsn``,
    or SELLER_INBOX_WAREHOUSE_URL), the warehouse's, from Airflow's metadata database when the
    environment does not have them (``_airflow_connections``). Every such command calls this."""
    from seller_inbox import warehouse

    ids = [getattr(s.connections, k) for s in stores for k in kinds]
    if not dsn and not os.environ.get(warehouse.ENV_URL):
        ids.append(warehouse.WAREHOUSE_CONN_ID)
    _airflow_connections(*dict.fromkeys(ids))


def _auth_check(args) -> int:
    """``auth check --store S``: what the store's token-refresh task does, now, from a shell:
    refresh the LWA token with the connection as it is, prove it with one Orders call, record
    ``ops.store_auth`` and queue its alerts (``auth_recovered`` after a fix)."""
    from seller_inbox import warehouse
    from seller_inbox.auth import check_store_auth
    from seller_inbox.spapi import SpApiError

    reg = _load_with_store(None, args.store)
    if reg is None:
        return 1
    store = reg.store(args.store)
    airflow_connections_for([store], ("spapi",), args.dsn)
    try:
        row = check_store_auth(store, args.dsn or warehouse.dsn())
    except SpApiError as err:
        print(f"error: store {store.id}: {_first_line(str(err))}", file=sys.stderr)
        return 1
    print(f"ok: store {store.id} ({store.connections.spapi}): token refreshed and used; "
          f"re-authorize by {row.get('reauth_due_on') or '?'}, rotate the client secret by "
          f"{row.get('secret_rotation_due_on') or '?'}"
          + (f"; alerts queued: {', '.join(row['alerts'])}" if row.get("alerts") else ""))
    return 0


def _backfill(args) -> int:
    from seller_inbox import backfill
    from seller_inbox.airflow_glue import dag_id

    reg = _load_with_store(args.path, args.store)
    if reg is None:
        return 1
    if (span := _span(args)) is None:
        return 1
    since, until = span
    gaps = backfill.store_gaps(args.store, since)
    if gaps:
        print(f"never read for {args.store} / 从未读取的时段:")
        for g in gaps:
            print(f"  {g['source']:<7} {g['gap_start']:%Y-%m-%d %H:%M} – {g['gap_end']:%Y-%m-%d %H:%M} UTC")
    elif gaps is not None:
        print(f"no gaps recorded for {args.store} since {since:%Y-%m-%d %H:%M} UTC (re-processing anyway)")
    target = dag_id(args.store, "pipeline")
    print(f"backfill {target}: {since:%Y-%m-%d %H:%M} → {until:%Y-%m-%d %H:%M} UTC (reprocess: {args.reprocess}, one run at a time)")
    if args.dry_run:
        print("dry run: nothing created")
        return 0
    err = backfill.create(target, since, until, reprocess=args.reprocess)
    if err:
        print(f"error: store {args.store}: Airflow did not create the backfill: {err}", file=sys.stderr)
        return 1
    print("created; the scheduler runs it (Airflow UI → Browse → Backfills; `airflow backfill list`)")
    return 0


def _psql_binary() -> str:
    import shutil

    try:
        from pgserver._commands import POSTGRES_BIN_PATH

        cand = POSTGRES_BIN_PATH / "psql"
        if cand.exists():
            return str(cand)
    except ImportError:
        pass
    found = shutil.which("psql")
    if not found:
        raise SystemExit("error: psql not found; install postgresql-client or use the URL from `seller-inbox warehouse url`")
    return found


def _quarantine(args) -> int:
    """``quarantine list|show|retry``: one-line errors (unknown store or ref) exit 1."""
    import psycopg2
    from rich.console import Console
    from rich.table import Table

    from seller_inbox import warehouse
    from seller_inbox.mail import quarantine as q

    reg = _load(None)
    if reg is None:
        return 1
    store_id = getattr(args, "store", None)
    if store_id and store_id not in {s.id for s in reg.stores}:
        print(f"error: unknown store {store_id!r} (stores: {', '.join(s.id for s in reg.stores)}; "
              "see `seller-inbox stores list`)", file=sys.stderr)
        return 1
    retrying = [reg.store(store_id)] if store_id else reg.enabled_stores
    airflow_connections_for(retrying if args.action == "retry" else [], ("mailbox",), args.dsn)
    dsn = args.dsn or warehouse.dsn()
    console = Console()
    rc = 0
    try:
        if args.action == "list":
            with closing(warehouse.connect(dsn)) as conn:
                got = q.items(conn, store_id, include_resolved=args.all)
            t = Table(title="quarantined mail / 隔离邮件" + ("" if args.all else " (open)"))
            for col in ("store", "ref", "role", "received", "reason", "first seen", "last seen", "attempts", "status"):
                t.add_column(col, overflow="fold")
            for r in got:
                t.add_row(r["store_id"], r["source_ref"], r["folder_role"] or "-", _ts(r["received_at"]), r["reason"],
                          _ts(r["quarantined_at"]), _ts(r["last_seen_at"]), str(r["attempts"]), r["status"])
            console.print(t)
            if got and not args.all:
                console.print("re-process: seller-inbox quarantine retry" + (f" --store {store_id}" if store_id else ""))
        elif args.action == "show":
            with closing(warehouse.connect(dsn)) as conn:
                r = q.find(conn, store_id, args.ref)
            t = Table(title=f"{r['store_id']}: {r['source_ref']}", show_header=False)
            t.add_column("field")
            t.add_column("value", overflow="fold")
            for k, v in r.items():
                t.add_row(k, v if isinstance(v, str) else (_ts(v) if hasattr(v, "tzinfo") else str(v)))
            console.print(t)
        else:  # retry
            if args.refs and not store_id:
                print("error: quarantine retry REF... needs --store STORE", file=sys.stderr)
                return 1
            results = []
            for s in retrying:
                if store_id:
                    results += [(s.id, r) for r in q.retry_store(s, dsn, args.refs or None)]
                    continue
                with closing(warehouse.connect(dsn)) as conn:
                    if not q.items(conn, s.id):
                        continue
                try:
                    results += [(s.id, r) for r in q.retry_store(s, dsn)]
                except q.QuarantineError as err:  # this store's mailbox: say so, go on with the others
                    results.append((s.id, q.RetryResult("-", "error", str(err))))
                    rc = 1
            t = Table(title="quarantine retry / 重新处理")
            for col in ("store", "ref", "outcome", "detail"):
                t.add_column(col, overflow="fold")
            for sid, r in results:
                t.add_row(sid, r.source_ref, r.outcome, r.detail)
            console.print(t)
    except q.QuarantineError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except psycopg2.OperationalError as err:
        print(f"error: cannot reach the warehouse ({q.clean_reason(err)}); check `seller-inbox warehouse url`",
              file=sys.stderr)
        return 1
    return rc


def _kill_switch(args) -> int:
    """``kill-switch on|off --store S|--global --by NAME [--reason]`` and ``kill-switch status``:
    flips ``ops.delivery_control`` (audited), no YAML edit; one-line errors exit 1."""
    import psycopg2

    from seller_inbox import warehouse
    from seller_inbox.delivery import controls

    reg = _load(None)
    if reg is None:
        return 1
    dsn = args.dsn or warehouse.dsn()
    try:
        if args.action == "status":
            with closing(warehouse.connect(dsn)) as conn, conn.cursor() as cur:
                states = controls.switches(cur, reg)
            for r in states:
                state = "ON " if r["on"] else "off"
                why = " (registry: edit the YAML to turn it off)" if r["registry"] else ""
                who = (f" by {r['changed_by']} at {_ts(r['changed_at'])}" + (f": {r['reason']}" if r["reason"] else "")
                       if r["changed_by"] else "")
                print(f"{r['scope']:<20} {state}{why}{who}")
            return 0
        if not (args.by or "").strip():
            print("error: kill-switch: say who flips it with --by NAME (it is audited)", file=sys.stderr)
            return 1
        scope = controls.GLOBAL if args.global_ else args.store
        if scope != controls.GLOBAL and scope not in {s.id for s in reg.stores}:
            print(f"error: unknown store {scope[:80]!r} (stores: {', '.join(s.id for s in reg.stores)})", file=sys.stderr)
            return 1
        on = args.action == "on"
        controls.set_kill_switch(dsn, scope, on, args.by.strip(), (args.reason or "").strip() or None)
    except psycopg2.Error as err:
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        print(f"error: warehouse: {first}; check `seller-inbox warehouse url` and run `seller-inbox warehouse migrate`",
              file=sys.stderr)
        return 1
    print(f"kill switch {scope}: {'ON: nothing leaves' if on else 'off'} (by {args.by.strip()})")
    in_registry = reg.defaults.global_kill_switch if scope == controls.GLOBAL else reg.store(scope).kill_switch
    if not on and in_registry:
        print(f"note: the registry still sets the {scope} kill switch; only editing it turns that one off")
    return 0


def _ts(v) -> str:
    return v.strftime("%Y-%m-%d %H:%M:%S UTC") if v is not None else "-"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="seller-inbox", description="Amazon buyer-communication desk on Airflow 3 (卖家消息中心)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("stores", help="the store registry")
    ss = s.add_subparsers(dest="action", required=True)
    v = ss.add_parser("validate", help="check the registry; one line per problem")
    v.add_argument("path", nargs="?", help="registry file (default: $SELLER_INBOX_STORES or include/stores.yaml)")
    v.set_defaults(func=_stores_validate)
    ls = ss.add_parser("list", help="show the stores")
    ls.add_argument("path", nargs="?")
    ls.set_defaults(func=_stores_list)
    for action, text in (("pause", "kill switch on, then pause the store's DAGs in Airflow: nothing read or sent"),
                         ("resume", "unpause the store's DAGs, then kill switch off; the next run catches up")):
        pz = ss.add_parser(action, help=text)
        pz.add_argument("--store", required=True)
        pz.add_argument("--by", required=True, help="who (recorded with the kill switch)")
        pz.add_argument("--reason")
        pz.add_argument("--dsn", help="warehouse URL (default: the project's warehouse)")
        pz.set_defaults(func=_stores_pause)

    w = sub.add_parser("warehouse", help="the analysts' PostgreSQL")
    w.add_argument("action", choices=["url", "psql", "migrate", "stop", "backup", "restore", "rederive"],
                   help="backup/restore: pg_dump/pg_restore of the whole warehouse (--file); rederive: core and "
                        "kpi of a store's window from raw (--store, --since, --until) — docs/runbook.md")
    w.add_argument("--file", help="backup file (backup, restore)")
    w.add_argument("--store", help="store id (rederive)")
    w.add_argument("--since", help="first instant, date or date-time UTC (rederive)")
    w.add_argument("--until", help="end, exclusive (rederive; default: now)")
    w.add_argument("--dsn", help="warehouse URL (default: the project's warehouse)")
    w.set_defaults(func=_warehouse)

    ga = sub.add_parser("gates", help="a store's failed data-quality gate runs: what failed, on which rows")
    ga.add_argument("--store", required=True)
    ga.add_argument("--all", action="store_true", help="passed runs too")
    ga.add_argument("--limit", type=int, default=20)
    ga.add_argument("--dsn", help="warehouse URL (default: the project's warehouse)")
    ga.set_defaults(func=_gates)

    au = sub.add_parser("auth", help="SP-API authorization of a store")
    aus = au.add_subparsers(dest="action", required=True)
    ac = aus.add_parser("check", help="refresh and prove the store's token now (what si_<store>_auth does); "
                                      "records ops.store_auth, queues its alerts")
    ac.add_argument("--store", required=True)
    ac.add_argument("--dsn", help="warehouse URL (default: the project's warehouse)")
    ac.set_defaults(func=_auth_check)

    dd = sub.add_parser("data-docs", help="Great Expectations Data Docs of the gates (served in the UI)")
    dd.add_argument("action", choices=("build",), help="render every stored validation into the site")
    dd.set_defaults(func=lambda args: __import__("seller_inbox.data_docs", fromlist=["main"]).main([args.action]))
    bf = sub.add_parser("backfill", help="re-process a store's past intervals (after an outage): an Airflow backfill")
    bf.add_argument("--store", required=True, help="store id from the registry")
    bf.add_argument("--since", required=True, help="first instant to re-process (date or date-time, UTC)")
    bf.add_argument("--until", help="end, exclusive: --since 2026-11-21 --until 2026-11-23 is two days (default: now)")
    bf.add_argument("--reprocess", choices=("none", "failed", "completed"), default="failed",
                    help="intervals that already have a run: none = skip them, failed = redo failed ones (default), completed = redo all")
    bf.add_argument("--dry-run", action="store_true", help="show what would be backfilled, create nothing")
    bf.add_argument("--path", help="registry file (default: SELLER_INBOX_STORES or include/stores.yaml)")
    bf.set_defaults(func=_backfill)
    qa = sub.add_parser("quarantine", help="mail ingestion could not store: list, show, re-process")
    qs = qa.add_subparsers(dest="action", required=True)
    ql = qs.add_parser("list", help="open quarantined mails (--all: resolved ones too)")
    ql.add_argument("--store")
    ql.add_argument("--all", action="store_true")
    qw = qs.add_parser("show", help="one quarantined mail")
    qw.add_argument("store")
    qw.add_argument("ref", help="maildir:INBOX/<file name> or imap:INBOX/<uidvalidity:uid> (or just the last part)")
    qr = qs.add_parser("retry", help="re-read from the mailbox, parse with the current parser, store")
    qr.add_argument("--store")
    qr.add_argument("refs", nargs="*", metavar="REF")
    for x in (ql, qw, qr):
        x.add_argument("--dsn", help="warehouse URL (default: the project's warehouse)")
        x.set_defaults(func=_quarantine)

    ks = sub.add_parser("kill-switch", help="stop (or resume) every send, globally or per store; audited")
    kss = ks.add_subparsers(dest="action", required=True)
    for action, text in (("on", "nothing leaves, not even approved replies"), ("off", "sends resume")):
        k = kss.add_parser(action, help=text)
        where = k.add_mutually_exclusive_group(required=True)
        where.add_argument("--store", help="store id from the registry")
        where.add_argument("--global", dest="global_", action="store_true", help="every store")
        k.add_argument("--by", required=True, help="who flips it (recorded in ops.delivery_control_log)")
        k.add_argument("--reason", help="why (recorded)")
    kss.add_parser("status", help="every switch, and who flipped it when")
    for k in kss.choices.values():
        k.add_argument("--dsn", help="warehouse URL (default: the project's warehouse)")
        k.set_defaults(func=_kill_switch)

    for mod in _PLUGGED:
        importlib.import_module(mod).register(sub)
    _plug_in(sub)
    return p


def _plug_in(sub) -> None:
    """Every ``seller_inbox.commands`` entry point's ``register(sub)``, in name order. An entry
    whose package is not importable (registered by an install that no longer has it) is left out."""
    from importlib.metadata import entry_points

    for ep in sorted(entry_points(group=COMMANDS_GROUP), key=lambda e: e.name):
        try:
            register = ep.load()
        except ModuleNotFoundError as err:
            if err.name and ep.module.startswith(err.name):
                continue
            raise
        register(sub)


def command_group(sub, name: str, **kw) -> argparse._SubParsersAction:
    """The sub-command action of the already registered command ``name`` (created with ``kw``,
    e.g. ``dest``, when it has none yet): a plug-in adds its subcommands to a runtime group
    (``classify eval`` beside ``classify --input``, ``mail demo`` beside ``mail ingest``)."""
    parser = sub.choices[name]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return parser.add_subparsers(**kw)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
