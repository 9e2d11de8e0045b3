"""Alert channels as Airflow notifiers: the registry lists each channel once, every entry is a
notifier of its own type, and a channel works as a task callback in any DAG."""

from __future__ import annotations

import json

from seller_inbox.alerts import channel_registry
from seller_inbox.alerts.channels.base import Channel
from seller_inbox.alerts.templates import MARKUPS
from tests.servers.webhooks import WebhookReceiver


def test_every_registered_type_is_a_notifier_of_that_type_with_a_known_markup():
    from airflow.sdk.bases.notifier import BaseNotifier

    assert set(channel_registry.TYPES) == {"log", "wecom", "dingtalk", "slack", "email"}
    for t in channel_registry.TYPES:
        cls = channel_registry.channel_class(t)
        assert issubclass(cls, Channel) and issubclass(cls, BaseNotifier)
        assert cls.type == t and cls.markup in MARKUPS


def test_a_channel_is_an_airflow_failure_callback(monkeypatch):
    class TI:
        task_id, state, log_url = "ingest_mail", "failed", "http://airflow.local/log"

    from airflow.sdk import DAG

    with WebhookReceiver() as hooks:
        monkeypatch.setenv("AIRFLOW_CONN_OPS_WECOM", json.dumps({"conn_type": "http", "host": hooks.wecom_url()}))
        notifier = channel_registry.channel_class("wecom")(conn_id="ops_wecom", lang="zh")
        notifier({"dag": DAG("si_eu-home_pipeline", schedule=None), "ti": TI(), "exception": RuntimeError("IMAP login refused")})
        got = hooks.accepted("wecom")
    assert len(got) == 1
    text = got[0]["json"]["markdown"]["content"]
    assert "【故障】si_eu-home_pipeline" in text and "ingest_mail" in text and "IMAP login refused" in text
