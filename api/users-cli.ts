import { parseArgs } from 'node:util';
import { z } from 'zod';
import { zodErrorLine } from '../config/validation-issues';
import { approvalLimitSchema, newTokenSchema, newUserSchema, ROLES, tokenIdSchema, userIdSchema } from './auth';

/**
 * Users and API tokens from the command line, against DATABASE_URL and TENANT_ID:
 *
 *   npm run users -- create anna --name "Anna Berg" --role collector [--approval-limit 500000] [--team ar] [--label laptop] [--no-token]
 *   npm run users -- token anna [--label laptop] [--expires 2027-01-01T00:00:00Z]
 *   npm run users -- list
 *   npm run users -- revoke <tokenId>
 *   npm run users -- password anna [--stdin | --clear]   (the web console's password; generated and printed unless --stdin)
 *
 * A token is printed once, on its own line on stdout; only its hash is stored. Bad input exits 2 with
 * one line on stderr, a refused change (user exists, unknown user or token) exits 1.
 */

export const USAGE = [
  'usage: npm run users -- <command>',
  `  create <userId> --name "Anna Berg" --role ${ROLES.join('|')} [--approval-limit <minor units>] [--team <teamId>] [--label <label>] [--no-token]`,
  '  token <userId> [--label <label>] [--expires <ISO date-time>]',
  '  list',
  '  revoke <tokenId>',
  '  password <userId> [--stdin | --clear]   web console password: generated and printed once, read from standard input with --stdin, or removed',
].join('\n');

export type Command =
  | { command: 'create'; user: z.infer<typeof newUserSchema>; token: false | { label?: string } }
  | { command: 'token'; userId: string; label?: string; expiresAt?: string }
  | { command: 'list' }
  | { command: 'revoke'; tokenId: string }
  | { command: 'password'; userId: string; mode: 'generate' | 'stdin' | 'clear' }
  | { command: 'help' };

export class UsageError extends Error {}

function check<T>(schema: z.ZodType<T>, value: unknown, what?: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new UsageError(`${what ? `${what}: ` : ''}${zodErrorLine(result.error)}`);
  return result.data;
}

