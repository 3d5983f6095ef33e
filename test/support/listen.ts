import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A throw-away HTTP server on a free port (a misbehaving ERP, a webhook receiver) that closes its connections on close(). */
export async function listen(handler: RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
