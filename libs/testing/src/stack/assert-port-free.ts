import { bindError } from '@overskill/runtime/port-leases';

export class PortInUseError extends Error {
  readonly code = 'PORT_IN_USE';

  // `server` names what wanted the port: a stack server ('nats', 'nats-monitor', 'postgres',
  // 'redis') or whatever the caller passed (start.mjs passes service names).
  constructor(
    readonly server: string,
    readonly port: number,
  ) {
    super(`port ${port} on 127.0.0.1 (for ${server}) is already in use by another process`);
    this.name = 'PortInUseError';
  }
}

// Checked before spawning: a foreign server already on the port would otherwise answer our
// readiness probe while our own child is still failing to bind.
export async function assertPortFree(server: string, port: number): Promise<void> {
  const error = await bindError(port);
  if (error) throw error.code === 'EADDRINUSE' ? new PortInUseError(server, port) : error;
}
