-- The consent check a message passed when it was queued, on the clock that dated the message: which consent
-- allowed it, and when it was read. A withdrawal dated before consent_checked_at would have stopped the send.
ALTER TABLE messages ADD COLUMN consent_id text;
ALTER TABLE messages ADD COLUMN consent_checked_at timestamptz;
