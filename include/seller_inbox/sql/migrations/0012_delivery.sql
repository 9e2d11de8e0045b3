-- 0500 delivery: core.outbox becomes a state machine drained by the per-store deliver DAG
-- (docs/delivery.md). The buyer's relay alias is kept only encrypted, per thread, and deleted
-- once the thread is closed or after 30 days. Kill switches can be flipped without the YAML.

ALTER TABLE core.outbox
    ADD COLUMN channel          text        NOT NULL DEFAULT 'smtp',  -- smtp, messaging, solicitations
    ADD COLUMN thread_id        text,                                 -- buyer thread of a reply
    ADD COLUMN marketplace      text,                                 -- quiet hours use its time zone
    ADD COLUMN outbound_id      text,                                 -- Message-ID / API request id, chosen before calling out
    ADD COLUMN in_reply_to      text,                                 -- Message-ID answered (replies)
    ADD COLUMN thread_references text,                                -- References header (space-separated Message-IDs)
    ADD COLUMN held_until       timestamptz,                          -- held: when it may go (NULL: re-checked every run)
    ADD COLUMN expires_at       timestamptz,                          -- after this it is never sent (expired)
    ADD COLUMN next_attempt_at  timestamptz,                          -- retry after a temporary failure (SMTP 4xx)
    ADD COLUMN sending_at       timestamptz,                          -- when the send was claimed
    ADD COLUMN last_error       text,
    ADD COLUMN original_body    text,                                 -- text as drafted, when a reviewer edited it
    ADD COLUMN updated_at       timestamptz NOT NULL DEFAULT now();

ALTER TABLE core.outbox ADD CONSTRAINT outbox_channel CHECK (channel IN ('smtp', 'messaging', 'solicitations'));
ALTER TABLE core.outbox ADD CONSTRAINT outbox_status CHECK (status IN (
    'shadow', 'pending_approval', 'queued', 'approved', 'held', 'sending', 'sent',
    'failed', 'expired', 'blocked', 'rejected', 'skipped'));
CREATE UNIQUE INDEX outbox_outbound_id ON core.outbox (outbound_id) WHERE outbound_id IS NOT NULL;
CREATE INDEX outbox_due ON core.outbox (store_id, status, held_until)
    WHERE status IN ('queued', 'approved', 'held', 'sending', 'pending_approval');
CREATE INDEX outbox_order_sent ON core.outbox (store_id, order_id) WHERE status = 'sent';
CREATE INDEX outbox_sent_at ON core.outbox (store_id, sent_at) WHERE status = 'sent';
COMMENT ON TABLE core.outbox IS 'Everything we may send to a buyer, one row per idempotency key; only the deliver DAG sends (docs/delivery.md).';

-- the buyer's relay alias, encrypted (Fernet, keys in the seller_inbox_crypto connection); never in clear
CREATE TABLE core.thread_alias (
    thread_id       text        PRIMARY KEY,
    store_id        text        NOT NULL,
    alias_enc       text        NOT NULL,          -- Fernet token of the relay address
    remembered_at   timestamptz NOT NULL DEFAULT now(),
    delete_after    timestamptz NOT NULL            -- remembered_at + 30 days
);
CREATE INDEX thread_alias_store ON core.thread_alias (store_id, delete_after);
COMMENT ON TABLE core.thread_alias IS 'Encrypted buyer relay alias per thread, for replies; deleted when the thread is closed or after 30 days.';

-- buyers who opted out of messages (an Amazon bounce): nothing more is sent to them
CREATE TABLE core.buyer_opt_out (
    store_id         text        NOT NULL,
    buyer_alias_hash text        NOT NULL,
    reason           text        NOT NULL,
    noted_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store_id, buyer_alias_hash)
);

-- kill switches flippable from the UI and the CLI (scope 'global' or a store id), with an audit log
CREATE TABLE ops.delivery_control (
    scope        text        PRIMARY KEY,
    kill_switch  boolean     NOT NULL,
    changed_by   text        NOT NULL,
    reason       text,
    changed_at   timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE ops.delivery_control_log (
    id           bigserial   PRIMARY KEY,
    scope        text        NOT NULL,
    kill_switch  boolean     NOT NULL,
    changed_by   text        NOT NULL,
    reason       text,
    changed_at   timestamptz NOT NULL DEFAULT now()
);
