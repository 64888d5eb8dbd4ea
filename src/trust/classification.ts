import { maskPii, redactForLog } from './pii.ts';

/**
 * Data classification: which fields of what ACS answers are personal (`pii`) or sensitive, and what a reader who may
 * not see them (the analyst role) gets instead. Fields are named as the API writes them (camelCase); `columns` names
 * the store columns they come from, the same columns erasure destroys (src/privacy/erasure.repo.ts, REDACTIONS), and
 * test/analyst-masking.test.ts checks that every column erasure lists is classified here.
 *
 * - `pii`: data about an identifiable person: names, email addresses, phone numbers, addresses, dates of birth,
 *   national ids, external ids tied to a person, contact points, and free text written by or about the customer.
 * - `sensitive`: not identifying on its own, but harmful to expose beyond need: payment details, a person's
 *   custom attributes, why a record was deleted, why a credit was granted or a proposal rejected.
 */
export const DATA_CLASSES = ['pii', 'sensitive'] as const;
export type DataClass = (typeof DATA_CLASSES)[number];

/**
 * What a masked value becomes. Structured values become a typed placeholder (`[EMAIL]`, `[PHONE]`, `[NAME]`, `[ID]`,
 * `[ADDRESS]`, `[DATE]`), so a reader still sees that a value is there and what kind it is. Free text keeps its words,
 * with the personal data the trust masker finds in it replaced (`[EMAIL_1]`, `[CARD_1]`, the names known from the
 * same answer as `[NAME_1]`). `contact` is an email or a phone number, whichever it looks like. `withheld` values
 * become `[WITHHELD]` whole, every string inside them (objects keep their keys, numbers and booleans stay).
 */
export type Masking = 'email' | 'phone' | 'contact' | 'name' | 'identifier' | 'address' | 'date' | 'text' | 'withheld';

export interface FieldClassification {
  /** The field's name in an answer. */
  field: string;
  class: DataClass;
  mask: Masking;
  /** What it holds, for the reader of docs/trust.md. */
  what: string;
  /** Only in an object that also has one of these fields (a `name` is a person's only on an account). */
  with?: readonly string[];
  /** Only in an object that is the value of one of these fields (a person's `state` is not a play's). */
  under?: readonly string[];
  /** The store columns (`table.column`) it comes from. */
  columns?: readonly string[];
}

const PERSON_CONTAINERS = ['person', 'fields', 'unified', 'values', 'candidate', 'record'];

