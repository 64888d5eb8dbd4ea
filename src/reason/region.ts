import type { CustomerContext } from './agents/index.ts';

// Region (jurisdiction) of a customer, from the country its data names. Policy reads it as `region`
// (policies/README.md "Region"). The mapping is deliberately small and documented:
//   - the 27 EU member states → 'EU' (GDPR and the ePrivacy rules on marketing consent apply);
//   - the United Kingdom (GB, UK) → 'UK';
//   - any other ISO 3166-1 alpha-2 code → that code, upper case ('US', 'CA', 'CH', 'NO', …);
//   - a few common country names → their code, then as above;
//   - nothing that names a country → 'unknown'.

/** ISO 3166-1 alpha-2 codes of the EU's 27 member states (since 1 February 2020). */
export const EU_MEMBER_STATES = [
  'AT',
  'BE',
  'BG',
  'HR',
  'CY',
  'CZ',
  'DK',
  'EE',
  'FI',
  'FR',
  'DE',
  'GR',
  'HU',
  'IE',
  'IT',
  'LV',
  'LT',
  'LU',
  'MT',
  'NL',
  'PL',
  'PT',
  'RO',
  'SK',
  'SI',
  'ES',
  'SE',
] as const;

const EU = new Set<string>(EU_MEMBER_STATES);

/** Country names (lower case) that data often carries instead of a code. */
const NAMES: Record<string, string> = {
  'united states': 'US',
  'united states of america': 'US',
  usa: 'US',
  america: 'US',
  'united kingdom': 'GB',
  'great britain': 'GB',
  england: 'GB',
  scotland: 'GB',
  wales: 'GB',
  'northern ireland': 'GB',
  canada: 'CA',
  australia: 'AU',
  switzerland: 'CH',
  norway: 'NO',
  iceland: 'IS',
  japan: 'JP',
  india: 'IN',
  brazil: 'BR',
  mexico: 'MX',
  austria: 'AT',
  belgium: 'BE',
  bulgaria: 'BG',
  croatia: 'HR',
  cyprus: 'CY',
  czechia: 'CZ',
  'czech republic': 'CZ',
  denmark: 'DK',
  estonia: 'EE',
  finland: 'FI',
  france: 'FR',
  germany: 'DE',
  deutschland: 'DE',
  greece: 'GR',
  hungary: 'HU',
  ireland: 'IE',
  italy: 'IT',
  latvia: 'LV',
  lithuania: 'LT',
  luxembourg: 'LU',
  malta: 'MT',
  netherlands: 'NL',
  'the netherlands': 'NL',
  poland: 'PL',
  portugal: 'PT',
  romania: 'RO',
  slovakia: 'SK',
  slovenia: 'SI',
  spain: 'ES',
  sweden: 'SE',
};

/** The region of one country value (a code or a name); 'unknown' when it names none. */
export function regionOfCountry(country: unknown): string {
  if (typeof country !== 'string') return 'unknown';
  const raw = country.trim();
  if (!raw) return 'unknown';
  const code = /^[A-Za-z]{2}$/.test(raw) ? raw.toUpperCase() : NAMES[raw.toLowerCase()];
  if (!code) return 'unknown';
  if (EU.has(code)) return 'EU';
  if (code === 'GB' || code === 'UK') return 'UK';
  return code;
}

/** The country a record's attributes name: `country`, `countryCode`, or `address.country`, first that is set. */
export function countryOf(attributes: Record<string, unknown> | null | undefined): unknown {
  if (!attributes) return undefined;
  const address = attributes.address;
  return (
    attributes.country ??
    attributes.countryCode ??
    (address && typeof address === 'object' ? (address as Record<string, unknown>).country : undefined)
  );
}

/** The region of the first of these attribute sets that names a country; 'unknown' when none does. */
export function regionOfAttributes(...sources: (Record<string, unknown> | null | undefined)[]): string {
  for (const s of sources) {
    const region = regionOfCountry(countryOf(s));
    if (region !== 'unknown') return region;
  }
  return 'unknown';
}

/**
 * A customer's region, as policy sees it: from the country the account's (or lead's) attributes name, or else the first
 * of its contacts' countries; 'unknown' when nothing names one.
 */
export function regionOf(ctx: Pick<CustomerContext, 'attributes' | 'contacts'>): string {
  const own = regionOfAttributes(ctx.attributes);
  if (own !== 'unknown') return own;
  for (const c of ctx.contacts) {
    const region = regionOfCountry(c.country);
    if (region !== 'unknown') return region;
  }
  return 'unknown';
}
