"""Every KPI declared once: its column, SQL, unit, definition (English and Chinese) and source.

The KPI tables' columns and their ``COMMENT ON`` (migrations), the SQL that fills them
(``kpi``), the gate's checks (``gate_suites``), the KPI section of docs/data-dictionary.md, the
run command's summary and the UI's KPI page are all derived from ``METRICS``. Adding a metric
is one ``Metric(...)`` here plus a migration (``python -m seller_inbox.metrics migration NAME``
prints it); ``python -m seller_inbox.metrics docs`` rewrites the dictionary's KPI section.
tests/integration/test_kpi_metrics.py fails when a consumer misses a declared metric.

An aggregate metric is a SQL aggregate over the rows of one *source* (below), grouped by the
table's day or window; a derived one (``derived=True``) is an expression over other metrics of
its row. ``rollup`` sums a metric over several rows (days, marketplaces): the summary, the
7/30/90-day windows and the views use it; ``None`` means it does not add up (a median).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

# Amazon's Order Defect Rate window: 60 days of orders (Seller Central help, "Order Defect
# Rate"). Seller Central's short-term ODR window reportedly ends about 14 days before today so
# that late claims can land: UNCONFIRMED by Amazon; the window of Amazon's own report
# (raw.seller_performance.window_start/window_end, from the report's reportingDateRange) is the
# authority, kpi.reconciliation compares like with like.
ODR_WINDOW_DAYS = 60
ODR_LAG_DAYS = 14
ODR_TARGET = 0.01  # Amazon's target: under 1 % (Seller Central help)
# First-contact resolution: a thread answered by one seller reply and no buyer follow-up within this
FCR_FOLLOW_UP = timedelta(days=7)
# kpi.reconciliation flags a window our data covers when our ODR or A-to-z claim rate differs from
# Amazon's by more than this (a quarter of the 1 % target; Amazon's chargebacks, which our ODR cannot
# see, are allowed for apart; denied claims, which we still count, are not)
RECONCILE_TOLERANCE = 0.0025
RESPONSE_WINDOWS_DAYS = (7, 30, 90)  # the windows Seller Central shows response metrics over

TABLES = {
    "store_daily": "one row per store, marketplace and marketplace-local day",
    "order_defect_rate": (f"one row per store, marketplace, fulfilment channel (AFN/MFN) and window end: "
                          f"{ODR_WINDOW_DAYS} local days of orders ending {ODR_LAG_DAYS} days before the day it was computed for"),
}

# Row sources an aggregate metric reads (the CTEs kpi.py builds, one row per ...):
SOURCES = {
    "messages": "buyer message received that local day (core.message, kind buyer_message)",
    "notices": "Amazon A-to-z notice received that local day (core.message, kind amazon_notice)",
    "threads": "conversation whose first buyer message needing a response arrived that local day",
    "orders": "order purchased that local day (kpi.order_defects over raw.orders)",
    "window_orders": "order purchased in the ODR window and not cancelled (kpi.order_defects over raw.orders)",
}


@dataclass(frozen=True)
class Metric:
    name: str
    table: str            # a key of TABLES
    sql: str              # aggregate over `source` rows, or an expression over other metrics (derived)
    type: str             # the column's SQL type
    unit: str             # count, rate, minutes
    en: str               # definition, English
    zh: str               # definition, Chinese (the UI shows it)
    label_en: str         # short label (UI, summary)
    label_zh: str
    source: str           # where the figure comes from and whose definition it follows
    from_: str = ""       # a key of SOURCES (aggregates)
    derived: bool = False
    rollup: str | None = "sum({c})"  # over several rows of the table; {c} is the column
    at_most: str | None = None       # gate: never above this other metric of the row
    summary: bool = False            # in the run command's summary
    ui: bool = True

    @property
    def nullable(self) -> bool:
        return self.unit != "count"

    @property
    def column_ddl(self) -> str:
        return f"{self.name} {self.type}" + ("" if self.nullable else " NOT NULL DEFAULT 0")

    @property
    def comment(self) -> str:
        return f"{self.en} Unit: {self.unit}. Source: {self.source}"

    def label(self, lang: str) -> str:
        return self.label_zh if lang == "zh" else self.label_en

    def definition(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def rollup_sql(self, prefix: str = "") -> str | None:
        return self.rollup.format(c=prefix + self.name, p=prefix) if self.rollup else None


_AMZ_RESPONSE = "Amazon's Contact Response Time (Seller Central help): 24-hour clock, weekends included"
_AMZ_ODR = f"Amazon's Order Defect Rate (Seller Central help): defects dated by the order, target under {ODR_TARGET:.0%}"
_NEEDING = "buyer messages needing a response (not marked \"no response needed\", not auto-replies)"


def _ratio(num: str, den: str, digits: int) -> str:
    return f"round(sum({{p}}{num})::numeric / nullif(sum({den}), 0), {digits})"


METRICS: tuple[Metric, ...] = (
    # ---------------------------------------------------------------- store_daily: messages
    Metric("buyer_messages", "store_daily", "count(*)", "integer", "count",
           "Buyer messages received that local day.", "当天收到的买家消息数。", "msgs", "消息",
           "core.message (mail relayed by Amazon)", "messages", summary=True),
    Metric("needing_response", "store_daily", "count(*) FILTER (WHERE needing)", "integer", "count",
           f"Of those, {_NEEDING}.", "其中需要回复的（不含“无需回复”与自动回复）。", "needing reply", "需回复",
           _AMZ_RESPONSE, "messages", at_most="buyer_messages"),
    Metric("responded", "store_daily", "count(*) FILTER (WHERE needing AND first_reply_at IS NOT NULL)", "integer",
           "count", "Messages needing a response that got a seller reply (any channel: this desk, a copy of a "
           "Seller Central reply in the mailbox; auto-replies never count).",
           "已得到卖家回复的（任何渠道；自动回复不算）。", "replied", "已回复", _AMZ_RESPONSE, "messages",
           at_most="needing_response", summary=True),
    Metric("responded_within_24h", "store_daily",
           "count(*) FILTER (WHERE needing AND first_reply_at <= received_at + %(response_window)s)", "integer",
           "count", "Answered within 24 hours of receipt (a reply exactly 24 h later is on time).",
           "24 小时内回复的（恰好 24 小时算按时）。", "within 24 h", "24 小时内", _AMZ_RESPONSE, "messages",
           at_most="responded"),
    Metric("late_responses", "store_daily",
           "count(*) FILTER (WHERE needing AND (first_reply_at > received_at + %(response_window)s OR "
           "(first_reply_at IS NULL AND %(now)s > received_at + %(response_window)s)))", "integer", "count",
           "Answered more than 24 h after receipt, or unanswered for more than 24 h.",
           "超过 24 小时才回复或超过 24 小时仍未回复的。", "late", "超时", _AMZ_RESPONSE, "messages",
           at_most="needing_response", summary=True),
    Metric("pending_within_sla", "store_daily",
           "count(*) FILTER (WHERE needing AND first_reply_at IS NULL AND %(now)s <= received_at + %(response_window)s)",
           "integer", "count", "Unanswered but still inside the 24 h (neither on time nor late yet).",
           "未回复但仍在 24 小时内（尚不算超时）。", "pending", "待回复", _AMZ_RESPONSE, "messages",
           at_most="needing_response", ui=False),
    Metric("avg_response_minutes", "store_daily",
           "round(avg(extract(epoch FROM first_reply_at - received_at) / 60) "
           "FILTER (WHERE needing AND first_reply_at IS NOT NULL)::numeric, 1)", "numeric(10,1)", "minutes",
           "Average time from receipt to the first seller reply, over answered messages.",
           "从收到到首次回复的平均时间（已回复消息）。", "avg min", "平均分钟", _AMZ_RESPONSE, "messages",
           rollup="round(sum({c} * {p}responded) / nullif(sum({p}responded) FILTER (WHERE {c} IS NOT NULL), 0), 1)",
           summary=True),
    Metric("median_response_minutes", "store_daily",
           "round((percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM first_reply_at - received_at) / 60) "
           "FILTER (WHERE needing AND first_reply_at IS NOT NULL))::numeric, 1)", "numeric(10,1)", "minutes",
           "Median time from receipt to the first seller reply (does not add up over days).",
           "首次回复时间中位数（不可跨天相加）。", "median response min", "响应中位数（分钟）", _AMZ_RESPONSE, "messages",
           rollup=None, ui=False),
    Metric("late_response_rate", "store_daily",
           "round(late_responses::numeric / nullif(needing_response - pending_within_sla, 0), 4)", "numeric(6,4)",
           "rate", "late_responses / (needing_response - pending_within_sla): Amazon's Late Response Rate "
           "(target under 10 %).", "超时回复率 = 超时 /（需回复 − 待回复）；亚马逊要求低于 10%。", "late rate", "超时率",
           _AMZ_RESPONSE, derived=True,
           rollup="round(sum({p}late_responses)::numeric / nullif(sum({p}needing_response - {p}pending_within_sla), 0), 4)",
           summary=True),
    Metric("high_risk_messages", "store_daily", "count(*) FILTER (WHERE risk = 'high')", "integer", "count",
           "Buyer messages classified high risk (A-to-z, account health, not received, threats, safety).",
           "高风险消息（A-to-z、账户健康、未收到货、威胁、安全）。", "high risk", "高风险",
           "this desk's classifier (docs/taxonomy.md)", "messages", at_most="buyer_messages"),
    Metric("wismo_messages", "store_daily", "count(*) FILTER (WHERE intent IN ('order_status', 'not_received'))",
           "integer", "count", "\"Where is my order\" messages: intents order_status and not_received.",
           "“我的订单在哪”类消息（order_status、not_received）。", "WISMO", "查件", "this desk's classifier",
           "messages", at_most="buyer_messages", ui=False),
    Metric("wismo_share", "store_daily", "round(wismo_messages::numeric / nullif(buyer_messages, 0), 4)",
           "numeric(6,4)", "rate", "wismo_messages / buyer_messages.", "查件消息占比。", "WISMO", "查件占比",
           "this desk's classifier", derived=True, rollup=_ratio("wismo_messages", "{p}buyer_messages", 4),
           summary=True),
    # ---------------------------------------------------------------- store_daily: first contact
    Metric("fcr_threads", "store_daily", "count(*) FILTER (WHERE settled)", "integer", "count",
           f"Conversations first contacted that day whose first-contact outcome is known: answered, and either "
           f"{FCR_FOLLOW_UP.days} days passed since the reply or the buyer wrote again / the seller replied again.",
           f"当天首次联系、结果已知的会话（已回复，且已过 {FCR_FOLLOW_UP.days} 天或已有追问/再次回复）。",
           "FCR threads", "首次解决判定会话", "core.message threads (this desk's definition)", "threads", ui=False),
    Metric("first_contact_resolved", "store_daily", "count(*) FILTER (WHERE resolved)", "integer", "count",
           f"Of those, closed by one seller reply: no buyer follow-up and no second seller reply within "
           f"{FCR_FOLLOW_UP.days} days of the first reply.",
           f"其中一次回复即解决：首次回复后 {FCR_FOLLOW_UP.days} 天内买家无追问、卖家无第二次回复。",
           "resolved first contact", "一次解决", "core.message threads (this desk's definition)", "threads",
           at_most="fcr_threads", ui=False),
    Metric("first_contact_resolution_rate", "store_daily",
           "round(first_contact_resolved::numeric / nullif(fcr_threads, 0), 4)", "numeric(6,4)", "rate",
           "first_contact_resolved / fcr_threads.", "一次解决率 = 一次解决 / 判定会话。", "FCR", "一次解决",
           "core.message threads (this desk's definition)", derived=True,
           rollup=_ratio("first_contact_resolved", "{p}fcr_threads", 4), summary=True),
    # ---------------------------------------------------------------- store_daily: orders, by order date
    Metric("orders", "store_daily", "count(*)", "integer", "count",
           "Orders purchased that local day (Orders API).", "当天下单的订单数（订单 API）。", "orders", "订单",
           "raw.orders (SP-API Orders)", "orders", summary=True),
    Metric("a_to_z_claims", "store_daily", "count(*) FILTER (WHERE a_to_z_claim_at IS NOT NULL)", "integer", "count",
           "Orders purchased that day with an A-to-z Guarantee claim notice, whenever it arrived (dated by the "
           "order, as Amazon dates defects; a claim 40 days later changes the order's day).",
           "当天下单且收到 A-to-z 索赔通知的订单（按下单日计，无论通知何时到达）。", "A-to-z", "A-to-z",
           "Amazon's A-to-z notices in the mailbox (core.message), joined on the order id", "orders",
           at_most="orders", summary=True),
    Metric("a_to_z_claim_rate", "store_daily", "round(a_to_z_claims::numeric / nullif(orders, 0), 5)",
           "numeric(8,5)", "rate", "a_to_z_claims / orders of that day.", "A-to-z 索赔率 = 索赔订单 / 订单。",
           "A-to-z rate", "索赔率", _AMZ_ODR, derived=True, rollup=_ratio("a_to_z_claims", "{p}orders", 5),
           summary=True),
    Metric("negative_feedback_orders", "store_daily", "count(*) FILTER (WHERE negative_feedback_on IS NOT NULL)",
           "integer", "count",
           "Orders purchased that day with negative seller feedback (1-2 stars, raw.seller_feedback.negative).",
           "当天下单且收到差评（1-2 星）的订单。", "neg. fb", "差评",
           "raw.seller_feedback (Amazon's feedback report)", "orders", at_most="orders"),
    Metric("a_to_z_notices", "store_daily",
           "count(DISTINCT coalesce(order_id, message_id))", "integer", "count",
           "A-to-z notices received that day, by notice date (distinct orders; a notice naming no order counts "
           "alone): what arrived, whereas a_to_z_claims dates claims by the order.", "当天收到的 A-to-z 通知（按通知日期）。", "A-to-z notices", "A-to-z 通知",
           "Amazon's A-to-z notices in the mailbox (core.message)", "notices", ui=False),
    # ---------------------------------------------------------------- order_defect_rate
    Metric("orders", "order_defect_rate", "count(*)", "integer", "count",
           "Orders purchased in the window in this fulfilment channel, cancelled ones left out (a cancelled order "
           "has no defect; Amazon's report leaves them out too, we assume).", "窗口内该配送渠道的订单数（不含已取消订单）。",
           "orders", "订单", "raw.orders (SP-API Orders)", "window_orders"),
    Metric("a_to_z_claims", "order_defect_rate", "count(*) FILTER (WHERE a_to_z_claim_at IS NOT NULL)", "integer",
           "count", "Of those, orders with an A-to-z claim notice (a denied claim still counts: notices do not "
           "say the decision).", "其中有 A-to-z 索赔通知的订单（通知不含裁决结果，被驳回的也计入）。", "A-to-z", "A-to-z",
           "Amazon's A-to-z notices in the mailbox (core.message)", "window_orders", at_most="orders"),
    Metric("negative_feedback", "order_defect_rate", "count(*) FILTER (WHERE negative_feedback_on IS NOT NULL)",
           "integer", "count", "Of those, orders with 1-2 star seller feedback (raw.seller_feedback.negative).",
           "其中收到差评的订单。", "neg. feedback", "差评", "raw.seller_feedback (Amazon's feedback report)",
           "window_orders", at_most="orders"),
    Metric("defective_orders", "order_defect_rate",
           "count(*) FILTER (WHERE a_to_z_claim_at IS NOT NULL OR negative_feedback_on IS NOT NULL)", "integer",
           "count", "Orders with at least one defect we can see per order (A-to-z claim or negative feedback; "
           "chargebacks come only as counts in Amazon's report, so they are not in our figure).",
           "至少有一项缺陷的订单（A-to-z 或差评；拒付仅在亚马逊报告中有总数，不计入）。", "defective", "缺陷订单",
           _AMZ_ODR, "window_orders", at_most="orders"),
    Metric("order_defect_rate", "order_defect_rate", "round(defective_orders::numeric / nullif(orders, 0), 5)",
           "numeric(8,5)", "rate", f"defective_orders / orders: Order Defect Rate (target under {ODR_TARGET:.0%}).",
           f"订单缺陷率 = 缺陷订单 / 订单（要求低于 {ODR_TARGET:.0%}）。", "ODR", "订单缺陷率", _AMZ_ODR, derived=True,
           rollup=_ratio("defective_orders", "{p}orders", 5)),
    Metric("a_to_z_claim_rate", "order_defect_rate", "round(a_to_z_claims::numeric / nullif(orders, 0), 5)",
           "numeric(8,5)", "rate", "a_to_z_claims / orders over the window.", "窗口内 A-to-z 索赔率。",
           "A-to-z rate", "A-to-z 索赔率", _AMZ_ODR, derived=True, rollup=_ratio("a_to_z_claims", "{p}orders", 5)),
)


def of(table: str) -> list[Metric]:
    """The metrics of one KPI table, in column order."""
    return [m for m in METRICS if m.table == table]


def get(table: str, name: str) -> Metric:
    return next(m for m in METRICS if m.table == table and m.name == name)


def columns(table: str, prefix: str = "") -> str:
    return ", ".join(prefix + m.name for m in of(table))


# ------------------------------------------------------------------ derived SQL
def aggregates(table: str, source: str) -> str:
    """``<sql> AS <name>, …`` of the table's aggregate metrics over one source's rows."""
    return ",\n        ".join(f"{m.sql} AS {m.name}" for m in of(table) if m.from_ == source)


def coalesced(table: str) -> str:
    """The table's aggregate metrics as stored: counts 0 when a day has no rows, others NULL."""
    return ", ".join(m.name if m.nullable else f"coalesce({m.name}, 0) AS {m.name}"
                     for m in of(table) if not m.derived)