/** Every classified field. Ids (record ids, customer ids) are business keys and never classified. */
export const CLASSIFICATION: readonly FieldClassification[] = [
  // People: accounts, contacts, leads, identity resolution's people and a signal's subject.
  { field: 'name', class: 'pii', mask: 'name', with: ['customerId'], what: "a customer's name (an account)", columns: ['accounts.name'] },
  { field: 'firstName', class: 'pii', mask: 'name', what: 'a given name', columns: ['contacts.first_name', 'leads.first_name'] },
  { field: 'lastName', class: 'pii', mask: 'name', what: 'a family name', columns: ['contacts.last_name', 'leads.last_name'] },
  { field: 'givenName', class: 'pii', mask: 'name', what: 'a given name (identity resolution, a signal subject)' },
  { field: 'surname', class: 'pii', mask: 'name', what: 'a family name (identity resolution, a signal subject)' },
  { field: 'email', class: 'pii', mask: 'email', what: 'an email address', columns: ['contacts.email', 'leads.email'] },
  { field: 'phone', class: 'pii', mask: 'phone', what: 'a phone number', columns: ['contacts.phone', 'leads.phone'] },
  {
    field: 'externalId',
    class: 'pii',
    mask: 'identifier',
    what: "another system's id for the person",
    columns: ['accounts.external_id', 'contacts.external_id'],
  },
  { field: 'nationalId', class: 'pii', mask: 'identifier', what: 'a national id' },
  { field: 'dateOfBirth', class: 'pii', mask: 'date', what: 'a date of birth' },
  ...['streetNumber', 'address1', 'address2', 'suburb', 'postcode', 'state'].map((field): FieldClassification => ({
    field,
    class: 'pii',
    mask: 'address',
    under: PERSON_CONTAINERS,
    what: 'a part of a postal address',
  })),
  {
    field: 'title',
    class: 'pii',
    mask: 'text',
    with: ['firstName', 'lastName'],
    what: "a contact's job title",
    columns: ['contacts.title'],
  },
  { field: 'company', class: 'pii', mask: 'text', what: "a lead's employer", columns: ['leads.company'] },
  // An identity ({kind, value}) is an email, a phone number or an external id; a customer id stays (see maskValueOfKind).
  { field: 'value', class: 'pii', mask: 'identifier', with: ['kind'], what: 'an identity: email, phone or external id by its kind' },
  {
    field: 'contactPoint',
    class: 'pii',
    mask: 'contact',
    what: 'the address or number a consent or message is about',
    columns: ['consents.contact_point', 'messages.contact_point'],
  },
  { field: 'to', class: 'pii', mask: 'contact', under: ['params', 'editedParams'], what: "where a message goes (an action's parameter)" },
  // Free text by or about the customer.
  {
    field: 'subject',
    class: 'pii',
    mask: 'text',
    what: "a case's or interaction's subject; a signal's subject (whom it names)",
    columns: ['cases.subject', 'interactions.subject', 'signals.subject'],
  },
  {
    field: 'description',
    class: 'pii',
    mask: 'text',
    what: "a case's description (a ticket's text)",
    columns: ['cases.description'],
  },
  {
    field: 'body',
    class: 'pii',
    mask: 'text',
    what: 'an interaction or message body',
    columns: ['interactions.body', 'messages.body'],
  },
  { field: 'name', class: 'pii', mask: 'text', with: ['stage'], what: "an opportunity's name", columns: ['opportunities.name'] },
  { field: 'text', class: 'pii', mask: 'text', what: "a ticket's text (signal data)" },
  { field: 'comment', class: 'pii', mask: 'text', what: 'an NPS comment (signal data)' },
  { field: 'message', class: 'pii', mask: 'text', what: "a lead form's message, a quarantine issue (it may quote the input)" },
  {
    field: 'data',
    class: 'pii',
    mask: 'text',
    with: ['occurredAt'],
    what: "a signal's data: every string in it",
    columns: ['signals.data'],
  },
  { field: 'raw', class: 'pii', mask: 'text', what: 'the input quarantine kept as it was sent' },
  {
    field: 'params',
    class: 'pii',
    mask: 'text',
    what: "an action's parameters: every string in them",
    columns: ['proposals.params', 'executions.params'],
  },
  { field: 'editedParams', class: 'pii', mask: 'text', what: "a reviewer's edit of the parameters", columns: ['approvals.edited_params'] },
  {
    field: 'reason',
    class: 'pii',
    mask: 'text',
    what: "an agent's explanation, a reviewer's rejection",
    columns: ['proposals.reason', 'approvals.reason'],
  },
  { field: 'details', class: 'pii', mask: 'text', what: "a task's details", columns: ['tasks.details'] },
  { field: 'title', class: 'pii', mask: 'text', with: ['details'], what: "a task's title", columns: ['tasks.title'] },
  { field: 'source', class: 'pii', mask: 'text', with: ['capturedAt'], what: 'where a consent was captured', columns: ['consents.source'] },
  {
    field: 'state',
    class: 'pii',
    mask: 'text',
    with: ['kind', 'step'],
    what: "a play's state (the notice it sends)",
    columns: ['plays.state'],
  },
  { field: 'lastError', class: 'pii', mask: 'text', what: 'an error (it may quote the input)', columns: ['plays.last_error'] },
  // Sensitive.
  { field: 'paymentMethod', class: 'sensitive', mask: 'withheld', what: 'how a customer pays (may hold a card number)' },
  {
    field: 'attributes',
    class: 'sensitive',
    mask: 'withheld',
    what: "a customer's, contact's or lead's custom attributes",
    columns: ['accounts.attributes', 'contacts.attributes', 'leads.attributes'],
  },
  {
    field: 'reason',
    class: 'sensitive',
    mask: 'withheld',
    with: ['amountCents'],
    what: 'why a credit was granted',
    columns: ['credits.reason'],
  },
  // Not served by any route today (a delete's reason is written, never read back); classified for when it is.
  {
    field: 'reason',
    class: 'sensitive',
    mask: 'withheld',
    with: ['recordId'],
    what: 'why a record was deleted',
    columns: ['deletion_reasons.reason'],
  },
  {
    field: 'identities',
    class: 'pii',
    mask: 'identifier',
    under: ['moved'],
    what: 'identifiers a merge moved',
    columns: ['identity_merges.moved'],
  },
];

