-- pgvector for semantic search (issue 14), where the database has it: PGlite loads it at start; a PostgreSQL server
-- has it only with the extension's package. Embeddings stay real[] (migration 023), one schema on both backends;
-- with the extension, search casts them to vector and ranks by its cosine distance in SQL; without it, search
-- computes the cosine in JS (src/knowledge/search.ts). Installed in public, as pg_trgm is, so dropping some other
-- schema never takes it along.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector') THEN
    BEGIN
      CREATE EXTENSION vector SCHEMA public;
    EXCEPTION WHEN OTHERS THEN
      RAISE NOTICE 'pgvector is not available (%); knowledge search computes cosine similarity in JS', SQLERRM;
    END;
  END IF;
END $$;
