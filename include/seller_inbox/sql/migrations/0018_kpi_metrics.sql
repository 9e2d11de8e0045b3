-- 0018 KPIs Amazon would agree with (docs/kpis.md). Metrics are declared once in
-- seller_inbox/metrics.py; the column lists, comments and views below were generated from it
-- (`python -m seller_inbox.metrics migration TABLE METRIC...`, `metrics.views_sql()`).

-- store_daily: first-contact resolution, negative feedback by order date, A-to-z notices by notice date.
-- a_to_z_claims keeps its name but is now dated by the order (see its comment).
ALTER TABLE kpi.store_daily ADD COLUMN IF NOT EXISTS fcr_threads integer NOT NULL DEFAULT 0;
ALTER TABLE kpi.store_daily ADD COLUMN IF NOT EXISTS first_contact_resolved integer NOT NULL DEFAULT 0;
ALTER TABLE kpi.store_daily ADD COLUMN IF NOT EXISTS first_contact_resolution_rate numeric(6,4);
ALTER TABLE kpi.store_daily ADD COLUMN IF NOT EXISTS negative_feedback_orders integer NOT NULL DEFAULT 0;
ALTER TABLE kpi.store_daily ADD COLUMN IF NOT EXISTS a_to_z_notices integer NOT NULL DEFAULT 0;
COMMENT ON COLUMN kpi.store_daily.fcr_threads IS 'Conversations first contacted that day whose first-contact outcome is known: answered, and either 7 days passed since the reply or the buyer wrote again / the seller replied again. Unit: count. Source: core.message threads (this desk''s definition)';
COMMENT ON COLUMN kpi.store_daily.first_contact_resolved IS 'Of those, closed by one seller reply: no buyer follow-up and no second seller reply within 7 days of the first reply. Unit: count. Source: core.message threads (this desk''s definition)';
COMMENT ON COLUMN kpi.store_daily.first_contact_resolution_rate IS 'first_contact_resolved / fcr_threads. Unit: rate. Source: core.message threads (this desk''s definition)';
COMMENT ON COLUMN kpi.store_daily.negative_feedback_orders IS 'Orders purchased that day with negative seller feedback (1-2 stars, raw.seller_feedback.negative). Unit: count. Source: raw.seller_feedback (Amazon''s feedback report)';
COMMENT ON COLUMN kpi.store_daily.a_to_z_notices IS 'A-to-z notices received that day, by notice date (distinct orders; a notice naming no order counts alone): what arrived, whereas a_to_z_claims dates claims by the order. Unit: count. Source: Amazon''s A-to-z notices in the mailbox (core.message)';

