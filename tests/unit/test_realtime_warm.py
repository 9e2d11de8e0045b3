"""The classifier is warmed only where task processes are forked from: a LocalExecutor scheduler."""

from __future__ import annotations

from seller_inbox.realtime.warm import should_warm


def test_only_a_local_executor_scheduler_warms(monkeypatch):
    monkeypatch.delenv("SELLER_INBOX_WARM_CLASSIFIER", raising=False)
    local = "LocalExecutor"
    assert should_warm(["/venv/bin/airflow", "scheduler", "--skip-serve-logs"], local)
    for argv in (["/venv/bin/airflow", "triggerer"], ["/venv/bin/airflow", "dag-processor"],
                 ["/venv/bin/airflow", "api-server"], ["/venv/bin/pytest", "scheduler"], ["airflow"]):
        assert not should_warm(argv, local), argv
    assert not should_warm(["airflow", "scheduler"], "CeleryExecutor")
    monkeypatch.setenv("SELLER_INBOX_WARM_CLASSIFIER", "0")
    assert not should_warm(["airflow", "scheduler"], local)
