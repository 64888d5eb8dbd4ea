import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Db } from '../store/index.ts';
import { claimQueuedMessage, markMessageFailed, markMessageSent } from './act.repo.ts';

/** A queued message as a transport receives it. */
export interface OutgoingMessage {
  id: string;
  accountId: string | null;
  leadId: string | null;
  channel: string;
  purpose: string;
  /** The email address or phone number consent was checked for when it was queued (normalized); null for push. */
  to: string | null;
  /** The brand it goes out under, if any. */
  brand: string | null;
  template: string;
  body: string | null;
}

/** Where messages go. Plug in an email or SMS gateway here; the default sends nothing. */
export interface MessageTransport {
  readonly name: string;
  deliver(message: OutgoingMessage): Promise<void>;
}

/** The default: appends each message as one JSON line to a file, so a person can read what would have gone out. */
export class FileTransport implements MessageTransport {
  readonly name = 'file';
  constructor(private readonly file: string) {
    mkdirSync(dirname(file), { recursive: true });
  }
  async deliver(message: OutgoingMessage): Promise<void> {
    appendFileSync(this.file, JSON.stringify({ at: new Date().toISOString(), ...message }) + '\n');
  }
}

/**
 * Hands queued messages to the transport, oldest first, and marks each sent or failed. A message is
 * claimed with SKIP LOCKED inside its own transaction, so two dispatchers never send one twice.
 */
export async function deliverQueuedMessages(db: Db, transport: MessageTransport, limit = 100): Promise<{ sent: number; failed: number }> {
  let sent = 0;
  let failed = 0;
  for (let i = 0; i < limit; i++) {
    const outcome = await db.transaction(async (tx) => {
      const row = await claimQueuedMessage(tx);
      if (!row) return 'empty' as const;
      try {
        await transport.deliver({
          id: row.id,
          accountId: row.account_id,
          leadId: row.lead_id,
          channel: row.channel,
          purpose: row.purpose,
          to: row.contact_point,
          brand: row.brand,
          template: row.template,
          body: row.body,
        });
        await markMessageSent(tx, row.id, transport.name);
        return 'sent' as const;
      } catch {
        await markMessageFailed(tx, row.id, transport.name);
        return 'failed' as const;
      }
    });
    if (outcome === 'empty') break;
    if (outcome === 'sent') sent++;
    else failed++;
  }
  return { sent, failed };
}
