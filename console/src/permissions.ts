/**
 * Which role may call which route, read from the server's own OpenAPI document (its `x-roles`), so the console
 * offers exactly what the API allows and never keeps a second copy of the table. The API still enforces it.
 */
export type Can = (method: string, path: string) => boolean;

export async function loadPermissions(role: string): Promise<Can> {
  const res = await fetch('/api/openapi.json');
  if (!res.ok) throw new Error(`cannot read the API description (${res.status})`);
  const doc = (await res.json()) as { paths: Record<string, Record<string, { 'x-roles'?: string[] }>> };
  const allowed = new Set<string>();
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      if (op['x-roles']?.includes(role)) allowed.add(`${method.toUpperCase()} ${path}`);
    }
  }
  // Paths are written as in the API description, with `{id}` for parameters.
  return (method, path) => allowed.has(`${method.toUpperCase()} /api/v1${path}`);
}
