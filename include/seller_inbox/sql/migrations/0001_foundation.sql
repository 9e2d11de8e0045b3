-- 0001 foundation: the four schemas and the tables every stage writes.
-- One grain per table; primary keys on natural keys so rerunning an interval changes nothing.
-- Buyer personal data never lands here: texts are redacted, buyer aliases hashed.

CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS core;
CREATE SCHEMA IF NOT EXISTS kpi;
CREATE SCHEMA IF NOT EXISTS ops;

-- raw: what came in, as parsed (redacted), one row per store and Message-ID.
CREATE TABLE raw.mail_message (
    store_id        text        NOT NULL,
    message_id      text        NOT NULL,
    source          text        NOT NULL,            -- 'imap:<folder>' or 'maildir:<folder>'
    source_ref      text,                              -- uidvalidity:uid or file name
    received_at     timestamptz NOT NULL,
    kind            text        NOT NULL,            -- buyer_message, seller_reply, amazon_notice, auto_reply, unknown
    subject         text,                              -- redacted
    parsed          jsonb       NOT NULL,            -- redacted parse result (no raw mail)
    size_bytes      integer,
    ingested_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store_id, message_id)
);
COMMENT ON TABLE raw.mail_message IS 'One row per store and Message-ID: the redacted parse of every mail taken in.';

-- raw: orders from the Orders API, one row per order; items one row per order item.
CREATE TABLE raw.orders (
    amazon_order_id         text        PRIMARY KEY,
    store_id                text        NOT NULL,
    marketplace             text        NOT NULL,
    order_status            text        NOT NULL,
    fulfillment_channel     text,                       -- AFN (FBA) or MFN
    purchase_date           timestamptz NOT NULL,
    last_update_date        timestamptz NOT NULL,
    earliest_ship_date      timestamptz,
    latest_ship_date        timestamptz,
    earliest_delivery_date  timestamptz,
    latest_delivery_date    timestamptz,
    order_total             numeric(14,2),
    currency                text,
    items_shipped           integer,
    items_unshipped         integer,
    loaded_at               timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_store_purchase ON raw.orders (store_id, purchase_date);
COMMENT ON TABLE raw.orders IS 'One row per Amazon order (Orders API); no buyer personal data.';

CREATE TABLE raw.order_items (
    amazon_order_id text    NOT NULL REFERENCES raw.orders ON DELETE CASCADE,
    order_item_id   text    NOT NULL,
    asin            text    NOT NULL,
    seller_sku      text,
    title           text,
    quantity        integer NOT NULL,
    PRIMARY KEY (amazon_order_id, order_item_id)
);

-- raw: Amazon's own performance figures (GET_V2_SELLER_PERFORMANCE_REPORT).
CREATE TABLE raw.seller_performance (
    store_id            text    NOT NULL,
    marketplace         text    NOT NULL,
    fulfillment         text    NOT NULL,               -- afn / mfn
    window_start        date    NOT NULL,
    window_end          date    NOT NULL,
    order_count         integer,
    claims_count        integer,
    chargebacks_count   integer,
    negative_feedback_count integer,
    order_defect_rate   numeric(8,5),
    target_value        numeric(8,5),
    loaded_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store_id, marketplace, fulfillment, window_end)
);

-- core: threads (one per store, buyer alias hash and order id).
CREATE TABLE core.thread (
    thread_id               text        PRIMARY KEY,  -- stable hash of store, alias hash, order id
    store_id                text        NOT NULL,
    marketplace             text,
    buyer_alias_hash        text,
    order_id                text,
    first_buyer_message_at  timestamptz,
    first_seller_reply_at   timestamptz,
    last_message_at         timestamptz,
    message_count           integer     NOT NULL DEFAULT 0,
    status                  text        NOT NULL DEFAULT 'open'  -- open, answered, no_response_needed
);
CREATE INDEX thread_store ON core.thread (store_id, first_buyer_message_at);

-- core: one row per message (buyer messages, seller replies, Amazon notices, auto-replies).
CREATE TABLE core.message (
    store_id            text        NOT NULL,
    message_id          text        NOT NULL,
    thread_id           text        REFERENCES core.thread,
    kind                text        NOT NULL,
    direction           text        NOT NULL,          -- inbound / outbound
    marketplace         text,
    order_id            text,
    asin                text,
    buyer_alias_hash    text,
    in_reply_to         text,
    topic               text,
    subject             text,                           -- redacted
    body_text           text,                           -- redacted, capped
    language_hint       text,
    attachments         jsonb       NOT NULL DEFAULT '[]',
    received_at         timestamptz NOT NULL,
    no_response_needed  boolean     NOT NULL DEFAULT false,
    -- classification (stage classify)
    intent              text,
    risk                text,
    language            text,
    confidence          real,
    low_confidence      boolean,
    classifier_version  text,
    classified_at       timestamptz,
    -- SLA (24 h clock, weekends included)
    sla_due_at          timestamptz,
    first_reply_at      timestamptz,
    reply_message_id    text,
    PRIMARY KEY (store_id, message_id)
);
CREATE INDEX message_store_received ON core.message (store_id, received_at);
CREATE INDEX message_order ON core.message (order_id);
COMMENT ON TABLE core.message IS 'One row per mail message per store, redacted, with its classification and SLA.';

