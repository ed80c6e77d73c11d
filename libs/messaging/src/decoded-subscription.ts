import { fromBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import type { NatsConnection } from 'nats';

export interface DecodedSubscription {
  close(): void;
}

// Core NATS messages of one protobuf type, decoded in the order they arrive; one that cannot be
// read goes to onUnreadable (the callers' sequence numbers show what it was).
export function subscribeDecoded<Desc extends DescMessage>(
  nc: NatsConnection,
  subject: string,
  schema: Desc,
  onMessage: (message: MessageShape<Desc>) => void,
  onUnreadable: () => void = () => undefined,
): DecodedSubscription {
  const sub = nc.subscribe(subject, {
    callback: (err, msg) => {
      if (err) return;
      let message: MessageShape<Desc>;
      try {
        message = fromBinary(schema, msg.data);
      } catch {
        onUnreadable();
        return;
      }
      onMessage(message);
    },
  });
  return { close: () => sub.unsubscribe() };
}
