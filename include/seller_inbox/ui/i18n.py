"""Every label the seller-inbox UI shows, in English and Chinese (one table, one lookup).

Language choice (``pick_language``): ``?lang=zh|en`` first, then the browser's
``Accept-Language`` (highest q-value among the languages we serve), else English.
"""

from __future__ import annotations

LANGS = ("en", "zh")
DEFAULT_LANG = "en"

# key: (English, 中文)
_LABELS: dict[str, tuple[str, str]] = {
    # chrome
    "app_title": ("Seller Inbox", "买家消息中心"),
    "nav_kpis": ("KPIs", "KPI 看板"),
    "nav_health": ("Store health", "店铺健康"),
    "nav_approvals": ("Approvals", "待审批回复"),
    "nav_messages": ("Open messages", "待回复消息"),
    "signed_in_as": ("Signed in as", "当前用户"),
    "language": ("Language", "语言"),
    "lang_en": ("English", "English"),
    "lang_zh": ("中文", "中文"),
    "all_stores": ("All stores", "全部店铺"),
    "store": ("Store", "店铺"),
    "marketplace": ("Marketplace", "站点"),
    "filter": ("Filter", "筛选"),
    "no_data": ("No data yet.", "暂无数据。"),
    "days": ("days", "天"),
    "day": ("Day", "日期"),
    "generated_at": ("Generated at", "生成时间"),
    # KPIs
    "kpis_title": ("KPIs per store and marketplace", "各店铺与站点 KPI"),
    "kpis_intro": ("Amazon's response windows (last 7 / 30 / 90 days), the 60-day A-to-z claim rate and daily trends.",
                   "亚马逊考核窗口（近 7 / 30 / 90 天）、60 天 A-to-z 索赔率与每日趋势。"),
    "response_windows": ("Response windows", "响应时效窗口"),
    "window": ("Window", "窗口"),
    "window_days": ("{n} days", "近 {n} 天"),
    "late_response_rate": ("Late response rate", "超时回复率"),
    "avg_response_time": ("Average response time", "平均响应时间"),
    "buyer_messages": ("Buyer messages", "买家消息"),
    "needing_response": ("Needing response", "需回复"),
    "late_responses": ("Late responses", "超时回复"),
    "a_to_z_claims": ("A-to-z claims", "A-to-z 索赔"),
    "odr_chart": ("Order Defect Rate %, target {target} %", "订单缺陷率 %，目标 {target}%"),
    "a_to_z_claim_rate_60d": ("A-to-z claim rate (60 days)", "A-to-z 索赔率（60 天）"),
    "orders_60d": ("Orders (60 days)", "订单（60 天）"),
    "high_risk": ("High risk", "高风险"),
    "high_risk_period": ("High-risk messages ({n} days)", "高风险消息（近 {n} 天）"),
    "high_risk_open": ("High-risk messages still open", "未回复的高风险消息"),
    "daily_charts": ("Daily trends (last {n} days)", "每日趋势（近 {n} 天）"),
    "chart_period": ("Chart period", "图表周期"),
    "hours_short": ("h", "小时"),
    "minutes_short": ("min", "分钟"),
    "target_late": ("Amazon target: under 10 %", "亚马逊要求：低于 10%"),
    "period_metrics": ("All metrics, last {n} days", "全部指标（近 {n} 天）"),
    "odr_title": ("Order Defect Rate by fulfilment channel (latest window, defects dated by order)",
                  "按配送渠道的订单缺陷率（最新窗口，按下单日计）"),
    "odr_target": ("Amazon target: under {target} %", "亚马逊要求：低于 {target}%"),
    "odr_window": ("Window (order dates)", "窗口（下单日期）"),
    "channel": ("Channel", "渠道"),
    "recon_title": ("Ours against Amazon's performance report (latest window)", "我方计算与亚马逊绩效报告对比（最新窗口）"),
    "recon_intro": ("Ours has no chargebacks and counts denied claims; a difference beyond {tol} points (chargebacks aside) "
                    "is flagged and alerted. A window is compared only once the desk has read its orders and mail.",
                    "我方不含拒付、且计入被驳回的索赔；差异（拒付除外）超过 {tol} 个百分点即标记并告警。"
                    "仅当本系统已读取窗口内的订单与邮件时才比较。"),
    "odr_ours": ("Our ODR", "我方 ODR"),
    "odr_amazon": ("Amazon's ODR", "亚马逊 ODR"),
    "claim_rate_ours": ("Our A-to-z rate", "我方 A-to-z 率"),
    "claim_rate_amazon": ("Amazon's A-to-z rate", "亚马逊 A-to-z 率"),
    "difference": ("Difference", "差异"),
    "drifted": ("drifted", "偏差超限"),
    "not_comparable": ("not comparable yet: the desk has read {sources}; the comparison needs orders and mail from {start}",
                       "暂不可比：本系统{sources}；对比需要自 {start} 起的订单与邮件"),
    "read_since": ("{source} only since {since}", "自 {since} 起才读取{source}"),
    "read_not_until": ("{source} not up to {until}", "{source}尚未读到 {until}"),
    "source_orders": ("orders", "订单"),
    "source_mail": ("mail", "邮件"),
    # store health
    "health_title": ("Store health", "店铺健康"),
    "authorization": ("SP-API authorization", "SP-API 授权"),
    "status": ("Status", "状态"),
    "seller_id": ("Seller ID", "卖家编号"),
    "last_success": ("Last success", "最近成功"),
    "last_error": ("Last error", "最近错误"),
    "days_until_reauth": ("Days until re-authorization", "距重新授权（天）"),
    "secret_age": ("Client secret age (days)", "客户端密钥已用（天）"),
    "checked_at": ("Checked at", "检查时间"),
    "due": ("due", "即将到期"),
    "overdue": ("overdue", "已逾期"),
    "gate_failures": ("Latest data-quality gate failures", "最近的数据质量检查失败"),
    "stage": ("Stage", "阶段"),
    "interval": ("Interval", "时间区间"),
    "evaluated_at": ("Evaluated at", "检查于"),
    "rows_checked": ("Rows checked", "检查行数"),
    "failing_expectation": ("Failing expectation", "未通过的检查项"),
    "sample_rows": ("Sample failing rows", "失败样例行"),
    "column": ("Column", "字段"),
    "unexpected_count": ("Unexpected rows", "异常行数"),
    "observed_value": ("Observed", "实际值"),
    "operation": ("Operation", "接口"),
    "no_gate_failures": ("No gate failures recorded.", "没有数据质量检查失败记录。"),
    "api_calls_24h": ("SP-API calls in the last 24 h (throttling)", "近 24 小时 SP-API 调用（限流）"),
    "outcome_ok": ("OK", "成功"),
    "outcome_throttled": ("Throttled (429)", "被限流 (429)"),
    "outcome_retry": ("Retried", "重试"),
    "outcome_error": ("Errors", "错误"),
    "outcome_deferred": ("Deferred (slot freed)", "等待令牌（已释放槽位）"),
    "outcome_deferred_hint": ("A task waited for SP-API tokens longer than 5 s: it was rescheduled instead of "
                              "holding a worker slot; no request was sent",
                              "任务等待 SP-API 令牌超过 5 秒：已改为稍后重新调度，不占用 worker 槽位；未发送请求"),
    "token_wait": ("Waited for tokens", "等待令牌时长"),
    "total": ("Total", "合计"),
    "throttle_share": ("Throttled share", "限流占比"),
    "quarantine_title": ("Mail that could not be processed (quarantine)", "无法处理的邮件（隔离区）"),
    "incidents_title": ("Failing tasks (open incidents)", "失败中的任务（未恢复的故障）"),
    "no_incidents": ("No task is failing.", "没有失败中的任务。"),
    "incident_task": ("DAG › task", "DAG › 任务"),
    "since": ("Since", "开始于"),
    "failures": ("Failed runs", "失败次数"),
    "gaps_title": ("Ingestion gaps (never read)", "采集缺口（未读取的时段）"),
    "no_gaps": ("No gaps: every interval since the first run was read.", "没有缺口：首次运行以来的每个时段都已读取。"),
    "source": ("Source", "来源"),
    "gap_hours": ("Hours", "小时"),
    "fill_with": ("Fill with", "补齐命令"),
    "dq_title": ("Data quality, last 14 days", "数据质量（近 14 天）"),
    "dq_failed_error": ("Failed checks (stop the branch)", "未通过的检查（停止该分支）"),
    "dq_failed_quarantine": ("Checks that set rows aside", "隔离了部分数据的检查"),
    "dq_failed_warn": ("Warnings", "警告"),
    "dq_checked": ("Checks run", "已运行的检查"),
    "dq_set_aside": ("Rows set aside by a gate", "被数据检查隔离的记录"),
    "no_dq_set_aside": ("No rows set aside.", "没有被隔离的记录。"),
    "data_docs": ("Data Docs", "数据文档（Data Docs）"),
    "data_docs_hint": ("Great Expectations' report of every gate validation", "Great Expectations 生成的每次数据检查的报告"),
    "data_docs_missing": ("Data Docs are not built yet (they appear when a gate fails); to build them now, run:",
                          "数据文档尚未生成（数据检查失败时会自动生成）；如需立即生成，请运行："),
    "data_docs_not_found": ("No such Data Docs page.", "找不到该数据文档页面。"),
    "row_key": ("Row", "记录"),
    "no_quarantine": ("No quarantined mail.", "没有被隔离的邮件。"),
    "quarantine_open": ("Open", "待处理"),
    "quarantine_new_24h": ("New in 24 h", "近 24 小时新增"),
    "quarantine_resolved_24h": ("Resolved in 24 h", "近 24 小时已解决"),
    "quarantine_latest": ("Latest items and reasons", "最近的邮件与原因"),
    "quarantine_hint": ("Fix the cause, then re-process:", "排除原因后重新处理："),
    "attempts": ("attempts", "尝试次数"),
    "auth_ok": ("ok", "正常"),
    "auth_revoked": ("revoked", "已撤销"),
    "auth_error": ("error", "错误"),
    "auth_unknown": ("unknown", "未知"),
    # approvals
    "approvals_title": ("Replies waiting for approval", "待审批的回复"),
    "approvals_intro": ("Approve only compliant text: the compliance linter runs again on approval; edit the body to fix findings.",
                        "仅批准合规内容：批准时会重新运行合规检查；如有问题请先修改正文。"),
    "no_pending": ("Nothing waiting for approval.", "没有待审批的回复。"),
    "subject": ("Subject", "主题"),
    "body": ("Body", "正文"),
    "action": ("Action", "类型"),
    "template": ("Template", "模板"),
    "locale": ("Locale", "语种"),
    "order_id": ("Order", "订单号"),
    "created_at": ("Created", "创建时间"),
    "lint_findings": ("Compliance findings", "合规问题"),
    "lint_clean": ("No findings", "无合规问题"),
    "approve": ("Approve", "批准"),
    "reject": ("Reject", "拒绝"),
    "reject_reason": ("Reason (optional)", "拒绝原因（可选）"),
    "approved_ok": ("Approved: {key}", "已批准：{key}"),
    "rejected_ok": ("Rejected: {key}", "已拒绝：{key}"),
    "approve_refused": ("Not approved: the text still breaks the compliance rules. Edit the body and try again.",
                        "未批准：内容仍不符合合规规则，请修改正文后重试。"),
    "not_pending": ("This reply is no longer waiting for approval (status: {status}).",
                    "该回复已不在待审批状态（状态：{status}）。"),
    "not_found": ("No such reply.", "找不到该回复。"),
    "csrf_failed": ("The form expired or did not come from this page. Reload and try again.",
                    "表单已过期或来源无效，请刷新页面后重试。"),
    "recent_decisions": ("Recent decisions", "最近的审批记录"),
    "decided_by": ("Decided by", "审批人"),
    "decided_at": ("Decided at", "审批时间"),
    "reason": ("Reason", "原因"),
    "edited_by_reviewer": ("body edited by the reviewer", "审批人已修改正文"),
    "matched": ("matched", "命中内容"),
    # kill switches
    "kill_switches": ("Kill switches", "紧急停发开关"),
    "kill_switches_intro": ("When a switch is on nothing leaves, not even approved replies. Every flip is recorded.",
                            "开关打开后不发送任何消息（包括已批准的回复）。每次切换都会被记录。"),
    "scope": ("Scope", "范围"),
    "scope_global": ("all stores", "全部店铺"),
    "switch_state": ("State", "状态"),
    "switch_on": ("ON: nothing leaves", "已开启：停止发送"),
    "switch_off": ("off", "关闭"),
    "switch_in_registry": ("set in the store registry (edit the YAML to turn off)", "在店铺配置中开启（需修改 YAML 才能关闭）"),
    "changed_by": ("Flipped by", "操作人"),
    "changed_at": ("Flipped at", "操作时间"),
    "turn_on": ("Stop sending", "停止发送"),
    "turn_off": ("Resume sending", "恢复发送"),
    "switch_reason": ("Reason", "原因"),
    "switch_on_ok": ("Kill switch on: {key}", "已开启停发开关：{key}"),
    "switch_off_ok": ("Kill switch off: {key}", "已关闭停发开关：{key}"),
    "unknown_scope": ("No such store or scope.", "找不到该店铺或范围。"),
    # listen mode
    "shadow_title": ("Listen mode: what would have been sent (last {n} days)", "监听模式：本应发送的草稿（近 {n} 天）"),
    "shadow_intro": ("Shadow drafts are never sent. A person answered: a seller reply in the thread after the buyer "
                     "message. Differently: its words match the draft less than the threshold.",
                     "影子草稿不会发送。人工已回复：买家消息之后同一会话中有卖家回复。回复不同：其内容与草稿的相似度低于阈值。"),
    "shadow_drafts": ("Shadow drafts", "影子草稿"),
    "answered_by_person": ("a person answered", "人工已回复"),
    "answered_differently": ("differently", "回复不同"),
    "similarity": ("Similarity", "相似度"),
    "threshold": ("threshold", "阈值"),
    "person_reply": ("The person's reply", "人工回复"),
    "not_answered": ("not answered by a person", "尚无人工回复"),
    "same_answer": ("similar", "相近"),
    "no_shadow": ("No shadow drafts in this period.", "此期间没有影子草稿。"),
    # open messages
    "messages_title": ("Open buyer messages, most urgent first", "待回复买家消息（按紧急程度排序）"),
    "message_id": ("Message", "消息"),
    "intent": ("Intent", "意图"),
    "risk": ("Risk", "风险"),
    "msg_language": ("Language", "语言"),
    "received_at": ("Received", "收到时间"),
    "sla_due_at": ("Reply due", "回复截止"),
    "hours_left": ("Hours left", "剩余小时"),
    "risk_high": ("high", "高"),
    "risk_medium": ("medium", "中"),
    "risk_low": ("low", "低"),
    "risk_none": ("unclassified", "未分类"),
    "overdue_count": ("Overdue", "已超时"),
    "open_count": ("Open", "待回复"),
    "no_open": ("No open buyer messages.", "没有待回复的买家消息。"),
    # one message, label correction (desk feedback)
    "message_title": ("Message", "消息详情"),
    "confidence": ("Confidence", "置信度"),
    "labelled_by": ("Label set by", "标注来源"),
    "model_label": ("the classifier", "分类模型"),
    "text_redacted": ("The buyer's words (redacted)", "买家原文（已脱敏）"),
    "correct_label": ("Correct intent / risk", "修正意图 / 风险"),
    "correct_label_intro": ("Your label replaces the classifier's for this message (it never overwrites yours) and is "
                            "kept, redacted, as a training example.",
                            "您的标注将替换该消息的模型标注（模型不会再覆盖），并以脱敏形式保存为训练样本。"),
    "save_label": ("Save label", "保存标注"),
    "label_saved": ("Label saved and recorded as a training example.", "标注已保存，并已记录为训练样本。"),
    "label_history": ("Label changes and desk feedback", "标注变更与人工反馈"),
    "label_when": ("When", "时间"),
    "label_who": ("By", "操作人"),
    "label_before": ("Before (intent / risk)", "修改前（意图 / 风险）"),
    "label_after": ("After (intent / risk)", "修改后（意图 / 风险）"),
    "source_ui_correction": ("corrected on this page", "在本页修正"),
    "source_draft_edit": ("draft rewritten before approval", "审批前草稿被大幅修改"),
    "label_no_message": ("No such message.", "找不到该消息。"),
    "label_unknown": ("Choose an intent and a risk from the lists.", "请从列表中选择意图和风险。"),
    "label_risk_floor": ("That risk is below the least this intent implies (docs/taxonomy.md); raise it.",
                         "该风险等级低于此意图的最低风险（见 docs/taxonomy.md），请调高。"),
    "label_outbound": ("Only buyer messages are classified.", "只有买家消息会被分类。"),
    # errors
    "forbidden": ("You are not allowed to use the Seller Inbox pages.", "您无权访问买家消息中心页面。"),
    "warehouse_down": ("The warehouse database cannot be reached: {error}", "无法连接数据仓库：{error}"),
}


