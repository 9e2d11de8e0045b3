-- 0301 alerts: when a failed delivery may be tried again. A 429 storm or a used-up send
-- budget leaves the row 'failed' with this time (Retry-After or backoff) instead of a
-- worker sleeping through it; the next dispatch after it sends the alert.

ALTER TABLE ops.alert_log ADD COLUMN IF NOT EXISTS next_attempt_at timestamptz;

COMMENT ON COLUMN ops.alert_log.next_attempt_at IS 'failed rows: not retried before this time (the channel''s Retry-After or a doubling backoff from 30 s); NULL otherwise';