/** The command line (without node and the script) → a checked command; throws a UsageError saying what is wrong. */
export function parseCommand(argv: string[]): Command {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        name: { type: 'string' },
        role: { type: 'string' },
        'approval-limit': { type: 'string' },
        team: { type: 'string' },
        label: { type: 'string' },
        expires: { type: 'string' },
        'no-token': { type: 'boolean' },
        stdin: { type: 'boolean' },
        clear: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    // Node's own wording, first sentence only ("Unknown option '--nme'").
    throw new UsageError((err as Error).message.split('\n')[0]!.split('. ')[0]!.replace(/\.$/, ''));
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help || command === 'help') return { command: 'help' };
  const allowOnly = (allowed: string[]) => {
    const extra = Object.keys(values).filter((k) => !allowed.includes(k));
    if (extra.length) throw new UsageError(`${command} does not take --${extra.join(', --')}`);
  };
  const onePositional = (what: string) => {
    if (rest.length !== 1) throw new UsageError(`${command} takes exactly one ${what}${rest.length ? `, got ${rest.length}: ${rest.join(' ')}` : ''}`);
    return rest[0]!;
  };
  switch (command) {
    case 'create': {
      allowOnly(['name', 'role', 'approval-limit', 'team', 'label', 'no-token']);
      const userId = check(userIdSchema, onePositional('<userId>'), `userId "${rest[0]}"`);
      if (values.name === undefined) throw new UsageError('create needs --name "Full Name"');
      if (values.role === undefined) throw new UsageError(`create needs --role ${ROLES.join('|')}`);
      if (!(ROLES as readonly string[]).includes(values.role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}, not "${values.role}"`);
      let approvalLimitMinor: number | undefined;
      if (values['approval-limit'] !== undefined) {
        const raw = values['approval-limit'];
        if (!/^\d+$/.test(raw)) throw new UsageError(`--approval-limit must be a whole number of minor units, not "${raw}"`);
        approvalLimitMinor = check(approvalLimitSchema, Number(raw), '--approval-limit');
      }
      const user = check(newUserSchema, { userId, name: values.name, role: values.role, approvalLimitMinor, ...(values.team !== undefined ? { team: values.team } : {}) });
      if (values['no-token'] && values.label !== undefined) throw new UsageError('--label names the token: it does not go with --no-token');
      const token = values['no-token'] ? (false as const) : { label: check(newTokenSchema, { label: values.label ?? 'cli' }, '--label').label };
      return { command: 'create', user, token };
    }
    case 'token': {
      allowOnly(['label', 'expires']);
      const userId = check(userIdSchema, onePositional('<userId>'), `userId "${rest[0]}"`);
      const expires = values.expires;
      if (expires !== undefined && !z.iso.datetime({ offset: true }).safeParse(expires).success)
        throw new UsageError(`--expires must be an ISO date-time such as 2027-01-01T00:00:00Z, not "${expires}"`);
      if (expires !== undefined && Date.parse(expires) <= Date.now()) throw new UsageError(`--expires ${expires} is in the past`);
      const opts = check(newTokenSchema, { label: values.label, expiresAt: expires });
      return { command: 'token', userId, ...(opts.label !== undefined ? { label: opts.label } : {}), ...(opts.expiresAt ? { expiresAt: opts.expiresAt } : {}) };
    }
    case 'list':
      allowOnly([]);
      if (rest.length) throw new UsageError(`list takes no arguments, got: ${rest.join(' ')}`);
      return { command: 'list' };
    case 'revoke': {
      allowOnly([]);
      return { command: 'revoke', tokenId: check(tokenIdSchema, onePositional('<tokenId>'), `tokenId "${rest[0]}"`) };
    }
    case 'password': {
      allowOnly(['stdin', 'clear']);
      const userId = check(userIdSchema, onePositional('<userId>'), `userId "${rest[0]}"`);
      if (values.stdin && values.clear) throw new UsageError('--stdin and --clear do not go together');
      return { command: 'password', userId, mode: values.stdin ? 'stdin' : values.clear ? 'clear' : 'generate' };
    }
    case undefined:
      throw new UsageError('no command given: create, token, list, revoke or password (--help shows how)');
    default:
      throw new UsageError(`unknown command "${command}": create, token, list, revoke or password (--help shows how)`);
  }
}

async function main(argv: string[]): Promise<number> {
  let cmd: Command;
  try {
    cmd = parseCommand(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`users: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (cmd.command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  // Imported lazily so that parsing (and --help) needs neither a valid environment nor a database.
  const { loadEnvOrExit } = await import('../config/env');
  const { createSql } = await import('../db/sql');
  const { migrate } = await import('../db/migrate');
  const auth = await import('./auth');
  const env = loadEnvOrExit();
  const sql = createSql(env.DATABASE_URL, { max: 1 });
  const tenantId = env.TENANT_ID;
  const printToken = (token: string, userId: string) => {
    process.stdout.write(`${token}\n`);
    process.stderr.write(`token for ${userId} (tenant ${tenantId}) printed above: it is shown only this once, store it now\n`);
  };
  try {
    await migrate(sql);
    switch (cmd.command) {
      case 'create': {
        const user = await auth.createUser(sql, tenantId, cmd.user);
        process.stderr.write(
          `created user ${user.userId} (${user.name}), role ${user.role}${user.approvalLimitMinor !== null ? `, approval limit ${user.approvalLimitMinor}` : ''}${user.team ? `, team ${user.team}` : ''}, tenant ${tenantId}\n`,
        );
        if (cmd.token) printToken((await auth.issueToken(sql, tenantId, user.userId, cmd.token)).token, user.userId);
        break;
      }
      case 'token': {
        const { token } = await auth.issueToken(sql, tenantId, cmd.userId, { ...(cmd.label !== undefined ? { label: cmd.label } : {}), ...(cmd.expiresAt ? { expiresAt: cmd.expiresAt } : {}) });
        printToken(token, cmd.userId);
        break;
      }
      case 'list': {
        const users = await auth.listUsers(sql, tenantId);
        if (users.length === 0) process.stdout.write(`no users in tenant ${tenantId}\n`);
        for (const u of users) {
          process.stdout.write(
            `${u.userId}\t${u.role}\t${u.name}${u.approvalLimitMinor !== null ? `\tapproval limit ${u.approvalLimitMinor}` : ''}${u.team ? `\tteam ${u.team}` : ''}${u.active ? '' : '\tINACTIVE'}\n`,
          );
          for (const t of u.tokens) {
            const state = t.revokedAt ? `revoked ${t.revokedAt}` : t.expiresAt && Date.parse(t.expiresAt) <= Date.now() ? `expired ${t.expiresAt}` : 'active';
            process.stdout.write(
              `  token ${t.tokenId}\t${state}\tlabel "${t.label}"\tcreated ${t.createdAt}\texpires ${t.expiresAt ?? 'never'}\tlast used ${t.lastUsedAt ?? 'never'}\n`,
            );
          }
        }
        break;
      }
      case 'password': {
        const { setUserPassword } = await import('./console/accounts');
        let change: { password: string } | { generate: true } | { clear: true };
        if (cmd.mode === 'stdin') {
          const chunks: Buffer[] = [];
          for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
          change = { password: Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '') };
        } else change = cmd.mode === 'clear' ? { clear: true } : { generate: true };
        const result = await setUserPassword(sql, tenantId, cmd.userId, change, 'cli');
        if (result.password) process.stdout.write(`${result.password}\n`);
        process.stderr.write(
          `${cmd.mode === 'clear' ? 'console password removed' : 'console password set'} for ${cmd.userId} (tenant ${tenantId}); ${result.sessionsEnded} open session(s) ended` +
            `${result.password ? '; the password printed above is shown only this once' : ''}\n`,
        );
        break;
      }
      case 'revoke': {
        if (!(await auth.revokeToken(sql, tenantId, cmd.tokenId))) {
          process.stderr.write(`users: no token ${cmd.tokenId} in tenant ${tenantId}\n`);
          return 1;
        }
        process.stdout.write(`revoked token ${cmd.tokenId}\n`);
        break;
      }
    }
    return 0;
  } catch (err) {
    // A refused change (a DomainError) or a database error: one line, exit 1.
    process.stderr.write(`users: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: Error) => {
      process.stderr.write(`users: ${err.message}\n`);
      process.exitCode = 1;
    },
  );
}
