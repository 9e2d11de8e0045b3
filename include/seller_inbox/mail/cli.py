"""Mail subcommands for the ``seller-inbox`` CLI.

``register(subparsers)`` adds:
- ``parse-email FILE...``: one JSON object per file (redacted parse, or ``{"file", "error"}``);
  exit status 1 if any file failed.
- ``mail ingest --store ID [--dsn URL] --start ISO --end ISO``: ingest one store's mailbox window.

``mail demo`` (the demo mail generator) is dev tooling: its entry point (pyproject.toml,
``seller_inbox.commands``) adds it to the ``mail`` group.

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


def _ingest(args) -> int:
    from seller_inbox.cli import airflow_connections_for
    from seller_inbox.config import get_store
    from seller_inbox.mail.ingest import ingest_mailbox

    store = get_store(args.store)
    airflow_connections_for([store], ("mailbox",), args.dsn)   # kept in Airflow's metadata database
    dsn = args.dsn
    if not dsn:
        from seller_inbox.warehouse import dsn as wdsn

        dsn = wdsn()
    counts = ingest_mailbox(store, dsn, _day(args.start), _day(args.end))
    print(json.dumps(counts))
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("parse-email", help="parse relay mails; print one JSON object per file")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(func=_parse_email)

    m = subparsers.add_parser("mail", help="mailbox tools (demo mail generator, ingestion)")
    msub = m.add_subparsers(dest="mail_cmd", required=True)
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
