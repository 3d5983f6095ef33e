import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import csrf from '@fastify/csrf-protection';
import { z } from 'zod';
import type { Sql } from '../../db/sql';
import { createSessions, type SessionOptions } from './sessions';
import { csrfUserInfo, homeOf, renderPage, type ConsoleDefaults } from './render';
import { CONSOLE_PAGES } from './pages';
import { loadReportingConfig } from '../../config/load';

/**
 * The web console under /app (issue 14): server-rendered pages (Eta) made lively by htmx, on the API's own routes
 * (api/console/api-client.ts). This plugin owns what every page shares: the assets, sign-in and sign-out, the
 * session cookie, CSRF protection, security headers and the HTML error page. The pages live in api/console/pages.
 */

export interface ConsoleOptions extends Partial<SessionOptions> {
  /** HMAC key binding CSRF tokens to the session (CONSOLE_SECRET); default random per process (forms die with a restart). */
  secret?: string;
  /** Secure cookies (served over HTTPS: CONSOLE_SECURE_COOKIES=true). */
  secureCookies?: boolean;
  temporalUiUrl?: string;
  temporalNamespace?: string;
  locale?: string;
  timeZone?: string;
  /** The reporting currency (the app's exchange-rate table, config/reporting.json). */
  reportingCurrency?: string;
}

export const SESSION_COOKIE = 'dun_session';

/** Static files the browser downloads, from the installed npm packages and api/console/assets: nothing from another site. */
/** A file inside an installed package, whatever its "exports" allow (its folder is found from its entry point). */
function packageFile(pkg: string, file: string): string {
  const entry = require.resolve(pkg);
  const marker = `node_modules${path.sep}${pkg.split('/').join(path.sep)}${path.sep}`;
  return path.join(entry.slice(0, entry.lastIndexOf(marker) + marker.length), file);
}
const ASSETS: Record<string, { file: string; type: string }> = {
  'htmx.min.js': { file: packageFile('htmx.org', 'dist/htmx.min.js'), type: 'text/javascript' },
  'chart.umd.min.js': { file: packageFile('chart.js', 'dist/chart.umd.min.js'), type: 'text/javascript' },
  'pico.min.css': { file: packageFile('@picocss/pico', 'css/pico.min.css'), type: 'text/css' },
  'console.css': { file: path.join(__dirname, 'assets/console.css'), type: 'text/css' },
  'console.js': { file: path.join(__dirname, 'assets/console.js'), type: 'text/javascript' },
  'cadence-editor.js': { file: path.join(__dirname, 'assets/cadence-editor.js'), type: 'text/javascript' },
};

