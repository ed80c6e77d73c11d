import type { Socket } from 'node:net';
import { NodeTransport } from 'nats/lib/src/node_transport';

// The connection option that turns this on. nats.js keeps unknown options on the connection (its
// transport sees them) and sends nats-server only the fields it knows.
export const COALESCE_WRITES_OPTION = 'coalesceWritesPerTurn';

// nats.js writes its outbound buffer at the first microtask checkpoint after something was queued:
// one write(2) per checkpoint. A busy service queues requests, replies and events from many
// checkpoints of one turn of the event loop (each socket read and each query result is its own),
// and on loopback every write also pays the kernel's delivery to the reader. With the option, a
// connection's socket is corked at its first write of a turn and uncorked when the turn's I/O
// callbacks are done (setImmediate): one writev for all of them, in the order they were queued.
// A lone write still leaves within the same turn. Connections without the option (a benchmark's
// raw nats.js baseline) are left as nats.js makes them.
type Transport = NodeTransport & { socket?: Socket; options?: Record<string, unknown>; corkedTurn?: boolean };
// nats.js's own close, private in its types.
type Closing = { _closed(this: Transport, err?: Error, internal?: boolean): Promise<void> };
const proto = NodeTransport.prototype as Transport;
const send = proto.send;
const closing = proto as unknown as Closing;
const closed = closing._closed;
let installed = false;

export function coalesceWritesPerTurn(): void {
  if (installed) return;
  installed = true;
  proto.send = function (this: Transport, frame: Uint8Array) {
    const socket = this.socket;
    if (socket && !this.corkedTurn && this.options?.[COALESCE_WRITES_OPTION] === true && !socket.destroyed) {
      this.corkedTurn = true;
      socket.cork();
      setImmediate(() => {
        this.corkedTurn = false;
        socket.uncork();
      });
    }
    send.call(this, frame);
  };
  // nats.js destroys the socket when a connection closes, without flushing: what this turn queued
  // (a reply answered just before a draining server closes) goes to the kernel first, as it
  // would have without the cork.
  closing._closed = function (this: Transport, err?: Error, internal?: boolean) {
    if (this.corkedTurn && this.socket && !this.socket.destroyed) {
      this.corkedTurn = false;
      this.socket.uncork();
    }
    return closed.call(this, err, internal);
  };
}
