"""Airflow plugin: warm the classifier in the scheduler before LocalExecutor forks its workers,
so every task process starts with the model loaded (seller_inbox.realtime.warm says why)."""

from __future__ import annotations

from airflow.listeners import hookimpl
from airflow.plugins_manager import AirflowPlugin


class _WarmClassifier:
    @hookimpl
    def on_starting(self, component) -> None:
        from seller_inbox.realtime.warm import warm_scheduler

        warm_scheduler()


class SellerInboxWarmPlugin(AirflowPlugin):
    name = "seller_inbox_warm"
    listeners = [_WarmClassifier()]
