-- 0501 delivery, daily work of the deliver DAG (docs/delivery.md): the review-request scan runs
-- once per store and local day (after 08:00 in the store's first marketplace), whatever the
-- number of deliver runs that day. A scan Amazon cut short (throttling) is tried again later.
CREATE TABLE ops.review_scan_day (
    store_id     text        NOT NULL,
    local_day    date        NOT NULL,            -- the day in the store's first marketplace's zone
    complete     boolean     NOT NULL,            -- false: some orders were deferred; scanned again after an hour
    counts       jsonb       NOT NULL,            -- what scan_review_requests returned
    scanned_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store_id, local_day)
);
COMMENT ON TABLE ops.review_scan_day IS 'One review-request scan per store and local day (the deliver DAG''s review_scan task).';
