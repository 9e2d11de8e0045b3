"""The run command's default: no PostgreSQL configured, so the embedded one (pgserver) is used.

This is what a new user gets from `make run ARGS=--once`; the warehouse then stays reachable
through `seller-inbox warehouse url|psql` and stops with `warehouse stop`.
"""

from __future__ import annotations

import os
import subprocess
import sys


def _cli(env, *args, **kw):
    return subprocess.run([sys.executable, "-m", "seller_inbox", *args], env=env, capture_output=True,
                          text=True, timeout=kw.pop("timeout", 600), **kw)


def test_headless_run_on_the_embedded_warehouse(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k != "SELLER_INBOX_WAREHOUSE_URL" and not k.startswith(("AIRFLOW", "_AIRFLOW"))}
    env["SELLER_INBOX_HOME"] = str(tmp_path)
    try:
        run = _cli(env, "demo", "--once", "--days", "1")
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        assert "All 9 runs succeeded" in run.stdout  # 3 stores: auth, pipeline, deliver
        assert "RuntimeDirWarning" not in run.stdout + run.stderr
        url = _cli(env, "warehouse", "url").stdout.strip()
        assert url.startswith("postgresql://") and f"host={tmp_path}/pgdata" in url
        q = _cli(env, "warehouse", "psql", input="SELECT 'stores:' || count(DISTINCT store_id) FROM kpi.store_daily;\n")
        assert "stores:3" in q.stdout, q.stderr
    finally:
        stop = _cli(env, "warehouse", "stop")
    assert stop.stdout.strip() == "stopped"
    assert not (tmp_path / "pgdata" / "postmaster.pid").exists()
