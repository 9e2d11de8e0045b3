"""Mail throughput benchmark: parse and store 10,000 relay mails.

    .venv/bin/python benchmarks/bench_mail.py [--mails 10000] [--dsn URL] [--keep]

1. writes demo relay mail (``seller_inbox_dev.demo.mail``) for the three demo stores until at
   least ``--mails`` files exist (buyer messages in six languages, HTML and base64 parts,
   seller replies, notices, bounces);
2. parses every mail on one core (``parser.parse_bytes``, redaction included): mails/s;
   and the worst parse time over the hostile-mail corpus (``tests/fixtures/mail/hostile``)
   against ``parser.PARSE_BUDGET_S``;
3. loads the parsed mails into PostgreSQL with the ingest's own batch writer
   (``execute_values`` in 200-mail transactions, threads, reply links): load time;
4. end to end: ``ingest_source`` (Maildir read + parse + store) into a fresh database.

PostgreSQL: ``--dsn`` (a database it may fill), else a fresh database on 127.0.0.1:5432
(dropped afterwards), else the embedded pgserver.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

os.environ.setdefault("SELLER_INBOX_SALT", "bench-salt")
UTC = timezone.utc


def _fresh_db() -> tuple[str, callable]:
    import psycopg2

    base = os.environ.get("SELLER_INBOX_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
    try:
        admin = psycopg2.connect(base)
    except psycopg2.OperationalError:
        from seller_inbox.warehouse import embedded_url

        base = embedded_url()
        admin = psycopg2.connect(base)
    admin.autocommit = True
    name = f"si_bench_{uuid.uuid4().hex[:8]}"
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    from urllib.parse import urlsplit, urlunsplit

    url = urlunsplit(urlsplit(base)._replace(path=f"/{name}"))

    def drop():
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()

    return url, drop


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mails", type=int, default=10_000)
    ap.add_argument("--dsn")
    ap.add_argument("--keep", action="store_true", help="keep the generated Maildir")
    args = ap.parse_args(argv)

    from seller_inbox.config import load_registry
    from seller_inbox_dev.demo.mail import write_demo_mail
    from seller_inbox.mail.ingest import _store_batch, ingest_source
    from seller_inbox.mail.parser import parse_bytes
    from seller_inbox.mail.sources import FolderState, MailItem, MaildirSource
    from seller_inbox.paths import INCLUDE
    from seller_inbox.warehouse import migrate

    stores = load_registry(INCLUDE / "stores.yaml").stores
    tmp = Path(tempfile.mkdtemp(prefix="bench-mail-"))
    end = datetime(2026, 11, 1, tzinfo=UTC)
    t0 = time.perf_counter()
    files: list[tuple[str, str, Path]] = []
    days = 0
    while len(files) < args.mails:
        # the three demo stores write ~180 mails a day together; grow the window proportionally
        days = max(days + 1, int((days or 1) * args.mails / max(len(files), 1) * 1.03) if files else args.mails // 180 + 1)
        write_demo_mail(tmp, stores, end - timedelta(days=days), end, seed=42)
        files = [(s.id, "sent" if "/.Sent/" in str(p) else "inbox", p)
                 for s in stores for p in (tmp / s.id).rglob("cur/*")]
    gen_s = time.perf_counter() - t0
    files.sort(key=lambda x: str(x[2]))
    files = files[: args.mails]
    raws = [(sid, role, p, p.read_bytes()) for sid, role, p in files]
    total_bytes = sum(len(r[3]) for r in raws)

    # ---- parse, one core
    t0 = time.perf_counter()
    parsed = [(sid, role, p, parse_bytes(raw, salt=b"bench-salt", folder_role=role)) for sid, role, p, raw in raws]
    parse_s = time.perf_counter() - t0
    worst_s, worst_mail = _hostile_worst(parse_bytes)

    # ---- load parsed mails into PostgreSQL with the ingest's batch writer
    drop = None
    dsn = args.dsn
    if not dsn:
        dsn, drop = _fresh_db()
    import psycopg2

    try:
        migrate(dsn)
        by_store = {s.id: s for s in stores}
        pg = psycopg2.connect(dsn)
        t0 = time.perf_counter()
        counts = {"seen": 0, "stored": 0, "duplicates": 0, "quarantined": 0, "kinds": {}}
        for sid in by_store:
            for role in ("inbox", "sent"):
                items = [(MailItem(role, f"bench:{role}", p.name.split(":")[0], x.received_at, (), b""), x, None)
                         for s2, r2, p, x in parsed if s2 == sid and r2 == role]
                items.sort(key=lambda it: it[1].received_at)
                state = FolderState(f"bench:{role}")
                for i in range(0, len(items), 200):
                    _store_batch(pg, by_store[sid], f"bench:{role}", items[i: i + 200], state, counts, dict(counts),
                                 final=i + 200 >= len(items))
        load_s = time.perf_counter() - t0
        pg.close()
        # ---- end to end: Maildir read + parse + store, into a second fresh database
        e2e_dsn, e2e_drop = _fresh_db() if not args.dsn else (args.dsn, None)
        try:
            if e2e_drop:
                migrate(e2e_dsn)
            t0 = time.perf_counter()
            e2e = {"stored": 0}
            for s in stores:
                c = ingest_source(s, e2e_dsn, MaildirSource(tmp / s.id), end - timedelta(days=days), end)
                e2e["stored"] += c["stored"]
            e2e_s = time.perf_counter() - t0
        finally:
            if e2e_drop:
                e2e_drop()
    finally:
        if drop:
            drop()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)

    kinds: dict[str, int] = {}
    for *_, x in parsed:
        kinds[x.kind] = kinds.get(x.kind, 0) + 1
    result = {
        "mails": len(parsed), "megabytes": round(total_bytes / 1e6, 1), "kinds": kinds,
        "generate_s": round(gen_s, 2),
        "parse_s": round(parse_s, 2), "parse_mails_per_s": round(len(parsed) / parse_s),
        "hostile_worst_parse_s": round(worst_s, 3), "hostile_worst_mail": worst_mail,
        "load_s": round(load_s, 2), "load_mails_per_s": round(counts["stored"] / load_s), "loaded": counts["stored"],
        "ingest_end_to_end_s": round(e2e_s, 2), "ingest_mails_per_s": round(e2e["stored"] / e2e_s),
        "ingest_stored": e2e["stored"],
    }
    print(json.dumps(result, indent=1))
    from seller_inbox.mail.parser import PARSE_BUDGET_S

    print(f"hostile mail: worst parse {worst_s:.3f} s CPU ({worst_mail}), budget {PARSE_BUDGET_S:g} s CPU")
    return result


def _hostile_worst(parse_bytes) -> tuple[float, str]:
    """The slowest parse (CPU seconds, as the budget counts them; file) over the hostile-mail
    corpus; rejections count too."""
    from seller_inbox.mail.parser import MailParseError

    worst, name = 0.0, ""
    for f in sorted((Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "mail" / "hostile").glob("*.eml")):
        raw = f.read_bytes()
        t0 = time.thread_time()
        try:
            parse_bytes(raw, salt=b"bench-salt")
        except MailParseError:
            pass
        d = time.thread_time() - t0
        if d > worst:
            worst, name = d, f.name
    return worst, name


if __name__ == "__main__":
    main()
