/** Identity normalization: the same person written two ways must give the same key. */
import { isSupportedCountry, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** The region numbers written without a country code are read in: `ACS_DEFAULT_PHONE_REGION`, default US. */
export function defaultPhoneRegion(env: NodeJS.ProcessEnv = process.env): CountryCode {
  const region = env.ACS_DEFAULT_PHONE_REGION?.trim().toUpperCase();
  return region && isSupportedCountry(region) ? region : 'US';
}

/**
 * A phone number in E.164 (`+61412345678`), read with libphonenumber-js in `region` when it has no country code;
 * null when the library does not call it a valid number.
 */
export function toE164(phone: string, region: CountryCode = defaultPhoneRegion()): string | null {
  const trimmed = phone.trim().replace(/^00/, '+');
  const parsed = parsePhoneNumberFromString(trimmed, region);
  return parsed?.isValid() ? parsed.number : null;
}

/**
 * The identity key of a phone number: its E.164 form's digits (`0412 345 678` in region AU and `+61 412 345 678`
 * both give 61412345678). A number libphonenumber-js does not call valid (a fictional 555 number) falls back to its
 * digits, a leading international 00 dropped and a bare 10-digit number read as North American (+1).
 */
export function normalizePhone(phone: string, region: CountryCode = defaultPhoneRegion()): string {
  const e164 = toE164(phone, region);
  if (e164) return e164.slice(1);
  let digits = phone.replace(/\D/g, '');
  if (digits.startsWith('00')) digits = digits.slice(2);
  if (digits.length === 10) digits = '1' + digits;
  return digits;
}

export function normalizeExternalId(id: string): string {
  return id.trim();
}

export type IdentityKind = 'customer_id' | 'email' | 'phone' | 'external_id';

export interface IdentityKey {
  kind: IdentityKind;
  value: string;
}

/** The keys a subject or record offers, strongest first. */
export function identityKeys(s: {
  customerId?: string | null;
  email?: string | null;
  phone?: string | null;
  externalId?: string | null;
}): IdentityKey[] {
  const keys: IdentityKey[] = [];
  if (s.customerId) keys.push({ kind: 'customer_id', value: s.customerId.trim() });
  if (s.externalId) keys.push({ kind: 'external_id', value: normalizeExternalId(s.externalId) });
  if (s.email) keys.push({ kind: 'email', value: normalizeEmail(s.email) });
  if (s.phone) {
    const phone = normalizePhone(s.phone);
    if (phone) keys.push({ kind: 'phone', value: phone });
  }
  return keys;
}
