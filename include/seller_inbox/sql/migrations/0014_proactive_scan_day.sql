-- 0502 delivery, the daily proactive-message scan of the deliver DAG (docs/delivery.md): like the
-- review-request scan (0501), once per store and local day after 08:00 in the store's first
-- marketplace, for stores whose registry `proactive` list opts in. A scan Amazon cut short is
-- tried again later.
CREATE TABLE ops.proactive_scan_day (
    store_id     text        NOT NULL,
    local_day    date        NOT NULL,            -- the day in the store's first marketplace's zone
    complete     boolean     NOT NULL,            -- false: some orders were deferred; scanned again after an hour
    counts       jsonb       NOT NULL,            -- what scan_proactive returned
    scanned_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store_id, local_day)
);
COMMENT ON TABLE ops.proactive_scan_day IS 'One proactive-message scan per store and local day (the deliver DAG''s review_scan task).';
