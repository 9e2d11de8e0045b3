"""Mail subcommands for the ``seller-inbox`` CLI.

``register(subparsers)`` adds:
- ``parse-email FILE...``: one JSON object per file (redacted parse, or ``{"file", "error"}``);
  exit status 1 if any file failed.
- ``mail demo --out DIR [--days N] [--end YYYY-MM-DD] [--seed S] [--store ID] [--to-imap]``: write the
  demo relay mails for the registry's stores into ``DIR/<store_id>/`` (Maildir++), and with
  ``--to-imap`` also deliver them to each store's IMAP mailbox connection (idempotent).
- ``mail ingest --store ID [--dsn URL] --start ISO --end ISO``: ingest one store's mailbox window.

Standalone: ``python -m seller_inbox.mail.cli parse-email FILE...``.
"""

from __future__ import annotations

import argparse
import json
import sys


def _parse_email(args) -> int:
    from seller_inbox.mail.parser import MailParseError, parse_bytes, sanitize_text
    from seller_inbox.redaction import installation_salt

    salt = installation_salt()
    failed = 0
    out = sys.stdout
    for f in args.files:
        try:
            with open(f, "rb") as fh:
                raw = fh.read()
            d = parse_bytes(raw, salt=salt, source=f).to_dict()
            d = {"file": f, **d}
        except MailParseError as exc:
            d, failed = {"file": f, "error": exc.reason}, failed + 1
        except OSError as exc:
            d, failed = {"file": f, "error": f"cannot read file: {exc.strerror or exc}"}, failed + 1
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop the others
            d, failed = {"file": f, "error": f"parser error: {type(exc).__name__}: {exc}"}, failed + 1
        # file names may hold undecodable bytes (surrogate escapes): keep the line valid UTF-8 JSON
        out.write(sanitize_text(json.dumps(d, ensure_ascii=False)) + "\n")
    out.flush()
    return 1 if failed else 0


def _day(s: str):
    from datetime import datetime, timezone

    d = datetime.fromisoformat(s)
    return d if d.tzinfo else d.replace(tzinfo=timezone.utc)


def _demo(args) -> int:
    from datetime import datetime, time, timedelta, timezone
    from pathlib import Path

    from seller_inbox.config import get_registry
    from seller_inbox.mail.demo import write_demo_mail

    end = _day(args.end) if args.end else datetime.combine(
        datetime.now(timezone.utc).date() + timedelta(days=1), time(0), tzinfo=timezone.utc)
    start = end - timedelta(days=args.days)
    stores = get_registry().enabled_stores
    if args.store:
        stores = [s for s in stores if s.id in args.store]
    counts = write_demo_mail(Path(args.out), stores, start, end, seed=args.seed)
    if args.to_imap:
        from airflow.sdk import BaseHook

        from seller_inbox.mail.demo import upload_maildir_to_imap

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


def _ingest(args) -> int:
    from seller_inbox.config import get_store
    from seller_inbox.mail.ingest import ingest_mailbox

    dsn = args.dsn
    if not dsn:
        from seller_inbox.warehouse import dsn as wdsn

        dsn = wdsn()
    counts = ingest_mailbox(get_store(args.store), dsn, _day(args.start), _day(args.end))
    print(json.dumps(counts))
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("parse-email", help="parse relay mails; print one JSON object per file")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(func=_parse_email)

    m = subparsers.add_parser("mail", help="mailbox tools (demo mail generator, ingestion)")
    msub = m.add_subparsers(dest="mail_cmd", required=True)
    d = msub.add_parser("demo", help="write demo relay mails (Maildir per store)")
    d.add_argument("--out", required=True, help="Maildir root; one folder per store id")
    d.add_argument("--days", type=int, default=7)
    d.add_argument("--end", help="window end (exclusive) as ISO date; default: tomorrow 00:00 UTC")
    d.add_argument("--seed", type=int, default=42)
    d.add_argument("--store", action="append", help="only this store id (repeatable)")
    d.add_argument("--to-imap", action="store_true",
                   help="also APPEND the mails to each store's mailbox connection when it is IMAP (e.g. Dovecot)")
    d.set_defaults(func=_demo)
    i = msub.add_parser("ingest", help="ingest one store's mailbox for a window")
    i.add_argument("--store", required=True)
    i.add_argument("--start", required=True)
    i.add_argument("--end", required=True)
    i.add_argument("--dsn", help="warehouse URL (default: the project's warehouse)")
    i.set_defaults(func=_ingest)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="seller-inbox")
    register(ap.add_subparsers(dest="cmd", required=True))
    args = ap.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
