-- 0201 quarantine: what ingestion could not store stays visible (per store and day) and can
-- be re-processed from its mailbox (`seller-inbox quarantine retry`). Never the raw mail.

ALTER TABLE ops.quarantine
    ADD COLUMN IF NOT EXISTS source       text,
    ADD COLUMN IF NOT EXISTS folder_role  text,
    ADD COLUMN IF NOT EXISTS item_ref     text,
    ADD COLUMN IF NOT EXISTS received_at  timestamptz,
    ADD COLUMN IF NOT EXISTS last_seen_at timestamptz,
    ADD COLUMN IF NOT EXISTS attempts     integer NOT NULL DEFAULT 1,
    ADD COLUMN IF NOT EXISTS status       text NOT NULL DEFAULT 'open',
    ADD COLUMN IF NOT EXISTS resolved_at  timestamptz;

-- rows written before 0201: source_ref is '<source>/<item ref>' (an item ref never holds '/')
UPDATE ops.quarantine
   SET source = regexp_replace(source_ref, '/[^/]*$', ''),
       item_ref = regexp_replace(source_ref, '^.*/', ''),
       last_seen_at = quarantined_at
 WHERE source IS NULL;

ALTER TABLE ops.quarantine
    ALTER COLUMN source SET NOT NULL,
    ALTER COLUMN item_ref SET NOT NULL,
    ALTER COLUMN last_seen_at SET DEFAULT now(),
    ALTER COLUMN last_seen_at SET NOT NULL,
    ADD CONSTRAINT quarantine_status CHECK (status IN ('open', 'resolved'));

CREATE INDEX IF NOT EXISTS quarantine_store_status ON ops.quarantine (store_id, status, last_seen_at);

-- per store and UTC day: items first quarantined that day, items resolved that day, and how
-- many of the day's items are still open now
CREATE OR REPLACE VIEW ops.quarantine_daily AS
SELECT store_id, day, sum(opened)::int AS opened, sum(resolved)::int AS resolved, sum(open_now)::int AS open_now
FROM (
    SELECT store_id, (quarantined_at AT TIME ZONE 'UTC')::date AS day, 1 AS opened, 0 AS resolved,
           (status = 'open')::int AS open_now
    FROM ops.quarantine
    UNION ALL
    SELECT store_id, (resolved_at AT TIME ZONE 'UTC')::date, 0, 1, 0
    FROM ops.quarantine WHERE status = 'resolved' AND resolved_at IS NOT NULL
) e
GROUP BY store_id, day;

COMMENT ON TABLE ops.quarantine IS 'mails ingestion could not store (parser or database refused them), with the reason; never the raw mail';
COMMENT ON COLUMN ops.quarantine.source_ref IS '<source>/<item_ref>, the key within a store';
COMMENT ON COLUMN ops.quarantine.source IS 'imap:<folder> or maildir:<folder> the mail was read from';
COMMENT ON COLUMN ops.quarantine.folder_role IS 'inbox or sent (the store''s folder role), for re-parsing';
COMMENT ON COLUMN ops.quarantine.item_ref IS 'uidvalidity:uid (IMAP) or the Maildir unique file name: where retry re-reads it';
COMMENT ON COLUMN ops.quarantine.received_at IS 'the mailbox''s receive time (IMAP INTERNALDATE / Maildir mtime)';
COMMENT ON COLUMN ops.quarantine.reason IS 'why it failed: the parser''s reason or the database error''s first line; redacted, at most 300 chars';
COMMENT ON COLUMN ops.quarantine.quarantined_at IS 'first quarantined';
COMMENT ON COLUMN ops.quarantine.last_seen_at IS 'last attempt that changed the outcome (a retry, or a rerun with a new reason)';
COMMENT ON COLUMN ops.quarantine.attempts IS 'processing attempts: the first, each retry, each rerun that failed with a new reason';
COMMENT ON COLUMN ops.quarantine.status IS 'open, or resolved (stored since: raw.mail_message / core.message hold it)';
COMMENT ON VIEW ops.quarantine_daily IS 'per store and UTC day: quarantined (opened), resolved, and still open of that day';
