-- The demo datasets `acs serve --load-demo` loads, each marked started before its first row and completed after its
-- last, so a start after a kill -9 mid-load sees an unfinished load and resumes it instead of keeping a partial demo.
CREATE TABLE demo_loads (
  dataset text PRIMARY KEY,
  total int NOT NULL CHECK (total >= 0),
  started_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz
);
