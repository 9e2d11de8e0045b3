"""A small Airflow world for tests that run real DAGs in a fresh process (``dag.test()``):
a registry of some demo stores, the environment the demo gives Airflow (connections, home,
warehouse), and Airflow's own metadata database migrated. One home for what the one-store
Airflow tests (delivery, performance reports, reminders) used to write out each time."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from seller_inbox.config import DEFAULT_REGISTRY, load_registry
from seller_inbox.paths import REPO_ROOT


def write_registry(base: Path, store_ids: tuple[str, ...], **updates) -> tuple[Path, list]:
    """The demo registry cut to ``store_ids`` (each store updated with ``updates``), written to
    ``base/stores.yaml``; returns its path and the parsed stores."""
    reg = yaml.safe_load(Path(DEFAULT_REGISTRY).read_text())
    reg["stores"] = [s for s in reg["stores"] if s["id"] in store_ids]
    for s in reg["stores"]:
        s.update(updates)
    path = base / "stores.yaml"
    path.write_text(yaml.safe_dump(reg, sort_keys=False))
    return path, load_registry(path).stores


def airflow_world_env(base: Path, reg_path: Path, stores: list, spapi_url: str, maildir: Path, url: str,
                      **connection_kw) -> dict[str, str]:
    """This process's environment without any Airflow setting, plus the demo's Airflow home,
    connections, registry and warehouse; Airflow's metadata database is migrated."""
    from seller_inbox_dev.demo.run import airflow_env, connection_env

    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AIRFLOW_CONN_", "AIRFLOW__", "_AIRFLOW")) and k != "AIRFLOW_HOME"}
    env.update(airflow_env(base))
    env.update(connection_env(stores, spapi_url, maildir, url, **connection_kw))
    env.update({"SELLER_INBOX_STORES": str(reg_path), "SELLER_INBOX_WAREHOUSE_URL": url,
                "SELLER_INBOX_HOME": str(base), "PYTHONPATH": str(REPO_ROOT)})
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=env, check=True, capture_output=True,
                   timeout=300)
    return env
