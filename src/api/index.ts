/**
 * api: the HTTP API (Hono): routes, auth tokens, permissions, problem documents, the OpenAPI document, metrics and
 * the built console's files. Owns the api_tokens table (tokens.repo.ts). Only the composition roots (server.ts, cli)
 * import it.
 */
export { API_VERSION, apiRoutes, createApp } from './app.ts';
export {
  bootstrapAdminToken,
  createToken,
  listTokens,
  readAdminTokenFile,
  revokeToken,
  TokenAuthenticator,
  type Principal,
} from './auth.ts';
export { superviseAndAlert } from './supervise.ts';
export { createMcpServer, mcpSession, ToolRefusal, type McpSession } from './mcp.ts';
export { createMetrics, observeSignalToDecision, type Metrics } from './metrics.ts';
export * from './tokens.repo.ts';
