-- Leads join the governed loop.
-- A person who ticks a consent box on a lead form consents before any contact record exists, so a
-- consent belongs to exactly one holder: a contact or a lead.
ALTER TABLE consents ALTER COLUMN contact_id DROP NOT NULL;
ALTER TABLE consents ADD COLUMN lead_id text REFERENCES leads(id);
ALTER TABLE consents ADD CONSTRAINT consents_one_holder CHECK ((contact_id IS NULL) <> (lead_id IS NULL));
CREATE INDEX consents_lead ON consents(lead_id, channel, purpose, captured_at DESC) WHERE lead_id IS NOT NULL;

-- Lead features and a lead's recent actions are read per lead.
CREATE INDEX signals_lead_time ON signals(lead_id, occurred_at DESC) WHERE lead_id IS NOT NULL;
CREATE INDEX proposals_lead ON proposals(lead_id, created_at DESC) WHERE lead_id IS NOT NULL;

-- The play runner looks for due plays that are running or waiting on a human.
DROP INDEX plays_due;
CREATE INDEX plays_due ON plays(next_run_at) WHERE status IN ('running', 'waiting');

-- Data stewardship looks for other profiles that share a contact's email or phone.
CREATE INDEX contacts_email ON contacts(lower(email)) WHERE email IS NOT NULL AND deleted_at IS NULL;
CREATE INDEX contacts_phone ON contacts(phone) WHERE phone IS NOT NULL AND deleted_at IS NULL;
