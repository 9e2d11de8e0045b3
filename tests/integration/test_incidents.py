"""Task failures reach people at once, once per incident, with one recovery notice — through
the Airflow callbacks the DAG factory attaches, a real WeCom receiver and real PostgreSQL."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from seller_inbox.airflow_glue import on_task_failure, on_task_success
from seller_inbox.gates import GateFailed
from tests.servers.webhooks import WebhookReceiver

STORE = "us-outdoor"
DAG = f"si_{STORE}_pipeline"


@pytest.fixture
def wecom(monkeypatch, tmp_path, warehouse_dsn, db):
    reg = tmp_path / "stores.yaml"
    from seller_inbox.config import DEFAULT_REGISTRY

    text = DEFAULT_REGISTRY.read_text().replace(
        "alert_channels: [{type: log}]\n    alert_language: en",
        "alert_channels: [{type: wecom, conn_id: wecom_ops}]\n    alert_language: en", 1)
    reg.write_text(text)
    monkeypatch.setenv("SELLER_INBOX_STORES", str(reg))  # the registry cache is keyed by file
    with WebhookReceiver(wecom_keys=("wk-1",)) as hooks:
        monkeypatch.setenv("AIRFLOW_CONN_WECOM_OPS", json.dumps({"conn_type": "http", "host": hooks.wecom_url("wk-1")}))
        yield hooks


def ctx(task_id: str, run_id: str, exception: BaseException | None = None) -> dict:
    return {"dag": SimpleNamespace(dag_id=DAG), "ti": SimpleNamespace(task_id=task_id), "run_id": run_id,
            "exception": exception}


def texts(hooks) -> list[str]:
    return [r["json"]["markdown"]["content"] for r in hooks.accepted("wecom")]


def test_a_failing_task_alerts_once_and_recovers_once(wecom, db):
    on_task_failure(ctx("classify", "scheduled__1", RuntimeError("model file missing")))
    on_task_failure(ctx("classify", "scheduled__2", RuntimeError("model file missing")))  # same incident
    failed = [t for t in texts(wecom) if "a task failed" in t]
    assert len(failed) == 1 and "model file missing" in failed[0] and "classify" in failed[0]
    with db.cursor() as cur:
        cur.execute("SELECT incident_key, failures, resolved_at FROM ops.incident")
        assert cur.fetchall() == [(f"{DAG}.classify", 2, None)]
    on_task_success(ctx("ingest_mail", "scheduled__3"))  # another task: nothing to resolve
    on_task_success(ctx("classify", "scheduled__3"))
    on_task_success(ctx("classify", "scheduled__4"))
    recovered = [t for t in texts(wecom) if "works again" in t]
    assert len(recovered) == 1 and "after 2 failed run(s)" in recovered[0]
    # a new failure later is a new incident
    on_task_failure(ctx("classify", "scheduled__5", RuntimeError("disk full")))
    assert len([t for t in texts(wecom) if "a task failed" in t]) == 2


def test_errors_with_their_own_alert_are_delivered_not_doubled(wecom, db):
    with db.cursor() as cur:  # what the gate wrote before raising
        cur.execute("""INSERT INTO ops.alert_log (store_id, alert_kind, subject_key, channel, status, payload, sent_at)
                       VALUES (%s, 'gate_failed', 'classify:x', 'log', 'sent', %s, now())""",
                    (STORE, json.dumps({"message": "labels.intent: 3 rows outside the taxonomy"})))
    try:
        raise GateFailed("store us-outdoor: data-quality gate 'classify' failed")
    except GateFailed as gate_error:
        try:
            raise RuntimeError("wrapped by Airflow") from gate_error
        except RuntimeError as wrapped:
            on_task_failure(ctx("gate_classify", "scheduled__1", wrapped))
    got = texts(wecom)
    assert len(got) == 1 and "labels.intent" in got[0]  # the gate's own alert, delivered now, no second one


def test_a_dead_warehouse_still_reaches_people(wecom, monkeypatch):
    monkeypatch.setenv("SELLER_INBOX_WAREHOUSE_URL", "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
    on_task_failure(ctx("ingest_mail", "scheduled__9", OSError("mailbox unreachable")))
    (text,) = texts(wecom)
    assert "ingest_mail failed" in text and "warehouse was unreachable" in text


def test_an_error_quoting_a_buyer_is_stored_and_alerted_redacted(db, warehouse_dsn):
    from seller_inbox import incidents

    store = type("S", (), {"id": "redact-store"})()
    err = ValueError("cannot store 'Hi, call me on +49 170 1234567 or mail john.miller@gmail.com' for order 302-1234567-7654321")
    assert incidents.task_failed(store, warehouse_dsn, "si_redact-store_pipeline", "ingest_mail", "run1", err)
    with db.cursor() as cur:
        cur.execute("SELECT last_error FROM ops.incident WHERE store_id = 'redact-store'")
        stored = cur.fetchone()[0]
        cur.execute("SELECT payload::text FROM ops.alert_log WHERE store_id = 'redact-store'")
        alerted = " ".join(r[0] for r in cur.fetchall())
    for text in (stored, alerted):
        assert "1234567 or" not in text and "john.miller" not in text, text
        assert "302-1234567-7654321" in text and "[PHONE]" in text and "[EMAIL]" in text
