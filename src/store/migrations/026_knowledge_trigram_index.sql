-- Trigram search over knowledge chunks by index (issue 14). Search matches query words against each chunk's heading
-- path and text with pg_trgm's word-similarity operator (<%); this GIN index lets it find the candidates without
-- computing the similarity against every chunk. The text is built by an immutable function so an index can hold it
-- (array_to_string itself is only stable).
CREATE OR REPLACE FUNCTION knowledge_chunk_search_text(heading_path text[], body text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT array_to_string(heading_path, ' ') || ' ' || body $$;

-- Only where pg_trgm is installed (migration 023 installs it where it can), in whatever schema holds it. Without it
-- there is nothing to index: search computes trigram similarity in JS (src/knowledge/trigram.ts).
DO $$
DECLARE
  trgm_schema text;
BEGIN
  SELECT n.nspname INTO trgm_schema
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
  WHERE e.extname = 'pg_trgm';
  IF trgm_schema IS NULL THEN
    RAISE NOTICE 'pg_trgm is not installed: no trigram index on knowledge chunks; search uses trigram similarity in JS';
    RETURN;
  END IF;
  EXECUTE format(
    'CREATE INDEX IF NOT EXISTS knowledge_chunks_trgm ON knowledge_chunks USING gin (knowledge_chunk_search_text(heading_path, text) %I.gin_trgm_ops)',
    trgm_schema
  );
END $$;
