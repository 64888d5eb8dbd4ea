import type { Config } from '../config.ts';

/**
 * A language-model provider: chat completions and embeddings behind one interface. ACS ships one implementation, for
 * any OpenAI-compatible server (Ollama, vLLM, llama.cpp's server and hosted services speak the same two endpoints).
 * Providers see only masked text: generate() and maskedEmbed() mask before calling, never the provider itself.
 */

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatResult {
  text: string;
  model: string;
}

export interface Provider {
  /** For the record: which kind of provider answered. */
  readonly name: string;
  readonly chatModel?: string;
  readonly embedModel?: string;
  chat(messages: ChatMessage[], opts?: { temperature?: number; maxTokens?: number }): Promise<ChatResult>;
  embed(texts: string[]): Promise<{ vectors: number[][]; model: string }>;
}

export interface Endpoint {
  baseUrl: string;
  model: string;
  apiKey?: string;
}

export interface OpenAICompatibleOptions {
  chat?: Endpoint;
  embed?: Endpoint;
  /** Per attempt. */
  timeoutMs?: number;
  /** Attempts after the first, on a network error, a timeout, a 429 or a 5xx. */
  maxRetries?: number;
  /** Wait before retry n (1-based) is backoffMs × 2^(n-1). */
  backoffMs?: number;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_RETRIES = 2;

/** A provider call that failed, saying which endpoint, what happened, and whether it was retried. */
export class ProviderError extends Error {
  constructor(
    message: string,
    readonly endpoint: string,
    readonly status?: number,
    readonly attempts = 1,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

/** `http://host:11434` and `http://host:11434/v1` both mean the same server: the path gets `/v1` once. */
export function endpointUrl(baseUrl: string, path: 'chat/completions' | 'embeddings'): string {
  const base = baseUrl.replace(/\/+$/, '');
  return `${/\/v1$/.test(base) ? base : `${base}/v1`}/${path}`;
}

export class OpenAICompatibleProvider implements Provider {
  readonly name = 'openai-compatible';
  readonly chatModel?: string;
  readonly embedModel?: string;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly backoffMs: number;

  constructor(private readonly opts: OpenAICompatibleOptions) {
    this.chatModel = opts.chat?.model;
    this.embedModel = opts.embed?.model;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxRetries = Math.max(0, Math.min(opts.maxRetries ?? DEFAULT_MAX_RETRIES, 10));
    this.backoffMs = opts.backoffMs ?? 250;
  }

  async chat(messages: ChatMessage[], opts: { temperature?: number; maxTokens?: number } = {}): Promise<ChatResult> {
    const ep = this.opts.chat;
    if (!ep) throw new ProviderError('no chat endpoint configured (set ACS_LLM_BASE_URL and ACS_LLM_MODEL)', '(none)');
    const body = { model: ep.model, messages, temperature: opts.temperature ?? 0, max_tokens: opts.maxTokens, stream: false };
    const json = (await this.post(ep, 'chat/completions', body)) as { model?: string; choices?: { message?: { content?: unknown } }[] };
    const content = json.choices?.[0]?.message?.content;
    if (typeof content !== 'string')
      throw new ProviderError('chat answer has no choices[0].message.content string', endpointUrl(ep.baseUrl, 'chat/completions'));
    return { text: content, model: typeof json.model === 'string' ? json.model : ep.model };
  }

  async embed(texts: string[]): Promise<{ vectors: number[][]; model: string }> {
    const ep = this.opts.embed;
    if (!ep) throw new ProviderError('no embedding endpoint configured (set ACS_EMBED_BASE_URL and ACS_EMBED_MODEL)', '(none)');
    if (texts.length === 0) return { vectors: [], model: ep.model };
    const json = (await this.post(ep, 'embeddings', { model: ep.model, input: texts })) as {
      model?: string;
      data?: { index?: number; embedding?: unknown }[];
    };
    const data = json.data;
    const url = endpointUrl(ep.baseUrl, 'embeddings');
    if (!Array.isArray(data) || data.length !== texts.length)
      throw new ProviderError(
        `embeddings answer has ${Array.isArray(data) ? data.length : 'no'} data items for ${texts.length} inputs`,
        url,
      );
    const ordered = [...data].sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
    const vectors = ordered.map((d, i) => {
      if (!Array.isArray(d.embedding) || !d.embedding.every((x) => typeof x === 'number' && Number.isFinite(x)))
        throw new ProviderError(`embeddings answer item ${i} is not an array of numbers`, url);
      return d.embedding as number[];
    });
    return { vectors, model: typeof json.model === 'string' ? json.model : ep.model };
  }

  private async post(ep: Endpoint, path: 'chat/completions' | 'embeddings', body: unknown): Promise<unknown> {
    const url = endpointUrl(ep.baseUrl, path);
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (ep.apiKey) headers.authorization = `Bearer ${ep.apiKey}`;
    let last: ProviderError | undefined;
    for (let attempt = 1; attempt <= this.maxRetries + 1; attempt++) {
      if (attempt > 1) await new Promise((r) => setTimeout(r, this.backoffMs * 2 ** (attempt - 2)));
      let res: Response;
      let text: string;
      try {
        res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(this.timeoutMs) });
        // The timeout covers the body too: a server that sends headers and then stalls is a timeout, not a bad answer.
        text = await res.text();
      } catch (err) {
        const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
        const why = timedOut
          ? `no answer within ${this.timeoutMs} ms`
          : `cannot reach it (${err instanceof Error ? err.message : String(err)})`;
        last = new ProviderError(`${path} at ${url}: ${why}, after ${attempt} attempt(s)`, url, undefined, attempt);
        continue;
      }
      if (res.ok) {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          throw new ProviderError(`${path} at ${url}: answer is not JSON`, url, res.status, attempt);
        }
      }
      const snippet = text.replace(/\s+/g, ' ').slice(0, 200);
      last = new ProviderError(
        `${path} at ${url}: HTTP ${res.status}${snippet ? ` (${snippet})` : ''}, after ${attempt} attempt(s)`,
        url,
        res.status,
        attempt,
      );
      // A refusal (bad key, bad model, bad request) will not change on retry.
      if (res.status !== 429 && res.status < 500) throw last;
    }
    throw last!;
  }
}

/** The configured provider, or undefined when none is: then generation uses the embedded composer. */
export function providerFromConfig(config: Pick<Config, 'llm' | 'embed'>): Provider | undefined {
  if (!config.llm && !config.embed) return undefined;
  return new OpenAICompatibleProvider({
    chat: config.llm && { baseUrl: config.llm.baseUrl, model: config.llm.model, apiKey: config.llm.apiKey },
    embed: config.embed && { baseUrl: config.embed.baseUrl, model: config.embed.model, apiKey: config.embed.apiKey },
    timeoutMs: config.llm?.timeoutMs ?? config.embed?.timeoutMs,
    maxRetries: config.llm?.maxRetries ?? config.embed?.maxRetries,
  });
}