def final_select(table: str) -> str:
    """The table's metric values, in column order, from a row of ``coalesced`` values."""
    return ",\n    ".join(m.sql if m.derived else m.name for m in of(table))


def named_final(table: str) -> str:
    """``final_select`` with each value named after its metric."""
    return ", ".join(f"{m.sql if m.derived else m.name} AS {m.name}" for m in of(table))


def upsert_tail(table: str, key: str) -> str:
    """ON CONFLICT … rewriting a row only when a metric changed (reruns leave rows byte-identical)."""
    names = [m.name for m in of(table)]
    sets = ", ".join(f"{n} = EXCLUDED.{n}" for n in names)
    return (f"ON CONFLICT ({key}) DO UPDATE SET {sets}, computed_at = now()\n"
            f"WHERE ({', '.join('k.' + n for n in names)}) IS DISTINCT FROM "
            f"({', '.join('EXCLUDED.' + n for n in names)})")


def rollups(table: str, prefix: str = "", only: str | None = None) -> str:
    """``<rollup> AS <name>, …`` for every metric of the table that adds up (``only``: a flag)."""
    return ",\n       ".join(f"{m.rollup_sql(prefix)} AS {m.name}" for m in of(table)
                             if m.rollup and (only is None or getattr(m, only)))


def gate_expectations(table: str) -> list[dict]:
    """The gate's checks of a KPI table: counts and minutes ≥ 0, rates in [0, 1], each ``at_most``
    pair (NOT NULL is the table's own constraint)."""
    out: list[dict] = []
    for m in of(table):
        if m.unit == "rate":
            out.append({"type": "ExpectColumnValuesToBeBetween", "kwargs": {"column": m.name, "min_value": 0, "max_value": 1}})
        else:
            out.append({"type": "ExpectColumnValuesToBeBetween", "kwargs": {"column": m.name, "min_value": 0}})
        if m.at_most:
            out.append({"type": "ExpectColumnPairValuesAToBeGreaterThanB",
                        "kwargs": {"column_A": m.at_most, "column_B": m.name, "or_equal": True}})
    return out


