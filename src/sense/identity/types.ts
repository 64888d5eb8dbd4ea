/** The person fields identity resolution compares. Every value is normalized text; absent means unknown. */
export const PERSON_FIELDS = [
  'givenName',
  'surname',
  'dateOfBirth',
  'streetNumber',
  'address1',
  'address2',
  'suburb',
  'postcode',
  'state',
  'email',
  'phone',
  'nationalId',
] as const;
export type PersonField = (typeof PERSON_FIELDS)[number];

/** One record to resolve: its id in its source, which source it came from, and its normalized fields. */
export interface PersonRecord {
  id: string;
  /** 0 for the first file (or the only one), 1 for the second when linking two. */
  source: number;
  fields: Partial<Record<PersonField, string>>;
}
