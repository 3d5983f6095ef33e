import { ErpRequestRejectedError, ErpUnavailableError } from './adapter';

/**
 * A JSON-RPC client for Tryton (trytond 8.x): `common.db.login` gives a session, every call then goes to
 * `${url}/${database}/rpc/` with `Authorization: Session base64(login:userId:session)`. Tryton's typed values
 * (Decimal, date, datetime) travel as objects with a `__class__`: they are decoded here into {@link TrytonDecimal}
 * and ISO strings, and encoded back with {@link decimal}, {@link date} and {@link datetime}. Never a float.
 */

/** A Decimal as Tryton sent it: the exact decimal string. */
export class TrytonDecimal {
  constructor(readonly decimal: string) {}
}

/** Amount in minor units from a decimal string, exactly, by the currency's digits (refuses more precision than that). */
export function decimalToMinor(value: TrytonDecimal | string, digits: number): number {
  const text = typeof value === 'string' ? value : value.decimal;
  const match = /^(-)?(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!match) throw new Error(`Tryton sent an amount that is not a decimal: ${JSON.stringify(text)}`);
  const [, sign, whole, fraction = ''] = match;
  const kept = fraction.slice(0, digits).padEnd(digits, '0');
  if (/[1-9]/.test(fraction.slice(digits))) throw new Error(`Tryton sent ${text} with more than ${digits} decimals`);
  const minor = Number(`${whole}${kept}`);
  if (!Number.isSafeInteger(minor)) throw new Error(`Tryton sent an amount too large to hold exactly: ${text}`);
  return sign && minor !== 0 ? -minor : minor;
}

/** Minor units as the decimal string Tryton takes. */
export function minorToDecimalString(minor: number, digits: number): string {
  if (!Number.isSafeInteger(minor)) throw new Error(`not an integer amount: ${minor}`);
  const abs = String(Math.abs(minor)).padStart(digits + 1, '0');
  const body = digits === 0 ? abs : `${abs.slice(0, -digits)}.${abs.slice(-digits)}`;
  return minor < 0 ? `-${body}` : body;
}

export const decimal = (text: string) => ({ __class__: 'Decimal', decimal: text });

/** YYYY-MM-DD as Tryton's date. */
export function date(iso: string) {
  const [year, month, day] = iso.split('-').map(Number);
  return { __class__: 'date', year, month, day };
}

/** An ISO instant (as decoded from Tryton: naive UTC with microseconds) back to Tryton's datetime. */
export function datetime(iso: string) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?/.exec(iso);
  if (!m) throw new Error(`not an ISO instant: ${iso}`);
  return {
    __class__: 'datetime',
    year: Number(m[1]),
    month: Number(m[2]),
    day: Number(m[3]),
    hour: Number(m[4]),
    minute: Number(m[5]),
    second: Number(m[6]),
    microsecond: Number((m[7] ?? '').padEnd(6, '0')),
  };
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** Tryton's typed values to plain ones: Decimal → TrytonDecimal, date → 'YYYY-MM-DD', datetime → ISO UTC with microseconds. */
function decode(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decode);
  if (value === null || typeof value !== 'object') return value;
  const o = value as Record<string, unknown>;
  switch (o.__class__) {
    case 'Decimal':
      return new TrytonDecimal(String(o.decimal));
    case 'date':
      return `${pad(Number(o.year), 4)}-${pad(Number(o.month))}-${pad(Number(o.day))}`;
    case 'datetime':
      // Tryton keeps datetimes naive in UTC.
      return `${pad(Number(o.year), 4)}-${pad(Number(o.month))}-${pad(Number(o.day))}T${pad(Number(o.hour))}:${pad(Number(o.minute))}:${pad(Number(o.second))}.${pad(Number(o.microsecond ?? 0), 6)}Z`;
    case undefined:
      return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, decode(v)]));
    default:
      return o;
  }
}

export interface TrytonRpcOptions {
  /** Server root, e.g. http://localhost:8000 */
  url: string;
  database: string;
  user: string;
  password: string;
  timeoutMs?: number;
}

/** A Tryton user warning (it asks the user to confirm); `name` is the key to accept it with res.user.warning. */
export class TrytonWarning extends Error {
  override readonly name = 'TrytonWarning';
  constructor(
    readonly warningName: string,
    message: string,
  ) {
    super(message);
  }
}

export class TrytonRpc {
  private session: { header: string; userId: number } | undefined;
  private nextId = 1;
  private readonly endpoint: string;

  constructor(private readonly options: TrytonRpcOptions) {
    this.endpoint = `${options.url.replace(/\/+$/, '')}/${encodeURIComponent(options.database)}/rpc/`;
  }

