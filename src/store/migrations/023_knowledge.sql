-- Knowledge (src/knowledge): sources of documents with an owner, an audience and an approval state; documents as
-- imported, one per file; and their chunks, split along headings, each with its heading path, a full-text vector,
-- an optional embedding (a plain float array, so one schema serves both backends: PostgreSQL here may lack pgvector)
-- and a column for a later injection scan's finding.

CREATE TABLE knowledge_sources (
  id text PRIMARY KEY,
  name text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
  owner text NOT NULL,
  audience text NOT NULL CHECK (audience IN ('internal', 'customer')),
  state text NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'approved', 'retired')),
  -- Goes up by one whenever a document of the source is added or changed; approval is of one version.
  version int NOT NULL DEFAULT 1 CHECK (version >= 1),
  approved_version int,
  approved_at timestamptz,
  approved_by text,
  -- After this day the source is no longer current: customer-facing use stops until it is reviewed again.
  review_date date,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE knowledge_documents (
  id text PRIMARY KEY,
  source_id text NOT NULL REFERENCES knowledge_sources(id),
  -- Relative to the folder it was imported from, with / separators.
  path text NOT NULL,
  title text NOT NULL,
  format text NOT NULL CHECK (format IN ('md', 'html', 'txt')),
  content_hash text NOT NULL,
  version int NOT NULL DEFAULT 1 CHECK (version >= 1),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (source_id, path)
);

CREATE TABLE knowledge_chunks (
  -- Stable: derived from the source, the document's path, the heading path and the ordinal under that heading path.
  id text PRIMARY KEY,
  document_id text NOT NULL REFERENCES knowledge_documents(id) ON DELETE CASCADE,
  ordinal int NOT NULL,
  heading_path text[] NOT NULL,
  text text NOT NULL,
  content_hash text NOT NULL,
  -- Positions in tsv (heading words and text words): the document length BM25 normalises by.
  token_count int NOT NULL,
  tsv tsvector NOT NULL,
  embedding real[],
  embedding_model text,
  -- Left for the injection detector (issue 14, trust): its finding on this chunk, null until scanned.
  injection jsonb,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX knowledge_chunks_document ON knowledge_chunks(document_id, ordinal);
CREATE INDEX knowledge_chunks_tsv ON knowledge_chunks USING gin (tsv);

-- Trigram similarity for names and codes. Installed in public so that dropping some other schema never takes it
-- along; where it cannot be installed (no pg_trgm, no right to create extensions), search computes trigram
-- similarity in JS instead (src/knowledge/trigram.ts).
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
    BEGIN
      CREATE EXTENSION pg_trgm SCHEMA public;
    EXCEPTION WHEN OTHERS THEN
      RAISE NOTICE 'pg_trgm is not available (%); knowledge search falls back to trigram similarity in JS', SQLERRM;
    END;
  END IF;
END $$;
