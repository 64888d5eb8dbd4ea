-- Identity resolution in the product: person records with their lineage, the blocks they are found by, profile
-- merges that can be undone, the steward's review queue, and the settings and fitted model the matcher uses.

-- One source record's identifying fields (a contact, a lead, the subject of a signal) and how it joined its profile.
CREATE TABLE identity_people (
  id text PRIMARY KEY,
  source_kind text NOT NULL,
  source_id text NOT NULL,
  -- The system it came from: a signal's source, 'record' for the API, 'import'.
  source text NOT NULL,
  account_id text REFERENCES accounts(id),
  lead_id text REFERENCES leads(id),
  fields jsonb NOT NULL,
  observed_at timestamptz NOT NULL,
  -- Lineage: the rule that placed it ('record' when the record named its profile, 'new profile', a deterministic
  -- rule's name, 'probabilistic'), with the probability and the person record it matched.
  matched_by text NOT NULL,
  score numeric,
  matched_person text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX identity_people_account ON identity_people(account_id);
CREATE INDEX identity_people_lead ON identity_people(lead_id) WHERE lead_id IS NOT NULL;

-- Blocking keys: a new record is compared only with the people sharing one of its keys.
CREATE TABLE identity_blocks (
  key text NOT NULL,
  person_id text NOT NULL REFERENCES identity_people(id) ON DELETE CASCADE,
  PRIMARY KEY (key, person_id)
);
CREATE INDEX identity_blocks_person ON identity_blocks(person_id);

-- A profile folded into another is kept, marked, so the merge can be undone.
ALTER TABLE accounts ADD COLUMN merged_into text REFERENCES accounts(id);

CREATE TABLE identity_merges (
  id text PRIMARY KEY,
  survivor_id text NOT NULL REFERENCES accounts(id),
  merged_id text NOT NULL REFERENCES accounts(id),
  rule text NOT NULL,
  score numeric,
  review_id text,
  -- What moved to the survivor, by table: the ids an unmerge moves back.
  moved jsonb NOT NULL,
  actor text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  unmerged_at timestamptz,
  unmerged_by text
);
CREATE INDEX identity_merges_survivor ON identity_merges(survivor_id);
CREATE INDEX identity_merges_merged ON identity_merges(merged_id);

-- Uncertain matches for a data steward: a new profile that may be an existing one.
CREATE TABLE identity_reviews (
  id text PRIMARY KEY,
  account_id text NOT NULL REFERENCES accounts(id),
  candidate_id text NOT NULL REFERENCES accounts(id),
  person_id text NOT NULL,
  candidate_person_id text NOT NULL,
  score numeric NOT NULL,
  explanation jsonb NOT NULL,
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'merged', 'kept_apart', 'superseded', 'unmerged')),
  created_at timestamptz NOT NULL DEFAULT now(),
  decided_at timestamptz,
  decided_by text,
  merge_id text REFERENCES identity_merges(id)
);
CREATE INDEX identity_reviews_status ON identity_reviews(status, created_at);

-- Thresholds, match rules and survivorship, as one document (one row); absent means the defaults.
CREATE TABLE identity_settings (
  id int PRIMARY KEY CHECK (id = 1),
  settings jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  updated_by text NOT NULL
);

-- The matcher's parameters fitted (by EM) on this base's own people; absent means the shipped default.
CREATE TABLE identity_models (
  id int PRIMARY KEY CHECK (id = 1),
  model jsonb NOT NULL,
  fitted_at timestamptz NOT NULL DEFAULT now(),
  fitted_by text NOT NULL
);
