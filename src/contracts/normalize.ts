/** Identity normalization: the same person written two ways must give the same key. */

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** Digits only; a leading international 00 is dropped and a bare 10-digit number is read as North American (+1). */
export function normalizePhone(phone: string): string {
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
