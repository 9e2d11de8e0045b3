"""``seller-inbox demo`` (``make run``) and ``seller-inbox mail demo``, plugged into the CLI by the
``seller_inbox.commands`` entry point; ``mail demo`` joins the runtime ``mail`` group.

- ``demo [--once] [--days N] [--seed S] [--port P]``: the whole system on the embedded stack
  (``seller_inbox_dev.demo.run``).
- ``mail demo --out DIR [--days N] [--end YYYY-MM-DD] [--seed S] [--store ID] [--to-imap]``: write the
  demo relay mails for the registry's stores into ``DIR/<store_id>/`` (Maildir++), and with
  ``--to-imap`` also deliver them to each store's IMAP mailbox connection (idempotent).
"""

from __future__ import annotations

import json


def _demo(args) -> int:
    from seller_inbox_dev.demo.run import main as demo_main

    return demo_main(days=args.days, once=args.once, seed=args.seed, port=args.port)


def _day(s: str):
    from datetime import datetime, timezone

    d = datetime.fromisoformat(s)
    return d if d.tzinfo else d.replace(tzinfo=timezone.utc)


def _mail_demo(args) -> int:
    from datetime import datetime, time, timedelta, timezone
    from pathlib import Path

    from seller_inbox.config import get_registry
    from seller_inbox_dev.demo.mail import write_demo_mail

    end = _day(args.end) if args.end else datetime.combine(
        datetime.now(timezone.utc).date() + timedelta(days=1), time(0), tzinfo=timezone.utc)
    start = end - timedelta(days=args.days)
    stores = get_registry().enabled_stores
    if args.store:
        stores = [s for s in stores if s.id in args.store]
    counts = write_demo_mail(Path(args.out), stores, start, end, seed=args.seed)
    if args.to_imap:
        from airflow.sdk import BaseHook

        from seller_inbox_dev.demo.mail import upload_maildir_to_imap

        for s in stores:
            conn = BaseHook.get_connection(s.connections.mailbox)
            if (conn.conn_type or "").lower() not in ("imap", "imaps"):
                continue
            extra = conn.extra_dejson or {}
            counts[s.id]["imap"] = upload_maildir_to_imap(
                Path(args.out) / s.id, conn.host, conn.port or 143, conn.login, conn.password,
                sent_folder=s.mail_folders.get("sent", "Sent"), use_ssl=bool(extra.get("use_ssl")))
    print(json.dumps({"start": start.isoformat(), "end": end.isoformat(), "stores": counts}, indent=1))
    return 0


def register(subparsers) -> None:
    from seller_inbox.cli import command_group

    d = subparsers.add_parser("demo", help="run everything on the embedded stack with the demo stores")
    d.add_argument("--once", action="store_true", help="headless: run the last DAYS days, print KPIs, exit")
    d.add_argument("--days", type=int, default=7)
    d.add_argument("--seed", type=int, default=42)
    d.add_argument("--port", type=int, default=8080, help="Airflow UI port (interactive mode)")
    d.set_defaults(func=_demo)

    m = command_group(subparsers, "mail", dest="mail_cmd", required=True).add_parser(
        "demo", help="write demo relay mails (Maildir per store)")
    m.add_argument("--out", required=True, help="Maildir root; one folder per store id")
    m.add_argument("--days", type=int, default=7)
    m.add_argument("--end", help="window end (exclusive) as ISO date; default: tomorrow 00:00 UTC")
    m.add_argument("--seed", type=int, default=42)
    m.add_argument("--store", action="append", help="only this store id (repeatable)")
    m.add_argument("--to-imap", action="store_true",
                   help="also APPEND the mails to each store's mailbox connection when it is IMAP (e.g. Dovecot)")
    m.set_defaults(func=_mail_demo)
