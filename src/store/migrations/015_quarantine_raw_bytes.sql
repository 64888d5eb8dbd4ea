-- The exact bytes of a refused body when the text in `raw` is not an exact copy: invalid UTF-8, or NUL
-- characters, which text and jsonb cannot hold (`raw` shows those escaped). NULL when `raw` is exact.
ALTER TABLE quarantine ADD COLUMN raw_bytes bytea;
