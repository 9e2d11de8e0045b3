"""Where the project keeps its local state (embedded database, demo mailboxes, salt, Airflow home)."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
INCLUDE = REPO_ROOT / "include"
DAGS = REPO_ROOT / "dags"
PLUGINS = REPO_ROOT / "plugins"


def home() -> Path:
    """``$SELLER_INBOX_HOME`` or ``<repo>/.seller-inbox`` (git-ignored); created on demand."""
    p = Path(os.environ.get("SELLER_INBOX_HOME") or REPO_ROOT / ".seller-inbox")
    p.mkdir(parents=True, exist_ok=True)
    return p
