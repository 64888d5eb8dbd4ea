import { z } from 'zod';
import { component, IsoTime } from './core.ts';

/**
 * A stored CRM record as the API writes it: its columns in camelCase. The fields differ per kind, so beyond the
 * ones every record has, the object is open.
 */
export const StoredRecordSchema = component(
  'StoredRecord',
  z
    .object({
      id: z.string().min(1),
      version: z.number().int().min(1),
      createdAt: IsoTime,
      updatedAt: IsoTime,
      deletedAt: IsoTime.nullable(),
    })
    .loose(),
  'a stored CRM record: its fields in camelCase',
);

export const ConsentRecordSchema = component(
  'ConsentRecord',
  StoredRecordSchema.extend({
    contactId: z.string().nullable(),
    leadId: z.string().nullable(),
    channel: z.string().min(1),
    purpose: z.string().min(1),
    status: z.string().min(1),
    source: z.string(),
    capturedAt: IsoTime,
    effectiveFrom: IsoTime,
    effectiveTo: IsoTime.nullable(),
    contactPoint: z.string().nullable(),
    brand: z.string().nullable(),
    doubleOptIn: z.boolean(),
    confirmedAt: IsoTime.nullable(),
  }),
  'a consent record of a contact or lead',
);
