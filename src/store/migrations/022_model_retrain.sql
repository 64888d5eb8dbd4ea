-- Scheduled retraining of registry models on outcomes recorded in ACS (src/learn/retrain.ts). Per model: how often
-- (NULL = never on a schedule), the label window after the snapshot, and the AUC margin the challenger's 95% CI
-- lower bound must clear to be promoted.
ALTER TABLE models ADD COLUMN retrain_every_days double precision DEFAULT 7 CHECK (retrain_every_days IS NULL OR retrain_every_days > 0);
ALTER TABLE models ADD COLUMN label_window_days int NOT NULL DEFAULT 30 CHECK (label_window_days > 0);
ALTER TABLE models ADD COLUMN promote_margin double precision NOT NULL DEFAULT 0.01 CHECK (promote_margin >= 0 AND promote_margin < 1);

-- Every retrain and its decision (promoted, kept_champion, no_champion, skipped), with both metrics, the CI and the margin.
CREATE TABLE model_retrains (
  id text PRIMARY KEY,
  name text NOT NULL,
  ran_at timestamptz NOT NULL,
  ran_by text NOT NULL,
  decision text NOT NULL CHECK (decision IN ('promoted', 'kept_champion', 'no_champion', 'skipped')),
  champion_version int,
  challenger_version int,
  detail jsonb NOT NULL
);
CREATE INDEX model_retrains_name_time ON model_retrains(name, ran_at DESC);
