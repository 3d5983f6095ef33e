import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { freePort } from './process';

/**
 * The main job's ports. Every README and docs command uses the default ports, so a default port that
 * is busy (another demo, most likely) stops the start unless other ports were asked for: silently
 * moving would send those commands to the other instance.
 *
 *   default  the default ports, or refuse naming each busy one and who holds it
 *   any      the default ports where free, free ones elsewhere (`--any-ports`); the banner says so loudly
 *   free     free ports for everything (`--free-ports`: tests, a second demo beside the first)
 *
 * A port given explicitly (API_PORT) is used as given in every mode, and refused when busy.
 */
export type PortMode = 'default' | 'any' | 'free';

export const PORT_MODES: readonly PortMode[] = ['default', 'any', 'free'];

export interface WantedPort {
  /** What listens there, for people: "API", "ERP simulator"... */
  name: string;
  port: number;
  /** Given explicitly (API_PORT): never moved. */
  explicit?: boolean;
}

export interface PortChoice extends WantedPort {
  chosen: number;
}

export class BusyPortsError extends Error {
  constructor(readonly busy: { name: string; port: number; explicit?: boolean; holder: string | undefined }[]) {
    super(
      [
        ...busy.map(
          (b) => `Port ${b.port} (${b.name}${b.explicit ? ', as given' : ''}) is already in use${b.holder ? ` by ${b.holder}` : ' (by a process this user cannot see: try `ss -ltnp`)'}.`,
        ),
        'Another demo is probably running: the README\'s and docs\' commands (http://127.0.0.1:3000, ...) would reach it, not this one.',
        busy.every((b) => b.explicit)
          ? 'Stop it, or give other ports.'
          : 'Stop it, or start this one on other ports with  ./scripts/start --any-ports  (or DEV_PORTS=any), then use the ports its banner prints.',
      ].join('\n'),
    );
    this.name = 'BusyPortsError';
  }
}

/** True when nothing listens on the port of 127.0.0.1 (nor on every address). */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** "node, pid 1234 (node --import tsx dev/main.ts)", or undefined when `ss` cannot tell. */
export function portHolder(port: number): string | undefined {
  let listing: string;
  try {
    listing = execFileSync('ss', ['-Hltnp', `sport = :${port}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5_000 });
  } catch {
    return undefined;
  }
  const match = /users:\(\("([^"]+)",pid=(\d+)/.exec(listing);
  if (!match) return undefined;
  const [, command, pid] = match;
  let cmdline = '';
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    /* gone meanwhile, or not ours to read */
  }
  if (cmdline.length > 160) cmdline = `${cmdline.slice(0, 157)}...`;
  return `${command}, pid ${pid}${cmdline ? ` (${cmdline})` : ''}`;
}

/** The port of each service, by the mode's rule; throws BusyPortsError naming every busy port at once. */
export async function choosePorts(wanted: readonly WantedPort[], mode: PortMode): Promise<PortChoice[]> {
  const taken = new Set<number>();
  const another = async () => {
    for (;;) {
      const port = await freePort();
      if (!taken.has(port) && !wanted.some((w) => w.port === port)) return port;
    }
  };
  const choices: PortChoice[] = [];
  const busy: BusyPortsError['busy'] = [];
  for (const w of wanted) {
    let chosen: number;
    if (w.explicit || mode !== 'free') {
      const free = !taken.has(w.port) && (await isPortFree(w.port));
      if (free) chosen = w.port;
      else if (w.explicit || mode === 'default') {
        busy.push({ name: w.name, port: w.port, explicit: w.explicit, holder: portHolder(w.port) });
        continue;
      } else chosen = await another();
    } else chosen = await another();
    taken.add(chosen);
    choices.push({ ...w, chosen });
  }
  if (busy.length) throw new BusyPortsError(busy);
  return choices;
}

/** The banner's warning when any port is not its default: loud, because every documented command uses the defaults. */
export function portWarning(choices: readonly PortChoice[], mode: PortMode): string[] {
  const moved = choices.filter((c) => c.chosen !== c.port);
  if (!moved.length) return [];
  const bar = `  ${'!'.repeat(100)}`;
  return [
    bar,
    `  !!! NOT ON THE DEFAULT PORTS (${mode === 'free' ? '--free-ports' : '--any-ports'}):`,
    ...moved.map((m) => `  !!!     ${m.name.padEnd(18)} on ${String(m.chosen).padEnd(5)} instead of ${m.port}`),
    '  !!! Every command in the README and in docs/ uses the default ports and would reach another instance, or nothing:',
    '  !!! use the URLs printed above instead (in the docs\' blocks, change U=, ERP= and the other URLs).',
    bar,
  ];
}
