-- 0400 a store never goes quiet: which intervals each source covered, and every gate result kept.

-- One row per (store, source, interval) that a run read completely. A missing row inside a
-- store's active time is a gap (a scheduler outage, a failed branch): ops.ingest_gaps lists them.
CREATE TABLE IF NOT EXISTS ops.ingest_coverage (
    store_id        text        NOT NULL,
    source          text        NOT NULL,   -- mail, orders
    interval_start  timestamptz NOT NULL,
    interval_end    timestamptz NOT NULL,
    rows_loaded     integer     NOT NULL DEFAULT 0,
    run_id          text,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store_id, source, interval_start, interval_end),
    CHECK (interval_end > interval_start)
);
COMMENT ON TABLE ops.ingest_coverage IS 'intervals of each store and source (mail, orders) that a run read completely; gaps between them were never read';
COMMENT ON COLUMN ops.ingest_coverage.rows_loaded IS 'mails stored / orders loaded by that run (0 is a real, complete, quiet interval)';

-- Gaps: stretches between the first and last covered instant of a store and source that no
-- covered interval spans.
CREATE OR REPLACE VIEW ops.ingest_gaps AS
WITH c AS (
    SELECT store_id, source, interval_start, interval_end,
           max(interval_end) OVER (PARTITION BY store_id, source ORDER BY interval_start, interval_end
                                   ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS covered_until
    FROM ops.ingest_coverage
)
SELECT store_id, source, covered_until AS gap_start, interval_start AS gap_end,
       interval_start - covered_until AS gap_length
FROM c WHERE covered_until IS NOT NULL AND interval_start > covered_until;
COMMENT ON VIEW ops.ingest_gaps IS 'stretches of time no run read, per store and source; fill with seller-inbox backfill or airflow backfill create';

-- Every expectation of every gate run: what analysts chart to see data quality over time.
CREATE TABLE IF NOT EXISTS ops.dq_results (
    store_id        text        NOT NULL,
    stage           text        NOT NULL,   -- ingest_mail, ingest_orders, classify, act, kpi
    interval_start  timestamptz NOT NULL,
    interval_end    timestamptz NOT NULL,
    batch           text        NOT NULL,
    expectation     text        NOT NULL,   -- GX class name and column, e.g. ExpectColumnValuesToBeInSet(marketplace)
    level           text        NOT NULL,   -- error (fails the gate), quarantine (rows set aside), warn
    success         boolean     NOT NULL,
    unexpected_count integer,
    observed_value  jsonb,
    evaluated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store_id, stage, interval_start, interval_end, batch, expectation)
);
COMMENT ON TABLE ops.dq_results IS 'one row per expectation per gate run (latest evaluation of that interval); success=false with level quarantine means rows were set aside, not that the store stopped';

-- Rows a gate set aside: the row's key, the expectation that caught it, and its level.
CREATE TABLE IF NOT EXISTS ops.dq_quarantine (
    store_id        text        NOT NULL,
    stage           text        NOT NULL,
    batch           text        NOT NULL,
    row_key         text        NOT NULL,   -- message id / order id
    expectation     text        NOT NULL,
    interval_start  timestamptz NOT NULL,
    interval_end    timestamptz NOT NULL,
    quarantined_at  timestamptz NOT NULL DEFAULT now(),
    released_at     timestamptz,
    PRIMARY KEY (store_id, stage, batch, row_key)
);
COMMENT ON TABLE ops.dq_quarantine IS 'rows a data-quality gate took out of the flow (row-level defects); the rest of the batch went on. released_at: put back by seller-inbox quarantine release';

-- A failing task is one incident from its first final failure until it next succeeds: one
-- alert when it opens, one recovery notice when it clears, however many runs fail between.
CREATE TABLE IF NOT EXISTS ops.incident (
    store_id        text        NOT NULL,
    incident_key    text        NOT NULL,   -- <dag id>.<task id>
    opened_at       timestamptz NOT NULL DEFAULT now(),
    last_failed_at  timestamptz NOT NULL DEFAULT now(),
    failures        integer     NOT NULL DEFAULT 1,
    last_error      text,
    cause           text,                   -- exception class of the first failure
    last_run_id     text,
    resolved_at     timestamptz,
    PRIMARY KEY (store_id, incident_key, opened_at)
);
CREATE UNIQUE INDEX IF NOT EXISTS incident_open ON ops.incident (store_id, incident_key) WHERE resolved_at IS NULL;
COMMENT ON TABLE ops.incident IS 'task failures per store: opened by a final task failure, resolved by the next success of that task; each opening and resolution is alerted once';
