import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from './router.ts';

/** Where `npm run build:console` (and so `npm ci`, through `prepare`) puts the web console. */
export const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL('../../console/dist/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.map': 'application/json',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

/** The console only loads its own files and only talks to its own origin. */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>ACS console not built</title></head>
<body><main><h1>The console is not built</h1><p>Run <code>npm run build:console</code> (<code>npm ci</code> does it), then reload.
The API is up: see <a href="/api/openapi.json">/api/openapi.json</a>.</p></main></body></html>`;

/**
 * Serves the built web console at `/`: hashed assets are cached for good, `index.html` is revalidated each time.
 * Paths outside the console's folder, and everything under /api, /metrics and /healthz, are left to the API.
 */
export function serveConsole(dir: string = DEFAULT_CONSOLE_DIR): MiddlewareHandler<AppEnv> {
  const root = resolve(dir);
  return async (c, next) => {
    const path = c.req.path;
    if ((c.req.method !== 'GET' && c.req.method !== 'HEAD') || path.startsWith('/api/') || path === '/metrics' || path === '/healthz')
      return next();
    const index = join(root, 'index.html');
    if (!existsSync(index)) {
      if (path === '/' || path === '/index.html') return c.html(NOT_BUILT, 503);
      return next();
    }
    // The path arrives decoded; resolving it must stay inside the console's folder.
    let file = resolve(root, '.' + path);
    if (file !== root && !file.startsWith(root + sep)) return next();
    // The console routes with the URL's hash, so every page is `/`: anything else that is not a file is a 404.
    if (path === '/') file = index;
    else if (!existsSync(file) || !statSync(file).isFile()) return next();
    // One metrics label for every console file.
    c.set('route', '(console)');
    const immutable = file.startsWith(join(root, 'assets') + sep);
    return c.body(readFileSync(file), 200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      ...SECURITY_HEADERS,
    });
  };
}
