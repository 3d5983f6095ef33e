import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { consoleApi, formKey, type ApiErrorBody, type ValidationIssueBody } from '../api-client';
import { parseMoneyInput } from '../format';
import { formIssue as issue, renderPage, setNotice } from '../render';
import type { ConsolePages } from './index';
import { ROLES } from '../../../domain/roles';
import type { tokenInfoSchema } from '../../routes/users';

/** A user as GET /users lists them (api/routes/users.ts). */
type TokenInfo = z.infer<typeof tokenInfoSchema>;
interface UserItem {
  userId: string;
  name: string;
  role: string;
  approvalLimitMinor: number | null;
  team?: string | null;
  active: boolean;
  tokens: TokenInfo[];
}

/** Locales offered on the "Me" page (any BCP 47 locale the server knows is accepted by the API). */
export const LOCALES: { value: string; label: string }[] = [
  { value: 'en-GB', label: 'English (United Kingdom)' },
  { value: 'en-US', label: 'English (United States)' },
  { value: 'de-DE', label: 'Deutsch (Deutschland)' },
  { value: 'de-CH', label: 'Deutsch (Schweiz)' },
  { value: 'fr-FR', label: 'Français (France)' },
  { value: 'nl-NL', label: 'Nederlands' },
  { value: 'es-ES', label: 'Español' },
  { value: 'it-IT', label: 'Italiano' },
  { value: 'sv-SE', label: 'Svenska' },
  { value: 'pl-PL', label: 'Polski' },
  { value: 'ja-JP', label: '日本語' },
];
const TIME_ZONES: string[] = (Intl as unknown as { supportedValuesOf(k: string): string[] }).supportedValuesOf('timeZone');

const createForm = z.object({
  _key: z.string().max(100).optional(),
  userId: z.string().max(100).default(''),
  name: z.string().max(300).default(''),
  role: z.string().max(40).default(''),
  team: z.string().max(60).default(''),
  approvalLimit: z.string().max(40).default(''),
});
const passwordForm = z.object({ action: z.enum(['generate', 'set', 'clear']).default('generate'), password: z.string().max(1000).default('') });
const tokenForm = z.object({ label: z.string().max(300).default('') });
const meForm = z.object({ locale: z.string().max(40).default(''), timeZone: z.string().max(80).default('') });
const userIdParam = /^[a-z0-9][a-z0-9._-]{0,63}$/;


/**
 * Users and tokens (admin): the users with role, team, approval limit, active and their tokens; create a user, set or
 * generate a console password (a generated one is shown once), issue a token (shown once), revoke a token. And "Me"
 * for everyone: their own locale and time zone for amounts and dates.
 */