# ------------------------------------------------------------------ views for the common questions
def views_sql() -> str:
    """The KPI views, every rolled-up metric in each (a migration adding a metric recreates them
    with this). ``kpi.sla_breach_soon`` reads ``sla_due_at``, which ingestion sets from
    domain/response_clock.py (the one home of the 24-hour clock)."""
    windows = ", ".join(f"({n})" for n in RESPONSE_WINDOWS_DAYS)
    daily = rollups("store_daily", "s.")
    odr = rollups("order_defect_rate", "r.")
    return f"""DROP VIEW IF EXISTS kpi.response_windows, kpi.claims_60d, kpi.last_30_days_by_store,
    kpi.worst_late_response_30d, kpi.odr_trend, kpi.sla_breach_soon;

-- Every store_daily metric over Amazon's 7/30/90-day windows (days up to today), per store and marketplace.
CREATE VIEW kpi.response_windows AS
SELECT s.store_id, s.marketplace, w.days AS window_days,
       {daily}
FROM kpi.store_daily s
CROSS JOIN (VALUES {windows}) AS w(days)
WHERE s.day > current_date - w.days
GROUP BY s.store_id, s.marketplace, w.days;

-- The last 30 days by store (all its marketplaces).
CREATE VIEW kpi.last_30_days_by_store AS
SELECT s.store_id, string_agg(DISTINCT s.marketplace, ',' ORDER BY s.marketplace) AS marketplaces,
       min(s.day) AS first_day, max(s.day) AS last_day,
       {daily}
FROM kpi.store_daily s
WHERE s.day > current_date - 30
GROUP BY s.store_id;

-- Stores and marketplaces ranked by late response rate over 30 days, worst first (rank 1).
CREATE VIEW kpi.worst_late_response_30d AS
SELECT rank() OVER (ORDER BY w.late_response_rate DESC NULLS LAST) AS rank, w.*
FROM kpi.response_windows w WHERE w.window_days = 30;

-- Order Defect Rate per window end against Amazon's target (one row per store, marketplace, channel, day).
CREATE VIEW kpi.odr_trend AS
SELECT r.store_id, r.marketplace, r.fulfillment_channel, r.window_start, r.window_end,
       {odr},
       {ODR_TARGET}::numeric AS target, r.order_defect_rate >= {ODR_TARGET} AS above_target
FROM kpi.order_defect_rate r
GROUP BY r.store_id, r.marketplace, r.fulfillment_channel, r.window_start, r.window_end;

-- A-to-z claim rate (by order date) over the latest ODR window per store and marketplace, channels together.
CREATE VIEW kpi.claims_60d AS
SELECT r.store_id, r.marketplace, max(r.window_start) AS window_start, r.window_end,
       {odr}
FROM kpi.order_defect_rate r
WHERE r.window_end = (SELECT max(x.window_end) FROM kpi.order_defect_rate x
                      WHERE x.store_id = r.store_id AND x.marketplace = r.marketplace)
GROUP BY r.store_id, r.marketplace, r.window_end;

-- Buyer messages needing a reply whose 24-hour deadline is still ahead, soonest first.
CREATE VIEW kpi.sla_breach_soon AS
SELECT store_id, marketplace, message_id, order_id, intent, risk, received_at, sla_due_at,
       round(extract(epoch FROM (sla_due_at - now())) / 3600, 2) AS hours_left
FROM core.message
WHERE kind = 'buyer_message' AND first_reply_at IS NULL AND NOT no_response_needed
  AND coalesce(intent, '') <> 'auto_reply' AND sla_due_at > now();
"""


