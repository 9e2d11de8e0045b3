-- Amazon's own figures per store (docs/performance-report.md): the requests of the reports,
-- the V2 performance report's ODR per marketplace, fulfilment channel and window, and the
-- seller feedback report. Written by seller_inbox.reports (requests / load).

-- raw.seller_performance existed empty since 0001; the report fills it. Channel in the
-- Orders API's spelling (AFN / MFN) so it joins raw.orders.fulfillment_channel.
ALTER TABLE raw.seller_performance
    ADD COLUMN defects_count     integer,
    ADD COLUMN status            text,
    ADD COLUMN target_condition  text,
    ADD COLUMN report_id         text,
    ADD CONSTRAINT seller_performance_fulfillment CHECK (fulfillment IN ('AFN', 'MFN')),
    ADD CONSTRAINT seller_performance_counts CHECK (
        order_count >= 0 AND claims_count >= 0 AND chargebacks_count >= 0 AND negative_feedback_count >= 0
        AND defects_count >= 0);
ALTER TABLE raw.seller_performance DROP CONSTRAINT seller_performance_pkey;
ALTER TABLE raw.seller_performance ADD PRIMARY KEY (store_id, marketplace, fulfillment, window_start, window_end);

COMMENT ON TABLE raw.seller_performance IS
    'Amazon''s Order Defect Rate as GET_V2_SELLER_PERFORMANCE_REPORT states it: one row per store, marketplace, fulfilment channel and reporting window (docs/performance-report.md).';
COMMENT ON COLUMN raw.seller_performance.marketplace IS 'marketplace code (DE, US…) of the report''s marketplaceId';
COMMENT ON COLUMN raw.seller_performance.fulfillment IS 'AFN (fulfilled by Amazon) or MFN (by the merchant): the report''s orderDefectRate.afn / .mfn';
COMMENT ON COLUMN raw.seller_performance.window_start IS 'first UTC day of reportingDateRange (reportingDateFrom)';
COMMENT ON COLUMN raw.seller_performance.window_end IS 'last UTC day of reportingDateRange (reportingDateTo); about 14 days before the report date';
COMMENT ON COLUMN raw.seller_performance.order_count IS 'orderCount: orders in the window, as Amazon counts them';
COMMENT ON COLUMN raw.seller_performance.defects_count IS 'orderWithDefects.count: orders with at least one defect (an order with two defects counts once)';
COMMENT ON COLUMN raw.seller_performance.claims_count IS 'claims.count: orders with an A-to-z Guarantee claim not denied';
COMMENT ON COLUMN raw.seller_performance.chargebacks_count IS 'chargebacks.count: orders with a credit-card chargeback';
COMMENT ON COLUMN raw.seller_performance.negative_feedback_count IS 'negativeFeedback.count: orders with 1- or 2-star seller feedback';
COMMENT ON COLUMN raw.seller_performance.order_defect_rate IS 'rate as Amazon reports it (defects_count / order_count, target below target_value)';
COMMENT ON COLUMN raw.seller_performance.target_value IS 'targetValue (0.01 = 1%)';
COMMENT ON COLUMN raw.seller_performance.target_condition IS 'targetCondition (LESS_THAN)';
COMMENT ON COLUMN raw.seller_performance.status IS 'status of the rate: GOOD, BAD or NONE (no orders)';
COMMENT ON COLUMN raw.seller_performance.report_id IS 'the report whose figures last changed this row';
COMMENT ON COLUMN raw.seller_performance.loaded_at IS 'when the figures last changed (a rerun with the same figures leaves it)';

-- One row per buyer feedback (Amazon allows one per order). No rater e-mail, ever.
CREATE TABLE raw.seller_feedback (
    store_id          text        NOT NULL,
    amazon_order_id   text        NOT NULL,
    marketplace       text        NOT NULL,
    feedback_date     date        NOT NULL,
    rating            smallint    NOT NULL CHECK (rating BETWEEN 1 AND 5),
    negative          boolean     GENERATED ALWAYS AS (rating <= 2) STORED,
    comment           text,
    has_response      boolean     NOT NULL DEFAULT false,
    report_id         text        NOT NULL,
    loaded_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store_id, amazon_order_id)
);
CREATE INDEX seller_feedback_store_date ON raw.seller_feedback (store_id, feedback_date);
COMMENT ON TABLE raw.seller_feedback IS
    'Seller feedback from GET_SELLER_FEEDBACK_DATA: one row per store and order; comments redacted, rater e-mail never stored.';
COMMENT ON COLUMN raw.seller_feedback.amazon_order_id IS 'Order ID column of the report; the order the feedback (and a defect) is dated by';
COMMENT ON COLUMN raw.seller_feedback.marketplace IS 'marketplace code of the report the row came from (the report has no marketplace column: one report per marketplace)';
COMMENT ON COLUMN raw.seller_feedback.feedback_date IS 'Date column: the day the buyer left the feedback';
COMMENT ON COLUMN raw.seller_feedback.rating IS 'Rating column, 1 to 5 stars';
COMMENT ON COLUMN raw.seller_feedback.negative IS 'rating 1 or 2: a negative-feedback order defect (Order Defect Rate)';
COMMENT ON COLUMN raw.seller_feedback.comment IS 'Comments column, redacted (seller_inbox.redaction: [NAME] [PHONE] [EMAIL] [ADDRESS])';
COMMENT ON COLUMN raw.seller_feedback.has_response IS 'the Your Response column is not empty (the response text is not kept)';
COMMENT ON COLUMN raw.seller_feedback.report_id IS 'the report whose row last changed this one';
COMMENT ON COLUMN raw.seller_feedback.loaded_at IS 'when the row last changed';

-- The reports requested from Amazon: what the performance DAG waits for, and how each ended.
CREATE TABLE ops.report_request (
    report_id          text        PRIMARY KEY,
    store_id           text        NOT NULL,
    report_type        text        NOT NULL,
    marketplace        text        NOT NULL,
    run_id             text        NOT NULL,
    data_start         timestamptz,
    data_end           timestamptz,
    requested_at       timestamptz NOT NULL DEFAULT now(),
    processing_status  text        NOT NULL DEFAULT 'IN_QUEUE'
        CHECK (processing_status IN ('IN_QUEUE', 'IN_PROGRESS', 'DONE', 'CANCELLED', 'FATAL')),
    document_id        text,
    finished_at        timestamptz,
    rows_loaded        integer,
    loaded_at          timestamptz
);
CREATE INDEX report_request_run ON ops.report_request (store_id, run_id);
COMMENT ON TABLE ops.report_request IS
    'One row per report requested from Amazon (createReport) by a performance DAG run, with its last processing status.';
COMMENT ON COLUMN ops.report_request.processing_status IS 'IN_QUEUE, IN_PROGRESS, DONE, CANCELLED (no data: recorded, not an error) or FATAL';
COMMENT ON COLUMN ops.report_request.rows_loaded IS 'rows the document held when loaded (0 for a CANCELLED report)';
