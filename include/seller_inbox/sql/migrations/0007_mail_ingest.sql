-- 0200 mail ingestion: indexes for idempotent re-reads, threading and reply links.

-- "already stored?" look-ups by mailbox position (uidvalidity:uid or Maildir name)
CREATE INDEX IF NOT EXISTS mail_message_source_ref ON raw.mail_message (store_id, source, source_ref);
-- seller replies found by the message they answer
CREATE INDEX IF NOT EXISTS message_in_reply_to ON core.message (store_id, in_reply_to) WHERE in_reply_to IS NOT NULL;
-- replies without order id go to the buyer alias's latest thread
CREATE INDEX IF NOT EXISTS message_alias_received ON core.message (store_id, buyer_alias_hash, received_at)
    WHERE buyer_alias_hash IS NOT NULL;
-- reply links and thread stats are recomputed per thread
CREATE INDEX IF NOT EXISTS message_thread_received ON core.message (thread_id, received_at);

COMMENT ON COLUMN raw.mail_message.source IS 'imap:<folder> or maildir:<folder> the mail was read from';
COMMENT ON COLUMN raw.mail_message.source_ref IS 'uidvalidity:uid (IMAP) or the Maildir unique file name';
COMMENT ON COLUMN raw.mail_message.parsed IS 'redacted parse result (seller_inbox.mail.parser.ParsedMail.to_dict); never the raw mail';
COMMENT ON COLUMN core.message.buyer_alias_hash IS 'HMAC-SHA256 (per-installation salt) of the buyer relay alias, lower-cased, +suffix dropped';
COMMENT ON COLUMN core.message.body_text IS 'only what the sender wrote (no Amazon footer, links or quoted history), redacted, capped at 20,000 chars';
COMMENT ON COLUMN core.message.sla_due_at IS 'buyer messages: received_at + 24 h (Amazon contact response time, weekends included)';
COMMENT ON COLUMN core.message.first_reply_at IS 'buyer messages: receive time of the first later seller_reply in the thread (auto-replies never count)';
COMMENT ON COLUMN core.message.reply_message_id IS 'buyer messages: Message-ID of that first later seller reply';
COMMENT ON COLUMN core.message.no_response_needed IS 'the seller marked the message "no response needed" ($NoResponseNeeded keyword in the mailbox)';
COMMENT ON COLUMN core.thread.status IS 'open (a buyer message awaits a reply), answered, no_response_needed (every buyer message so marked)';
COMMENT ON TABLE ops.ingest_watermark IS 'per store and mail folder: UIDVALIDITY and highest UID stored (advanced in the same transaction as the batch)';
COMMENT ON TABLE ops.quarantine IS 'mails that could not be parsed, with the reason; source_ref = <source>/<uidvalidity:uid or file name>';
