"""Escaping of alert values per channel markup (templates.MARKUPS), fuzzed with Hypothesis:
whatever a buyer or a marketplace writes, the escaped text carries no live Slack control
sequence (<!channel>, <@U…>, <#C…>, <url|label>), no markdown link, emphasis, heading, tag
or @mention, and the template's own markup (bold, the project's link) still works."""

from __future__ import annotations

import html
import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from seller_inbox.alerts.templates import (
    LABELS, MARKUPS, body_for, escape_html, escape_markdown, escape_slack, render, render_all, safe_url,
)

HOSTILE = ('<!channel> <!here> <@U123> <#C1> [click](https://evil) ![i](https://evil/i.png) *bold* _it_ ~s~ '
           '`code` @all <font color="warning">x</font> &lt;b&gt; # H\n> quote\n- item <https://evil|label> \\*x\\*')
# characters that are markup somewhere: the generator leans on them so the fuzzing finds what matters
MARKUP_CHARS = "<>[]()*_~`#@!|&;\\:/\n\r\u2028\x85 aZ09é漢"
PIECES = ["<!channel>", "<!here>", "<@U1>", "<#C1>", "[x](http://e)", "**", "_", "@all", "&lt;", "&#60;", "<font>",
          "\n#", "\\", "é", " ", "a", "http://x"]
texts = st.one_of(st.text(), st.text(alphabet=MARKUP_CHARS), st.lists(st.sampled_from(PIECES)).map("".join))
ESCAPERS = {"markdown": escape_markdown, "slack": escape_slack, "html": escape_html}
SLACK_CONTROL = re.compile(r"<[!@#]")
MD_LINK = re.compile(r"\[[^\]]*\]\(")
WORD_EDGE_UNDERSCORE = re.compile(r"(?<![^\W_])_|_(?![^\W_])")


def no_live_markup(markup: str, out: str) -> list[str]:
    """What in an escaped value is still markup for that channel (empty: inert)."""
    bad = []
    if SLACK_CONTROL.search(out) or "<" in out or ">" in out:
        bad.append("tag or Slack control sequence")
    if MD_LINK.search(out) or "[" in out or "]" in out:
        bad.append("markdown link")
    if markup in ("markdown", "slack"):  # a value never starts a line (heading, quote, list)
        if len(out.splitlines()) > 1:
            bad.append("line break")
        bad += [f"markup character {c!r}" for c in "*`~#@\\|" if c in out]
        if WORD_EDGE_UNDERSCORE.search(out):
            bad.append("emphasis underscore")
    if markup == "markdown" and re.search(r"&#?\w+;", out):
        bad.append("entity")
    if markup == "slack" and re.search(r"&(?!amp;|lt;|gt;)", out):
        bad.append("bare ampersand")
    return bad


@settings(max_examples=300)
@given(text=texts)
@example(text=HOSTILE)
@example(text="a\u2028# heading")  # a Unicode line separator starts a new line for some renderers
@example(text="_x_ not_received __init__")
def test_escaped_values_carry_no_live_markup(text):
    for markup, esc in ESCAPERS.items():
        out = esc(text)
        assert no_live_markup(markup, out) == [], (markup, text, out)
        assert esc(text) == out  # deterministic


@given(text=texts)
@example(text=HOSTILE)
def test_escaping_keeps_the_buyers_words_visible(text):
    one_line = " ".join(text.splitlines())
    assert len(escape_markdown(text)) == len(one_line)  # one look-alike per character, nothing dropped
    assert html.unescape(escape_html(text)) == text
    slack = escape_slack(text).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    assert len(slack) == len(one_line)


def test_intra_word_underscores_and_plain_words_are_left_alone():
    assert escape_markdown("not_received kpi.store_daily") == "not_received kpi.store_daily"
    assert escape_slack("Home & Kitchen") == "Home &amp; Kitchen"
    assert escape_markdown("Home & Kitchen") == "Home & Kitchen"
    assert escape_markdown("<@wxid_boss> @all") == "＜＠wxid_boss＞ ＠all"
    assert escape_slack("<!channel> <@U123>") == "&lt;!channel&gt; &lt;＠U123&gt;"


