"""Alert texts in the team's language (``StoreConfig.alert_language``: zh or en).

``render(kind, lang, ctx, markup)`` returns ``(title, body)`` with the body in one markup:
``markdown`` (WeCom and DingTalk robots), ``slack`` (mrkdwn), ``html`` (e-mail) or ``text``
(e-mail's plain part, the task log). Every alert carries the store, marketplace, order id,
intent, risk, a short redacted excerpt, the SLA due time and a link to the Airflow task run
(or the message's page in the UI when ``SELLER_INBOX_UI_URL`` is set).

The values come from buyers and marketplaces, so each markup has ONE escape function,
applied to every value when rendering: a buyer's ``<!channel>``, ``[click](https://evil)``,
``@all`` or ``<font>`` arrives as visible text, never as a mention, link or formatting. The
templates' own markup (bold labels, the project's link) is added around the escaped values.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Callable
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

INTENT_ZH = {
    "order_status": "物流查询", "not_received": "未收到货", "damaged_defective": "货物损坏/故障",
    "wrong_item": "发错货", "return_refund": "退货退款", "cancel_order": "取消订单",
    "address_change": "修改地址", "size_fit": "尺码问题", "product_question": "产品咨询",
    "invoice_request": "索要发票", "feedback_review": "评价相关", "other": "其他",
    "a_to_z_claim": "A-to-z 索赔", "account_health": "账户健康", "auto_reply": "自动回复",
}
INTENT_EN = {k: k.replace("_", " ") for k in INTENT_ZH}
RISK_ZH = {"high": "高", "medium": "中", "low": "低"}

KIND_TITLE = {
    "en": {
        "high_risk": "[HIGH RISK] {store} {marketplace}: {intent}",
        "medium_risk": "[MEDIUM RISK] {store} {marketplace}: {intent}",
        "low_risk": "[INFO] {store} {marketplace}: {intent}",
        "sla_12h": "[SLA 12h] {store} {marketplace}: buyer message unanswered for 12 hours",
        "sla_20h": "[SLA 20h] {store} {marketplace}: 4 hours left to answer",
        "sla_24h": "[SLA 24h] {store} {marketplace}: 24 hours are up — a reply now counts as late",
        "auth_revoked": "[AUTH] {store}: SP-API authorization revoked",
        "reauth_due": "[AUTH] {store}: re-authorization due soon",
        "secret_rotation": "[AUTH] {store}: LWA client secret must be rotated",
        "gate_failed": "[DATA QUALITY] {store}: a gate failed",
        "mail_quarantined": "[MAIL] {store}: mails could not be processed",
        "auth_recovered": "[AUTH] {store}: SP-API authorization works again",
        "gate_quarantined": "[DATA QUALITY] {store}: rows set aside, the rest went on",
        "gate_warning": "[DATA QUALITY] {store}: warning",
        "task_failed": "[FAILED] {store}: a task failed",
        "recovered": "[RECOVERED] {store}: a failed task works again",
        "ingest_gap": "[GAP] {store}: an interval was not read on schedule",
        "delivery_unknown": "[DELIVERY] {store}: a message's outcome is unknown — check Seller Central",
    },
    "zh": {
        "high_risk": "【高风险】{store} {marketplace}：{intent}",
        "medium_risk": "【中风险】{store} {marketplace}：{intent}",
        "low_risk": "【提示】{store} {marketplace}：{intent}",
        "sla_12h": "【SLA 提醒】{store} {marketplace}：买家消息已 12 小时未回复",
        "sla_20h": "【SLA 紧急】{store} {marketplace}：距回复截止仅剩 4 小时",
        "sla_24h": "【SLA 超时】{store} {marketplace}：24 小时回复时限已到，现在回复将计为迟复",
        "auth_revoked": "【授权】{store}：SP-API 授权已被撤销",
        "reauth_due": "【授权】{store}：即将需要重新授权",
        "secret_rotation": "【授权】{store}：LWA 客户端密钥需要轮换",
        "gate_failed": "【数据质量】{store}：数据检查未通过",
        "mail_quarantined": "【邮件】{store}：有邮件无法处理",
        "auth_recovered": "【授权】{store}：SP-API 授权已恢复",
        "gate_quarantined": "【数据质量】{store}：部分数据已隔离，其余继续处理",
        "gate_warning": "【数据质量】{store}：警告",
        "task_failed": "【故障】{store}：任务失败",
        "recovered": "【恢复】{store}：失败的任务已恢复",
        "ingest_gap": "【缺口】{store}：有时段未按计划读取",
        "delivery_unknown": "【发送】{store}：一条消息的发送结果未知，请在卖家中心核实",
    },
}
LABELS = {
    "en": {"store": "Store", "marketplace": "Marketplace", "order": "Order", "intent": "Intent", "risk": "Risk",
           "excerpt": "Excerpt", "sla": "Reply due (SLA)", "link": "Open", "why": "Why", "message": "Message",
           "received": "Received", "none": "—"},
    "zh": {"store": "店铺", "marketplace": "站点", "order": "订单号", "intent": "意图", "risk": "风险",
           "excerpt": "摘要", "sla": "回复截止 (SLA)", "link": "查看", "why": "原因", "message": "说明",
           "received": "收到时间", "none": "—"},
}

# an SLA reminder sent well after its due time says so (alerts.reminders): reminders were not running
REMINDER_LATE = {
    "en": "Sent {minutes} min after it was due: reminders were not running then{skipped}.",
    "zh": "本提醒比应发时间晚 {minutes} 分钟发出：当时提醒任务未在运行{skipped}。",
}
REMINDER_SKIPPED = {"en": "; only the latest reminder due is sent, not the ones missed before it",
                    "zh": "；只发送最新一条到期提醒，之前错过的不再补发"}
REMINDER_NO_MAIL = {
    "en": "The mailbox could not be read just now: a reply sent from Seller Central may not be counted yet.",
    "zh": "刚才无法读取邮箱：在卖家中心发出的回复可能尚未计入。",
}

_URL = re.compile(r"https?://\S+")
EXCERPT_CHARS = 140


# ---- escaping: one function per markup ------------------------------------------------------
# Markdown metacharacters become their full-width look-alikes: the WeCom and DingTalk robots'
# markdown dialects document no backslash escape, and a look-alike stays readable.
_MD_CHARS = str.maketrans({"<": "＜", ">": "＞", "[": "［", "]": "］", "*": "＊", "`": "｀", "~": "～",
                           "#": "＃", "@": "＠", "\\": "＼", "|": "｜"})
_SLACK_CHARS = str.maketrans({"[": "［", "]": "］", "*": "＊", "`": "｀", "~": "～", "#": "＃", "@": "＠",
                              "\\": "＼", "|": "｜"})
_HTML_BRACKETS = str.maketrans({"[": "&#91;", "]": "&#93;"})
# an underscore inside a word (not_received, kpi.store_daily) is text; at a word edge it is emphasis
_EDGE_UNDERSCORE = re.compile(r"(?<![^\W_])_|_(?![^\W_])")
_ENTITY = re.compile(r"&(?=#?\w+;)")  # "&lt;font&gt;" must not be decoded into a tag
_URL_SAFE = ":/?#@!$&'*+,;=%-._~"  # everything else (spaces, ( ) < > | [ ] quotes) is percent-encoded


def _one_line(text: str) -> str:
    """A value never starts a line of its own (no headings, quotes or lists from a value)."""
    return " ".join(str(text).splitlines())


def escape_markdown(text: str) -> str:
    """WeCom / DingTalk markdown: no links, emphasis, headings, ``<font>``/``<@user>`` tags,
    ``@mentions`` or entities from the value."""
    t = _ENTITY.sub("＆", _one_line(text).translate(_MD_CHARS))
    return _EDGE_UNDERSCORE.sub("＿", t)


def escape_slack(text: str) -> str:
    """Slack mrkdwn: ``&``, ``<``, ``>`` as entities (Slack's documented escaping, so no
    ``<!channel>``, ``<@U…>``, ``<#C…>`` or ``<url|label>``), emphasis and mentions neutralised."""
    t = _one_line(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _EDGE_UNDERSCORE.sub("＿", t.translate(_SLACK_CHARS))


def escape_html(text: str) -> str:
    """E-mail HTML: html-escaped; brackets as numeric entities, so the source carries no
    markdown link either (rendered, they look the same)."""
    return html.escape(str(text), quote=True).translate(_HTML_BRACKETS)


def escape_text(text: str) -> str:
    """Plain text (e-mail's text part, the log) has no markup: one line is all it needs."""
    return _one_line(text)


def safe_url(url: str | None) -> str | None:
    """The project's own link, fit for any markup: http(s) only, markup characters percent-encoded."""
    if not url:
        return None
    try:
        scheme = urlsplit(str(url)).scheme.lower()
    except ValueError:
        return None
    return quote(str(url), safe=_URL_SAFE) if scheme in ("http", "https") else None


@dataclass(frozen=True)
class Markup:
    escape: Callable[[str], str]
    bold: str
    line: str
    para: str
    link: str
    wrap: str = "{}"
    escape_url: Callable[[str], str] = str


MARKUPS = {
    "markdown": Markup(escape_markdown, "**{}**", "\n", "\n\n", "[{label}]({url})"),
    "slack": Markup(escape_slack, "*{}*", "\n", "\n\n", "<{url}|{label}>"),
    "html": Markup(escape_html, "<b>{}</b>", "<br>\n", "<br><br>\n", '<a href="{url}">{label}</a>',
                   wrap="<html><body><p>{}</p></body></html>", escape_url=escape_html),
    "text": Markup(escape_text, "{}", "\n", "\n\n", "{label}: {url}"),
}


def excerpt(text: str | None, limit: int = EXCERPT_CHARS) -> str:
    """A short excerpt of a stored message, redacted again (``seller_inbox.redaction``), links
    left out. Stored text is already the buyer's own words: the relay frame is not cut again."""
    from seller_inbox.redaction import redact

    t = redact(_URL.sub("[link]", text or ""))
    t = " ".join(t.split())
    return t if len(t) <= limit else t[: limit - 1].rstrip() + "…"


def _fmt_time(t: datetime | str | None, zone: str | None) -> str:
    if t is None:
        return ""
    if isinstance(t, str):
        t = datetime.fromisoformat(t)
    utc = t.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%d %H:%M UTC")
    if zone:
        local = t.astimezone(ZoneInfo(zone)).strftime("%m-%d %H:%M %Z")
        return f"{utc} ({local})"
    return utc


def render(kind: str, lang: str, ctx: dict, markup: str = "markdown") -> tuple[str, str]:
    """``(title, body)``: the title as plain text (DingTalk's preview, the e-mail subject, the
    log), the body in ``markup``. Every ctx value is escaped with that markup's escape
    function, so buyer or marketplace text never becomes a mention, link or formatting."""
    m = MARKUPS[markup]
    lang = lang if lang in LABELS else "en"
    L = LABELS[lang]
    intent = ctx.get("intent") or ""
    intent_txt = (f"{INTENT_ZH.get(intent, intent)} ({intent})" if lang == "zh" else INTENT_EN.get(intent, intent)) if intent else ""
    risk = ctx.get("risk") or ""
    risk_txt = f"{RISK_ZH.get(risk, risk)} ({risk})" if lang == "zh" and risk else risk
    store_txt = f"{ctx.get('store_name') or ctx.get('store_id')}"
    tpl = KIND_TITLE[lang].get(kind) or ("【提醒】{store}：{kind}" if lang == "zh" else "[ALERT] {store}: {kind}")

    def title_in(esc: Callable[[str], str]) -> str:
        return " ".join(tpl.format(store=esc(store_txt), marketplace=esc(ctx.get("marketplace") or ""),
                                   intent=esc(intent_txt or kind), kind=esc(kind)).split())

    rows: list[tuple[str, str]] = [(L["store"], f"{store_txt} ({ctx.get('store_id')})")]
    if ctx.get("marketplace"):
        rows.append((L["marketplace"], ctx["marketplace"]))
    if ctx.get("message_id") or intent:
        rows.append((L["order"], ctx.get("order_id") or L["none"]))
    if intent:
        rows.append((L["intent"], intent_txt))
    if risk:
        rows.append((L["risk"], risk_txt))
    if ctx.get("received_at"):
        rows.append((L["received"], _fmt_time(ctx["received_at"], ctx.get("time_zone"))))
    if ctx.get("sla_due_at"):
        rows.append((L["sla"], _fmt_time(ctx["sla_due_at"], ctx.get("time_zone"))))
    if ctx.get("reasons"):
        rows.append((L["why"], ", ".join(ctx["reasons"][:4])))
    if ctx.get("excerpt"):
        rows.append((L["excerpt"], ctx["excerpt"]))
    if ctx.get("message"):
        rows.append((L["message"], str(ctx["message"])[:400]))
    body = m.bold.format(title_in(m.escape)) + m.para + m.line.join(
        f"{m.bold.format(k)}: {m.escape(str(v))}" for k, v in rows)
    link = safe_url(ctx.get("link"))
    if link:
        body += m.para + m.link.format(url=m.escape_url(link), label=L["link"])
    return title_in(escape_text), m.wrap.format(body)


def render_all(kind: str, lang: str, ctx: dict) -> dict:
    """The alert in every markup (stored in ``ops.alert_log.payload``, so a retry sends the same
    text): ``title`` plus one body per markup name."""
    out = {}
    for markup in MARKUPS:
        out["title"], out[markup] = render(kind, lang, ctx, markup)
    return out


def body_for(payload: dict, channel_type: str) -> str:
    """The body a channel type sends (in the markup its ``Channel`` class declares)."""
    from seller_inbox.alerts.channel_registry import channel_class

    try:
        markup = channel_class(channel_type).markup
    except KeyError:
        markup = "text"
    return in_markup(payload, markup)


def in_markup(payload: dict, markup: str) -> str:
    """The payload's body in ``markup``. A payload rendered before a markup existed (or by
    another component) has only ``text``: it is escaped as a whole, losing the formatting, not
    the safety."""
    if payload.get(markup):
        return payload[markup]
    m = MARKUPS[markup]
    return m.wrap.format(m.line.join(m.escape(line) for line in str(payload.get("text") or "").splitlines()))
