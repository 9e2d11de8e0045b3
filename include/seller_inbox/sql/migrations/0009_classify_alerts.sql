-- 0300 classification and alerts: retry bookkeeping on the alert log, indexes for the
-- classify / alert look-ups, documented columns.

ALTER TABLE ops.alert_log ADD COLUMN IF NOT EXISTS attempts integer NOT NULL DEFAULT 1;
ALTER TABLE ops.alert_log ADD COLUMN IF NOT EXISTS updated_at timestamptz NOT NULL DEFAULT now();

-- failed / interrupted deliveries are retried by the next dispatch
CREATE INDEX IF NOT EXISTS alert_log_open ON ops.alert_log (store_id, status, created_at)
    WHERE status IN ('failed', 'sending', 'pending');
-- high-risk messages of a window; unanswered buyer messages for SLA reminders
CREATE INDEX IF NOT EXISTS message_store_risk ON core.message (store_id, risk, received_at)
    WHERE direction = 'inbound';
CREATE INDEX IF NOT EXISTS message_unanswered ON core.message (store_id, received_at)
    WHERE direction = 'inbound' AND first_reply_at IS NULL AND NOT no_response_needed;

COMMENT ON COLUMN ops.alert_log.status IS 'sending (claimed, delivery in progress), sent, failed (retried by later dispatches up to 5 attempts within 48 h), pending (queued by another component)';
COMMENT ON COLUMN ops.alert_log.channel IS 'log, wecom, dingtalk, slack, email (a second channel of the same type in one store: <type>:<conn_id>)';
COMMENT ON COLUMN ops.alert_log.payload IS 'what was (or will be) sent: rendered title and text plus the facts (message id, order id, intent, risk, SLA due)';
COMMENT ON COLUMN ops.alert_log.attempts IS 'delivery attempts so far';
COMMENT ON COLUMN core.message.intent IS 'taxonomy.md intent (one of 15), by precedence when a message asks several things';
COMMENT ON COLUMN core.message.risk IS 'high / medium / low per taxonomy.md (intent floor, multilingual risk lexicon, shouting)';
COMMENT ON COLUMN core.message.language IS 'ISO 639-1 of the body; kana = ja; Han-only or very short text = the marketplace language';
COMMENT ON COLUMN core.message.confidence IS 'probability of the chosen intent (0.99 when a sender/header rule decided)';
COMMENT ON COLUMN core.message.low_confidence IS 'true: confidence below the threshold; auto mode must not act on this message';
COMMENT ON COLUMN core.message.classifier_version IS 'pipeline+lexicon+model fingerprint; a different value makes classify redo the row';