-- One row per order with the defects we can attach to it: the first A-to-z notice naming the
-- order, and negative seller feedback (raw.seller_feedback, 0017). Chargebacks have no per-order
-- source (Amazon's performance report, raw.seller_performance, gives counts only).
CREATE VIEW kpi.order_defects AS
SELECT o.store_id, o.marketplace, coalesce(o.fulfillment_channel, 'unknown') AS fulfillment_channel,
       o.amazon_order_id, o.purchase_date, o.order_status,
       c.first_notice_at AS a_to_z_claim_at,
       f.feedback_date AS negative_feedback_on, f.rating AS negative_feedback_rating
FROM raw.orders o
LEFT JOIN LATERAL (
    SELECT min(m.received_at) AS first_notice_at FROM core.message m
    WHERE m.store_id = o.store_id AND m.order_id = o.amazon_order_id
      AND m.kind = 'amazon_notice' AND m.intent = 'a_to_z_claim') c ON true
LEFT JOIN raw.seller_feedback f
       ON f.store_id = o.store_id AND f.amazon_order_id = o.amazon_order_id AND f.negative;
COMMENT ON VIEW kpi.order_defects IS 'One row per order (raw.orders) with its first A-to-z claim notice and negative feedback, if any: defects dated by the order.';
CREATE INDEX IF NOT EXISTS message_order_notice ON core.message (store_id, order_id) WHERE kind = 'amazon_notice';

-- Order Defect Rate and A-to-z claim rate per store, marketplace, fulfilment channel and window.
CREATE TABLE kpi.order_defect_rate (
    store_id            text    NOT NULL,
    marketplace         text    NOT NULL,
    fulfillment_channel text    NOT NULL,   -- AFN / MFN as raw.orders has it ('unknown' when the API gave none)
    window_end          date    NOT NULL,   -- last marketplace-local purchase day of the window
    window_start        date    NOT NULL,   -- window_end - 59
    orders integer NOT NULL DEFAULT 0,
    a_to_z_claims integer NOT NULL DEFAULT 0,
    negative_feedback integer NOT NULL DEFAULT 0,
    defective_orders integer NOT NULL DEFAULT 0,
    order_defect_rate numeric(8,5),
    a_to_z_claim_rate numeric(8,5),
    computed_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store_id, marketplace, fulfillment_channel, window_end)
);
COMMENT ON TABLE kpi.order_defect_rate IS 'one row per store, marketplace, fulfilment channel (AFN/MFN) and window end: 60 local days of orders ending 14 days before the day it was computed for; the lag is metrics.ODR_LAG_DAYS (Seller Central, reportedly; unconfirmed by Amazon).';
COMMENT ON COLUMN kpi.order_defect_rate.window_end IS 'last marketplace-local purchase day of the 60-day window; the figure as of window_end + 14 days';
COMMENT ON COLUMN kpi.order_defect_rate.fulfillment_channel IS 'AFN (Amazon) or MFN (merchant), from raw.orders: Amazon reports the two apart';
COMMENT ON COLUMN kpi.store_daily.buyer_messages IS 'Buyer messages received that local day. Unit: count. Source: core.message (mail relayed by Amazon)';
COMMENT ON COLUMN kpi.store_daily.needing_response IS 'Of those, buyer messages needing a response (not marked "no response needed", not auto-replies). Unit: count. Source: Amazon''s Contact Response Time (Seller Central help): 24-hour clock, weekends included';
COMMENT ON COLUMN kpi.store_daily.responded IS 'Messages needing a response that got a seller reply (any channel: this desk, a copy of a Seller Central reply in the mailbox; auto-replies never count). Unit: count. Source: Amazon''s Contact Response Time (Seller Central help): 24-hour clock, weekends included';
COMMENT ON COLUMN kpi.store_daily.responded_within_24h IS 'Answered within 24 hours of receipt (a reply exactly 24 h later is on time). Unit: count. Source: Amazon''s Contact Response Time (Seller Central help): 24-hour clock, weekends included';
COMMENT ON COLUMN kpi.store_daily.late_responses IS 'Answered more than 24 h after receipt, or unanswered for more than 24 h. Unit: count. Source: Amazon''s Contact Response Time (Seller Central help): 24-hour clock, weekends included';
COMMENT ON COLUMN kpi.store_daily.pending_within_sla IS 'Unanswered but still inside the 24 h (neither on time nor late yet). Unit: count. Source: Amazon''s Contact Response Time (Seller Central help): 24-hour clock, weekends included';
COMMENT ON COLUMN kpi.store_daily.avg_response_minutes IS 'Average time from receipt to the first seller reply, over answered messages. Unit: minutes. Source: Amazon''s Contact Response Time (Seller Central help): 24-hour clock, weekends included';
COMMENT ON COLUMN kpi.store_daily.median_response_minutes IS 'Median time from receipt to the first seller reply (does not add up over days). Unit: minutes. Source: Amazon''s Contact Response Time (Seller Central help): 24-hour clock, weekends included';
COMMENT ON COLUMN kpi.store_daily.late_response_rate IS 'late_responses / (needing_response - pending_within_sla): Amazon''s Late Response Rate (target under 10 %). Unit: rate. Source: Amazon''s Contact Response Time (Seller Central help): 24-hour clock, weekends included';
COMMENT ON COLUMN kpi.store_daily.high_risk_messages IS 'Buyer messages classified high risk (A-to-z, account health, not received, threats, safety). Unit: count. Source: this desk''s classifier (docs/taxonomy.md)';
COMMENT ON COLUMN kpi.store_daily.wismo_messages IS '"Where is my order" messages: intents order_status and not_received. Unit: count. Source: this desk''s classifier';
COMMENT ON COLUMN kpi.store_daily.wismo_share IS 'wismo_messages / buyer_messages. Unit: rate. Source: this desk''s classifier';
COMMENT ON COLUMN kpi.store_daily.orders IS 'Orders purchased that local day (Orders API). Unit: count. Source: raw.orders (SP-API Orders)';
COMMENT ON COLUMN kpi.store_daily.a_to_z_claims IS 'Orders purchased that day with an A-to-z Guarantee claim notice, whenever it arrived (dated by the order, as Amazon dates defects; a claim 40 days later changes the order''s day). Unit: count. Source: Amazon''s A-to-z notices in the mailbox (core.message), joined on the order id';
COMMENT ON COLUMN kpi.store_daily.a_to_z_claim_rate IS 'a_to_z_claims / orders of that day. Unit: rate. Source: Amazon''s Order Defect Rate (Seller Central help): defects dated by the order, target under 1%';
COMMENT ON COLUMN kpi.order_defect_rate.orders IS 'Orders purchased in the window in this fulfilment channel. Unit: count. Source: raw.orders (SP-API Orders)';
COMMENT ON COLUMN kpi.order_defect_rate.a_to_z_claims IS 'Of those, orders with an A-to-z claim notice (a denied claim still counts: notices do not say the decision). Unit: count. Source: Amazon''s A-to-z notices in the mailbox (core.message)';
COMMENT ON COLUMN kpi.order_defect_rate.negative_feedback IS 'Of those, orders with 1-2 star seller feedback (raw.seller_feedback.negative). Unit: count. Source: raw.seller_feedback (Amazon''s feedback report)';
COMMENT ON COLUMN kpi.order_defect_rate.defective_orders IS 'Orders with at least one defect we can see per order (A-to-z claim or negative feedback; chargebacks come only as counts in Amazon''s report, so they are not in our figure). Unit: count. Source: Amazon''s Order Defect Rate (Seller Central help): defects dated by the order, target under 1%';
COMMENT ON COLUMN kpi.order_defect_rate.order_defect_rate IS 'defective_orders / orders: Order Defect Rate (target under 1%). Unit: rate. Source: Amazon''s Order Defect Rate (Seller Central help): defects dated by the order, target under 1%';
COMMENT ON COLUMN kpi.order_defect_rate.a_to_z_claim_rate IS 'a_to_z_claims / orders over the window. Unit: rate. Source: Amazon''s Order Defect Rate (Seller Central help): defects dated by the order, target under 1%';

