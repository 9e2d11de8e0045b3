-- Resumable orders reads (docs/spapi.md, "Waiting for tokens"). When a store's SP-API bucket
-- makes ingest_orders wait longer than a few seconds, the task gives its worker slot back
-- (Airflow reschedules it) instead of sleeping in it; what it had read so far is kept here so
-- the next attempt continues from the page it stopped at. One row per store and window while a
-- read is unfinished; deleted when the window is recorded in ops.orders_window.
CREATE TABLE ops.orders_read (
    store_id        text        NOT NULL,
    window_start    timestamptz NOT NULL,
    window_end      timestamptz NOT NULL,     -- the run's interval end
    loaded_until    timestamptz NOT NULL,     -- LastUpdatedBefore asked for (fixed across attempts)
    orders_api      text        NOT NULL,     -- v0 / 2026-01-01
    next_token      text,                     -- NULL: every page read (reading complete)
    pages           integer     NOT NULL,
    followed        jsonb       NOT NULL,     -- page tokens already followed (a repeat is an API bug)
    page_sizes_sum  integer     NOT NULL,
    iterated        integer     NOT NULL,
    orders          jsonb       NOT NULL,     -- the orders read so far, by order id (API payloads, no buyer PII requested)
    attempts        integer     NOT NULL DEFAULT 1,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store_id, window_start, window_end)
);
COMMENT ON TABLE ops.orders_read IS 'An orders window read in progress across rescheduled attempts (bucket waits); deleted once the window is recorded in ops.orders_window.';

COMMENT ON COLUMN ops.api_calls.outcome IS 'ok, throttled (429), retry (5xx/timeout, retried), error (final), or deferred: the bucket had no token for longer than a few seconds, so the task gave its worker slot back and was rescheduled (waited_ms: for how long); no request was sent.';
