-- Work that must run once per cluster (maintenance rounds, the daily agent run, the supervisor, a policy dry-run)
-- takes a named lease: one holder at a time, until it lets go or stops renewing it (its process died) and another
-- takes it over. Times are the database's, so processes on machines whose clocks differ still agree.
CREATE TABLE leases (
  name text PRIMARY KEY,
  holder text NOT NULL,
  expires_at timestamptz NOT NULL,
  taken_at timestamptz NOT NULL DEFAULT now()
);

-- Jobs that run once per period (the daily run for a day, the supervisor for an hour): a row per period done, so a
-- lease that moves mid-day, or a restart, does not run that period again.
CREATE TABLE job_runs (
  job text NOT NULL,
  period text NOT NULL,
  holder text NOT NULL,
  ran_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (job, period)
);