def t(label: str, lang: str, /, **kw) -> str:
    """The label ``label`` in ``lang``, formatted with ``kw``."""
    en, zh = _LABELS[label]
    text = zh if lang == "zh" else en
    return text.format(**kw) if kw else text


def labels(lang: str) -> dict[str, str]:
    """The whole table in one language (templates use ``L.key``)."""
    i = 1 if lang == "zh" else 0
    return {k: v[i] for k, v in _LABELS.items()}


def keys() -> list[str]:
    return list(_LABELS)


def _parse_accept_language(header: str) -> list[tuple[float, int, str]]:
    out = []
    for pos, part in enumerate(header.split(",")):
        bits = part.strip().split(";")
        tag = bits[0].strip().lower()
        if not tag:
            continue
        q = 1.0
        for b in bits[1:]:
            b = b.strip()
            if b.startswith("q="):
                try:
                    q = float(b[2:])
                except ValueError:
                    q = 0.0
        out.append((q, pos, tag))
    return out


def pick_language(query_lang: str | None, accept_language: str | None) -> str:
    """``?lang=`` if it names a served language, else the best Accept-Language match, else English."""
    if query_lang:
        q = query_lang.strip().lower()
        if q in LANGS:
            return q
        if q.startswith("zh"):
            return "zh"
    if accept_language:
        ranked = sorted(_parse_accept_language(accept_language), key=lambda x: (-x[0], x[1]))
        for q, _, tag in ranked:
            if q <= 0:
                continue
            primary = tag.split("-")[0]
            if primary in LANGS:
                return primary
    return DEFAULT_LANG
