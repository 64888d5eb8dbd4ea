import { dataStewardshipAgent } from './data-stewardship.ts';
import { externalAgent, isExternalAgentId } from './external.ts';
import { leadNurturingAgent } from './lead-nurturing.ts';
import { retentionAgent } from './retention.ts';
import { serviceRecoveryAgent } from './service-recovery.ts';
import type { Agent } from './types.ts';

/** Every built-in agent. A new agent is a file with its manifest, added here. */
export const AGENTS: readonly Agent[] = [retentionAgent, serviceRecoveryAgent, leadNurturingAgent, dataStewardshipAgent];

/** A built-in agent, or an external one (`external:<token name>`, src/reason/agents/external.ts). */
export function agentById(id: string): Agent | undefined {
  return AGENTS.find((a) => a.manifest.id === id) ?? (isExternalAgentId(id) ? externalAgent(id) : undefined);
}