# ------------------------------------------------------------------ the dictionary and migrations
DICTIONARY = Path(__file__).resolve().parents[2] / "docs" / "data-dictionary.md"
BEGIN = "<!-- kpi columns: generated by `python -m seller_inbox.metrics docs` from seller_inbox/metrics.py; edit there -->"
END = "<!-- end of generated kpi columns -->"


def dictionary_section() -> str:
    """The generated part of the dictionary's kpi section: one table per KPI table."""
    lines = [BEGIN]
    for table, grain in TABLES.items():
        lines += ["", f"`kpi.{table}`: {grain}; written by `seller_inbox.kpi`.", "",
                  "| column | unit | meaning | 含义 | source |", "|---|---|---|---|---|"]
        for m in of(table):
            lines.append(f"| `{m.name}` | {m.unit} | {_md(m.en)} | {_md(m.zh)} | {_md(m.source)} |")
    lines += ["", f"ODR window: {ODR_WINDOW_DAYS} marketplace-local days of orders ending {ODR_LAG_DAYS} days "
              f"before the day computed for (`ODR_LAG_DAYS`; Seller Central's short-term window reportedly ends "
              f"about 14 days before today — unconfirmed by Amazon, so Amazon's own report window in "
              f"`raw.seller_performance` is the authority). Target: under {ODR_TARGET:.0%}. "
              f"First-contact follow-up window: {FCR_FOLLOW_UP.days} days.", END]
    return "\n".join(lines)


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def render_dictionary(text: str) -> str:
    """``text`` (the dictionary) with its generated section replaced."""
    a, b = text.index(BEGIN), text.index(END) + len(END)
    return text[:a] + dictionary_section() + text[b:]


