-- The live demo world (`acs serve --world`): its seed, its calendar and how far its accelerated clock had
-- run when last saved, so a restart resumes the clock and the days where they were.
CREATE TABLE world_clock (
  id int PRIMARY KEY CHECK (id = 1),
  seed int NOT NULL,
  -- midnight (UTC) of the world's day 0
  start_day timestamptz NOT NULL,
  -- the next day the world will run
  next_day int NOT NULL DEFAULT 0,
  -- the clock's reading when last saved
  sim_now timestamptz NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
