-- 0100 SP-API: shared client-side token buckets, richer call log, auth state and order columns.

-- One token bucket per store and operation, shared by every task/worker of that store.
-- Reservation model: a caller takes a token even when none is left (tokens goes negative)
-- and waits -tokens/rate seconds; the refill uses the database clock, one clock for all workers.
CREATE TABLE IF NOT EXISTS ops.api_bucket (
    store_id    text             NOT NULL,
    operation   text             NOT NULL,
    tokens      double precision NOT NULL,
    updated_at  timestamptz      NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (store_id, operation)
);
COMMENT ON TABLE ops.api_bucket IS 'Client-side SP-API token bucket per store and operation (rate/burst from the usage plans), shared by all tasks of a store.';

ALTER TABLE ops.api_calls ADD COLUMN IF NOT EXISTS error_code text;
ALTER TABLE ops.api_calls ADD COLUMN IF NOT EXISTS waited_ms integer;   -- time spent waiting for a bucket token
CREATE INDEX IF NOT EXISTS api_calls_store_op_time ON ops.api_calls (store_id, operation, called_at);
COMMENT ON TABLE ops.api_calls IS 'One row per SP-API/LWA attempt: outcome ok, throttled (429), retry (5xx/timeout, retried) or error (final).';

ALTER TABLE ops.store_auth ADD COLUMN IF NOT EXISTS seller_id text;
ALTER TABLE ops.store_auth ADD COLUMN IF NOT EXISTS revoked_at timestamptz;
ALTER TABLE ops.store_auth ADD COLUMN IF NOT EXISTS access_token_expires_at timestamptz;
ALTER TABLE ops.store_auth ADD COLUMN IF NOT EXISTS reauth_due_on date;
ALTER TABLE ops.store_auth ADD COLUMN IF NOT EXISTS secret_rotation_due_on date;

ALTER TABLE raw.orders ADD COLUMN IF NOT EXISTS marketplace_id text;
ALTER TABLE raw.orders ADD COLUMN IF NOT EXISTS sales_channel text;
ALTER TABLE raw.orders ADD COLUMN IF NOT EXISTS ship_service_level text;
ALTER TABLE raw.orders ADD COLUMN IF NOT EXISTS is_prime boolean;
ALTER TABLE raw.orders ADD COLUMN IF NOT EXISTS is_business_order boolean;
ALTER TABLE raw.order_items ADD COLUMN IF NOT EXISTS quantity_shipped integer;
ALTER TABLE raw.order_items ADD COLUMN IF NOT EXISTS item_price numeric(14,2);
CREATE INDEX IF NOT EXISTS orders_store_updated ON raw.orders (store_id, last_update_date);

-- One row per store and ingested window: what an orders run saw (for backfill audits).
CREATE TABLE IF NOT EXISTS ops.orders_window (
    store_id        text        NOT NULL,
    window_start    timestamptz NOT NULL,
    window_end      timestamptz NOT NULL,
    orders          integer     NOT NULL,
    items           integer     NOT NULL,
    pages           integer     NOT NULL,
    finished_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store_id, window_start, window_end)
);
