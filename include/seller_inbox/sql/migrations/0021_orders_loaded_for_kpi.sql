-- 0021 every order loaded or changed counts in the next KPI run, whatever its LastUpdateDate
-- (docs/kpis.md, "Which days a run recomputes"). The act stage loads orders a buyer names with
-- getOrder, often with a LastUpdateDate weeks before the run's interval: the KPI run found its
-- days from last_update_date in the interval only and never counted them. raw.orders.loaded_at
-- (set on insert and when a newer LastUpdateDate rewrites the row: a rerun leaves it) now tells
-- the KPI run what came in since the last one; written by seller_inbox.orders.
CREATE INDEX IF NOT EXISTS orders_store_loaded ON raw.orders (store_id, loaded_at);
COMMENT ON COLUMN raw.orders.loaded_at IS 'when the row was inserted or last changed (a newer LastUpdateDate; any writer: orders windows, the act stage''s getOrder). A rerun that changes nothing leaves it. The KPI run recomputes the purchase day of every order loaded since the last one (ops.kpi_orders_seen)';

CREATE TABLE IF NOT EXISTS ops.kpi_orders_seen (
    store_id      text        NOT NULL,
    marketplace   text        NOT NULL,
    loaded_until  timestamptz NOT NULL,
    PRIMARY KEY (store_id, marketplace)
);
COMMENT ON TABLE ops.kpi_orders_seen IS 'Per store and marketplace, the latest raw.orders.loaded_at a KPI run has recomputed the purchase day of. Written by seller_inbox.kpi.';
COMMENT ON COLUMN ops.kpi_orders_seen.store_id IS 'store (registry id)';
COMMENT ON COLUMN ops.kpi_orders_seen.marketplace IS 'marketplace code (US, DE, ...)';
COMMENT ON COLUMN ops.kpi_orders_seen.loaded_until IS 'latest raw.orders.loaded_at seen; the next run reads orders loaded after it minus kpi.LOADED_SLACK (a writer''s transaction that began earlier and committed later is still seen); moves only forward, so a rerun leaves it';
