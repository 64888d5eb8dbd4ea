-- Coexistence with Salesforce and HubSpot: their record ids are kept as each record's external id (so foreign keys
-- in their exports resolve), opportunities and cases keep the columns ACS has no field for, and an opportunity's
-- stage belongs to a pipeline whose stages are configurable, each mapped to an outcome ACS reads (open, won, lost).
ALTER TABLE leads ADD COLUMN external_id text;
ALTER TABLE opportunities ADD COLUMN external_id text;
ALTER TABLE opportunities ADD COLUMN attributes jsonb NOT NULL DEFAULT '{}';
ALTER TABLE opportunities ADD COLUMN pipeline text NOT NULL DEFAULT 'acs';
ALTER TABLE cases ADD COLUMN external_id text;
ALTER TABLE cases ADD COLUMN attributes jsonb NOT NULL DEFAULT '{}';
-- Imports match records by external id, and resolve references to accounts and contacts by it.
CREATE INDEX accounts_external_id ON accounts(external_id) WHERE deleted_at IS NULL AND external_id IS NOT NULL;
CREATE INDEX contacts_external_id ON contacts(external_id) WHERE deleted_at IS NULL AND external_id IS NOT NULL;
CREATE INDEX leads_external_id ON leads(external_id) WHERE deleted_at IS NULL AND external_id IS NOT NULL;
CREATE INDEX opportunities_external_id ON opportunities(external_id) WHERE deleted_at IS NULL AND external_id IS NOT NULL;
CREATE INDEX cases_external_id ON cases(external_id) WHERE deleted_at IS NULL AND external_id IS NOT NULL;

-- The stages of each pipeline, in order. `stage` is the key opportunities store; `label` is how people write it.
CREATE TABLE pipeline_stages (
  pipeline text NOT NULL,
  stage text NOT NULL,
  label text NOT NULL,
  position int NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('open', 'won', 'lost')),
  -- The default probability of winning at this stage, as a fraction.
  probability numeric CHECK (probability >= 0 AND probability <= 1),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (pipeline, stage)
);

-- ACS's own stages (the ones opportunities had before pipelines existed), Salesforce's default opportunity stages
-- and HubSpot's default deal pipeline, with the default probabilities each product documents.
INSERT INTO pipeline_stages (pipeline, stage, label, position, outcome, probability) VALUES
  ('acs', 'prospecting', 'Prospecting', 1, 'open', 0.10),
  ('acs', 'qualification', 'Qualification', 2, 'open', 0.20),
  ('acs', 'proposal', 'Proposal', 3, 'open', 0.50),
  ('acs', 'negotiation', 'Negotiation', 4, 'open', 0.80),
  ('acs', 'closed_won', 'Closed Won', 5, 'won', 1),
  ('acs', 'closed_lost', 'Closed Lost', 6, 'lost', 0),
  ('salesforce', 'prospecting', 'Prospecting', 1, 'open', 0.10),
  ('salesforce', 'qualification', 'Qualification', 2, 'open', 0.10),
  ('salesforce', 'needs_analysis', 'Needs Analysis', 3, 'open', 0.20),
  ('salesforce', 'value_proposition', 'Value Proposition', 4, 'open', 0.50),
  ('salesforce', 'id_decision_makers', 'Id. Decision Makers', 5, 'open', 0.60),
  ('salesforce', 'perception_analysis', 'Perception Analysis', 6, 'open', 0.70),
  ('salesforce', 'proposal_price_quote', 'Proposal/Price Quote', 7, 'open', 0.75),
  ('salesforce', 'negotiation_review', 'Negotiation/Review', 8, 'open', 0.90),
  ('salesforce', 'closed_won', 'Closed Won', 9, 'won', 1),
  ('salesforce', 'closed_lost', 'Closed Lost', 10, 'lost', 0),
  ('hubspot', 'appointmentscheduled', 'Appointment Scheduled', 1, 'open', 0.20),
  ('hubspot', 'qualifiedtobuy', 'Qualified To Buy', 2, 'open', 0.40),
  ('hubspot', 'presentationscheduled', 'Presentation Scheduled', 3, 'open', 0.60),
  ('hubspot', 'decisionmakerboughtin', 'Decision Maker Bought-In', 4, 'open', 0.80),
  ('hubspot', 'contractsent', 'Contract Sent', 5, 'open', 0.90),
  ('hubspot', 'closedwon', 'Closed Won', 6, 'won', 1),
  ('hubspot', 'closedlost', 'Closed Lost', 7, 'lost', 0);
