"""Alert texts (zh / en) and the connection contract of the channels."""

from __future__ import annotations

import json

import pytest

from seller_inbox.alerts import channels as ch
from seller_inbox.alerts.templates import excerpt, render

CTX = {"store_id": "eu-home", "store_name": "Home & Kitchen EU", "marketplace": "DE", "message_id": "<m@x>",
       "order_id": "302-1234567-7654321", "intent": "not_received", "risk": "high",
       "received_at": "2026-11-20T01:00:00+00:00", "sla_due_at": "2026-11-21T01:00:00+00:00",
       "time_zone": "Europe/Berlin", "excerpt": "Paket nie angekommen", "link": "http://airflow/x"}


@pytest.mark.parametrize("lang,needles", [
    ("en", ["[HIGH RISK]", "Store", "Marketplace", "Order", "not received", "Reply due (SLA)",
            "2026-11-21 01:00 UTC (11-21 02:00 CET)", "Paket nie angekommen", "(http://airflow/x)"]),
    ("zh", ["【高风险】", "店铺", "站点", "订单号", "未收到货", "回复截止", "摘要", "查看"]),
])
def test_risk_alert_text_in_the_teams_language(lang, needles):
    title, md = render("high_risk", lang, CTX)
    _, plain = render("high_risk", lang, CTX, "text")
    for n in needles:
        assert n in md, n
    assert "302-1234567-7654321" in plain and title in plain


def test_sla_and_other_kinds_have_titles_in_both_languages():
    for kind in ("sla_12h", "sla_20h", "auth_revoked", "reauth_due", "secret_rotation", "gate_failed", "medium_risk",
                 "mail_quarantined"):
        assert render(kind, "en", CTX)[0] != render(kind, "zh", CTX)[0]
    assert render("something_new", "zh", {"store_id": "s"})[0].startswith("【提醒】")


def test_excerpt_is_short_and_redacted():
    t = excerpt("Order 302-1234567-7654321 came 2026-11-20. Call +49 170 1234567, mail anna@example.com, "
                "see https://example.com/x " + "blah " * 100)
    assert len(t) <= 140 and t.endswith("…")
    assert "302-1234567-7654321" in t and "2026-11-20" in t
    assert "[PHONE]" in t and "[EMAIL]" in t and "[link]" in t and "anna@" not in t


def test_webhook_url_from_connection_fields(monkeypatch):
    from airflow.sdk import BaseHook

    monkeypatch.setenv("AIRFLOW_CONN_W1", json.dumps({"conn_type": "http", "host": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc"}))
    monkeypatch.setenv("AIRFLOW_CONN_W2", json.dumps({"conn_type": "http", "host": "oapi.dingtalk.com", "schema": "https",
                                                      "extra": json.dumps({"path": "robot/send?access_token=t"})}))
    monkeypatch.setenv("AIRFLOW_CONN_W3", json.dumps({"conn_type": "http", "extra": json.dumps({"webhook_url": "http://h/x"})}))
    assert ch.webhook_url(BaseHook.get_connection("w1")) == "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc"
    assert ch.webhook_url(BaseHook.get_connection("w2")) == "https://oapi.dingtalk.com/robot/send?access_token=t"
    assert ch.webhook_url(BaseHook.get_connection("w3")) == "http://h/x"


def test_dingtalk_signature_matches_the_documented_algorithm():
    import base64
    import hashlib
    import hmac
    from urllib.parse import parse_qs, urlsplit

    url = ch.signed("https://oapi.dingtalk.com/robot/send?access_token=t", "SECxyz", now_ms=1700000000000)
    q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    expected = base64.b64encode(hmac.new(b"SECxyz", b"1700000000000\nSECxyz", hashlib.sha256).digest()).decode()
    assert q == {"access_token": "t", "timestamp": "1700000000000", "sign": expected}


def test_unknown_channel_and_missing_connection_fail_clearly():
    with pytest.raises(ch.ChannelError, match="unknown alert channel"):
        ch.send("pager", "x", {"title": "t", "text": "p"})
    with pytest.raises(ch.ChannelError, match="needs a conn_id"):
        ch.send("wecom", None, {"title": "t", "text": "p"})


@pytest.mark.parametrize("value,seconds", [
    ("120", 120.0), ("0", 0.0), ("-5", 0.0), ("inf", ch.MAX_RETRY_AFTER), ("1e30", ch.MAX_RETRY_AFTER),
    ("nan", None), ("soon", None), ("", None), (None, None), ("Thu, 01 Jan 1970 00:00:00 GMT", 0.0),
])
def test_retry_after_is_read_as_bounded_seconds(value, seconds):
    assert ch.retry_after_seconds(value) == seconds


def test_retry_after_as_an_http_date():
    from email.utils import formatdate
    import time

    assert 50 <= ch.retry_after_seconds(formatdate(time.time() + 60, usegmt=True)) <= 60
