-- A merge keeps the comparison that decided it (probability, the rule that matched, each field's level and weight),
-- so a steward reading the merge history sees why two profiles became one. Merges made before this have none; a
-- steward's merge from a review finds it on the review.
ALTER TABLE identity_merges ADD COLUMN explanation jsonb;
-- The merge history is read newest first across all profiles.
CREATE INDEX identity_merges_created ON identity_merges(created_at DESC, id DESC);
