"""The versioned schema: applied once, in order, refusing edited history."""

import pytest

from seller_inbox import warehouse


def test_migrate_is_idempotent_and_records_versions(new_database):
    url = new_database()
    first = warehouse.migrate(url)
    assert first[0] == "0001_foundation.sql"
    assert warehouse.migrate(url) == []
    with warehouse.cursor(url) as cur:
        cur.execute("SELECT version FROM ops.schema_migrations ORDER BY version")
        assert [r[0] for r in cur.fetchall()] == [f.name[:4] for f in warehouse.migration_files()]
        cur.execute("SELECT schema_name FROM information_schema.schemata WHERE schema_name IN ('raw','core','kpi','ops')")
        assert {r[0] for r in cur.fetchall()} == {"raw", "core", "kpi", "ops"}


def test_edited_migration_is_refused(new_database):
    url = new_database()
    warehouse.migrate(url)
    with warehouse.cursor(url) as cur:
        cur.execute("UPDATE ops.schema_migrations SET checksum = 'x' WHERE version = '0001'")
    with pytest.raises(warehouse.WarehouseError, match="changed after it was applied"):
        warehouse.migrate(url)


def test_connection_url_from_airflow_connection_fields():
    class C:
        login, password, host, port, schema, extra_dejson = "u", "p@ss", "db.example", 5433, "wh", {}

    assert warehouse._conn_to_url(C()) == "postgresql://u:p%40ss@db.example:5433/wh"


def test_cli_prints_the_url_and_opens_psql_on_it(warehouse_dsn):
    import os
    import subprocess
    import sys

    env = {**os.environ, "SELLER_INBOX_WAREHOUSE_URL": warehouse_dsn}
    url = subprocess.run([sys.executable, "-m", "seller_inbox", "warehouse", "url"], env=env,
                         capture_output=True, text=True, check=True).stdout.strip()
    assert url == warehouse_dsn
    out = subprocess.run([sys.executable, "-m", "seller_inbox", "warehouse", "psql"], env=env,
                         input="SELECT 'schemas:' || count(*) FROM information_schema.schemata "
                               "WHERE schema_name IN ('raw','core','kpi','ops');\n",
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "schemas:4" in out.stdout
