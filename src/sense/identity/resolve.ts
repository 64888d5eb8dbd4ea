import { appendToLedger } from '../../ledger/index.ts';
import { attachContactToAccount, claimIdentities, lookupIdentities } from '../../records/index.ts';
import { identityKeys } from '../../contracts/index.ts';
import type { Tx } from '../../store/index.ts';
import { mergeProfiles, openReview } from './merges.ts';
import { bestCandidate, identifiesPerson, recordPersonFields, registerPeople, type PersonEntry } from './people.ts';
import { loadIdentitySettings, loadMatcher } from './settings.ts';

/** What resolution did with a new profile's person: joined an existing profile, asked a steward, or left it alone. */
export type Placement =
  | { outcome: 'merged'; survivorId: string; mergeId: string; probability: number; rule: string }
  | { outcome: 'review'; reviewId: string; candidateId: string; probability: number }
  | { outcome: 'new'; probability: number | null };

/**
 * Resolves the people behind profiles intake (or an import) just created for subjects no identifier knew: each is
 * compared with the people sharing its blocks. At the match threshold the new profile is folded into the existing
 * one (a merge with its lineage, which a steward can undo); between the review and match thresholds it stays apart
 * and a steward is asked. Each person is registered before the next is resolved, so two records of one newcomer in a
 * batch find each other. Returns the placement of each, in order.
 */
export async function resolveNewProfiles(tx: Tx, people: PersonEntry[], ctx: { actor: string; now: Date }): Promise<Placement[]> {
  if (people.length === 0) return [];
  const settings = await loadIdentitySettings(tx);
  const matcher = await loadMatcher(tx, settings);
  const placements: Placement[] = [];
  for (const person of people) {
    const best = identifiesPerson(person.fields)
      ? await bestCandidate(tx, matcher, person.fields, { accountId: person.accountId, accountsOnly: true })
      : null;
    const probability = best?.explanation.probability ?? null;
    const rule = best?.explanation.rule ?? 'probabilistic';
    const confident = best && probability! >= settings.matchThreshold;
    await registerPeople(tx, [{ ...person, ...(confident ? { matchedBy: rule, score: probability, matchedPerson: best.personId } : {}) }]);
    if (confident) {
      const merge = await mergeProfiles(tx, {
        survivorId: best.accountId!,
        mergedId: person.accountId!,
        rule,
        score: probability,
        explanation: best.explanation,
        actor: ctx.actor,
        now: ctx.now,
      });
      placements.push({ outcome: 'merged', survivorId: best.accountId!, mergeId: merge.id, probability: probability!, rule });
    } else if (best && probability! >= settings.reviewThreshold) {
      const reviewId = await openReview(tx, {
        accountId: person.accountId!,
        candidateId: best.accountId!,
        personId: person.id,
        candidatePersonId: best.personId,
        explanation: best.explanation,
        actor: ctx.actor,
        now: ctx.now,
      });
      placements.push({ outcome: 'review', reviewId, candidateId: best.accountId!, probability: probability! });
    } else {
      placements.push({ outcome: 'new', probability });
    }
  }
  return placements;
}

/** How a contact written without a profile found one. */
export interface Attachment {
  contactId: string;
  accountId: string;
  matchedBy: string;
  score: number | null;
}

/**
 * Contacts written without a profile (people imported from another system) resolve to one through the same engine as
 * signals: an identifier a profile already holds first, then similarity at the match threshold. An attached contact
 * gets the profile's id (in `contacts` as in the given records), its identifiers and its person record with lineage.
 * A contact that matches no one well enough stays on its own; nothing is guessed below the match threshold.
 */
export async function attachContacts(
  tx: Tx,
  contacts: Record<string, unknown>[],
  ctx: { actor: string; now: Date; source: string },
): Promise<Attachment[]> {
  const loose = contacts.filter((c) => !c.accountId && !c.deletedAt);
  if (loose.length === 0) return [];
  const keysOf = (c: Record<string, unknown>) => identityKeys({ email: c.email as string | null, phone: c.phone as string | null });
  const known = await lookupIdentities(tx, loose.flatMap(keysOf));
  const settings = await loadIdentitySettings(tx);
  const matcher = await loadMatcher(tx, settings);
  const attached: Attachment[] = [];
  for (const c of loose) {
    const key = keysOf(c).find((k) => known.get(`${k.kind}:${k.value}`)?.account_id);
    const fields = recordPersonFields(c);
    let found: Attachment | null = null;
    let matchedPerson: string | null = null;
    if (key) {
      found = {
        contactId: c.id as string,
        accountId: known.get(`${key.kind}:${key.value}`)!.account_id!,
        matchedBy: `same ${key.kind}`,
        score: null,
      };
    } else if (identifiesPerson(fields)) {
      const best = await bestCandidate(tx, matcher, fields, { accountsOnly: true });
      if (best && best.explanation.probability >= settings.matchThreshold) {
        found = {
          contactId: c.id as string,
          accountId: best.accountId!,
          matchedBy: best.explanation.rule ?? 'probabilistic',
          score: best.explanation.probability,
        };
        matchedPerson = best.personId;
      }
    }
    if (!found) continue;
    await attachContactToAccount(tx, found.contactId, found.accountId);
    c.accountId = found.accountId;
    await claimIdentities(
      tx,
      keysOf(c).map((k) => ({ ...k, account_id: found.accountId, source: ctx.source })),
    );
    await registerPeople(tx, [
      {
        id: `contacts:${found.contactId}`,
        sourceKind: 'contacts',
        sourceId: found.contactId,
        source: ctx.source,
        accountId: found.accountId,
        leadId: null,
        fields,
        observedAt: ctx.now.toISOString(),
        matchedBy: found.matchedBy,
        score: found.score,
        matchedPerson,
      },
    ]);
    attached.push(found);
  }
  await appendToLedger(
    tx,
    attached.map((a) => ({
      type: 'identity.attached',
      actor: ctx.actor,
      subjectType: 'contacts',
      subjectId: a.contactId,
      data: { accountId: a.accountId, matchedBy: a.matchedBy, score: a.score },
      at: ctx.now,
    })),
  );
  return attached;
}