DROP VIEW IF EXISTS kpi.response_windows, kpi.claims_60d, kpi.last_30_days_by_store,
    kpi.worst_late_response_30d, kpi.odr_trend, kpi.sla_breach_soon;

-- Every store_daily metric over Amazon's 7/30/90-day windows (days up to today), per store and marketplace.
CREATE VIEW kpi.response_windows AS
SELECT s.store_id, s.marketplace, w.days AS window_days,
       sum(s.buyer_messages) AS buyer_messages,
       sum(s.needing_response) AS needing_response,
       sum(s.responded) AS responded,
       sum(s.responded_within_24h) AS responded_within_24h,
       sum(s.late_responses) AS late_responses,
       sum(s.pending_within_sla) AS pending_within_sla,
       round(sum(s.avg_response_minutes * s.responded) / nullif(sum(s.responded) FILTER (WHERE s.avg_response_minutes IS NOT NULL), 0), 1) AS avg_response_minutes,
       round(sum(s.late_responses)::numeric / nullif(sum(s.needing_response - s.pending_within_sla), 0), 4) AS late_response_rate,
       sum(s.high_risk_messages) AS high_risk_messages,
       sum(s.wismo_messages) AS wismo_messages,
       round(sum(s.wismo_messages)::numeric / nullif(sum(s.buyer_messages), 0), 4) AS wismo_share,
       sum(s.fcr_threads) AS fcr_threads,
       sum(s.first_contact_resolved) AS first_contact_resolved,
       round(sum(s.first_contact_resolved)::numeric / nullif(sum(s.fcr_threads), 0), 4) AS first_contact_resolution_rate,
       sum(s.orders) AS orders,
       sum(s.a_to_z_claims) AS a_to_z_claims,
       round(sum(s.a_to_z_claims)::numeric / nullif(sum(s.orders), 0), 5) AS a_to_z_claim_rate,
       sum(s.negative_feedback_orders) AS negative_feedback_orders,
       sum(s.a_to_z_notices) AS a_to_z_notices
FROM kpi.store_daily s
CROSS JOIN (VALUES (7), (30), (90)) AS w(days)
WHERE s.day > current_date - w.days
GROUP BY s.store_id, s.marketplace, w.days;

-- The last 30 days by store (all its marketplaces).
CREATE VIEW kpi.last_30_days_by_store AS
SELECT s.store_id, string_agg(DISTINCT s.marketplace, ',' ORDER BY s.marketplace) AS marketplaces,
       min(s.day) AS first_day, max(s.day) AS last_day,
       sum(s.buyer_messages) AS buyer_messages,
       sum(s.needing_response) AS needing_response,
       sum(s.responded) AS responded,
       sum(s.responded_within_24h) AS responded_within_24h,
       sum(s.late_responses) AS late_responses,
       sum(s.pending_within_sla) AS pending_within_sla,
       round(sum(s.avg_response_minutes * s.responded) / nullif(sum(s.responded) FILTER (WHERE s.avg_response_minutes IS NOT NULL), 0), 1) AS avg_response_minutes,
       round(sum(s.late_responses)::numeric / nullif(sum(s.needing_response - s.pending_within_sla), 0), 4) AS late_response_rate,
       sum(s.high_risk_messages) AS high_risk_messages,
       sum(s.wismo_messages) AS wismo_messages,
       round(sum(s.wismo_messages)::numeric / nullif(sum(s.buyer_messages), 0), 4) AS wismo_share,
       sum(s.fcr_threads) AS fcr_threads,
       sum(s.first_contact_resolved) AS first_contact_resolved,
       round(sum(s.first_contact_resolved)::numeric / nullif(sum(s.fcr_threads), 0), 4) AS first_contact_resolution_rate,
       sum(s.orders) AS orders,
       sum(s.a_to_z_claims) AS a_to_z_claims,
       round(sum(s.a_to_z_claims)::numeric / nullif(sum(s.orders), 0), 5) AS a_to_z_claim_rate,
       sum(s.negative_feedback_orders) AS negative_feedback_orders,
       sum(s.a_to_z_notices) AS a_to_z_notices
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
       sum(r.orders) AS orders,
       sum(r.a_to_z_claims) AS a_to_z_claims,
       sum(r.negative_feedback) AS negative_feedback,
       sum(r.defective_orders) AS defective_orders,
       round(sum(r.defective_orders)::numeric / nullif(sum(r.orders), 0), 5) AS order_defect_rate,
       round(sum(r.a_to_z_claims)::numeric / nullif(sum(r.orders), 0), 5) AS a_to_z_claim_rate,
       0.01::numeric AS target, r.order_defect_rate >= 0.01 AS above_target
