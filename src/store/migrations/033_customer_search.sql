-- Customer search (issue 16, src/views/customer-search.ts): find a customer by name, email, phone or id, in part and
-- whatever the case. Matching is ILIKE '%text%' on each field (and pg_trgm's word similarity on names, for a name
-- written a little differently); these trigram GIN indexes let both find the candidates without reading every row.
-- A phone is matched by its digits alone, whatever way it was written, so its index holds the digits.
CREATE OR REPLACE FUNCTION contact_search_name(first_name text, last_name text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT trim(coalesce(first_name, '') || ' ' || coalesce(last_name, '')) $$;

CREATE OR REPLACE FUNCTION phone_search_digits(phone text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT regexp_replace(coalesce(phone, ''), '[^0-9]', '', 'g') $$;

-- Only where pg_trgm is installed (migration 023 installs it where it can), in whatever schema holds it. Without it
-- search still works by ILIKE, reading every row, and ranks without similarity.
DO $$
DECLARE
  trgm_schema text;
BEGIN
  SELECT n.nspname INTO trgm_schema
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
  WHERE e.extname = 'pg_trgm';
  IF trgm_schema IS NULL THEN
    RAISE NOTICE 'pg_trgm is not installed: no trigram indexes for customer search; it reads every row instead';
    RETURN;
  END IF;
  EXECUTE format('CREATE INDEX IF NOT EXISTS accounts_customer_id_trgm ON accounts USING gin (customer_id %I.gin_trgm_ops)', trgm_schema);
  EXECUTE format('CREATE INDEX IF NOT EXISTS accounts_name_trgm ON accounts USING gin (name %I.gin_trgm_ops)', trgm_schema);
  EXECUTE format(
    'CREATE INDEX IF NOT EXISTS contacts_name_trgm ON contacts USING gin (contact_search_name(first_name, last_name) %I.gin_trgm_ops)',
    trgm_schema
  );
  EXECUTE format('CREATE INDEX IF NOT EXISTS contacts_email_trgm ON contacts USING gin (email %I.gin_trgm_ops)', trgm_schema);
  EXECUTE format(
    'CREATE INDEX IF NOT EXISTS contacts_phone_digits_trgm ON contacts USING gin (phone_search_digits(phone) %I.gin_trgm_ops)',
    trgm_schema
  );
END $$;
