import { maskPii, namesAndParts, unmaskPii } from '../trust/index.ts';
import type { Masker } from './types.ts';

// The trust layer's rule for a name's parts, shared with the analyst's masking of API answers.
export { namesAndParts };

/**
 * The trust layer's masker as generation uses it: every personal value the trust module finds (emails, phones,
 * Luhn-checked cards, IBANs, national ids, addresses, and the names given) becomes a typed placeholder such as
 * `[EMAIL_1]` or `[NAME_1]`, and `restore` puts the values back into the model's answer. A name is also masked by
 * its parts (a first or last name written alone), each part of three letters or more.
 */
export const trustMasker: Masker = {
  mask(text, names = []) {
    const masked = maskPii(text, { names: namesAndParts(names) });
    return {
      text: masked.text,
      entities: masked.entities.map((e) => ({ type: e.type, start: e.start, end: e.end })),
      restore: (answer) => unmaskPii(answer, masked.restore),
    };
  },
};
