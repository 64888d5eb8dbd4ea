import { z } from 'zod';
import { component } from './core.ts';

/** The kinds of personal data the masker finds (src/trust/pii.ts). */
export const PiiTypeSchema = z.enum(['email', 'phone', 'card', 'iban', 'ssn', 'nino', 'tfn', 'address', 'name']);

/** The most characters `POST /api/v1/pii/mask` takes in `text`. */
export const MAX_MASK_TEXT_CHARS = 20_000;

export const PiiMaskRequestSchema = z.strictObject({
  text: z.string().max(MAX_MASK_TEXT_CHARS, `at most ${MAX_MASK_TEXT_CHARS} characters`),
  names: z.array(z.string().min(1).max(200)).max(50).optional(),
});

export const PiiMaskResultSchema = component(
  'PiiMaskResult',
  z.object({
    text: z.string(),
    entities: z.array(
      z.object({
        type: PiiTypeSchema,
        start: z.number().int().min(0),
        end: z.number().int().min(0),
      }),
    ),
  }),
  'the text with each piece of personal data replaced by a typed placeholder ([EMAIL_1], [CARD_2], …), and where each was in the input (UTF-16 offsets, end exclusive)',
);
