import { PortLeases } from '@overskill/runtime/port-leases';
import { readFileSync } from 'node:fs';
import net from 'node:net';

// The harness's servers get ports from below the kernel's ephemeral range. A port the kernel
// picks (listen on 0) comes from that range, which every outgoing connection draws its local port
// from too: in the moment between the pick and the server's own bind, any connection of the
// machine could take it (a service then dies with EADDRINUSE). The range starts above the fixed
// ports of tests and benches and of tool-runner's default dev-server leases (all below 30000).
const FIRST_PORT = 30_000;
const EPHEMERAL_RANGE = '/proc/sys/net/ipv4/ip_local_port_range';
const DEFAULT_EPHEMERAL_LOW = 32_768;

// undefined until the first call; null when the ephemeral range leaves no room below it.
let leases: PortLeases | null | undefined;

// A free port, in turn from a random start, checked by binding it. Handed out rather than held:
// the caller binds it at once, and a later lap may hand it out again if it is free by then.
export async function freePort(): Promise<number> {
  if (leases === undefined) {
    const last = ephemeralLow() - 1;
    leases = last - FIRST_PORT >= 1_000 ? new PortLeases({ from: FIRST_PORT, to: last }) : null;
  }
  // A machine whose ephemeral range starts low: the kernel picks.
  if (!leases) return kernelPort();
  const port = await leases.lease();
  leases.release(port);
  return port;
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