def _quote(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def comments_sql(names: list[tuple[str, str]] | None = None) -> str:
    """``COMMENT ON COLUMN`` for the given (table, metric) pairs, default all."""
    pick = [m for m in METRICS if names is None or (m.table, m.name) in names]
    return "\n".join(f"COMMENT ON COLUMN kpi.{m.table}.{m.name} IS {_quote(m.comment)};" for m in pick)


def migration_sql(table: str, names: list[str]) -> str:
    """What a migration adding metrics needs: the columns and their comments (then recreate the
    views that list every metric: ``views_sql``)."""
    adds = [f"ALTER TABLE kpi.{table} ADD COLUMN IF NOT EXISTS {get(table, n).column_ddl};" for n in names]
    return "\n".join(adds + [comments_sql([(table, n) for n in names])])


def main(argv: list[str]) -> int:
    if argv == ["docs"]:
        DICTIONARY.write_text(render_dictionary(DICTIONARY.read_text(encoding="utf-8")), encoding="utf-8")
        print(f"rewrote the kpi columns of {DICTIONARY}")
        return 0
    if len(argv) >= 3 and argv[0] == "migration" and argv[1] in TABLES:
        print(migration_sql(argv[1], argv[2:]))
        return 0
    print("usage: python -m seller_inbox.metrics docs | migration TABLE METRIC...", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