  async userId(): Promise<number> {
    return (await this.login()).userId;
  }

  private async login(force = false): Promise<{ header: string; userId: number }> {
    if (this.session && !force) return this.session;
    const result = await this.post('common.db.login', [this.options.user, { password: this.options.password }], undefined);
    if (!Array.isArray(result) || typeof result[0] !== 'number' || typeof result[1] !== 'string') {
      throw new Error(`Tryton answered the login with ${JSON.stringify(result).slice(0, 200)}`);
    }
    const [userId, key] = result as [number, string];
    this.session = { userId, header: `Session ${Buffer.from(`${this.options.user}:${userId}:${key}`).toString('base64')}` };
    return this.session;
  }

  /** One call; logs in (again) when there is no session or Tryton says it expired or is not fresh enough. */
  async call(method: string, params: unknown[]): Promise<unknown> {
    let session = await this.login();
    try {
      return await this.post(method, params, session.header);
    } catch (err) {
      if (!(err instanceof SessionExpired)) throw err;
      session = await this.login(true);
      return await this.post(method, params, session.header);
    }
  }

  /** As call; a user warning (Tryton asks to confirm) is accepted once for this user and the call made again. */
  async callConfirming(method: string, params: unknown[], context: Record<string, unknown>): Promise<unknown> {
    try {
      return await this.call(method, params);
    } catch (err) {
      if (!(err instanceof TrytonWarning)) throw err;
      await this.call('model.res.user.warning.create', [[{ user: await this.userId(), name: err.warningName, always: false }], context]);
      return await this.call(method, params);
    }
  }

  private async post(method: string, params: unknown[], auth: string | undefined): Promise<unknown> {
    const id = this.nextId++;
    let status: number;
    let text: string;
    try {
      const response = await fetch(this.endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...(auth ? { authorization: auth } : {}) },
        body: JSON.stringify({ id, method, params }),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
      });
      status = response.status;
      text = await response.text();
    } catch (err) {
      const reason = err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
      throw new ErpUnavailableError(`Tryton unreachable at ${this.endpoint}: ${reason}`, { cause: err });
    }
    if (status === 401 && auth) throw new SessionExpired();
    if (status === 401 || status === 403) throw new Error(`Tryton refused the login of ${this.options.user} (HTTP ${status}): check TRYTON_USER and TRYTON_PASSWORD`);
    if (status === 429 || status >= 500) throw new ErpUnavailableError(`Tryton answered HTTP ${status} to ${method}: ${text.slice(0, 200)}`);
    if (status === 404) throw new Error(`Tryton has no database ${this.options.database} at ${this.options.url} (HTTP 404): check TRYTON_URL and TRYTON_DB`);
    if (status < 200 || status > 299) throw new ErpRequestRejectedError(`Tryton answered HTTP ${status} to ${method}: ${text.slice(0, 200)}`, status);
    let body: { id?: unknown; result?: unknown; error?: unknown };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new ErpUnavailableError(`Tryton answered ${method} with a body that is not JSON: ${text.slice(0, 200)}`);
    }
    if (body.error !== undefined && body.error !== null) throw trytonError(method, body.error);
    return decode(body.result);
  }
}

class SessionExpired extends Error {}

/**
 * Tryton's error shapes: a TrytonException answers [type, args] ('UserError' with [message, description],
 * 'UserWarning' with [name, message, description], 'ConcurrencyException', 'LoginException', ...); any other
 * exception answers [message, traceback], which is a fault of the server or of our call, not of the request's data.
 */
function trytonError(method: string, error: unknown): Error {
  const [kind, args] = Array.isArray(error) ? (error as [unknown, unknown]) : [error, undefined];
  const parts = Array.isArray(args) ? (args as unknown[]) : [args];
  const words = (xs: unknown[]) => xs.filter((x) => typeof x === 'string' && x.trim() !== '').join(' ').trim();
  switch (kind) {
    case 'UserWarning':
      return new TrytonWarning(String(parts[0]), words(parts.slice(1)) || String(parts[0]));
    case 'UserError':
      return new ErpRequestRejectedError(`Tryton refused ${method}: ${words(parts) || 'a user error'}`, 422);
    case 'ConcurrencyException':
    case 'TimeOutException':
    case 'RateLimitException':
      return new ErpUnavailableError(`Tryton answered ${String(kind)} to ${method}: ${words(parts)}`);
    case 'LoginException':
      return new SessionExpired();
    default:
      return new Error(`Tryton failed on ${method}: ${typeof kind === 'string' ? kind.split('\n')[0] : JSON.stringify(kind)}`);
  }
}
