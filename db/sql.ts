import postgres from 'postgres';

/**
 * The one database handle. int8 columns hold money in minor units: they come back as numbers,
 * and a value beyond 2^53 fails loudly instead of losing cents.
 */
const int8AsNumber = {
  to: 20,
  from: [20],
  serialize: (value: number) => String(value),
  parse: (value: string) => {
    const n = Number(value);
    if (!Number.isSafeInteger(n)) throw new RangeError(`int8 value ${value} exceeds the safe integer range`);
    return n;
  },
};

export function createSql(url: string, options: { max?: number } = {}) {
  return postgres(url, {
    max: options.max ?? 10,
    onnotice: () => {},
    types: { int8: int8AsNumber },
    // JIT compiles the reports' large scans for 60-100 ms each (issue 13's bench plans) and never pays back on this
    // workload's short queries: off for our sessions.
    connection: { application_name: 'dunning-orchestrator', jit: 'off' },
  });
}

export type Sql = ReturnType<typeof createSql>;

type SqlTypes = Sql extends postgres.Sql<infer T> ? T : never;

/** The handle inside `sql.begin(async (tx) => ...)`. */
export type TransactionSql = postgres.TransactionSql<SqlTypes>;

/**
 * What every repository function takes first: the pool, or a transaction when the caller composes
 * several writes in one `sql.begin`.
 */
export type Db = Sql | TransactionSql;

/** Whether the database answers (the health check). */
export async function ping(db: Db): Promise<void> {
  await db`select 1`;
}