export const userPages: ConsolePages = async (app, { defaults }) => {
  const listPage = async (request: FastifyRequest, reply: FastifyReply, extra: { error?: ApiErrorBody; form?: Record<string, string> } = {}, status = 200) => {
    const res = await consoleApi(app, request.consoleUser).get<{ items: UserItem[] }>('/users');
    if (!res.ok) return renderPage(request, reply, defaults, 'error', { title: 'Refused', status: res.status, message: res.body.message }, res.status);
    return renderPage(
      request,
      reply,
      defaults,
      'users',
      { title: 'Users', users: res.body.items, roles: ROLES, key: formKey(), form: extra.form ?? {}, ...(extra.error ? { error: extra.error } : {}) },
      status,
    );
  };
  const userPage = async (request: FastifyRequest, reply: FastifyReply, userId: string, extra: { error?: ApiErrorBody } = {}, status = 200) => {
    const res = await consoleApi(app, request.consoleUser).get<{ items: UserItem[] }>('/users');
    if (!res.ok) return renderPage(request, reply, defaults, 'error', { title: 'Refused', status: res.status, message: res.body.message }, res.status);
    const user = res.body.items.find((u) => u.userId === userId);
    if (!user) return renderPage(request, reply, defaults, 'error', { title: 'Not found', status: 404, message: `No user ${userId}` }, 404);
    return renderPage(request, reply, defaults, 'user', { title: `User ${user.userId}`, u: user, ...(extra.error ? { error: extra.error } : {}) }, status);
  };
  const badId = (request: FastifyRequest, reply: FastifyReply) => renderPage(request, reply, defaults, 'error', { title: 'Not found', status: 404, message: 'No such user' }, 404);

  app.get('/app/users', async (request, reply) => listPage(request, reply));

  app.post('/app/users', async (request, reply) => {
    const parsed = createForm.safeParse(request.body ?? {});
    const form = parsed.success ? parsed.data : createForm.parse({});
    const issues: ValidationIssueBody[] = [];
    let limit: number | null = null;
    if (form.approvalLimit.trim() !== '') {
      const minor = parseMoneyInput(form.approvalLimit, defaults.reportingCurrency);
      if (minor === undefined) issues.push(issue('approvalLimitMinor', `an amount in ${defaults.reportingCurrency}, e.g. 5000.00, or empty for none`));
      else limit = minor;
    }
    const formStrings = { userId: form.userId, name: form.name, role: form.role, team: form.team, approvalLimit: form.approvalLimit };
    if (issues.length) return listPage(request, reply, { error: { error: 'validation_failed', message: 'Check the new user', issues }, form: formStrings }, 422);
    const res = await consoleApi(app, request.consoleUser).send<{ userId: string }>(
      'POST',
      '/users',
      { userId: form.userId.trim(), name: form.name.trim(), role: form.role, approvalLimitMinor: limit, team: form.team.trim() === '' ? null : form.team.trim() },
      form._key ? { idempotencyKey: form._key } : {},
    );
    if (!res.ok) return listPage(request, reply, { error: res.body, form: formStrings }, res.status === 400 ? 422 : res.status);
    setNotice(reply, `User ${res.body.userId} created: give them a password below`);
    return reply.redirect(`/app/users/${encodeURIComponent(res.body.userId)}`, 303);
  });

  app.get('/app/users/:userId', async (request: FastifyRequest<{ Params: { userId: string } }>, reply) =>
    userIdParam.test(request.params.userId) ? userPage(request, reply, request.params.userId) : badId(request, reply),
  );

  // A generated password and a new token are shown on the answer itself, once (never stored in clear, never redirected to).
  app.post('/app/users/:userId/password', async (request: FastifyRequest<{ Params: { userId: string } }>, reply) => {
    const { userId } = request.params;
    if (!userIdParam.test(userId)) return badId(request, reply);
    const parsed = passwordForm.safeParse(request.body ?? {});
    const form = parsed.success ? parsed.data : { action: 'generate' as const, password: '' };
    const body = form.action === 'generate' ? { generate: true } : form.action === 'clear' ? { clear: true } : { password: form.password };
    const res = await consoleApi(app, request.consoleUser).send<{ userId: string; password?: string; sessionsEnded: number }>('PUT', `/users/${encodeURIComponent(userId)}/password`, body);
    if (!res.ok) return userPage(request, reply, userId, { error: res.body }, res.status === 400 ? 422 : res.status);
    if (res.body.password === undefined) {
      setNotice(reply, form.action === 'clear' ? `Console password of ${userId} cleared` : `Console password of ${userId} set`);
      return reply.redirect(`/app/users/${encodeURIComponent(userId)}`, 303);
    }
    return renderPage(request, reply, defaults, 'user-secret', {
      title: 'New password',
      kind: 'password',
      userId,
      secret: res.body.password,
      sessionsEnded: res.body.sessionsEnded,
    });
  });

  app.post('/app/users/:userId/tokens', async (request: FastifyRequest<{ Params: { userId: string } }>, reply) => {
    const { userId } = request.params;
    if (!userIdParam.test(userId)) return badId(request, reply);
    const parsed = tokenForm.safeParse(request.body ?? {});
    const label = parsed.success ? parsed.data.label.trim() : '';
    const res = await consoleApi(app, request.consoleUser).send<{ token: string; tokenId: string; label: string }>('POST', `/users/${encodeURIComponent(userId)}/tokens`, label ? { label } : {});
    if (!res.ok) return userPage(request, reply, userId, { error: res.body }, res.status === 400 ? 422 : res.status);
    return renderPage(request, reply, defaults, 'user-secret', { title: 'New token', kind: 'token', userId, secret: res.body.token, tokenId: res.body.tokenId, label: res.body.label });
  });

  app.post('/app/tokens/:tokenId/revoke', async (request: FastifyRequest<{ Params: { tokenId: string } }>, reply) => {
    const { tokenId } = request.params;
    const back = z.object({ userId: z.string().regex(userIdParam) }).safeParse(request.body ?? {});
    const to = back.success ? `/app/users/${encodeURIComponent(back.data.userId)}` : '/app/users';
    if (!/^[A-Za-z0-9-]{1,64}$/.test(tokenId)) return badId(request, reply);
    const res = await consoleApi(app, request.consoleUser).send('DELETE', `/tokens/${encodeURIComponent(tokenId)}`);
    setNotice(reply, res.ok ? `Token ${tokenId} revoked` : `Not revoked: ${res.body.message}`);
    return reply.redirect(to, 303);
  });

  // Everyone: their own language and time zone.
  const mePage = async (request: FastifyRequest, reply: FastifyReply, extra: { error?: ApiErrorBody; form?: { locale: string; timeZone: string } } = {}, status = 200) => {
    const u = request.consoleUser;
    return renderPage(
      request,
      reply,
      defaults,
      'me',
      {
        title: 'My settings',
        locales: LOCALES,
        timeZones: TIME_ZONES,
        tenantLocale: defaults.locale,
        tenantTimeZone: defaults.timeZone,
        form: extra.form ?? { locale: u.locale ?? '', timeZone: u.timeZone ?? '' },
        sample: { minor: 123456, date: '2026-11-30', instant: new Date().toISOString() },
        ...(extra.error ? { error: extra.error } : {}),
      },
      status,
    );
  };
  app.get('/app/me', async (request, reply) => mePage(request, reply));
  app.post('/app/me', async (request, reply) => {
    const parsed = meForm.safeParse(request.body ?? {});
    const form = parsed.success ? parsed.data : { locale: '', timeZone: '' };
    const res = await consoleApi(app, request.consoleUser).send('PUT', '/me/preferences', { locale: form.locale === '' ? null : form.locale, timeZone: form.timeZone === '' ? null : form.timeZone });
    if (!res.ok) return mePage(request, reply, { error: res.body, form }, res.status === 400 ? 422 : res.status);
    setNotice(reply, 'Settings saved');
    return reply.redirect('/app/me', 303);
  });
};
