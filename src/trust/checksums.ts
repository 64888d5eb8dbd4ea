/**
 * The check-digit and format rules the PII masker (pii.ts) uses to tell a real identifier from a number that
 * merely looks like one. Each rule names where it comes from.
 */

/** Luhn (ISO/IEC 7812-1 annex B): the check digit of payment card numbers. `digits` holds only 0-9. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return digits.length > 0 && sum % 10 === 0;
}

/**
 * Whether a card number's issuer prefix (IIN) and length fit a known scheme: Visa, Mastercard, American Express,
 * Discover, JCB, Diners Club, UnionPay and Maestro, with the prefixes and lengths the schemes publish.
 */
export function cardSchemeOf(digits: string): string | null {
  const n = digits.length;
  const p = (k: number) => Number(digits.slice(0, k));
  if (digits[0] === '4' && (n === 13 || n === 16 || n === 19)) return 'visa';
  if (((p(2) >= 51 && p(2) <= 55) || (p(4) >= 2221 && p(4) <= 2720)) && n === 16) return 'mastercard';
  if ((p(2) === 34 || p(2) === 37) && n === 15) return 'amex';
  if ((p(4) === 6011 || (p(3) >= 644 && p(3) <= 649) || p(2) === 65) && n >= 16 && n <= 19) return 'discover';
  if (p(4) >= 3528 && p(4) <= 3589 && n >= 16 && n <= 19) return 'jcb';
  if (((p(3) >= 300 && p(3) <= 305) || p(2) === 36 || p(2) === 38 || p(2) === 39) && n >= 14 && n <= 19) return 'diners';
  if (p(2) === 62 && n >= 16 && n <= 19) return 'unionpay';
  if ((p(2) === 50 || (p(2) >= 56 && p(2) <= 69)) && n >= 13 && n <= 19) return 'maestro';
  return null;
}

/**
 * IBAN length per country, from the IBAN registry kept under ISO 13616 (SWIFT's "IBAN Registry"). Countries not
 * listed are not recognised.
 */
export const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BR: 29, BY: 28, CH: 21, CR: 22, CY: 28,
  CZ: 24, DE: 22, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23, GL: 18,
  GR: 27, GT: 28, HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32,
  LI: 21, LT: 20, LU: 20, LV: 21, MC: 27, MD: 24, ME: 22, MK: 19, MR: 27, MT: 31, MU: 30, NL: 18, NO: 15, PK: 24,
  PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, SA: 24, SC: 31, SE: 24, SI: 19, SK: 24, SM: 27, ST: 25, SV: 28,
  TL: 23, TN: 24, TR: 26, UA: 29, VA: 22, VG: 24, XK: 20,
}; // prettier-ignore

/**
 * The ISO 13616 / ISO 7064 mod 97-10 check: move the first four characters to the end, turn letters into 10..35,
 * and the number must leave 1 when divided by 97. `iban` is upper case without spaces.
 */
export function ibanValid(iban: string): boolean {
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]+$/.test(iban)) return false;
  if (IBAN_LENGTHS[iban.slice(0, 2)] !== iban.length) return false;
  const moved = iban.slice(4) + iban.slice(0, 4);
  let rest = 0;
  for (const ch of moved) {
    const v = ch >= 'A' ? ch.charCodeAt(0) - 55 : ch.charCodeAt(0) - 48;
    rest = v > 9 ? (rest * 100 + v) % 97 : (rest * 10 + v) % 97;
  }
  return rest === 1;
}

/**
 * A US Social Security number that could have been issued: the Social Security Administration never assigns area
 * 000, 666 or 900-999, group 00 or serial 0000.
 */
export function ssnValid(area: string, group: string, serial: string): boolean {
  const a = Number(area);
  return a !== 0 && a !== 666 && a < 900 && group !== '00' && serial !== '0000';
}

/**
 * A UK National Insurance number's prefix: HMRC's National Insurance Manual (NIM39110) rules out D, F, I, Q, U, V
 * in either letter, O as the second, and the pairs BG, GB, KN, NK, NT, TN and ZZ.
 */
export function ninoPrefixValid(prefix: string): boolean {
  if (!/^[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]$/.test(prefix)) return false;
  return !['BG', 'GB', 'KN', 'NK', 'NT', 'TN', 'ZZ'].includes(prefix);
}

/**
 * The Australian Tax File Number check (9 digits): the digits weighted 1, 4, 3, 7, 5, 8, 6, 9, 10 sum to a
 * multiple of 11 (the algorithm as the ATO's software developers' guidance gives it).
 */
export function tfnValid(digits: string): boolean {
  if (!/^\d{9}$/.test(digits)) return false;
  const weights = [1, 4, 3, 7, 5, 8, 6, 9, 10];
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(digits[i]) * weights[i]!;
  return sum % 11 === 0;
}
