import { Client, Connection } from '@temporalio/client';
import { ConfigError, loadEnvOrExit } from '../config/env';
import { loadCadence, loadEmailTemplates, checkCadenceTemplates } from '../config/load';
import { createSql } from '../db/sql';
import { migrate } from '../db/migrate';
import { buildApp } from './app';

/** The API process: migrates, listens, and closes with grace on SIGINT/SIGTERM. */
async function main() {
  const env = loadEnvOrExit();
  let cadence;
  try {
    cadence = loadCadence(env.CADENCE_FILE);
    checkCadenceTemplates(cadence, loadEmailTemplates());
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const sql = createSql(env.DATABASE_URL);
  await migrate(sql);
  const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS });
  const temporal = new Client({ connection, namespace: env.TEMPORAL_NAMESPACE });
  const app = await buildApp({
    sql,
    temporal,
    tenantId: env.TENANT_ID,
    taskQueue: env.TEMPORAL_TASK_QUEUE,
    cadence,
    webhookSecret: env.ERP_WEBHOOK_SECRET,
    logger: { level: env.LOG_LEVEL },
  });
  const close = async () => {
    await app.close();
    await connection.close();
    await sql.end({ timeout: 5 });
  };
  process.once('SIGINT', () => void close());
  process.once('SIGTERM', () => void close());
  await app.listen({ host: env.API_HOST, port: env.API_PORT });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