-- core: everything we may send, keyed by an idempotency key so no rerun sends twice.
CREATE TABLE core.outbox (
    idempotency_key     text        PRIMARY KEY,
    store_id            text        NOT NULL,
    message_id          text,                           -- inbound message answered, if any
    order_id            text,
    action              text        NOT NULL,           -- reply, follow_up, solicitation
    template            text,
    locale              text,
    subject             text,
    body                text,
    mode                text        NOT NULL,           -- draft / auto
    status              text        NOT NULL,           -- pending_approval, approved, rejected, sent, failed, blocked, skipped
    status_reason       text,
    lint_findings       jsonb       NOT NULL DEFAULT '[]',
    created_at          timestamptz NOT NULL DEFAULT now(),
    decided_at          timestamptz,
    decided_by          text,
    sent_at             timestamptz,
    attempts            integer     NOT NULL DEFAULT 0
);
CREATE INDEX outbox_store_status ON core.outbox (store_id, status);

-- kpi: daily per store and marketplace, marketplace-local calendar day.
CREATE TABLE kpi.store_daily (
    store_id                text        NOT NULL,
    marketplace             text        NOT NULL,
    day                     date        NOT NULL,
    buyer_messages          integer     NOT NULL,
    needing_response        integer     NOT NULL,
    responded               integer     NOT NULL,
    responded_within_24h    integer     NOT NULL,
    late_responses          integer     NOT NULL,
    pending_within_sla      integer     NOT NULL,
    avg_response_minutes    numeric(10,1),
    median_response_minutes numeric(10,1),
    late_response_rate      numeric(6,4),
    high_risk_messages      integer     NOT NULL,
    wismo_messages          integer     NOT NULL,
    wismo_share             numeric(6,4),
    orders                  integer     NOT NULL,
    a_to_z_claims           integer     NOT NULL,
    a_to_z_claim_rate       numeric(8,5),
    computed_at             timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store_id, marketplace, day)
);

-- ops: runtime state.
CREATE TABLE ops.store_auth (
    store_id                    text        PRIMARY KEY,
    status                      text        NOT NULL,   -- ok, revoked, error, unknown
    last_success_at             timestamptz,
    last_error_at               timestamptz,
    last_error                  text,
    authorized_at               date,
    days_until_reauth           integer,
    client_secret_created_at    date,
    client_secret_age_days      integer,
    checked_at                  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ops.api_calls (
    id          bigserial   PRIMARY KEY,
    store_id    text        NOT NULL,
    operation   text        NOT NULL,
    status      integer,                -- HTTP status; NULL for a transport error
    latency_ms  integer,
    attempt     integer     NOT NULL DEFAULT 1,
    outcome     text        NOT NULL,   -- ok, throttled, retry, error
    called_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_calls_store_time ON ops.api_calls (store_id, called_at);

CREATE TABLE ops.ingest_watermark (
    store_id        text    NOT NULL,
    source          text    NOT NULL,   -- e.g. imap:INBOX
    uidvalidity     bigint,
    last_uid        bigint,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store_id, source)
);

CREATE TABLE ops.quarantine (
    store_id        text        NOT NULL,
    source_ref      text        NOT NULL,   -- folder + uid, or file path
    message_id      text,
    reason          text        NOT NULL,
    quarantined_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store_id, source_ref)
);

CREATE TABLE ops.gate_run (
    id                  bigserial   PRIMARY KEY,
    store_id            text        NOT NULL,
    stage               text        NOT NULL,   -- ingest, classify, act, kpi
    interval_start      timestamptz NOT NULL,
    interval_end        timestamptz NOT NULL,
    success             boolean     NOT NULL,
    rows_checked        integer     NOT NULL,
    failed_expectations jsonb       NOT NULL DEFAULT '[]',
    failing_rows        jsonb       NOT NULL DEFAULT '[]',  -- sample of failing rows (keys + values)
    run_id              text,
    evaluated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX gate_run_store ON ops.gate_run (store_id, stage, evaluated_at);

-- one alert per subject, kind and channel, ever: the log is the exactly-once guard.
CREATE TABLE ops.alert_log (
    store_id        text        NOT NULL,
    alert_kind      text        NOT NULL,   -- high_risk, sla_12h, sla_20h, auth_revoked, reauth_due, secret_rotation, gate_failed
    subject_key     text        NOT NULL,   -- message id, or another stable key of what the alert is about
    channel         text        NOT NULL,   -- log, wecom, dingtalk, slack, email
    status          text        NOT NULL,   -- sent, failed
    payload         jsonb       NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    error           text,
    PRIMARY KEY (store_id, alert_kind, subject_key, channel)
);
