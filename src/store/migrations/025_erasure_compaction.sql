-- Compaction after erasure (src/privacy/compaction.ts): the rewrite that leaves no old copy of an erased person's rows
-- in the database files. When an erasure was last compacted, and what that run did and could not do (step names,
-- done or not, and why: no personal data).
ALTER TABLE erasures ADD COLUMN compacted_at timestamptz;
ALTER TABLE erasures ADD COLUMN compaction jsonb;
CREATE INDEX erasures_uncompacted ON erasures(created_at) WHERE compacted_at IS NULL;
