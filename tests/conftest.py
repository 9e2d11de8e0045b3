"""Shared fixtures: a real PostgreSQL warehouse for every test session.

The database is a fresh one on 127.0.0.1:5432 (trust auth, as on CI) or, where no server
listens there, on the embedded pgserver wheel. Either way: real PostgreSQL, migrations
applied, dropped at the end. ``SELLER_INBOX_TEST_PG`` overrides the server URL.
"""

from __future__ import annotations

import os
import socket
import tempfile
import uuid

import pytest

os.environ.setdefault("SELLER_INBOX_SALT", "test-salt")
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
# gate runs store their results for Data Docs: keep them out of the checkout
os.environ.setdefault("SELLER_INBOX_DATA_DOCS", tempfile.mkdtemp(prefix="si-data-docs-"))

# Fuzzing (Hypothesis): seeded and bounded, so every run of the test command is the same run.
# Failing examples found once are kept as explicit @example regression cases in the tests.
from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile("seller-inbox", derandomize=True, max_examples=150, deadline=None, database=None,
                          print_blob=True, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("seller-inbox")


def _server_url(tmp_factory) -> tuple[str, object | None]:
    url = os.environ.get("SELLER_INBOX_TEST_PG")
    if url:
        return url, None
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return "postgresql://postgres@127.0.0.1:5432/postgres", None
    except OSError:
        import pgserver

        srv = pgserver.get_server(tmp_factory.mktemp("pg"), cleanup_mode="delete")
        return srv.get_uri(), srv


def _with_db(url: str, db: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{db}"))


@pytest.fixture(scope="session")
def pg_server_url(tmp_path_factory):
    url, srv = _server_url(tmp_path_factory)
    yield url
    if srv is not None:
        srv.cleanup()


@pytest.fixture(scope="session")
def new_database(pg_server_url):
    """Factory: create a fresh empty database, return its URL; all are dropped at session end."""
    import psycopg2

    made: list[str] = []

    def make(prefix: str = "si_test") -> str:
        name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        admin = psycopg2.connect(pg_server_url)
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        admin.close()
        made.append(name)
        return _with_db(pg_server_url, name)

    yield make
    admin = psycopg2.connect(pg_server_url)
    admin.autocommit = True
    with admin.cursor() as cur:
        for name in made:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture(scope="session")
def warehouse_dsn(new_database):
    """A migrated warehouse for the session; also exported as SELLER_INBOX_WAREHOUSE_URL."""
    from seller_inbox.warehouse import migrate

    url = new_database()
    migrate(url)
    os.environ["SELLER_INBOX_WAREHOUSE_URL"] = url
    return url


def truncate_all(conn) -> None:
    with conn.cursor() as cur:
        cur.execute(
            """SELECT string_agg(format('%I.%I', table_schema, table_name), ', ')
               FROM information_schema.tables
               WHERE table_schema IN ('raw','core','kpi','ops') AND table_type = 'BASE TABLE'
                 AND table_name <> 'schema_migrations'"""
        )
        names = cur.fetchone()[0]
        if names:
            cur.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


@pytest.fixture
def db(warehouse_dsn):
    """An autocommit connection to the session warehouse, every table emptied first."""
    import psycopg2

    conn = psycopg2.connect(warehouse_dsn)
    conn.autocommit = True
    truncate_all(conn)
    yield conn
    conn.close()


@pytest.fixture(autouse=True)
def _no_cached_lwa_tokens():
    """Every test starts with an empty LWA access-token cache. The cache lives as long as the
    process and is keyed by LWA URL: a simulator that gets the port an earlier test's simulator
    had would be shown tokens it never issued, answer 403, and the client's fresh-token retry
    would spend a bucket token the test counts (seen once in CI: a read cut after 2 pages, not 3)."""
    from seller_inbox.spapi.lwa import token_cache

    token_cache().clear()
