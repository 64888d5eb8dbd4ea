import type { Embedder } from '../knowledge/index.ts';
import { maskedEmbed } from './generate.ts';
import { trustMasker } from './masker.ts';
import type { Provider } from './provider.ts';
import type { Masker } from './types.ts';

/**
 * The provider's embedding model as knowledge search and import take it, with every text masked before it leaves
 * (queries are customers' words). Undefined when no embedding model is configured: retrieval is then lexical alone.
 */
export function providerEmbedder(provider: Provider | undefined, masker: Masker = trustMasker): Embedder | undefined {
  if (!provider?.embedModel) return undefined;
  return { model: provider.embedModel, embed: async (texts) => (await maskedEmbed(provider, masker, texts)).vectors };
}

/** The provider when it has a chat model; else undefined, so generation uses the embedded composer (embeddings alone write nothing). */
export const chatProvider = (provider: Provider | undefined): Provider | undefined => (provider?.chatModel ? provider : undefined);
