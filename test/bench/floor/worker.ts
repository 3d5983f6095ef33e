import path from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import nodemailer from 'nodemailer';
import { createFloorActivities } from './activities';

/**
 * The floor's worker, a process of its own like the project's (worker/main.ts), so that its CPU and RSS
 * are read the same way: the same SDK defaults (cache size, concurrency, sticky queue), the workflow code
 * bundled at start from source, the same nodemailer transport options. It prints "floor worker polling" once ready.
 */
async function main() {
  const need = (name: string) => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is required`);
    return value;
  };
  const address = need('TEMPORAL_ADDRESS');
  const taskQueue = need('FLOOR_TASK_QUEUE');
  const mailer = nodemailer.createTransport({ url: need('SMTP_URL'), connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000 });
  const connection = await NativeConnection.connect({ address });
  try {
    const worker = await Worker.create({
      connection,
      namespace: 'default',
      taskQueue,
      workflowsPath: path.join(__dirname, 'workflows.ts'),
      activities: createFloorActivities({ erpUrl: need('ERP_BASE_URL'), erpApiKey: need('ERP_API_KEY'), mailer, mailFrom: 'Floor <floor@example.com>' }),
    });
    console.log(`floor worker polling task queue "${taskQueue}" on ${address}`);
    await worker.run(); // returns after SIGINT/SIGTERM
  } finally {
    await connection.close();
    mailer.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
