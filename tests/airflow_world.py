"""A small Airflow world for tests that run real DAGs in a fresh process (``dag.test()``):
a registry of some demo stores, the environment the demo gives Airflow (connections, home,
warehouse), and Airflow's own metadata database migrated. One home for what the one-store
Airflow tests (delivery, performance reports, reminders) used to write out each time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from seller_inbox.config import DEFAULT_REGISTRY, load_registry
from seller_inbox.paths import REPO_ROOT

# How much faster than Amazon's usage plans the SP-API simulator of a DAG-running test serves
# (``start_sim(time_scale=SIM_SPEED)``) and the stores' clients keep to (``with_sim_speed``): the
# stages still take tokens, wait and get throttled as the plans say, in a fiftieth of the time (a
# deliver run's review scan at 1 request/s takes over a minute otherwise): nothing these tests check
# depends on how long Amazon's plans make a stage wait.
SIM_SPEED = 50.0


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


def own_metadata(env: dict[str, str], home: Path) -> dict[str, str]:
    """``AIRFLOW_HOME`` and a SQLite metadata database of their own under ``home``, migrated with
    ``env``: for ``dag.test`` processes that run side by side (two processes running the same DAG
    on the same day in one database would replace each other's run)."""
    from seller_inbox_dev.demo.run import airflow_env

    meta = {k: v for k, v in airflow_env(home).items() if k in ("AIRFLOW_HOME", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN")}
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env={**env, **meta}, check=True,
                   capture_output=True, timeout=300)
    return meta


def with_sim_speed(env: dict[str, str], stores, speed: float = SIM_SPEED) -> dict[str, str]:
    """``env`` with each store's SP-API connection keeping to a simulator ``speed`` times faster
    (connection extra ``rate_scale``)."""
    env = dict(env)
    for s in stores:
        key = f"AIRFLOW_CONN_{s.connections.spapi.upper()}"
        conn = json.loads(env[key])
        conn["extra"]["rate_scale"] = speed
        env[key] = json.dumps(conn)
    return env
