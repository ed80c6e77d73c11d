import { type DescMessage, type MessageInitShape, type MessageShape } from '@bufbuild/protobuf';
import { AppError, commonV1, ErrorCode, isErrorCode, type RpcDefinition } from '@overskill/contracts';
import { headers as natsHeaders, type MsgHdrs } from 'nats';
import { ERROR_CODE_HEADER, headerValue, setHeader } from './nats-headers';
import { decodeProtobuf } from './protobuf-decoder';
import { encodeInit } from './protobuf-encoder';
import { keptBytes } from './kept-bytes';

// Protobuf on the wire, both ways. A request body is the request message; a reply body is the
// response message, or a common.v1.Error when the `x-error-code` header is set. Nothing else
// is framed, so any NATS client in any language can call a service with plain protobuf.

export function encodeMessage<Desc extends DescMessage>(schema: Desc, value: MessageInitShape<Desc>): Uint8Array {
  return keptBytes(schema, value) ?? encodeInit(schema, value);
}

export function decodeRequest<Req extends DescMessage>(def: RpcDefinition<Req>, data: Uint8Array): MessageShape<Req> {
  try {
    return decodeProtobuf(def.request, data);
  } catch (err) {
    throw new AppError(ErrorCode.MESSAGE_MALFORMED, `${def.subject}: the payload is not a valid ${def.request.typeName} (${(err as Error).message})`);
  }
}

export interface EncodedReply {
  data: Uint8Array;
  headers?: MsgHdrs;
}

export function encodeErrorReply(code: ErrorCode, message: string, details: Record<string, string> = {}): EncodedReply {
  const headers = natsHeaders();
  setHeader(headers, ERROR_CODE_HEADER, code);
  return { data: encodeMessage(commonV1.ErrorSchema, { code, message, details }), headers };
}

export function decodeReply<Res extends DescMessage>(def: RpcDefinition<DescMessage, Res>, data: Uint8Array, headers: MsgHdrs | undefined): MessageShape<Res> {
  const errorCode = headerValue(headers, ERROR_CODE_HEADER);
  if (errorCode) {
    let body: commonV1.Error | undefined;
    try {
      body = decodeProtobuf(commonV1.ErrorSchema, data);
    } catch {
      body = undefined;
    }
    const code = isErrorCode(errorCode) ? errorCode : ErrorCode.INTERNAL;
    throw new AppError(code, body?.message || `${def.subject} failed with ${errorCode}`, body?.details ?? {});
  }
  try {
    return decodeProtobuf(def.response, data);
  } catch (err) {
    throw new AppError(ErrorCode.RPC_REPLY_MALFORMED, `${def.subject}: the reply is not a valid ${def.response.typeName} (${(err as Error).message})`);
  }
}
