import net from 'node:net';

/**
 * A small fault-injecting TCP proxy for tests: put it between a client and a server (the ERP simulator, the
 * SMTP peer) and switch what the server seems to do. Each new connection gets the mode in force when it
 * arrives; switching the mode cuts the connections already open (unless asked otherwise), so that a keep-alive
 * connection opened in `pass` does not slip past the next fault.
 *
 * - `pass`: bytes both ways, untouched.
 * - `refuse`: nothing listens on the port (connection refused); listening again on the same port when the mode changes.
 * - `reset`: the connection is accepted, then reset (RST) at once.
 * - `hang`: the connection is accepted and nothing ever comes back.
 * - `respond`: once the client has sent something (at once for a protocol where the server speaks first, such
 *   as SMTP), these bytes come back and the connection closes: an HTTP 5xx, an HTML page, an SMTP error.
 */
export type FaultMode = { kind: 'pass' } | { kind: 'refuse' } | { kind: 'reset' } | { kind: 'hang' } | { kind: 'respond'; data: string; serverFirst?: boolean };

export const pass: FaultMode = { kind: 'pass' };
export const refuse: FaultMode = { kind: 'refuse' };
export const reset: FaultMode = { kind: 'reset' };
export const hang: FaultMode = { kind: 'hang' };

/** A whole HTTP/1.1 answer that closes the connection. */
export function httpAnswer(status: number, body: string, contentType = 'application/json'): FaultMode {
  const reason = { 200: 'OK', 404: 'Not Found', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable' }[status] ?? 'Status';
  const bytes = Buffer.byteLength(body);
  return { kind: 'respond', data: `HTTP/1.1 ${status} ${reason}\r\ncontent-type: ${contentType}\r\ncontent-length: ${bytes}\r\nconnection: close\r\n\r\n${body}` };
}

/** An SMTP server that greets with an error (a 4xx or 5xx reply) and hangs up. */
export function smtpReply(line: string): FaultMode {
  return { kind: 'respond', data: `${line}\r\n`, serverFirst: true };
}

export interface FaultProxy {
  /** host:port of the proxy, e.g. for a URL. */
  host: string;
  port: number;
  mode(): FaultMode;
  /**
   * Switches the mode for new connections. `cut` (default 'all') cuts the connections already open: a
   * keep-alive HTTP connection would otherwise slip past the fault. 'faulted' cuts only those a fault holds
   * (a hung one), never one passing bytes: for SMTP, where a cut in the middle of a message is a different
   * fault (an ambiguous send, kept 'uncertain' by design) from those tested here.
   */
  setMode(mode: FaultMode, opts?: { cut?: 'all' | 'faulted' | 'none' }): Promise<void>;
  /** Connections accepted per mode kind, for the test's figures. */
  readonly connections: Record<FaultMode['kind'], number>;
  close(): Promise<void>;
}

export async function startFaultProxy(target: { host: string; port: number }): Promise<FaultProxy> {
  let current: FaultMode = pass;
  /** Open sockets, with the mode kind they were accepted in (an upstream socket counts as 'pass'). */
  const open = new Map<net.Socket, FaultMode['kind']>();
  const connections: Record<FaultMode['kind'], number> = { pass: 0, refuse: 0, reset: 0, hang: 0, respond: 0 };

  const onConnection = (client: net.Socket) => {
    const mode = current;
    connections[mode.kind]++;
    open.set(client, mode.kind);
    client.on('close', () => open.delete(client));
    client.on('error', () => undefined);
    switch (mode.kind) {
      case 'refuse': // a connection that slipped in while the listener was closing
      case 'reset':
        client.resetAndDestroy();
        return;
      case 'hang':
        client.resume(); // read and drop whatever comes, answer nothing
        return;
      case 'respond': {
        const answer = () => client.end(mode.data);
        if (mode.serverFirst) answer();
        else client.once('data', answer);
        client.resume();
        return;
      }
      case 'pass': {
        const upstream = net.connect(target.port, target.host);
        open.set(upstream, 'pass');
        upstream.on('close', () => open.delete(upstream));
        upstream.on('error', () => client.destroy());
        client.on('error', () => upstream.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      }
    }
  };

  let server = net.createServer(onConnection);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  let listening = true;

  const stopListening = () =>
    new Promise<void>((resolve) => {
      listening = false;
      server.close(() => resolve());
    });
  const listenAgain = async () => {
    server = net.createServer(onConnection);
    // The port was ours a moment ago; retry briefly should the system hold it.
    for (let attempt = 0; ; attempt++) {
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(port, '127.0.0.1', () => {
            server.off('error', reject);
            resolve();
          });
        });
        listening = true;
        return;
      } catch (err) {
        if (attempt >= 20) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };

  return {
    host: '127.0.0.1',
    port,
    connections,
    mode: () => current,
    async setMode(mode, opts = {}) {
      current = mode;
      const cut = opts.cut ?? 'all';
      for (const [socket, kind] of open) {
        if (cut === 'none' || (cut === 'faulted' && kind === 'pass')) continue;
        socket.destroy();
        open.delete(socket);
      }
      if (mode.kind === 'refuse' && listening) await stopListening();
      if (mode.kind !== 'refuse' && !listening) await listenAgain();
    },
    async close() {
      for (const socket of open.keys()) socket.destroy();
      open.clear();
      if (listening) await stopListening();
    },
  };
}