const PLACEHOLDER: Record<Exclude<Masking, 'text' | 'contact' | 'withheld'>, string> = {
  email: '[EMAIL]',
  phone: '[PHONE]',
  name: '[NAME]',
  identifier: '[ID]',
  address: '[ADDRESS]',
  date: '[DATE]',
};

/** The rule for `field` in an object with keys `keys` that is the value of `parent`, if any (the most specific first). */
export function classificationOf(field: string, keys: readonly string[], parent: string | undefined): FieldClassification | undefined {
  let found: FieldClassification | undefined;
  for (const rule of CLASSIFICATION) {
    if (rule.field !== field) continue;
    if (rule.with && !rule.with.some((k) => keys.includes(k))) continue;
    if (rule.under && !(parent !== undefined && rule.under.includes(parent))) continue;
    // A rule with a context wins over one without.
    if (!found || ((rule.with || rule.under) && !(found.with || found.under))) found = rule;
  }
  return found;
}

/** Names and each of their words of three letters or more, longest first: a name written in part is still masked. */
export function namesAndParts(names: readonly string[]): string[] {
  const out = new Set<string>();
  for (const name of names) {
    const n = name.trim().replace(/\s+/g, ' ');
    if (!n) continue;
    out.add(n);
    for (const part of n.split(' ')) if (part.replace(/[^\p{L}]/gu, '').length >= 3) out.add(part);
  }
  return [...out].sort((a, b) => b.length - a.length);
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The names a document names in its classified name fields, so free text elsewhere in it can be masked by them. */
function collectNames(value: unknown, parent: string | undefined, out: Set<string>, depth = 0): void {
  if (depth > 64) return;
  if (Array.isArray(value)) return value.forEach((v) => collectNames(v, parent, out, depth + 1));
  if (!isObject(value)) return;
  const keys = Object.keys(value);
  for (const [k, v] of Object.entries(value)) {
    if (classificationOf(k, keys, parent)?.mask === 'name') {
      if (typeof v === 'string') out.add(v);
      else if (isObject(v) && typeof v.value === 'string') out.add(v.value);
    }
    collectNames(v, k, out, depth + 1);
  }
}

/** A document's personal data masked by the classification; see maskClassified. */
class Masker {
  constructor(private readonly names: string[]) {}

  /** Free text; text that is a JSON document (quarantine's raw input) has its classified fields masked first. */
  text(s: string, key: string, depth: number): string {
    let text = s;
    if (/^\s*[[{]/.test(s)) {
      try {
        text = JSON.stringify(this.walk(JSON.parse(s), key, depth + 1));
      } catch {
        // not JSON: masked as text only
      }
    }
    return maskPii(text, { names: this.names }).text;
  }

  /** A value masked as `mask` says: strings replaced, objects and arrays walked, other values kept. */
  apply(value: unknown, mask: Masking, key: string, depth: number): unknown {
    if (depth > 64) return null;
    if (typeof value === 'string') {
      if (!value) return value;
      if (mask === 'text') return this.text(value, key, depth);
      if (mask === 'withheld') return '[WITHHELD]';
      if (mask === 'contact') return value.includes('@') ? PLACEHOLDER.email : PLACEHOLDER.phone;
      return PLACEHOLDER[mask];
    }
    if (Array.isArray(value)) return value.map((v) => this.apply(v, mask, key, depth + 1));
    if (isObject(value)) {
      // A survivorship result ({ value, rule, from, … }): only the value is the person's.
      if (mask !== 'text' && mask !== 'withheld' && 'value' in value && 'rule' in value)
        return { ...value, value: this.apply(value.value, mask, key, depth + 1) };
      // Inside free text's container, a classified field keeps its own masking (a `to` inside params is a contact point).
      if (mask === 'text') return this.walk(value, key, depth + 1);
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.apply(v, mask, key, depth + 1)]));
    }
    return value;
  }

  /** Walks a document: classified fields masked, every other string has emails, cards, IBANs and national ids redacted. */
  walk(value: unknown, parent: string | undefined, depth = 0): unknown {
    if (depth > 64) return null;
    if (typeof value === 'string') return redactForLog(value);
    if (Array.isArray(value)) return value.map((v) => this.walk(v, parent, depth + 1));
    if (!isObject(value)) return value;
    const keys = Object.keys(value);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const rule = classificationOf(k, keys, parent);
      if (!rule) out[k] = this.walk(v, k, depth + 1);
      else if (k === 'value' && rule.with?.includes('kind')) out[k] = maskValueOfKind(value.kind, v);
      else out[k] = this.apply(v, rule.mask, k, depth + 1);
    }
    return out;
  }
}

