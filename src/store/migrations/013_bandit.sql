-- Learning from outcomes (src/learn/bandit.ts, src/learn/track-record.ts): Thompson-sampling posteriors for offer and
-- channel choice, the pulls that wait for an outcome, and the category of a reviewer's rejection.

-- One Beta posterior per bandit, segment and arm: alpha = 1 + accepted, beta = 1 + not accepted (a uniform prior).
-- `pulls` counts the proposals that carried the arm and that policy allowed (executed or sent for approval).
CREATE TABLE bandit_arms (
  bandit text NOT NULL,
  segment text NOT NULL,
  arm text NOT NULL,
  alpha int NOT NULL DEFAULT 1 CHECK (alpha >= 1),
  beta int NOT NULL DEFAULT 1 CHECK (beta >= 1),
  pulls int NOT NULL DEFAULT 0 CHECK (pulls >= 0),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (bandit, segment, arm)
);

-- One row per pull: the proposal that carried the arm. An outcome resolves it once (reward 1 accepted, 0 not), and
-- only if the proposal's action ran; the posterior is updated in the same statement.
CREATE TABLE bandit_pulls (
  proposal_id text PRIMARY KEY REFERENCES proposals(id),
  bandit text NOT NULL,
  segment text NOT NULL,
  arm text NOT NULL,
  account_id text REFERENCES accounts(id),
  lead_id text REFERENCES leads(id),
  pulled_at timestamptz NOT NULL,
  reward smallint CHECK (reward IN (0, 1)),
  outcome_signal_id text,
  resolved_at timestamptz
);
-- An outcome looks up its subject's open pulls.
CREATE INDEX bandit_pulls_open_account ON bandit_pulls(account_id, pulled_at) WHERE reward IS NULL AND account_id IS NOT NULL;
CREATE INDEX bandit_pulls_open_lead ON bandit_pulls(lead_id, pulled_at) WHERE reward IS NULL AND lead_id IS NOT NULL;

-- Why a reviewer rejected, as a category beside the free-text reason (src/act/approvals.ts REJECTION_CATEGORIES).
ALTER TABLE approvals ADD COLUMN reason_category text;
