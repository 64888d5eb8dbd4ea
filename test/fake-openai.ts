import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A FAKE OpenAI-compatible server on loopback, standing in for a model server outside the system (Ollama, vLLM, a
 * hosted service). It records every request and answers by a script; with no script step left it answers `answer`.
 */
export interface Seen {
  path: string;
  auth?: string;
  body: string;
}

export type Step = (req: Seen) => { status: number; body: unknown } | 'hang' | 'stall';

export interface FakeOpenAi {
  server: Server;
  seen: Seen[];
  /** The base URL, once `start` has resolved. */
  base: string;
  setScript(steps: Step[]): void;
  start(): Promise<string>;
  stop(): Promise<void>;
}

export function fakeOpenAiServer(answer: Step): FakeOpenAi {
  const seen: Seen[] = [];
  let script: Step[] = [];
  const server: Server = createServer(async (req: IncomingMessage, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    const s: Seen = { path: req.url ?? '', auth: req.headers.authorization, body };
    seen.push(s);
    const step = script.shift() ?? answer;
    const out = step(s);
    if (out === 'hang') return; // never answers: the client's timeout must end the wait
    if (out === 'stall') {
      // headers and half a body, then nothing
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"choices": [');
      return;
    }
    res.writeHead(out.status, { 'content-type': 'application/json' });
    res.end(typeof out.body === 'string' ? out.body : JSON.stringify(out.body));
  });
  const fake: FakeOpenAi = {
    server,
    seen,
    base: '',
    setScript: (steps) => {
      script = [...steps];
    },
    async start() {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      fake.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      return fake.base;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  return fake;
}

/** A chat completion answer with this content. */
export const chatAnswer = (content: string, model = 'fake-model-1') => ({
  status: 200,
  body: { id: 'x', model, choices: [{ index: 0, message: { role: 'assistant', content } }] },
});
