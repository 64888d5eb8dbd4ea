-- Core system of record: CRM records, identities, signals, quarantine, outbox, tokens and the ledger.

-- Customer ids are generated when none is given: CUST-000001, CUST-000002, ... An id a client chose
-- explicitly is skipped, so generation never collides with it.
CREATE SEQUENCE customer_number_seq;
CREATE FUNCTION next_customer_id() RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  candidate text;
BEGIN
  LOOP
    candidate := 'CUST-' || lpad(nextval('customer_number_seq')::text, 6, '0');
    EXIT WHEN NOT EXISTS (SELECT 1 FROM accounts WHERE customer_id = candidate)
      AND NOT EXISTS (SELECT 1 FROM identities WHERE kind = 'customer_id' AND value = candidate);
  END LOOP;
  RETURN candidate;
END $$;

CREATE TABLE accounts (
  id text PRIMARY KEY,
  customer_id text NOT NULL UNIQUE DEFAULT next_customer_id(),
  name text NOT NULL,
  kind text NOT NULL DEFAULT 'business',
  industry text,
  tier text,
  owner text,
  external_id text,
  attributes jsonb NOT NULL DEFAULT '{}',
  version int NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz
);

CREATE TABLE contacts (
  id text PRIMARY KEY,
  account_id text REFERENCES accounts(id),
  first_name text,
  last_name text,
  email text,
  phone text,
  title text,
  external_id text,
  attributes jsonb NOT NULL DEFAULT '{}',
  version int NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz
);
CREATE INDEX contacts_account ON contacts(account_id);

CREATE TABLE leads (
  id text PRIMARY KEY,
  first_name text,
  last_name text,
  email text,
  phone text,
  company text,
  source text,
  status text NOT NULL DEFAULT 'new',
  score numeric,
  attributes jsonb NOT NULL DEFAULT '{}',
  version int NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz
);

CREATE TABLE opportunities (
  id text PRIMARY KEY,
  account_id text NOT NULL REFERENCES accounts(id),
  name text NOT NULL,
  stage text NOT NULL DEFAULT 'prospecting',
  amount numeric(14,2),
  currency text NOT NULL DEFAULT 'USD',
  close_date date,
  probability numeric,
  owner text,
  version int NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz
);
CREATE INDEX opportunities_account ON opportunities(account_id);

CREATE TABLE cases (
  id text PRIMARY KEY,
  account_id text REFERENCES accounts(id),
  contact_id text REFERENCES contacts(id),
  subject text NOT NULL,
  description text,
  status text NOT NULL DEFAULT 'open',
  priority text NOT NULL DEFAULT 'normal',
  channel text,
  opened_at timestamptz NOT NULL DEFAULT now(),
  closed_at timestamptz,
  version int NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz
);
CREATE INDEX cases_account ON cases(account_id) WHERE deleted_at IS NULL;

CREATE TABLE interactions (
  id text PRIMARY KEY,
  type text NOT NULL,
  account_id text REFERENCES accounts(id),
  contact_id text REFERENCES contacts(id),
  lead_id text REFERENCES leads(id),
  direction text,
  subject text,
  body text,
  occurred_at timestamptz NOT NULL DEFAULT now(),
  version int NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz
);
CREATE INDEX interactions_account ON interactions(account_id, occurred_at DESC);

CREATE TABLE products (
  id text PRIMARY KEY,
  sku text NOT NULL UNIQUE,
  name text NOT NULL,
  description text,
  price numeric(14,2),
  currency text NOT NULL DEFAULT 'USD',
  active boolean NOT NULL DEFAULT true,
  version int NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz
);

CREATE TABLE subscriptions (
  id text PRIMARY KEY,
  account_id text NOT NULL REFERENCES accounts(id),
  product_id text REFERENCES products(id),
  status text NOT NULL DEFAULT 'active',
  contract text,
  payment_method text,
  paperless_billing boolean,
  start_date date,
  end_date date,
  tenure_months int,
  monthly_amount numeric(14,2),
  total_billed numeric(14,2),
  services jsonb NOT NULL DEFAULT '{}',
  version int NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz
);
CREATE INDEX subscriptions_account ON subscriptions(account_id);

