import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  formatToken,
  hashSecret,
  hasRole,
  isPublicPath,
  parseToken,
  portfolioScope,
  requireRole,
  ROLES,
  roleRank,
  secretMatches,
  tokenFromHeader,
  type AuthUser,
  type Role,
} from '../../api/auth';
import { DomainError } from '../../api/errors';
import { parseCommand } from '../../api/users-cli';
import { DEMO_USERS, demoToken } from '../../dev/seed';

const user = (role: Role, userId = `u-${role}`): AuthUser => ({ tenantId: 't', userId, name: role, role, approvalLimitMinor: null });

describe('token format', () => {
  it('round-trips dun_<tokenId>_<secret>; the secret may contain _ and -, the id may not contain _', () => {
    const token = formatToken('Ab3xYz9QwErT', 'se_cr-et_0123456789abcdef');
    expect(token).toBe('dun_Ab3xYz9QwErT_se_cr-et_0123456789abcdef');
    expect(parseToken(token)).toEqual({ tokenId: 'Ab3xYz9QwErT', secret: 'se_cr-et_0123456789abcdef' });
    expect(parseToken('dun_demo-anna_anna-demo-token-not-for-production')).toEqual({ tokenId: 'demo-anna', secret: 'anna-demo-token-not-for-production' });
  });

  it('rejects what cannot be a token', () => {
    for (const bad of ['', 'dun_', 'dun_abc', 'dun_abc_short', 'xyz_abc_0123456789abcdef', 'dun__0123456789abcdef', 'dun_abc_0123456789abcdef!', 'dun_a.b_0123456789abcdef', ` dun_abc_0123456789abcdef`])
      expect(parseToken(bad), bad).toBeUndefined();
  });

  it('reads the token from a Bearer header (scheme case-insensitive) and says what is wrong otherwise', () => {
    expect(tokenFromHeader('Bearer dun_abc_0123456789abcdef')).toEqual({ tokenId: 'abc', secret: '0123456789abcdef' });
    expect(tokenFromHeader('bearer   dun_abc_0123456789abcdef ')).toEqual({ tokenId: 'abc', secret: '0123456789abcdef' });
    const failure = (header: string | undefined) => {
      try {
        tokenFromHeader(header);
      } catch (err) {
        expect(err).toBeInstanceOf(DomainError);
        expect(err).toMatchObject({ statusCode: 401, code: 'unauthorized' });
        return (err as Error).message;
      }
      throw new Error('no error');
    };
    expect(failure(undefined)).toMatch(/^missing Authorization header/);
    expect(failure('  ')).toMatch(/^missing Authorization header/);
    expect(failure('Basic dXNlcjpwYXNz')).toMatch(/^malformed Authorization header/);
    expect(failure('Bearer a b')).toMatch(/^malformed Authorization header/);
    expect(failure('Bearer sk_live_123')).toMatch(/^malformed API token: expected dun_<tokenId>_<secret>/);
  });

  it('the documented demo tokens are well-formed and distinct', () => {
    const tokens = DEMO_USERS.map(demoToken);
    expect(new Set(tokens).size).toBe(tokens.length);
    expect(new Set(DEMO_USERS.map((u) => u.tokenId)).size).toBe(tokens.length);
    for (const t of tokens) expect(parseToken(t), t).toBeDefined();
    expect(demoToken(DEMO_USERS.find((u) => u.userId === 'anna')!)).toBe('dun_demoanna_anna-demo-token-not-for-production');
  });
});

describe('hashing', () => {
  it('stores the SHA-256 hex of the secret, and compares in constant time', () => {
    const secret = 'anna-demo-token-not-for-production';
    const hex = hashSecret(secret);
    expect(hex).toMatch(/^[0-9a-f]{64}$/);
    expect(hex).toBe(createHash('sha256').update(secret).digest('hex'));
    expect(secretMatches(secret, hex)).toBe(true);
    expect(secretMatches(`${secret}x`, hex)).toBe(false);
    expect(secretMatches(secret, hex.slice(0, 62))).toBe(false); // a malformed stored value never matches, never throws
    expect(secretMatches(secret, '')).toBe(false);
  });
});