CTX_KEYS = ("store_name", "store_id", "marketplace", "order_id", "intent", "risk", "excerpt", "message")


@settings(max_examples=120)
@given(values=st.fixed_dictionaries({k: texts for k in CTX_KEYS}), kind=st.sampled_from(
    ["high_risk", "sla_20h", "mail_quarantined", "gate_failed", "new_{kind}"]), lang=st.sampled_from(["en", "zh", "xx"]))
@example(values={k: HOSTILE for k in CTX_KEYS}, kind="high_risk", lang="en")
def test_rendered_alerts_keep_only_the_templates_markup(values, kind, lang):
    link = "http://airflow.local/dags/d/runs/r?x=1&y=(2)"
    ctx = {**values, "reasons": [values["excerpt"]], "link": link}
    out = render_all(kind, lang, ctx)
    assert "\n" not in out["title"] and "\r" not in out["title"]
    url = safe_url(link)
    label = LABELS.get(lang, LABELS["en"])["link"]
    own_link = {"markdown": f"[{label}]({url})", "slack": f"<{url}|{label}>",
                "html": f'<a href="{html.escape(url)}">{label}</a>'}
    for markup, own in own_link.items():
        body = out[markup]
        assert body.count(own) == 1, (markup, body)
        rest = body.replace(own, "")
        assert not SLACK_CONTROL.search(rest) and "](" not in rest, (markup, body)
        if markup == "markdown":
            assert "<" not in rest and "@" not in rest and "`" not in rest
        if markup == "slack":
            assert "<" not in rest and ">" not in rest
        if markup == "html":
            assert set(re.findall(r"</?\s*([A-Za-z]+)", rest)) <= {"html", "body", "p", "b", "br", "a"}


def test_the_templates_own_markup_still_works():
    ctx = {"store_id": "eu", "store_name": "Home & Kitchen EU", "intent": "not_received", "risk": "high",
           "message_id": "<m@x>", "excerpt": HOSTILE, "link": "http://airflow/x"}
    md = render("high_risk", "en", ctx)[1]
    assert md.startswith("**[HIGH RISK] Home & Kitchen EU : not received**\n\n**Store**: Home & Kitchen EU (eu)")
    assert "**Excerpt**: ＜!channel＞" in md and md.endswith("[Open](http://airflow/x)")
    slack = render("high_risk", "en", ctx, "slack")[1]
    assert slack.startswith("*[HIGH RISK] Home &amp; Kitchen EU") and slack.endswith("<http://airflow/x|Open>")
    page = render("high_risk", "en", ctx, "html")[1]
    assert "<b>Excerpt</b>: &lt;!channel&gt;" in page and page.count("<a href=") == 1


@given(url=st.one_of(st.text(), st.text(alphabet="htps:/()<>|[] \"'\n&?=#@x.").map(lambda t: "https://" + t)))
@example(url="javascript:alert(1)")
@example(url="http://[::1")  # urlsplit raises on this
def test_safe_url_is_http_only_and_fits_every_markup(url):
    out = safe_url(url)
    if out is not None:
        assert out.lower().startswith(("http://", "https://"))
        assert not set(out) & set("()<>|[] \"\n\r\\`")


def test_a_payload_rendered_before_the_markups_is_escaped_as_a_whole():
    legacy = {"title": "t", "markdown": "**t**", "text": "t\n\nExcerpt: <!channel> [x](http://e) @all"}
    assert "<!channel>" not in body_for(legacy, "slack") and "&lt;!channel&gt;" in body_for(legacy, "slack")
    assert "[x](" not in body_for(legacy, "dingtalk") and "@all" not in body_for(legacy, "wecom")
    assert "<!channel>" not in body_for(legacy, "email")
    assert body_for(legacy, "log") == legacy["text"]
    from seller_inbox.alerts.channel_registry import TYPES, channel_class

    assert {channel_class(t).markup for t in TYPES} == set(MARKUPS)
