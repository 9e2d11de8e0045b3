"""The classifier warm before Airflow forks task processes, so a tiny urgent run does not pay
its start-up (about 3 s on 2 cores, 11-14 s when they are busy: the USE v3 encoder, the intent
weights, language identification) every time — nor the first import of Great Expectations
(the gates), which costs as much.

Airflow 3 runs each task in a process forked from an executor worker, and LocalExecutor's
workers are forked from the scheduler. Classifying one sample in the scheduler before its
executor starts (the ``on_starting`` listener of plugins/seller_inbox_warm.py) leaves the
loaded model in every worker and task process, shared copy-on-write: paid once per scheduler
start. Other executors (Celery: its own worker processes) and other Airflow components
(triggerer, dag-processor, api-server) are left alone. ``SELLER_INBOX_WARM_CLASSIFIER=0``
switches it off. A failure only logs: the tasks then load the model themselves.
"""

from __future__ import annotations

import logging
import os
import sys
import time

log = logging.getLogger(__name__)
ENV = "SELLER_INBOX_WARM_CLASSIFIER"
SAMPLE = {"id": "warm-up", "subject": "Item arrived damaged", "marketplace": "US",
          "body": "The item arrived broken and I want a refund, otherwise I will file an A-to-z claim.",
          "from_addr": "warm-up@marketplace.amazon.com"}


# what every small urgent run imports at first use: mail parsing and storage, the gates (Great
# Expectations and pandas: the slowest import of all), alert dispatch. Imports only: nothing
# here starts a thread or opens a connection before the fork.
MODULES = ("seller_inbox.mail.ingest", "seller_inbox.mail.sources", "seller_inbox.gates", "seller_inbox.data_docs",
           "great_expectations", "great_expectations.expectations", "pandas", "seller_inbox.alerts.dispatch",
           "seller_inbox.classify.store", "psycopg2.extras")


def warm() -> float:
    """Load everything classification loads lazily, import what the stages import; return the seconds it took."""
    import importlib

    from seller_inbox.classify.pipeline import classify_batch

    t0 = time.perf_counter()
    classify_batch([SAMPLE])
    for name in MODULES:
        importlib.import_module(name)
    return time.perf_counter() - t0


def should_warm(argv: list[str] | None = None, executor: str | None = None) -> bool:
    """Only in ``airflow scheduler`` with a LocalExecutor, unless switched off."""
    if (os.environ.get(ENV) or "1").strip().lower() in ("0", "false", "no", "off"):
        return False
    argv = sys.argv if argv is None else argv
    if len(argv) < 2 or os.path.basename(argv[0]) != "airflow" or argv[1] != "scheduler":
        return False
    if executor is None:
        from airflow.configuration import conf

        executor = conf.get("core", "executor", fallback="")
    return "LocalExecutor" in executor


_warmed = False  # inherited by forked processes: a task process (whose argv is still the scheduler's) skips


def warm_scheduler() -> None:
    """The listener's body: warm when ``should_warm()``, once per process tree; never raise into Airflow."""
    global _warmed
    if _warmed:
        return
    try:
        if should_warm():
            _warmed = True
            import threading

            took = warm()
            log.warning("seller-inbox: classifier and stage modules warmed in the scheduler in %.1f s (task processes "
                        "inherit them; %d threads)", took, threading.active_count())
    except Exception:  # noqa: BLE001 - a cold start is slower, not wrong
        log.exception("seller-inbox: warming the classifier failed; tasks will load it themselves")
