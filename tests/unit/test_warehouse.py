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


def test_a_database_migrated_under_the_old_numbering_is_renamed_not_reapplied(new_database):
    url = new_database()
    warehouse.migrate(url)
    new_to_old = {v: k for k, v in warehouse.RENUMBERED.items()}
    with warehouse.cursor(url) as cur:  # what a database from before the renumbering holds
        for new, old in new_to_old.items():
            cur.execute("UPDATE ops.schema_migrations SET version = %s, name = %s || substr(name, 5) WHERE version = %s",
                        (old, old, new))
        cur.execute("SELECT count(*) FROM ops.schema_migrations WHERE version LIKE '01%%'")
        assert cur.fetchone()[0] == 3
    assert warehouse.migrate(url) == []
    with warehouse.cursor(url) as cur:
        cur.execute("SELECT version, name FROM ops.schema_migrations ORDER BY version")
        assert [tuple(r) for r in cur.fetchall()] == [(f.name[:4], f.name) for f in warehouse.migration_files()]


def test_files_are_numbered_in_order_of_application(tmp_path, monkeypatch):
    files = warehouse.migration_files()
    assert [int(f.name[:4]) for f in files] == list(range(1, len(files) + 1))
    for f in files:
        (tmp_path / f.name).write_text(f.read_text())
    (tmp_path / "0100_by_concern.sql").write_text("SELECT 1;")
    monkeypatch.setattr(warehouse, "MIGRATIONS", tmp_path)
    with pytest.raises(warehouse.WarehouseError, match="0100_by_concern.sql should be numbered"):
        warehouse.migration_files()
