import type { Serializer } from '@nestjs/microservices';
import { AppError, ErrorCode, isErrorCode, rpcForSubject } from '@overskill/contracts';
import { encodeErrorReply, encodeMessage, type EncodedReply } from './rpc-codec';

// What Nest hands the serializer (plus the subject, added by NatsRpcServer's publisher).
export interface OutgoingRpcPacket {
  subject: string;
  response?: unknown;
  err?: unknown;
  isDisposed?: boolean;
  status?: string;
}

// The error payload Nest's exception layer produces: ours ({code, message}) from
// RpcErrorFilter, or Nest's own ({status, message} / a string) for anything else.
export function errorFromPacket(err: unknown): { code: ErrorCode; message: string; details: Record<string, string> } {
  if (err instanceof AppError) return { code: err.code, message: err.message, details: err.details };
  if (err && typeof err === 'object') {
    const { code, message, details } = err as { code?: unknown; message?: unknown; details?: unknown };
    if (isErrorCode(code)) return { code, message: String(message ?? code), details: (details as Record<string, string>) ?? {} };
  }
  if (typeof err === 'string' && err.includes('no matching message handler')) {
    return { code: ErrorCode.SUBJECT_UNKNOWN, message: 'No handler for this subject in the remote service', details: {} };
  }
  return { code: ErrorCode.INTERNAL, message: 'Internal error in the remote service', details: {} };
}

// A handler's outcome as the reply's bytes: the response message, or an error code header and a
// common.v1.Error body.
export function encodeReplyPacket(subject: string, packet: Omit<OutgoingRpcPacket, 'subject'>): EncodedReply {
  if (packet.err !== undefined || packet.status === 'error') {
    const { code, message, details } = errorFromPacket(packet.err);
    return encodeErrorReply(code, message, details);
  }
  const def = rpcForSubject(subject);
  if (!def) return encodeErrorReply(ErrorCode.SUBJECT_UNKNOWN, `No subject ${subject} in the registry`);
  if (packet.response === undefined || packet.response === null) {
    return encodeErrorReply(ErrorCode.INTERNAL, `${subject}: the handler returned no reply`);
  }
  try {
    return { data: encodeMessage(def.response, packet.response as never) };
  } catch (err) {
    return encodeErrorReply(ErrorCode.INTERNAL, `${subject}: the reply could not be encoded as ${def.response.typeName} (${(err as Error).message})`);
  }
}

export class ProtobufNatsSerializer implements Serializer<OutgoingRpcPacket, EncodedReply> {
  serialize(packet: OutgoingRpcPacket): EncodedReply {
    return encodeReplyPacket(packet.subject, packet);
  }
}
