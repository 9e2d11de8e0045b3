"""The warehouse: where it is, how to reach it, and its versioned schema.

Resolution order for the connection URL (``dsn()``):
1. ``SELLER_INBOX_WAREHOUSE_URL`` (tests, scripts),
2. the Airflow connection ``warehouse`` (production; read at execution time),
3. the embedded PostgreSQL from the ``pgserver`` wheel, data under ``$SELLER_INBOX_HOME/pgdata``.

Migrations are plain SQL files ``sql/migrations/NNNN_name.sql`` numbered 0001, 0002, … without
gaps, so that the order of the files is the order of application; each runs in its own
transaction, recorded with a checksum in ``ops.schema_migrations``; an advisory lock keeps
concurrent tasks from applying the same file twice. Databases created before the files were
renumbered (0100, 0200, … by concern) have their records renamed once (``RENUMBERED``).
"""

from __future__ import annotations

import hashlib
import os
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from seller_inbox.paths import home

MIGRATIONS = Path(__file__).resolve().parent / "sql" / "migrations"
ENV_URL = "SELLER_INBOX_WAREHOUSE_URL"
WAREHOUSE_CONN_ID = "warehouse"
_LOCK_KEY = 727_001  # pg_advisory_lock key for migrations
_FILE = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# old version -> new version, from when the files were numbered by concern; same contents
RENUMBERED = {"0100": "0004", "0101": "0005", "0102": "0006", "0200": "0007", "0201": "0008", "0300": "0009",
              "0301": "0010", "0400": "0011", "0500": "0012", "0501": "0013", "0502": "0014"}


class WarehouseError(RuntimeError):
    pass


def embedded_dir() -> Path:
    return home() / "pgdata"


def start_embedded(database: str = "postgres"):
    """Start (or attach to) the embedded PostgreSQL; it keeps running after this process exits."""
    import warnings

    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset (root, CI)
        warnings.simplefilter("ignore")
        import pgserver  # only when the embedded default is really used

        return pgserver.get_server(embedded_dir(), cleanup_mode=None)


def stop_embedded() -> bool:
    """Stop the embedded server if its data folder has one running. Returns True if stopped."""
    d = embedded_dir()
    if not (d / "postmaster.pid").exists():
        return False
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgserver._commands import pg_ctl  # the wheel's own pg_ctl wrapper

    user = "pgserver" if os.geteuid() == 0 else None
    pg_ctl(["-w", "stop", "-m", "fast"], pgdata=d, user=user)
    return True


def embedded_url() -> str:
    return start_embedded().get_uri()


def dsn() -> str:
    """The warehouse URL for this process (see module docstring for the order)."""
    url = os.environ.get(ENV_URL)
    if url:
        return url
    if os.environ.get(f"AIRFLOW_CONN_{WAREHOUSE_CONN_ID.upper()}") or os.environ.get("AIRFLOW__CORE__EXECUTOR") or _in_airflow_task():
        from airflow.providers.postgres.hooks.postgres import PostgresHook
        from airflow.sdk.exceptions import AirflowNotFoundException

        try:
            conn = PostgresHook.get_connection(WAREHOUSE_CONN_ID)
        except AirflowNotFoundException:
            pass  # not defined: the embedded default
        except Exception as exc:  # noqa: BLE001 - a broken secrets backend: say which connection
            raise WarehouseError(f"connection {WAREHOUSE_CONN_ID!r}: {exc}") from exc
        else:
            return _conn_to_url(conn)
    return embedded_url()


def _in_airflow_task() -> bool:
    return "AIRFLOW_CTX_DAG_ID" in os.environ


def _conn_to_url(conn) -> str:
    """A libpq URL from a ``postgres`` connection (``PostgresHook.get_uri`` names a SQLAlchemy
    driver and drops a unix-socket host, which the embedded server uses)."""
    extra = conn.extra_dejson or {}
    if extra.get("url"):
        return extra["url"]
    from urllib.parse import quote

    auth = ""
    if conn.login:
        auth = quote(conn.login, safe="")
        if conn.password:
            auth += ":" + quote(conn.password, safe="")
        auth += "@"
    host = conn.host or ""
    port = f":{conn.port}" if conn.port else ""
    db = conn.schema or "postgres"
    q = ""
    if host.startswith("/"):  # unix socket directory
        q, host = f"?host={quote(host, safe='/')}", ""
    return f"postgresql://{auth}{host}{port}/{db}{q}"


def connect(url: str | None = None, autocommit: bool = False, **kwargs):
    """The one way the project opens a warehouse connection (psycopg2; ``kwargs`` such as
    ``application_name`` or ``connect_timeout`` go to libpq)."""
    import psycopg2

    conn = psycopg2.connect(url or dsn(), **kwargs)
    conn.autocommit = autocommit
    return conn


@contextmanager
def cursor(url: str | None = None) -> Iterator:
    """One transaction: commit on success, roll back on error."""
    conn = connect(url)
    try:
        with conn:
            with conn.cursor() as cur:
                yield cur
    finally:
        conn.close()


def migration_files() -> list[Path]:
    files = sorted(p for p in MIGRATIONS.glob("*.sql") if _FILE.match(p.name))
    versions = [p.name[:4] for p in files]
    dup = {v for v in versions if versions.count(v) > 1}
    if dup:
        raise WarehouseError(f"{MIGRATIONS}: two migrations share version {sorted(dup)[0]}")
    for i, v in enumerate(versions, 1):
        if int(v) != i:
            raise WarehouseError(f"{MIGRATIONS}: migration {files[i - 1].name} should be numbered {i:04d} "
                                 "(files are numbered 0001, 0002, … in order of application)")
    return files


def _renumber(cur) -> None:
    """Rename records of the old by-concern numbering to the sequential one (contents unchanged)."""
    names = {p.name[:4]: p.name for p in migration_files()}
    for old, new in RENUMBERED.items():
        cur.execute("UPDATE ops.schema_migrations SET version = %s, name = %s WHERE version = %s",
                    (new, names[new], old))


def migrate(url: str | None = None) -> list[str]:
    """Apply pending migrations; return the names applied. Safe to call concurrently."""
    conn = connect(url)
    applied_now: list[str] = []
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
            cur.execute("CREATE SCHEMA IF NOT EXISTS ops")
            cur.execute(
                """CREATE TABLE IF NOT EXISTS ops.schema_migrations (
                       version text PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
                       applied_at timestamptz NOT NULL DEFAULT now())"""
            )
            _renumber(cur)
        with conn.cursor() as cur:
            cur.execute("SELECT version, name, checksum FROM ops.schema_migrations")
            done = {v: (n, c) for v, n, c in cur.fetchall()}
        conn.commit()
        for f in migration_files():
            sql = f.read_text(encoding="utf-8")
            digest = hashlib.sha256(sql.encode()).hexdigest()[:16]
            version = f.name[:4]
            if version in done:
                if done[version][1] != digest:
                    raise WarehouseError(
                        f"{f.name}: changed after it was applied (checksum {done[version][1]} -> {digest}); "
                        "add a new migration instead of editing an applied one"
                    )
                continue
            try:
                with conn, conn.cursor() as cur:
                    cur.execute(sql)
                    cur.execute(
                        "INSERT INTO ops.schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                        (version, f.name, digest),
                    )
            except Exception as exc:
                raise WarehouseError(f"{f.name}: {str(exc).strip().splitlines()[0]}") from exc
            applied_now.append(f.name)
    finally:
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT pg_advisory_unlock_all()")
            conn.commit()
        finally:
            conn.close()
    return applied_now
