"""Every shipped template rendered with every sample context and linted (no findings), the
today-aware wording, the documented variables, and both CLI commands (subprocess)."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from seller_inbox import templating
from seller_inbox.compliance import lint

ROOT = Path(__file__).resolve().parents[2]
TODAY = templating.SAMPLE_TODAY
SHIPPED = {"id": "111-0000001-0000001", "status": "Shipped", "ship_date": TODAY - timedelta(days=2),
           "carrier": "UPS", "tracking_number": "1Z999AA10123456784"}


def test_every_template_exists_in_every_locale():
    for name in templating.CATALOG:
        assert set(templating.LOCALES) <= set(templating.locales_for(name)), name


@pytest.mark.parametrize("locale", templating.LOCALES)
@pytest.mark.parametrize("name", list(templating.CATALOG))
def test_shipped_templates_render_and_lint_clean(name, locale):
    spec = templating.CATALOG[name]
    for label, ctx in templating.sample_contexts(name, locale):
        subject, body = templating.render(name, locale, ctx)
        assert subject and body, (name, locale, label)
        findings = lint(subject, body, locale=locale, kind=spec.kind, order_id=ctx["order"].get("id"))
        assert findings == [], (name, locale, label, [str(f) for f in findings], body)
        if ctx["order"].get("id") and name not in ("product_question", "generic_reply"):
            assert ctx["order"]["id"] in body


@pytest.mark.parametrize("locale", templating.LOCALES)
def test_order_status_states_tracking_and_never_a_past_date_as_future(locale):
    fmt = lambda d: templating.format_date(d, locale)  # noqa: E731
    ahead = {**SHIPPED, "delivery_start": TODAY + timedelta(days=1), "delivery_end": TODAY + timedelta(days=3)}
    _, body = templating.render("order_status", locale, {"store": {"name": "S"}, "order": ahead, "today": TODAY})
    assert "1Z999AA10123456784" in body and "UPS" in body and fmt(SHIPPED["ship_date"]) in body
    assert fmt(ahead["delivery_end"]) in body
    past = {**SHIPPED, "delivery_start": TODAY - timedelta(days=5), "delivery_end": TODAY - timedelta(days=2)}
    _, late = templating.render("order_status", locale, {"store": {"name": "S"}, "order": past, "today": TODAY})
    # the same window, one day later than it ends, is worded as past: the future sentence is gone
    future = {"en": "it should arrive", "de": "sie sollte", "fr": "elle devrait arriver", "it": "dovrebbe arrivare",
              "es": "debería llegar", "ja": "お届けの予定です"}[locale]
    assert future in body.lower() and future not in late.lower() and fmt(past["delivery_end"]) in late
    assert lint("", late, locale=locale) == []


def test_the_legacy_act_context_still_renders():
    """act.py passes ISO strings and a "start – end" window; templates get dates."""
    ctx = {"store": {"id": "us", "name": "Outdoor Gear Co."}, "message": {"subject_topic": None, "intent": "order_status"},
           "order": {"id": "111-0000001-0000001", "status": "Shipped", "ship_by": "2026-11-18", "ship_date": None,
                     "delivery_window": "2026-11-21 – 2026-11-23"}, "today": "2026-11-20"}
    _, body = templating.render("order_status", "en", ctx)
    assert "between November 21, 2026 and November 23, 2026" in body
    subject, body = templating.render("generic_reply", "de", {"store": {"name": "S"}, "order": {"id": None},
                                                                "message": {"subject_topic": "Frage"}})
    assert "[ANSWER]" in body and subject == "Re: Frage"
    assert {f.code for f in lint(subject, body, locale="de")} == {"unfilled_placeholder"}


def test_a_typo_in_a_template_fails_loudly_with_one_line():
    with pytest.raises(templating.TemplateError, match=r"^x\.j2: UndefinedError: .*trackin_number"):
        templating.render_source("{% block subject %}s{% endblock %}{% block body %}{{ order.trackin_number }}{% endblock %}",
                                 "en", {}, "x.j2")
    with pytest.raises(templating.TemplateError, match="needs the block"):
        templating.render_source("hello", "en", {}, "x.j2")
    with pytest.raises(templating.TemplateError, match=r"order.ship_date is not a date"):
        templating.render("order_status", "en", {"order": {"ship_date": "soon"}})


def test_the_sandbox_refuses_unsafe_access():
    from jinja2.exceptions import SecurityError

    src = "{% block subject %}s{% endblock %}{% block body %}{{ store.__class__.__mro__ }}{% endblock %}"
    with pytest.raises((templating.TemplateError, SecurityError)):
        templating.render_source(src, "en", {}, "evil.j2")


def test_the_documented_variables_are_the_ones_in_the_table():
    doc = (ROOT / "docs" / "templates.md").read_text(encoding="utf-8")
    for ns, fields in templating.VARIABLES.items():
        for field in fields:
            assert f"`{ns}.{field}`" in doc if field else f"`{ns}`" in doc, (ns, field)
    for name in templating.CATALOG:
        assert f"`{name}`" in doc


def _cli(*args, stdin: str | None = None):
    return subprocess.run([sys.executable, "-m", "seller_inbox.cli", *args], input=stdin, capture_output=True,
                          text=True, cwd=ROOT, timeout=120)


def test_cli_lint_message(tmp_path):
    r = _cli("lint-message", "--locale", "de-DE", "--type", "reply", "-", stdin="Könnten Sie Ihre negative Bewertung bitte löschen?")
    assert r.returncode == 1 and r.stdout.startswith("review_change: ") and r.stdout.rstrip().endswith("(Bewertung bitte löschen)")
    f = tmp_path / "m.txt"
    f.write_text("Use code SAVE20 and visit outdoor-gear.com 😀", encoding="utf-8")
    r = _cli("lint-message", "--locale", "en-US", "--type", "proactive", "--order-id", "111-0000001-0000001", str(f))
    assert r.returncode == 1
    assert [line.split(":", 1)[0] for line in r.stdout.splitlines()] == ["marketing", "external_link", "emoji", "missing_order_id"]
    r = _cli("lint-message", "--locale", "ja-JP", "--type", "review_request", "-", stdin="ご注文ありがとうございます。")
    assert (r.returncode, r.stdout) == (0, "ok\n")
    for bad, msg in ((["--locale", "xx-XX", "-"], "error: --locale: unknown locale 'xx-XX'"),
                     (["--locale", "de", str(tmp_path / "missing.txt")], "error: cannot read")):
        r = _cli("lint-message", *bad, stdin="")
        assert r.returncode == 2 and r.stderr.startswith(msg) and len(r.stderr.splitlines()) == 1 and "Traceback" not in r.stderr


def test_cli_lint_template_and_preview(tmp_path):
    r = _cli("lint-template", "include/seller_inbox/templates")
    assert r.returncode == 0, r.stdout + r.stderr
    assert len(r.stdout.splitlines()) == len(list((ROOT / "include/seller_inbox/templates").rglob("*.j2")))
    bad = tmp_path / "de" / "promo.j2"
    bad.parent.mkdir()
    bad.write_text("{% block subject %}Angebot{% endblock %}{% block body %}Jetzt kaufen: {{ order.id }} {{ order.nope }}"
                   "{% endblock %}", encoding="utf-8")
    r = _cli("lint-template", str(bad))
    assert r.returncode == 1 and "UndefinedError" in r.stdout and "Traceback" not in r.stdout + r.stderr
    bad.write_text("{% block subject %}Angebot{% endblock %}{% block body %}Jetzt kaufen! Bestellung {{ order.id }}"
                   "{% endblock %}", encoding="utf-8")
    r = _cli("lint-template", str(bad))
    assert r.returncode == 1 and "marketing: " in r.stdout and "(Jetzt kaufen)" in r.stdout
    r = _cli("lint-template", "--preview", "order_status", "--locale", "ja")
    assert r.returncode == 0 and r.stdout.startswith("Subject: Re: ご注文 ") and "追跡番号" in r.stdout
    r = _cli("lint-template", "--preview", "nope", "--locale", "ja")
    assert r.returncode == 2 and r.stderr.startswith("error: unknown template 'nope'")
