import type { Agent, AgentAction, AgentManifest } from './types.ts';

/**
 * External agents: software outside ACS that proposes actions through the MCP server's `propose_action` tool. Each
 * is known by the API token it calls with, as `external:<token name>`, and has an entry in the registry like a
 * built-in agent (autonomy per action, pause, the kill switch), but proposes nothing by itself: ACS never runs it.
 */
export const EXTERNAL_PREFIX = 'external:';

/** What an external agent may propose; the same tools as the built-in agents', never a direct write. */
export const EXTERNAL_ACTIONS = [
  'create_task',
  'create_case',
  'send_message',
  'offer_credit',
  'priority_routing',
  'update_record',
] as const satisfies readonly AgentAction[];
export type ExternalAction = (typeof EXTERNAL_ACTIONS)[number];

/** L2: every action drafts for a person's approval until an admin raises the level (PATCH /api/v1/agents/{id}). */
export const EXTERNAL_DEFAULT_AUTONOMY = 2;

const RISK: Record<ExternalAction, 'low' | 'medium' | 'high'> = {
  create_task: 'low',
  create_case: 'low',
  priority_routing: 'low',
  send_message: 'medium',
  update_record: 'medium',
  offer_credit: 'high',
};

export const isExternalAgentId = (id: string): boolean => id.startsWith(EXTERNAL_PREFIX) && id.length > EXTERNAL_PREFIX.length;

/** The registry id of the external agent calling with the token named `tokenName`. */
export const externalAgentId = (tokenName: string): string => `${EXTERNAL_PREFIX}${tokenName}`;

/** The external agent's manifest: every external action at L2, with its risk class. */
export function externalAgent(id: string): Agent {
  const manifest: AgentManifest = {
    id,
    owner: 'external',
    objective: 'actions proposed by an external agent through MCP',
    triggers: { signalTypes: [], features: [] },
    actions: Object.fromEntries(EXTERNAL_ACTIONS.map((a) => [a, { autonomy: EXTERNAL_DEFAULT_AUTONOMY, risk: RISK[a] }])),
    riskClass: 'medium',
  };
  return { manifest, propose: () => [] };
}