describe('roles', () => {
  it('rank team_member < collector < team_lead < ar_manager < admin', () => {
    expect(ROLES).toEqual(['team_member', 'collector', 'team_lead', 'ar_manager', 'admin']);
    expect(ROLES.map(roleRank)).toEqual([0, 1, 2, 3, 4]);
    for (const held of ROLES)
      for (const needed of ROLES) expect(hasRole(user(held), needed), `${held} for ${needed}`).toBe(roleRank(held) >= roleRank(needed));
  });

  it('requireRole throws 403 role_too_low naming the role needed', () => {
    expect(() => requireRole(user('admin'), 'ar_manager')).not.toThrow();
    expect(() => requireRole(user('ar_manager'), 'ar_manager')).not.toThrow();
    expect(() => requireRole(user('team_lead', 'lena'), 'ar_manager')).toThrow(
      expect.objectContaining({ statusCode: 403, code: 'role_too_low', message: expect.stringMatching(/ar_manager.*lena is team_lead/) }),
    );
  });

  it('a collector is scoped to their own portfolio; every other role sees all', () => {
    expect(portfolioScope(user('collector', 'anna'))).toBe('anna');
    for (const role of ['team_lead', 'ar_manager', 'admin'] as const) expect(portfolioScope(user(role))).toBeUndefined();
  });
});

describe('public paths', () => {
  it('health, the OpenAPI document and UI and the ERP webhook need no token; everything else does', () => {
    for (const p of ['/health', '/openapi.json', '/docs', '/docs/', '/docs/static/*', '/docs/json', '/webhooks/erp']) expect(isPublicPath(p), p).toBe(true);
    for (const p of ['/invoices', '/me', '/users', '/documents', '/docsx', '/health/x', '/webhooks/erp/x', '/cadences'])
      expect(isPublicPath(p), p).toBe(false);
  });
});

describe('users CLI arguments', () => {
  it('parses the four commands', () => {
    expect(parseCommand(['create', 'anna', '--name', 'Anna Berg', '--role', 'collector', '--approval-limit', '500000'])).toEqual({
      command: 'create',
      user: { userId: 'anna', name: 'Anna Berg', role: 'collector', approvalLimitMinor: 500_000 },
      token: { label: 'cli' },
    });
    expect(parseCommand(['create', 'ben', '--name', 'Ben', '--role', 'admin', '--no-token'])).toMatchObject({ token: false });
    expect(parseCommand(['token', 'anna', '--label', 'laptop', '--expires', '2099-01-01T00:00:00Z'])).toEqual({
      command: 'token',
      userId: 'anna',
      label: 'laptop',
      expiresAt: '2099-01-01T00:00:00Z',
    });
    expect(parseCommand(['list'])).toEqual({ command: 'list' });
    expect(parseCommand(['revoke', 'Ab3xYz9QwErT'])).toEqual({ command: 'revoke', tokenId: 'Ab3xYz9QwErT' });
    expect(parseCommand(['--help'])).toEqual({ command: 'help' });
  });

  it('refuses bad input with one line saying what is wrong', () => {
    const message = (argv: string[]) => {
      try {
        parseCommand(argv);
      } catch (err) {
        return (err as Error).message;
      }
      throw new Error(`accepted ${argv.join(' ')}`);
    };
    expect(message([])).toMatch(/no command given/);
    expect(message(['frob'])).toMatch(/unknown command "frob"/);
    expect(message(['create', 'anna', '--role', 'collector'])).toMatch(/--name/);
    expect(message(['create', 'anna', '--name', 'Anna'])).toMatch(/--role/);
    expect(message(['create', 'anna', '--name', 'Anna', '--role', 'boss'])).toMatch(/--role must be one of team_member, collector, team_lead, ar_manager, admin/);
    expect(message(['create', 'Anna Berg', '--name', 'Anna', '--role', 'collector'])).toMatch(/userId "Anna Berg"/);
    expect(message(['create', 'anna', '--name', 'Anna', '--role', 'collector', '--approval-limit', '12.5'])).toMatch(/--approval-limit must be a whole number/);
    expect(message(['create', 'anna', 'ben', '--name', 'Anna', '--role', 'collector'])).toMatch(/exactly one <userId>/);
    expect(message(['token', 'anna', '--expires', 'tomorrow'])).toMatch(/--expires must be an ISO date-time/);
    expect(message(['token', 'anna', '--expires', '2001-01-01T00:00:00Z'])).toMatch(/in the past/);
    expect(message(['token', 'anna', '--role', 'admin'])).toMatch(/token does not take --role/);
    expect(message(['list', '--nme', 'x'])).toMatch(/Unknown option '--nme'/);
    for (const argv of [[], ['frob'], ['token', 'anna', '--expires', 'tomorrow']]) expect(message(argv)).not.toContain('\n');
  });
});
