import { NodeTransport } from 'nats/lib/src/node_transport';

// nats.js gives up on a dial after its connect timeout but leaves the socket open when the
// server had not sent INFO yet (a paused nats-server: the kernel accepts the TCP connection).
// When the server wakes, that abandoned socket completes its handshake; the server closes it
// at its auth timeout, and that close makes nats.js drop its healthy link and dial again
// without closing it. The old link lives on: the server keeps delivering queue-group requests
// on it while replies leave on the new link and are refused (allow_responses is per
// connection), until the server's own ping check closes it minutes later. Here a dial given
// up on closes its socket, whenever it was opened.
type Transport = NodeTransport & { abandoned?: boolean };
const proto = NodeTransport.prototype as Transport;
const connect = proto.connect;
const close = proto.close;
let installed = false;

export function closeAbandonedDials(): void {
  if (installed) return;
  installed = true;
  proto.close = function (this: Transport, err?: Error) {
    if (!this.connected) {
      this.abandoned = true;
      this.socket?.destroy();
    }
    return close.call(this, err);
  };
  proto.connect = async function (this: Transport, ...args: Parameters<NodeTransport['connect']>) {
    await connect.apply(this, args);
    if (this.abandoned) {
      this.socket.removeAllListeners();
      this.socket.destroy();
      throw new Error('the dial was given up before nats-server answered');
    }
  };
}
