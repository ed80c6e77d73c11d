import { AppError, ErrorCode } from '@overskill/contracts';
import { createInbox, type Msg, type MsgHdrs, type NatsConnection, type NatsError, type Subscription } from 'nats';
import type { NatsLink } from '../nats-connection';

interface Pending {
  resolve(msg: Msg): void;
  reject(err: unknown): void;
  timer: NodeJS.Timeout;
  subject: string;
}

// What a failed request carries to the client's error mapping: 'closed' was never sent, 'lost'
// was sent before the connection closed and may have been handled.
export type ReplyFailure = 'timeout' | 'no-responders' | 'closed' | 'lost';

// The code a failure is answered with, whatever was asked (an RPC, a durable publish): each caller
// words the message for what it asked.
const FAILURE_CODES: Record<ReplyFailure, ErrorCode> = {
  timeout: ErrorCode.RPC_TIMEOUT,
  'no-responders': ErrorCode.RPC_NO_RESPONDERS,
  closed: ErrorCode.RPC_CONNECTION_CLOSED,
  lost: ErrorCode.RPC_TIMEOUT,
};

export class RequestFailed extends Error {
  constructor(
    readonly failure: ReplyFailure,
    readonly subject: string,
  ) {
    super(`${subject}: ${failure}`);
  }

  toAppError(messages: Record<ReplyFailure, string>): AppError {
    return new AppError(FAILURE_CODES[this.failure], messages[this.failure]);
  }
}

// Request-reply on one wildcard reply subscription per connection, like nats.js' own request(),
// without its per-call costs: nats.js builds a NatsError (stack trace included) to cancel every
// request after its reply arrived, and races two promises and a timer per call. Here a reply
// settles one promise and clears one timer. Requests still waiting when the link drops fail
// at once with DEPENDENCY_UNAVAILABLE; when the connection closes, as lost.
export class ReplyInbox {
  private readonly pending = new Map<string, Pending>();
  private readonly prefix: string;
  private readonly sub: Subscription;
  private next = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly link: NatsLink,
  ) {
    const inboxPrefix = (nc as unknown as { options?: { inboxPrefix?: string } }).options?.inboxPrefix;
    this.prefix = `${createInbox(inboxPrefix)}.`;
    this.sub = nc.subscribe(`${this.prefix}*`, { callback: (err, msg) => (err ? undefined : this.settle(msg)) });
    link.onLoss((err) => this.failAll(() => err));
    void this.sub.closed.then(() => this.failAll((p) => new RequestFailed('lost', p.subject)));
  }

  // Resolves with the reply message; rejects with RequestFailed, DEPENDENCY_UNAVAILABLE, or the
  // NatsError publish threw (payload too large, connection closed).
  request(subject: string, data: Uint8Array, headers: MsgHdrs | undefined, timeoutMs: number): Promise<Msg> {
    // Not sent at all: the caller may safely send it again, even work that is not idempotent.
    if (!this.link.up) return Promise.reject(this.link.lossError({ sent: 'no' }));
    if (this.sub.isClosed()) return Promise.reject(new RequestFailed('closed', subject));
    const token = (this.next++).toString(36);
    return new Promise<Msg>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.pending.delete(token)) reject(new RequestFailed('timeout', subject));
      }, timeoutMs);
      this.pending.set(token, { resolve, reject, timer, subject });
      try {
        this.nc.publish(subject, data, { reply: this.prefix + token, headers });
      } catch (err) {
        this.pending.delete(token);
        clearTimeout(timer);
        reject(err as NatsError);
      }
    });
  }

  private settle(msg: Msg): void {
    const token = msg.subject.slice(this.prefix.length);
    const pending = this.pending.get(token);
    if (!pending) return; // a reply after its timeout
    this.pending.delete(token);
    clearTimeout(pending.timer);
    // nats-server answers a request nobody subscribes to with an empty 503 status message.
    if (msg.data.length === 0 && msg.headers?.code === 503) pending.reject(new RequestFailed('no-responders', pending.subject));
    else pending.resolve(msg);
  }

  private failAll(error: (p: Pending) => unknown): void {
    for (const [token, pending] of this.pending) {
      this.pending.delete(token);
      clearTimeout(pending.timer);
      pending.reject(error(pending));
    }
  }
}

const inboxes = new WeakMap<NatsConnection, ReplyInbox>();

export function replyInbox(nc: NatsConnection, link: NatsLink): ReplyInbox {
  let inbox = inboxes.get(nc);
  if (!inbox) {
    if (nc.isClosed()) throw new AppError(ErrorCode.RPC_CONNECTION_CLOSED, 'The NATS connection is closed; nothing was sent');
    inbox = new ReplyInbox(nc, link);
    inboxes.set(nc, inbox);
  }
  return inbox;
}
