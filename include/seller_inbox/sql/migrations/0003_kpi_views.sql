-- Views for the questions analysts ask most. Documented in docs/data-dictionary.md.

-- Late response rate and average response time over Amazon's 7/30/90-day windows, per store.
CREATE VIEW kpi.response_windows AS
SELECT s.store_id, s.marketplace, w.days AS window_days,
       sum(s.buyer_messages) AS buyer_messages,
       sum(s.needing_response) AS needing_response,
       sum(s.late_responses) AS late_responses,
       round(sum(s.late_responses)::numeric / nullif(sum(s.needing_response - s.pending_within_sla), 0), 4) AS late_response_rate,
       round(sum(s.avg_response_minutes * s.responded) / nullif(sum(s.responded) FILTER (WHERE s.avg_response_minutes IS NOT NULL), 0), 1) AS avg_response_minutes
FROM kpi.store_daily s
CROSS JOIN (VALUES (7), (30), (90)) AS w(days)
WHERE s.day > current_date - w.days
GROUP BY s.store_id, s.marketplace, w.days;

-- A-to-z claim rate over Amazon's 60-day ODR window, from notices and orders we saw.
CREATE VIEW kpi.claims_60d AS
SELECT store_id, marketplace,
       sum(orders) AS orders, sum(a_to_z_claims) AS a_to_z_claims,
       round(sum(a_to_z_claims)::numeric / nullif(sum(orders), 0), 5) AS a_to_z_claim_rate
FROM kpi.store_daily
WHERE day > current_date - 60
GROUP BY store_id, marketplace;

-- Open buyer messages with their SLA clock, most urgent first (what an agent works from).
CREATE VIEW core.open_messages AS
SELECT store_id, marketplace, message_id, order_id, intent, risk, language, received_at, sla_due_at,
       round(extract(epoch FROM (sla_due_at - now())) / 3600, 1) AS hours_left
FROM core.message
WHERE kind = 'buyer_message' AND first_reply_at IS NULL AND NOT no_response_needed
ORDER BY sla_due_at;
