-- 0020 reconciliation only where our data covers the comparison (docs/kpis.md, "Reconciliation").
-- A desk that started reading mail and orders a week ago has none of Amazon's 60-day window: such a
-- window is "not comparable yet", never flagged as drift. Written by seller_inbox.kpi.
ALTER TABLE kpi.reconciliation
    ADD COLUMN IF NOT EXISTS report_made_at    timestamptz,
    ADD COLUMN IF NOT EXISTS orders_read_since timestamptz,
    ADD COLUMN IF NOT EXISTS mail_read_since   timestamptz,
    ADD COLUMN IF NOT EXISTS comparable        boolean NOT NULL DEFAULT false;

COMMENT ON COLUMN kpi.reconciliation.report_made_at IS 'when Amazon made the report (ops.report_request.requested_at of the report that gave the figures; else the end of its report day, window_end + 14 days): our claims and negative feedback count up to this moment, as Amazon''s do';
COMMENT ON COLUMN kpi.reconciliation.orders_read_since IS 'start of the stretch of orders read completely (ops.ingest_coverage) that reaches the window''s end; NULL: orders not read up to the window''s end';
COMMENT ON COLUMN kpi.reconciliation.mail_read_since IS 'start of the stretch of mail read completely (ops.ingest_coverage) that reaches report_made_at (claim notices arrive after the order); NULL: mail not read up to the report';
COMMENT ON COLUMN kpi.reconciliation.comparable IS 'our data covers the comparison: orders read completely over the whole window and mail from the window''s start until the report was made. false: "not comparable yet" (never flagged)';
COMMENT ON COLUMN kpi.reconciliation.flagged IS 'comparable, and beyond the tolerance (metrics.RECONCILE_TOLERANCE): abs(a_to_z_claim_rate_difference), our ODR above Amazon''s, or below Amazon''s without its chargebacks (which we cannot see per order); the KPI gate warns and alerts';

-- every row is recomputed by the next KPI run; until then none is called drift
UPDATE kpi.reconciliation SET flagged = false WHERE flagged;

-- Our ODR windows leave cancelled orders out, as Amazon's orderCount does (we assume; the simulator
-- does): counted in, they diluted a 3 % ODR by about 0.2 points, close to the tolerance.
COMMENT ON COLUMN kpi.order_defect_rate.orders IS 'Orders purchased in the window in this fulfilment channel, cancelled ones left out (a cancelled order has no defect; Amazon''s report leaves them out too, we assume). Unit: count. Source: raw.orders (SP-API Orders)';
