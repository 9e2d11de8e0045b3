"""``seller-inbox airflow ARGS…``: Airflow's own CLI with this checkout's demo environment.

The demo (``make run``, ``seller-inbox demo --once``) keeps its Airflow home, SQLite metadata
DB and connections under ``$SELLER_INBOX_HOME`` (default ``<repo>/.seller-inbox``). A bare
``airflow …`` from a plain shell sees none of that ("Database migration required"), so every
Airflow command in the README goes through this passthrough instead. ``seller-inbox airflow
env`` prints the same environment as ``export`` lines to source in a shell.

The demo writes its connections (``AIRFLOW_CONN_*``: simulator, Maildirs, SMTP, warehouse) to
``<home>/airflow/demo-env.json`` when it starts; they point at the running demo's servers.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path

ENV_FILE = "demo-env.json"
# what a saved demo env may carry (connections and the project's own settings; never PATH)
_SAVED = ("AIRFLOW_CONN_", "SELLER_INBOX_")


def save_env(env: dict[str, str]) -> Path:
    """Keep the running demo's connections beside its Airflow home (readable by the owner only)."""
    path = Path(env["AIRFLOW_HOME"]) / ENV_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump({k: v for k, v in sorted(env.items()) if k.startswith(_SAVED)}, f, indent=1)
    return path


def demo_airflow_env(base: Path) -> dict[str, str]:
    """The demo's Airflow settings for ``base`` (``airflow_env``), its saved connections if it ran,
    and the project settings its DAGs parse with."""
    from seller_inbox_dev.demo.run import DEMO_REGISTRY, airflow_env

    env = {"SELLER_INBOX_HOME": str(base),
           "SELLER_INBOX_STORES": os.environ.get("SELLER_INBOX_STORES") or str(DEMO_REGISTRY)}
    saved = base / "airflow" / ENV_FILE
    if saved.exists():
        env.update(json.loads(saved.read_text(encoding="utf-8")))
    env.update(airflow_env(base))
    return env


def _home_missing(base: Path) -> str | None:
    db = base / "airflow" / "airflow.db"
    if db.exists():
        return None
    return (f"error: no demo Airflow home at {db.parent} (start the demo once: `make run` or "
            "`seller-inbox demo --once`; or set SELLER_INBOX_HOME to the demo's home)")


def _run(args) -> int:
    from seller_inbox.paths import home

    base = home()
    missing = _home_missing(base)
    if missing:
        print(missing, file=sys.stderr)
        return 1
    demo = demo_airflow_env(base)
    argv = list(args.airflow_args)
    if argv[:1] == ["env"]:
        for k, v in demo.items():
            print(f"export {k}={shlex.quote(v)}")
        return 0
    # the shell's own Airflow settings (another AIRFLOW_HOME, connections) would point elsewhere
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(demo)
    exe = str(Path(sys.executable).with_name("airflow"))
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(exe, [exe, *argv], env)
    return 1  # not reached


def register(subparsers) -> None:
    import argparse

    # no options of its own: every argument, --help included, belongs to Airflow
    p = subparsers.add_parser("airflow", add_help=False, prefix_chars="\x00",
                              help="Airflow's CLI with the demo's home, metadata DB, DAGs and connections "
                                   "(`seller-inbox airflow env`: the same as export lines)")
    p.add_argument("airflow_args", nargs=argparse.REMAINDER, metavar="ARGS")
    p.set_defaults(func=_run)
