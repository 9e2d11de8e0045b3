"""The ``seller-inbox`` command line. Every subcommand imports what it needs when it runs."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

# subcommand groups owned by their packages: each module has register(subparsers)
_PLUGGED = ("seller_inbox.sandbox.cli", "seller_inbox.mail.cli", "seller_inbox.classify.cli")


def _load(path):
    """The registry, or None after printing its one-line error."""
    from seller_inbox.config import RegistryError, load_registry

    try:
        return load_registry(path)
    except RegistryError as err:
        print(f"error: {err}", file=sys.stderr)
        return None


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


def _demo(args) -> int:
    from seller_inbox.demo import main as demo_main

    return demo_main(days=args.days, once=args.once, seed=args.seed, port=args.port)


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

    w = sub.add_parser("warehouse", help="the analysts' PostgreSQL")
    w.add_argument("action", choices=["url", "psql", "migrate", "stop"])
    w.set_defaults(func=_warehouse)

    d = sub.add_parser("demo", help="run everything on the embedded stack with the demo stores")
    d.add_argument("--once", action="store_true", help="headless: run the last DAYS days, print KPIs, exit")
    d.add_argument("--days", type=int, default=7)
    d.add_argument("--seed", type=int, default=42)
    d.add_argument("--port", type=int, default=8080, help="Airflow UI port (interactive mode)")
    d.set_defaults(func=_demo)

    for mod in _PLUGGED:
        try:
            m = importlib.import_module(mod)
        except ModuleNotFoundError as err:
            if err.name and mod.startswith(err.name):
                continue  # that part of the project is not installed in this checkout
            raise
        m.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
