import type { Queryable } from '../store/index.ts';

/**
 * Who an actor string names, for people reading the ledger or a history: `token:<id>` is the API token's name and
 * role (api_tokens, owned by src/api), `agent:<id>` the agent, `system…` and the other built-in actors say what they
 * are. An unknown token (revoked ones keep their names) shows as its id.
 */
export interface ActorName {
  name: string;
  kind: 'person' | 'agent' | 'system';
  role: string | null;
}

const BUILT_IN: Record<string, string> = {
  system: 'the system',
  'system:plays': 'the play runner',
  'system:maintenance': 'maintenance',
  'system:bus': 'the event bus',
  'sim:reviewer': 'the simulated reviewer',
  supervisor: 'the supervisor',
  policy: 'policy',
  'cli:import': 'an import (CLI)',
};

export async function actorNames(q: Queryable, actors: Iterable<string>): Promise<Map<string, ActorName>> {
  const distinct = [...new Set(actors)];
  const tokenIds = distinct.filter((a) => a.startsWith('token:')).map((a) => a.slice(6));
  const tokens = tokenIds.length
    ? await q.query<{ id: string; name: string; role: string }>('SELECT id, name, role FROM api_tokens WHERE id = ANY($1::text[])', [
        tokenIds,
      ])
    : [];
  const byToken = new Map(tokens.map((t) => [t.id, t]));
  const out = new Map<string, ActorName>();
  for (const actor of distinct) {
    if (actor.startsWith('token:')) {
      const t = byToken.get(actor.slice(6));
      out.set(actor, t ? { name: t.name, kind: 'person', role: t.role } : { name: actor, kind: 'person', role: null });
    } else if (actor.startsWith('agent:')) {
      out.set(actor, { name: `${actor.slice(6)} agent`, kind: 'agent', role: 'agent' });
    } else {
      out.set(actor, { name: BUILT_IN[actor] ?? actor, kind: 'system', role: null });
    }
  }
  return out;
}