CREATE TABLE partners (
  id text PRIMARY KEY,
  name text NOT NULL,
  type text NOT NULL DEFAULT 'reseller',
  email text,
  website text,
  status text NOT NULL DEFAULT 'active',
  attributes jsonb NOT NULL DEFAULT '{}',
  version int NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz
);

CREATE TABLE consents (
  id text PRIMARY KEY,
  contact_id text NOT NULL REFERENCES contacts(id),
  channel text NOT NULL,
  purpose text NOT NULL,
  status text NOT NULL,
  source text NOT NULL,
  captured_at timestamptz NOT NULL,
  effective_from timestamptz NOT NULL,
  effective_to timestamptz CONSTRAINT consents_effective_to_check CHECK (effective_to IS NULL OR effective_to > effective_from),
  version int NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz
);
CREATE INDEX consents_contact ON consents(contact_id, channel, purpose, captured_at DESC);

-- Normalized identifiers that name a profile (an account) or a lead. Signals resolve through here.
CREATE TABLE identities (
  kind text NOT NULL,
  value text NOT NULL,
  account_id text REFERENCES accounts(id),
  lead_id text REFERENCES leads(id),
  source text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (kind, value),
  CHECK (account_id IS NOT NULL OR lead_id IS NOT NULL)
);
CREATE INDEX identities_account ON identities(account_id);

CREATE TABLE signals (
  id text PRIMARY KEY,
  type text NOT NULL,
  schema_version int NOT NULL,
  occurred_at timestamptz NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  account_id text REFERENCES accounts(id),
  lead_id text REFERENCES leads(id),
  subject jsonb NOT NULL,
  data jsonb NOT NULL,
  -- Derived at intake so features aggregate without re-parsing payloads.
  metric numeric,
  source text
);
CREATE INDEX signals_account_time ON signals(account_id, occurred_at DESC);

CREATE TABLE customer_features (
  account_id text PRIMARY KEY REFERENCES accounts(id),
  as_of timestamptz NOT NULL,
  features jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Why a record was deleted: free text, so it lives here (erasable) and the ledger only notes that one was given.
CREATE TABLE deletion_reasons (
  kind text NOT NULL,
  record_id text NOT NULL,
  reason text NOT NULL,
  actor text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (kind, record_id)
);

-- Rejected input, kept whole with the reasons, until it is resubmitted or discarded.
CREATE TABLE quarantine (
  id text PRIMARY KEY,
  source text NOT NULL,
  reason text NOT NULL,
  issues jsonb NOT NULL,
  raw text NOT NULL,
  status text NOT NULL DEFAULT 'open',
  received_at timestamptz NOT NULL DEFAULT now(),
  resolved_at timestamptz,
  resolution jsonb
);
CREATE INDEX quarantine_status ON quarantine(status, id);

-- Transactional outbox: events written with the change that caused them, delivered by the bus.
CREATE TABLE outbox (
  id bigserial PRIMARY KEY,
  topic text NOT NULL,
  payload jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  delivered_at timestamptz
);
CREATE INDEX outbox_pending ON outbox(id) WHERE delivered_at IS NULL;

CREATE TABLE api_tokens (
  id text PRIMARY KEY,
  name text NOT NULL,
  role text NOT NULL,
  token_hash text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at timestamptz
);

CREATE TABLE ledger (
  seq bigint PRIMARY KEY,
  ts timestamptz NOT NULL,
  type text NOT NULL,
  actor text NOT NULL,
  subject_type text,
  subject_id text,
  -- The canonical JSON that was hashed; hash = sha256(prev_hash || body).
  body text NOT NULL,
  prev_hash text NOT NULL,
  hash text NOT NULL
);
CREATE INDEX ledger_subject ON ledger(subject_type, subject_id);

-- The ledger is append-only: the database refuses UPDATE, DELETE and TRUNCATE from anyone.
CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ledger is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER ledger_no_update BEFORE UPDATE OR DELETE ON ledger FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_no_truncate BEFORE TRUNCATE ON ledger FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
