import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { bindError } from './assert-port-free';

// The harness's servers get ports from below the kernel's ephemeral range. A port the kernel
// picks (listen on 0) comes from that range, which every outgoing connection draws its local port
// from too: in the moment between the pick and the server's own bind, any connection of the
// machine could take it (a service then dies with EADDRINUSE). The range starts above the ports
// tool-runner leases to preview dev servers by default (PREVIEW_DEV_PORTS, 24000-24999).
const FIRST_PORT = 25_000;
const EPHEMERAL_RANGE = '/proc/sys/net/ipv4/ip_local_port_range';
const DEFAULT_EPHEMERAL_LOW = 32_768;

export interface PortPicker {
  next(): Promise<number>;
}

/**
 * Hands out ports from `first` to `last` in turn, from a random start (two processes rarely
 * start at the same one), each checked free by binding it on 127.0.0.1; a port in use is skipped.
 * After a whole lap without a free one it gives up.
 */
export function portPicker(first: number, last: number, start = first + randomInt(last - first + 1)): PortPicker {
  let cursor = start;
  return {
    async next() {
      for (let tried = 0; tried <= last - first; tried++) {
        const port = cursor;
        cursor = cursor >= last ? first : cursor + 1;
        if (!(await bindError(port))) return port;
      }
      throw new Error(`no free port on 127.0.0.1 between ${first} and ${last}`);
    },
  };
}

let shared: PortPicker | undefined;

export function freePort(): Promise<number> {
  if (!shared) {
    const last = ephemeralLow() - 1;
    // A machine whose ephemeral range starts low leaves no room below it: the kernel picks then.
    shared = last - FIRST_PORT >= 1_000 ? portPicker(FIRST_PORT, last) : { next: kernelPort };
  }
  return shared.next();
}

function ephemeralLow(): number {
  try {
    const low = Number(readFileSync(EPHEMERAL_RANGE, 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 0 ? low : DEFAULT_EPHEMERAL_LOW;
  } catch {
    return DEFAULT_EPHEMERAL_LOW;
  }
}

function kernelPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('could not read the port of a bound socket'))));
    });
  });
}