/** An identity's value by its kind: a customer id is the business's key and stays; an email or phone gets its placeholder. */
function maskValueOfKind(kind: unknown, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  switch (kind) {
    case 'customer_id':
      return value;
    case 'email':
      return PLACEHOLDER.email;
    case 'phone':
      return PLACEHOLDER.phone;
    default:
      return PLACEHOLDER.identifier;
  }
}

/**
 * A JSON document with its classified fields masked (see CLASSIFICATION and Masking), for a reader who may not see
 * personal data. Names found in the document's name fields, and the `names` given, are masked wherever its free text
 * repeats them. Strings
 * in fields not classified still have emails, payment cards, IBANs and national ids redacted (`[EMAIL]`, `[CARD]`),
 * so a field added without a classification does not show them in clear.
 */
export function maskClassified(document: unknown, opts: { names?: readonly string[] } = {}): unknown {
  const names = new Set<string>(opts.names);
  collectNames(document, undefined, names);
  return new Masker(namesAndParts([...names])).walk(document, undefined);
}

const PERSON_KEY = /^(?:acc|con|lead)_[0-9A-Z]{26}$/;

/**
 * The keys in a document that name a person (account, contact and lead ids, and customer ids), at most `most`, so
 * the caller can look up their names for maskClassified.
 */
export function personKeysIn(document: unknown, most = 500): string[] {
  const out = new Set<string>();
  const visit = (v: unknown, key: string | undefined, depth: number): void => {
    if (out.size >= most || depth > 64) return;
    if (typeof v === 'string') {
      if (PERSON_KEY.test(v) || (key === 'customerId' && v.length <= 64)) out.add(v);
      // Input kept as sent (quarantine's raw) is JSON text: the people it names count too.
      else if (/^\s*\{/.test(v) && v.length <= 1_000_000) {
        try {
          visit(JSON.parse(v), key, depth + 1);
        } catch {
          // not JSON
        }
      }
    } else if (Array.isArray(v)) v.forEach((x) => visit(x, key, depth + 1));
    else if (isObject(v)) for (const [k, x] of Object.entries(v)) visit(x, k, depth + 1);
  };
  visit(document, undefined, 0);
  return [...out];
}
