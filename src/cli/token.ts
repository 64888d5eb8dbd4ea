import { createToken, listTokens, revokeToken } from '../api/index.ts';
import type { Config } from '../config.ts';
import { openDatabase } from '../server.ts';
import { errorOfAnswer, runningServerClient, serverNow } from './client.ts';
import { parseCommandArgs, UsageError } from './args.ts';

const CLI_ACTOR = 'cli';

export async function tokenCommand(args: string[], config: Config): Promise<number> {
  const { positionals, values } = parseCommandArgs(args, { role: { type: 'string' }, name: { type: 'string' }, json: { type: 'boolean' } });
  const [sub, id] = positionals;
  if (sub === 'create' && (!values.role || !values.name)) throw new UsageError('token create needs --role and --name');
  if (sub === 'revoke' && !id) throw new UsageError('token revoke needs the token id');
  if (!['create', 'list', 'revoke'].includes(sub ?? '')) throw new UsageError(`unknown token command '${sub ?? ''}'`);

  const client = runningServerClient(config);
  let result: unknown;
  if (client) {
    const res =
      sub === 'create'
        ? await client('POST', '/api/v1/tokens', { role: values.role, name: values.name })
        : sub === 'list'
          ? await client('GET', '/api/v1/tokens')
          : await client('DELETE', `/api/v1/tokens/${id}`);
    if (res.status >= 400) throw errorOfAnswer(res);
    result = sub === 'list' ? res.body.data : res.body;
  } else {
    const db = await openDatabase(config);
    try {
      if (sub === 'create') result = await createToken(db, { role: values.role!, name: values.name! }, CLI_ACTOR, await serverNow(db));
      else if (sub === 'list') result = await listTokens(db);
      else await revokeToken(db, id!, CLI_ACTOR, await serverNow(db));
    } finally {
      await db.close();
    }
  }
  if (values.json || sub === 'list') console.log(JSON.stringify(result ?? { revoked: id }, null, values.json ? 0 : 2));
  else if (sub === 'create') {
    const t = result as { id: string; token: string; role: string };
    console.log(`created ${t.role} token ${t.id}\n${t.token}\nStore it now: it is not shown again.`);
  } else console.log(`revoked ${id}`);
  return 0;
}
