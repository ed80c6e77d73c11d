import { AppError, ErrorCode } from '@overskill/contracts';
import { connect, Events, type NatsConnection } from 'nats';

// Reconnect forever: a NATS restart must not take a service down with it. No async stack
// traces: nats.js would build two Error objects per request for them; our errors carry codes.
// Ping every 2 s, two unanswered pings make the link stale: a paused or wedged nats-server keeps
// its socket open, and is noticed in 4-6 s instead of by each request's own timeout.
export const NATS_CONNECTION_OPTIONS = { maxReconnectAttempts: -1, reconnectTimeWait: 500, timeout: 5000, pingInterval: 2000, maxPingOut: 2, noAsyncTraces: true } as const;

export function connectNats(natsUrl: string, name: string): Promise<NatsConnection> {
  return connect({ servers: natsUrl, name, ...NATS_CONNECTION_OPTIONS });
}

// Whether a connection can reach nats-server right now. While it reconnects, nats.js would
// hold a request until its timeout; callers are told at once instead, and requests already
// waiting are failed the moment the link drops (their replies cannot arrive on it any more).
export class NatsLink {
  private up = true;
  private nextLoss!: Promise<never>;
  private loseNow!: (err: AppError) => void;

  constructor(nc: NatsConnection) {
    this.arm();
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === Events.Disconnect) {
          this.up = false;
          this.loseNow(linkDown());
          this.arm();
        } else if (status.type === Events.Reconnect) {
          this.up = true;
        }
      }
    })().catch(() => undefined);
  }

  // Resolves with the work, or rejects with DEPENDENCY_UNAVAILABLE if the link is or goes down first.
  async whileUp<T>(work: () => Promise<T>): Promise<T> {
    // Not sent at all: the caller may safely send it again, even work that is not idempotent.
    if (!this.up) throw linkDown({ sent: 'no' });
    return Promise.race([work(), this.nextLoss]);
  }

  private arm(): void {
    this.nextLoss = new Promise<never>((_, reject) => (this.loseNow = reject));
    // Rejected on every loss whether or not a request waits on it.
    this.nextLoss.catch(() => undefined);
  }
}

function linkDown(details: Record<string, string> = {}): AppError {
  return new AppError(ErrorCode.DEPENDENCY_UNAVAILABLE, 'The message bus (NATS) is unreachable; retry in a moment', details);
}

const links = new WeakMap<NatsConnection, NatsLink>();

export function natsLink(nc: NatsConnection): NatsLink {
  let link = links.get(nc);
  if (!link) {
    link = new NatsLink(nc);
    links.set(nc, link);
  }
  return link;
}
