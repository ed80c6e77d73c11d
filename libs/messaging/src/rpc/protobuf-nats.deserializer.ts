import type { ConsumerDeserializer, IncomingRequest } from '@nestjs/microservices';
import { rpcForSubject } from '@overskill/contracts';
import { decodeRequest } from './rpc-codec';

// Server side of Nest's NATS transport: the subject names the request type, so the body is
// plain protobuf. Throws AppError(MESSAGE_MALFORMED); NatsRpcServer turns that into a reply.
export class ProtobufNatsDeserializer implements ConsumerDeserializer {
  deserialize(value: Uint8Array, options?: { channel?: string; replyTo?: string }): IncomingRequest {
    const channel = options?.channel ?? '';
    const def = rpcForSubject(channel);
    // Unknown subjects are answered by NatsRpcServer before they get here; keep the bytes.
    const data = def ? decodeRequest(def, value) : value;
    return { pattern: channel, data, id: options?.replyTo ?? '' };
  }
}
