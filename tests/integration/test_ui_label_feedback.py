"""The message page's intent/risk correction and the approvals page's heavy rewrites, through a real
Airflow API server (the fixtures of test_ui): the example is recorded redacted, only a logged-in
user with the approve right and a valid CSRF token can write, refusals change nothing."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

import httpx

from tests.integration.rows import add_message
from tests.integration.test_ui import PREFIX, _csrf, _outbox, airflow_api, anon, lead, tokens  # noqa: F401

UTC = timezone.utc
PII = "Hi, this is Maria Gonzalez, call me at +1 415 555 0134 or write maria.gonzalez@gmail.com."


def _page(mid, store="us-outdoor", lang="en"):
    return f"{PREFIX}/message?{urlencode({'store': store, 'id': mid, 'lang': lang})}"


def _state(db, mid):
    with db.cursor() as cur:
        cur.execute("SELECT intent, risk, labelled_by FROM core.message WHERE message_id = %s", (mid,))
        msg = cur.fetchone()
        cur.execute("""SELECT source, old_intent, old_risk, new_intent, new_risk, confirmed, created_by, text_redacted
                       FROM core.label_feedback WHERE message_id = %s ORDER BY id""", (mid,))
        return msg, cur.fetchall()


def test_a_person_corrects_intent_and_risk_on_the_message_page(db, lead):  # noqa: F811
    now = datetime.now(UTC)
    add_message(db, "us-outdoor", "<fix@x>", now - timedelta(hours=2), intent="order_status", risk="low",
                body=PII + " The stove arrived dented and the valve leaks gas.")
    listing = lead.get(PREFIX + "/messages?lang=en").text
    assert 'href="/seller-inbox/message?lang=en&amp;store=us-outdoor&amp;id=%3Cfix%40x%3E"' in listing
    page = lead.get(_page("<fix@x>"))
    assert page.status_code == 200 and "Correct intent / risk" in page.text
    assert re.search(r'<option value="order_status" selected>', page.text)
    assert "the classifier" in page.text and "valve leaks gas" in page.text
    zh = lead.get(_page("<fix@x>", lang="zh")).text
    assert "修正意图 / 风险" in zh and "保存标注" in zh and "买家原文（已脱敏）" in zh

    r = lead.post(PREFIX + "/message/label?lang=en", data={"csrf_token": _csrf(page.text), "store": "us-outdoor",
                                                           "id": "<fix@x>", "intent": "damaged_defective",
                                                           "risk": "high"})
    assert r.status_code == 303 and "done=label" in r.headers["location"]
    msg, examples = _state(db, "<fix@x>")
    assert msg == ("damaged_defective", "high", "lead")
    [(source, old_i, old_r, new_i, new_r, confirmed, who, text)] = examples
    assert (source, old_i, old_r, new_i, new_r, confirmed, who) == (
        "ui_correction", "order_status", "low", "damaged_defective", "high", True, "lead")
    for secret in ("Maria", "Gonzalez", "415 555 0134", "maria.gonzalez@gmail.com"):
        assert secret not in text, secret
    assert "[NAME]" in text and "[PHONE]" in text and "[EMAIL]" in text and "valve leaks gas" in text
    done = lead.get(r.headers["location"]).text
    assert "Label saved and recorded as a training example." in done
    assert re.search(r'<td class="labelled-by"[^>]*>lead · \d{4}-', done)
    hist = re.search(r'<tr data-source="ui_correction">(.*?)</tr>', done, re.S).group(1)
    assert "order_status / low" in hist and "damaged_defective / high" in hist and "corrected on this page" in hist
    # the open messages list shows the person's label
    assert lead.get(PREFIX + "/api/messages").json()["messages"][0]["intent"] == "damaged_defective"


def test_only_an_approver_with_a_valid_form_may_correct(db, lead, anon, airflow_api, tokens):  # noqa: F811
    add_message(db, "us-outdoor", "<guard@x>", datetime.now(UTC) - timedelta(hours=1))
    form = {"store": "us-outdoor", "id": "<guard@x>", "intent": "not_received", "risk": "high"}
    token = _csrf(lead.get(_page("<guard@x>")).text)
    # no login: sent to the login page; no token, a forged token: refused
    r = anon.post(PREFIX + "/message/label", data={**form, "csrf_token": token})
    assert r.status_code == 303 and r.headers["location"].startswith("/auth/login")
    assert anon.post(PREFIX + "/api/message/label", json=form).status_code == 401
    assert lead.post(PREFIX + "/message/label", data=form).status_code == 403
    assert lead.post(PREFIX + "/message/label", data={**form, "csrf_token": "0" * 40}).status_code == 403
    assert lead.post(PREFIX + "/api/message/label", json=form).status_code == 403  # cookie without X-CSRF-Token
    # a viewer may read the page but not write
    with httpx.Client(base_url=airflow_api, cookies={"_token": tokens["viewer"]}, timeout=20) as viewer:
        page = viewer.get(_page("<guard@x>"))
        assert page.status_code == 200
        r = viewer.post(PREFIX + "/message/label", data={**form, "csrf_token": _csrf(page.text)})
        assert r.status_code == 403 and "not allowed" in r.text
    # a risk below the intent's floor, an unknown message: refused with a message
    r = lead.post(PREFIX + "/message/label?lang=zh", data={**form, "risk": "low", "csrf_token": token})
    assert r.status_code == 422 and "该风险等级低于此意图的最低风险" in r.text
    r = lead.post(PREFIX + "/message/label?lang=en", data={**form, "id": "<nope@x>", "csrf_token": token})
    assert r.status_code == 404 and "No such message." in r.text
    assert _state(db, "<guard@x>") == (("order_status", "low", None), [])
    # the JSON twin with Airflow's Bearer token
    with httpx.Client(base_url=airflow_api, timeout=20) as api:
        r = api.post(PREFIX + "/api/message/label", json=form, headers={"Authorization": f"Bearer {tokens['lead']}"})
    assert r.status_code == 200 and r.json() == {"ok": True, "changed": True, "old_intent": "order_status",
                                                 "old_risk": "low"}
    assert _state(db, "<guard@x>")[0] == ("not_received", "high", "lead")


def test_a_heavy_rewrite_on_the_approvals_page_records_a_draft_edit(db, lead):  # noqa: F811
    now = datetime.now(UTC)
    draft = ("Hello, your order 111-0000001-0000001 was shipped on November 24 with UPS. "
             "The tracking number is 1Z999AA10123456784. It should arrive by December 1.")
    for mid in ("<heavy@x>", "<light@x>"):
        add_message(db, "us-outdoor", mid, now - timedelta(hours=3), body=PII + " My tent pole snapped.")
        _outbox(db, f"reply:us-outdoor:{mid}", body=draft)
    token = _csrf(lead.get(PREFIX + "/approvals").text)
    heavy = "We are very sorry the pole broke. A replacement pole leaves our warehouse today at no cost to you."
    light = draft.replace("Hello,", "Hi there,")
    for mid, body in (("<heavy@x>", heavy), ("<light@x>", light)):
        r = lead.post(PREFIX + "/approvals/approve", data={"csrf_token": token, "key": f"reply:us-outdoor:{mid}",
                                                           "subject": "Re: your order", "body": body})
        assert r.status_code == 303, r.text[-500:]
    msg, examples = _state(db, "<heavy@x>")
    [(source, old_i, _, new_i, _, confirmed, who, text)] = examples
    assert (source, old_i, new_i, confirmed, who) == ("draft_edit", "order_status", "order_status", False, "lead")
    assert "Maria" not in text and "[EMAIL]" in text
    assert _state(db, "<light@x>")[1] == []
    page = lead.get(_page("<heavy@x>")).text
    assert '<tr data-source="draft_edit">' in page and "draft rewritten before approval" in page