interface LoadedAsset {
  type: string;
  body: Buffer;
  gzip: Buffer;
  etag: string;
}
const loaded = new Map<string, LoadedAsset>();
function asset(name: string): LoadedAsset | undefined {
  const spec = ASSETS[name];
  if (!spec) return undefined;
  let a = loaded.get(name);
  if (!a) {
    const body = readFileSync(spec.file.replace(/\.map$/, ''));
    a = { type: `${spec.type}; charset=utf-8`, body, gzip: gzipSync(body, { level: 9 }), etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` };
    loaded.set(name, a);
  }
  return a;
}
/** Bytes of JavaScript and CSS a page makes the browser download (gzip), for the bench and the README. */
export function assetSizes(): Record<string, { bytes: number; gzip: number }> {
  return Object.fromEntries(Object.keys(ASSETS).map((n) => [n, { bytes: asset(n)!.body.length, gzip: asset(n)!.gzip.length }]));
}

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  // Chart.js and htmx set element styles; no inline script anywhere.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "form-action 'self'",
  "base-uri 'none'",
  "object-src 'none'",
].join('; ');

const signInBody = z.object({ userId: z.string().max(200).default(''), password: z.string().max(1000).default(''), next: z.string().max(2000).optional() });

/** A `next` that stays inside the console (no open redirect). */
export function safeNext(next: string | undefined): string | undefined {
  return next && /^\/app(\/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*)?$/.test(next) && !next.startsWith('//') ? next : undefined;
}

export async function registerConsole(app: FastifyInstance, deps: { sql: Sql; tenantId: string; options?: ConsoleOptions }): Promise<void> {
  const opts = deps.options ?? {};
  const sessions = createSessions({ sql: deps.sql, tenantId: deps.tenantId, options: opts });
  const defaults: ConsoleDefaults = {
    locale: opts.locale ?? 'en-GB',
    timeZone: opts.timeZone ?? 'UTC',
    reportingCurrency: opts.reportingCurrency ?? loadReportingConfig().reportingCurrency,
    ...(opts.temporalUiUrl ? { temporalUiUrl: opts.temporalUiUrl } : {}),
    temporalNamespace: opts.temporalNamespace ?? 'default',
  };
  const hmacKey = opts.secret ?? createHash('sha256').update(`${process.pid}:${Date.now()}:${Math.random()}`).digest('hex');
  const secure = opts.secureCookies ?? false;

  await app.register(
    async (scope) => {
      // The console's pages are HTML for people, not part of the API's contract: none in the OpenAPI document.
      scope.addHook('onRoute', (route) => {
        route.schema = { ...route.schema, hide: true };
      });
      await scope.register(cookie);
      // Forms post application/x-www-form-urlencoded: parsed here only, the API itself stays JSON.
      await scope.register(formbody, { bodyLimit: 1_048_576 });
      await scope.register(csrf, {
        cookieKey: 'dun_csrf',
        cookieOpts: { path: '/app', httpOnly: true, sameSite: 'strict', secure },
        getUserInfo: csrfUserInfo,
        getToken: (request: FastifyRequest) =>
          ((request.body as Record<string, unknown> | undefined)?._csrf as string | undefined) ??
          (request.headers['x-csrf-token'] as string | undefined) ??
          ((request.query as Record<string, unknown> | undefined)?._csrf as string | undefined),
        csrfOpts: { hmacKey },
      });
      scope.decorateRequest('consoleUser');

      scope.addHook('onSend', async (request, reply, payload) => {
        reply.header('content-security-policy', CSP);
        reply.header('x-frame-options', 'DENY');
        reply.header('x-content-type-options', 'nosniff');
        reply.header('referrer-policy', 'same-origin');
        if (!request.url.startsWith('/app/assets/')) reply.header('cache-control', 'no-store');
        return payload;
      });

      // Who is signed in: every route but the assets and the sign-in page itself.
      scope.addHook('onRequest', async (request, reply) => {
        const route = request.routeOptions.url ?? '';
        if (route.startsWith('/app/assets/') || route === '/app/sign-in') return;
        const user = await sessions.resume(request.cookies[SESSION_COOKIE]);
        if (user) {
          request.consoleUser = user;
          return;
        }
        const next = request.method === 'GET' ? request.url : (request.headers['hx-current-url'] ? new URL(String(request.headers['hx-current-url'])).pathname : '/app');
        const to = `/app/sign-in?next=${encodeURIComponent(safeNext(next) ?? '/app')}`;
        if (request.headers['hx-request'] === 'true') return reply.code(401).header('hx-redirect', to).send('');
        return reply.redirect(to, 303);
      });
      // Every change needs the page's CSRF token (form field _csrf, header x-csrf-token, or ?_csrf= on an upload).
      scope.addHook('preHandler', async (request, reply) => {
        if (request.method === 'GET' || request.method === 'HEAD') return;
        await new Promise<void>((resolve, reject) => scope.csrfProtection(request, reply, (err?: Error) => (err ? reject(err) : resolve())));
      });

      scope.setErrorHandler(async (err: Error & { statusCode?: number; code?: string }, request, reply) => {
        const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
        if (status >= 500) request.log.error({ err }, 'console request failed');
        const message = err.code === 'FST_CSRF_INVALID_TOKEN' || err.code === 'FST_CSRF_MISSING_SECRET'
          ? 'This form has expired or did not come from this console (CSRF check failed). Reload the page and try again.'
          : status >= 500 ? 'Something went wrong on our side; it is in the server log.' : err.message;
        return renderPage(request, reply, defaults, 'error', { title: status === 403 ? 'Refused' : 'Error', status, message }, status);
      });
      // A page that does not exist, for a signed-in user (a wildcard of this scope: a not-found handler here would
      // take over the whole API's 404s, this scope having no prefix).
      scope.get('/app/*', async (request, reply) => renderPage(request, reply, defaults, 'error', { title: 'Not found', status: 404, message: `No page at ${request.url.split('?')[0]}` }, 404));

      scope.get('/app/assets/:name', async (request: FastifyRequest<{ Params: { name: string } }>, reply: FastifyReply) => {
        const a = asset(request.params.name);
        if (!a) return reply.code(404).type('text/plain').send('no such asset');
        reply.header('etag', a.etag).header('cache-control', 'public, max-age=3600');
        if (request.headers['if-none-match'] === a.etag) return reply.code(304).send();
        reply.type(a.type);
        if (/\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''))) return reply.header('content-encoding', 'gzip').header('vary', 'accept-encoding').send(a.gzip);
        return reply.send(a.body);
      });

      scope.get('/app/sign-in', async (request: FastifyRequest<{ Querystring: { next?: string } }>, reply) =>
        renderPage(request, reply, defaults, 'sign-in', { title: 'Sign in', next: safeNext(request.query.next) ?? '', userId: '' }),
      );
      scope.post('/app/sign-in', async (request, reply) => {
        const body = signInBody.safeParse(request.body ?? {});
        const form = body.success ? body.data : { userId: '', password: '', next: undefined };
        const result = await sessions.signIn({ userId: form.userId, password: form.password, ip: request.ip, userAgent: String(request.headers['user-agent'] ?? '') });
        if (!result.ok) {
          const rateLimited = result.reason === 'rate_limited';
          if (rateLimited) reply.header('retry-after', String(result.retryAfterSeconds));
          const message = rateLimited
            ? `Too many failed sign-ins. Try again in ${Math.ceil(result.retryAfterSeconds / 60)} minute(s), or ask an admin to reset your password.`
            : 'Unknown user id or wrong password.';
          return renderPage(request, reply, defaults, 'sign-in', { title: 'Sign in', next: safeNext(form.next) ?? '', userId: form.userId, error: { message } }, rateLimited ? 429 : 401);
        }
        reply.setCookie(SESSION_COOKIE, result.cookie, { path: '/app', httpOnly: true, sameSite: 'lax', secure, expires: new Date(Date.now() + sessions.options.maxHours * 3_600_000) });
        // A new session: the CSRF secret is renewed with it (tokens of the signed-out page die).
        reply.clearCookie('dun_csrf', { path: '/app' });
        return reply.redirect(safeNext(form.next) ?? homeOf(result.user), 303);
      });
      scope.post('/app/sign-out', async (request, reply) => {
        await sessions.signOut(request.consoleUser);
        reply.clearCookie(SESSION_COOKIE, { path: '/app' });
        reply.clearCookie('dun_csrf', { path: '/app' });
        return reply.redirect('/app/sign-in', 303);
      });
      scope.get('/app', async (request, reply) => reply.redirect(homeOf(request.consoleUser), 303));

      for (const pages of CONSOLE_PAGES) await pages(scope, { defaults });
    },
  );
}
