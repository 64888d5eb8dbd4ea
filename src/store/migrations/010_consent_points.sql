-- Consent per contact point and brand, with double opt-in (README: "Consent").
--
-- contact_point: the email address (lower case) or phone number (digits only, as src/records/normalize.ts writes
--   them) the consent is about; NULL covers the holder's own point for the channel, whatever it is at the time.
-- brand: the brand the consent was given to; NULL covers every brand of the tenant.
-- double_opt_in / confirmed_at: a double-opt-in grant does not grant until the person confirms it.
ALTER TABLE consents ADD COLUMN contact_point text;
ALTER TABLE consents ADD COLUMN brand text;
ALTER TABLE consents ADD COLUMN double_opt_in boolean NOT NULL DEFAULT false;
ALTER TABLE consents ADD COLUMN confirmed_at timestamptz;
ALTER TABLE consents ADD CONSTRAINT consents_confirmed_at_check CHECK (confirmed_at IS NULL OR double_opt_in);

-- effectiveConsents picks the latest record per holder, channel, purpose, contact point and brand: the indexes
-- lead with the holder it looks up by and carry the rest of that key.
DROP INDEX consents_contact;
DROP INDEX consents_lead;
CREATE INDEX consents_contact ON consents(contact_id, channel, purpose, contact_point, brand, captured_at DESC);
CREATE INDEX consents_lead ON consents(lead_id, channel, purpose, contact_point, brand, captured_at DESC) WHERE lead_id IS NOT NULL;

-- The brand a customer or lead is with; a message goes out under its own brand, or else under this one.
ALTER TABLE accounts ADD COLUMN brand text;
ALTER TABLE leads ADD COLUMN brand text;

-- Where a message goes and under which brand: what its consent was checked against when it was queued.
ALTER TABLE messages ADD COLUMN contact_point text;
ALTER TABLE messages ADD COLUMN brand text;

-- An action its tool would no longer take when it came to run (a message whose consent was withdrawn while it
-- waited for approval) is recorded as refused: nothing happened, and the key is spent.
ALTER TABLE executions DROP CONSTRAINT executions_status_check;
ALTER TABLE executions ADD CONSTRAINT executions_status_check CHECK (status IN ('succeeded', 'compensated', 'refused'));