FROM kpi.order_defect_rate r
GROUP BY r.store_id, r.marketplace, r.fulfillment_channel, r.window_start, r.window_end;

-- A-to-z claim rate (by order date) over the latest ODR window per store and marketplace, channels together.
CREATE VIEW kpi.claims_60d AS
SELECT r.store_id, r.marketplace, max(r.window_start) AS window_start, r.window_end,
       sum(r.orders) AS orders,
       sum(r.a_to_z_claims) AS a_to_z_claims,
       sum(r.negative_feedback) AS negative_feedback,
       sum(r.defective_orders) AS defective_orders,
       round(sum(r.defective_orders)::numeric / nullif(sum(r.orders), 0), 5) AS order_defect_rate,
       round(sum(r.a_to_z_claims)::numeric / nullif(sum(r.orders), 0), 5) AS a_to_z_claim_rate
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

-- Our ODR and A-to-z claim rate against Amazon's own (raw.seller_performance, 0017) for the same
-- window (Amazon's reportingDateRange, UTC days) and fulfilment channel. Written by seller_inbox.kpi.
CREATE TABLE kpi.reconciliation (
    store_id                    text        NOT NULL,
    marketplace                 text        NOT NULL,
    fulfillment_channel         text        NOT NULL,   -- AFN / MFN
    window_start                date        NOT NULL,   -- Amazon's window, UTC days
    window_end                  date        NOT NULL,
    amazon_orders               integer,
    amazon_a_to_z_claims        integer,
    amazon_negative_feedback    integer,
    amazon_chargebacks          integer,
    amazon_defective_orders     integer,
    amazon_order_defect_rate    numeric(8,5),
    amazon_a_to_z_claim_rate    numeric(8,5),
    our_orders                  integer     NOT NULL,
    our_a_to_z_claims           integer     NOT NULL,
    our_negative_feedback       integer     NOT NULL,
    our_defective_orders        integer     NOT NULL,
    our_order_defect_rate       numeric(8,5),
    our_a_to_z_claim_rate       numeric(8,5),
    odr_difference              numeric(8,5),           -- ours − Amazon's
    a_to_z_claim_rate_difference numeric(8,5),          -- ours − Amazon's
    tolerance                   numeric(8,5) NOT NULL,
    flagged                     boolean     NOT NULL,   -- a difference beyond the tolerance
    computed_at                 timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store_id, marketplace, fulfillment_channel, window_start, window_end)
);
COMMENT ON TABLE kpi.reconciliation IS 'Our Order Defect Rate and A-to-z claim rate (kpi.order_defects) against Amazon''s performance report for the same window and fulfilment channel, with the differences and a flag beyond the tolerance (docs/kpis.md).';
COMMENT ON COLUMN kpi.reconciliation.amazon_a_to_z_claim_rate IS 'claims.count / orderCount of Amazon''s report (Amazon counts only claims not denied)';
COMMENT ON COLUMN kpi.reconciliation.our_order_defect_rate IS 'our defective orders (A-to-z notice or negative feedback; no chargebacks) / our orders purchased in Amazon''s window';
COMMENT ON COLUMN kpi.reconciliation.flagged IS 'abs(odr_difference) or abs(a_to_z_claim_rate_difference) > tolerance (metrics.RECONCILE_TOLERANCE); the KPI gate warns and alerts';

-- The kpi task finds the days a run's replies changed by first_reply_at (benchmarks/bench_kpi.py).
CREATE INDEX IF NOT EXISTS message_store_first_reply ON core.message (store_id, first_reply_at) WHERE kind = 'buyer_message';
