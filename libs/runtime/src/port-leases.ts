import { createServer } from 'node:net';

// Ports of a range on loopback, one holder each: tool-runner's dev servers and the test
// harness's servers. A port is leased only after a bind test (another replica or program on the
// host may hold it), and a holder gives it back through release().
export class PortLeases {
  private readonly held = new Set<number>();
  private next: number;

  constructor(private readonly range: { from: number; to: number }) {
    // Processes on one host start at different points, so they rarely test the same ports.
    this.next = range.from + Math.floor(Math.random() * (range.to - range.from + 1));
  }

  async lease(): Promise<number> {
    const size = this.range.to - this.range.from + 1;
    for (let tried = 0; tried < size; tried++) {
      const port = this.next;
      this.next = port >= this.range.to ? this.range.from : port + 1;
      if (this.held.has(port)) continue;
      this.held.add(port);
      if (await portIsFree(port)) return port;
      this.held.delete(port);
    }
    throw new Error(`every port of ${this.range.from}-${this.range.to} is in use`);
  }

  release(port: number | undefined): void {
    if (port !== undefined) this.held.delete(port);
  }

  get leased(): number {
    return this.held.size;
  }
}

export async function portIsFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return (await bindError(port, host)) === undefined;
}

// Binds the port and lets it go again: why it could not be bound, or undefined when it could.
export function bindError(port: number, host = '127.0.0.1'): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', (error: NodeJS.ErrnoException) => resolve(error));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve(undefined)));
  });
}
