import path from 'node:path';
import { Eta } from 'eta';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { roleRank, type Role } from '../../domain/roles';
import { formatsFor, type Formats } from './format';
import type { ConsoleUser } from './sessions';
import type { ValidationIssueBody } from './api-client';

/**
 * Server-rendered pages (Eta templates under api/console/views, escaped by default: `<%= %>` escapes, `<%~ %>` is
 * for HTML we built). Every page gets the same frame: the user, their formats, the navigation their role may use,
 * the CSRF token for its forms, a one-time notice, and the issues of a refused form.
 */

const eta = new Eta({ views: path.join(__dirname, 'views'), cache: process.env.NODE_ENV !== 'development', autoEscape: true, autoTrim: [false, 'nl'] });

export interface NavItem {
  href: string;
  label: string;
  minimum: Role;
  /** Team members (no portfolio) see only what names them. */
  teamMember?: boolean;
}

/** The console's sections, each shown to the roles its API routes admit. */
export const NAV: NavItem[] = [
  { href: '/app/dashboard', label: 'Dashboard', minimum: 'ar_manager' },
  { href: '/app/worklist', label: 'Worklist', minimum: 'collector' },
  { href: '/app/unapplied-cash', label: 'Unapplied cash', minimum: 'collector' },
  { href: '/app/disputes', label: 'Disputes', minimum: 'team_member', teamMember: true },
  { href: '/app/approvals', label: 'Approvals', minimum: 'team_lead' },
  { href: '/app/cadences', label: 'Cadences', minimum: 'ar_manager' },
  { href: '/app/imports', label: 'Imports', minimum: 'ar_manager' },
  { href: '/app/erp-sync', label: 'ERP sync', minimum: 'ar_manager' },
  { href: '/app/users', label: 'Users', minimum: 'admin' },
];

export function navFor(user: Pick<ConsoleUser, 'role'>): NavItem[] {
  return NAV.filter((n) => (user.role === 'team_member' ? n.teamMember === true : roleRank(user.role) >= roleRank(n.minimum)));
}

/** Where a user lands after signing in. */
export function homeOf(user: Pick<ConsoleUser, 'role'>): string {
  if (user.role === 'team_member') return '/app/disputes';
  if (user.role === 'collector' || user.role === 'team_lead') return '/app/worklist';
  return '/app/dashboard';
}

export interface ConsoleDefaults {
  locale: string;
  timeZone: string;
  /** The reporting currency (config/reporting.json): the worklist's totals, approval limits and amounts. */
  reportingCurrency: string;
  /** The Temporal UI's address (TEMPORAL_UI_URL) and namespace, for links to an invoice's workflow; none = no link. */
  temporalUiUrl?: string;
  temporalNamespace: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The console's signed-in user (api/console/plugin.ts); set on every /app route but the sign-in page and assets. */
    consoleUser: ConsoleUser;
  }
}

/** The user's formats: their own locale and zone, else the tenant's. */
export function formatsOf(user: Pick<ConsoleUser, 'locale' | 'timeZone'> | undefined, defaults: ConsoleDefaults): Formats {
  return formatsFor(user?.locale ?? defaults.locale, user?.timeZone ?? defaults.timeZone);
}

/** Issues of a refused API call, by field path without the leading "body." (what the form's fields are named). */
export function issuesByField(issues: ValidationIssueBody[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const i of issues ?? []) {
    const key = i.path.replace(/^(body|querystring|params)\.?/, '') || '_';
    out[key] = out[key] ? `${out[key]}; ${i.message}` : i.message;
  }
  return out;
}

export interface PageData {
  title: string;
  /** A refused form: the message on top, each issue beside its field (`errors[field]`). */
  error?: { message: string; issues?: ValidationIssueBody[] } | undefined;
  [key: string]: unknown;
}

/** A form's own refusal of a field (before the API is asked): shown beside the field like the API's issues. */
export const formIssue = (path: string, message: string): ValidationIssueBody => ({ path, code: 'invalid_form', message });

/** What was typed into a refused form, to put back: its string fields, never the CSRF token. */
export function typedValues(body: unknown): Record<string, string> {
  return Object.fromEntries(Object.entries((body ?? {}) as Record<string, unknown>).filter((e): e is [string, string] => e[0] !== '_csrf' && typeof e[1] === 'string'));
}

const FLASH = 'dun_notice';

/** What a CSRF token is bound to: the session (a signed-out page's tokens are worthless once signed in, and back). */
export function csrfUserInfo(request: FastifyRequest): string {
  return (request.consoleUser as ConsoleUser | undefined)?.session ?? 'signed-out'; // never '': @fastify/csrf refuses an empty userInfo
}

/** A one-line notice shown once on the next page (after a form's redirect). */
export function setNotice(reply: FastifyReply, text: string): void {
  reply.setCookie(FLASH, Buffer.from(text.slice(0, 300), 'utf8').toString('base64url'), { path: '/app', httpOnly: true, sameSite: 'lax', maxAge: 60 });
}

/** Renders `view` inside the layout and sends it (status 200 unless a refused form's 4xx). */
export async function renderPage(request: FastifyRequest, reply: FastifyReply, defaults: ConsoleDefaults, view: string, data: PageData, status = 200): Promise<FastifyReply> {
  const user = request.consoleUser as ConsoleUser | undefined;
  const fmt = formatsOf(user, defaults);
  const notice = request.cookies[FLASH] ? Buffer.from(request.cookies[FLASH], 'base64url').toString('utf8') : undefined;
  if (notice) reply.clearCookie(FLASH, { path: '/app' });
  const csrf = reply.generateCsrf({ userInfo: csrfUserInfo(request) });
  const html = eta.render(`./${view}`, {
    ...data,
    user,
    fmt,
    csrf,
    csrfField: `<input type="hidden" name="_csrf" value="${csrf}">`,
    nav: user ? navFor(user) : [],
    path: request.url.split('?')[0],
    notice,
    errors: issuesByField(data.error?.issues),
    reportingCurrency: defaults.reportingCurrency,
    temporalUiUrl: defaults.temporalUiUrl,
    temporalNamespace: defaults.temporalNamespace,
    isHtmx: request.headers['hx-request'] === 'true',
  });
  return reply.code(status).type('text/html; charset=utf-8').send(html);
}

/** The Temporal UI's page of a workflow, or undefined without TEMPORAL_UI_URL. */
export function temporalLink(defaults: ConsoleDefaults, workflowId: string | null | undefined): string | undefined {
  if (!defaults.temporalUiUrl || !workflowId) return undefined;
  return `${defaults.temporalUiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(defaults.temporalNamespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
