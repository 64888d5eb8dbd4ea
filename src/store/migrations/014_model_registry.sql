-- The model registry (src/learn/registry.ts): each named model (churn, ...) has versions; one champion serves,
-- one challenger is shadow-scored beside it, and drift checks compare the live population with the champion's
-- training reference.

-- One row per named model: its drift settings, and whether it serves rules on purpose (a drifted champion demoted
-- to rules: agents use their documented rules until a champion is promoted or rolled back).
CREATE TABLE models (
  name text PRIMARY KEY,
  psi_threshold double precision NOT NULL DEFAULT 0.25 CHECK (psi_threshold > 0),
  auto_demote text NOT NULL DEFAULT 'off' CHECK (auto_demote IN ('off', 'last_good', 'rules')),
  drift_check_hours double precision NOT NULL DEFAULT 24 CHECK (drift_check_hours > 0),
  rules_since timestamptz,
  rules_reason text,
  -- The champion that was demoted to rules: what a rollback restores.
  rules_replaced int,
  updated_by text,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE model_versions (
  id text PRIMARY KEY,
  name text NOT NULL REFERENCES models(name),
  version int NOT NULL,
  stage text NOT NULL DEFAULT 'candidate' CHECK (stage IN ('candidate', 'champion', 'challenger', 'retired')),
  -- The serialized model's own id (a hash of its data, options and parameters) and family.
  model_id text NOT NULL,
  family text NOT NULL,
  data_fingerprint text NOT NULL,
  training_rows int NOT NULL,
  trained_at timestamptz NOT NULL,
  metrics jsonb NOT NULL,
  feature_schema jsonb NOT NULL,
  model jsonb NOT NULL,
  -- Bins and shares of each input column and of the score over the training rows: what drift is measured against.
  reference jsonb NOT NULL,
  registered_by text NOT NULL,
  registered_at timestamptz NOT NULL,
  promoted_by text,
  promoted_at timestamptz,
  promotion_reason text,
  -- The champion this version replaced when it was promoted champion: where a rollback goes.
  replaced_version int,
  retired_at timestamptz,
  retired_reason text,
  -- Its last demotion was for drift: auto-demotion to "the last good version" passes over it.
  drift_demoted boolean NOT NULL DEFAULT false,
  UNIQUE (name, version)
);
-- At most one champion and one challenger per model.
CREATE UNIQUE INDEX model_versions_champion ON model_versions(name) WHERE stage = 'champion';
CREATE UNIQUE INDEX model_versions_challenger ON model_versions(name) WHERE stage = 'challenger';

CREATE TABLE model_drift_checks (
  id text PRIMARY KEY,
  name text NOT NULL REFERENCES models(name),
  version int NOT NULL,
  checked_at timestamptz NOT NULL,
  checked_by text NOT NULL,
  population int NOT NULL,
  threshold double precision NOT NULL,
  max_psi double precision NOT NULL,
  worst text NOT NULL,
  status text NOT NULL CHECK (status IN ('ok', 'watch', 'drift')),
  -- PSI and bins of the score and of each column (largest first).
  score jsonb NOT NULL,
  features jsonb NOT NULL,
  -- What auto-demotion did about it: 'demoted to v2', 'demoted to rules', or null.
  action text
);
CREATE INDEX model_drift_checks_recent ON model_drift_checks(name, checked_at DESC);
