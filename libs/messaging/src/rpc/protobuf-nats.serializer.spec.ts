import { AppError, commonV1, ErrorCode, Rpc } from '@overskill/contracts';
import { fromBinary } from '@bufbuild/protobuf';
import { ERROR_CODE_HEADER } from './nats-headers';
import { ProtobufNatsDeserializer } from './protobuf-nats.deserializer';
import { errorFromPacket, ProtobufNatsSerializer } from './protobuf-nats.serializer';
import { encodeMessage } from './rpc-codec';

describe('Nest NATS serializer pair (protobuf)', () => {
  const serializer = new ProtobufNatsSerializer();
  const deserializer = new ProtobufNatsDeserializer();

  it('decodes a request by its subject and keeps the reply subject as the packet id', () => {
    const data = encodeMessage(Rpc.appGet.request, { teamId: 't', appId: 'a' });
    const packet = deserializer.deserialize(data, { channel: Rpc.appGet.subject, replyTo: '_INBOX.1' });
    expect(packet).toMatchObject({ pattern: Rpc.appGet.subject, id: '_INBOX.1', data: { teamId: 't', appId: 'a' } });
  });

  it('encodes a handler result (a plain init object) with the subject’s response type', () => {
    const encoded = serializer.serialize({ subject: Rpc.gitRepoInit.subject, response: { headSha: 'f00' }, isDisposed: true });
    expect(encoded.headers).toBeUndefined();
    expect(fromBinary(Rpc.gitRepoInit.response, encoded.data).headSha).toBe('f00');
  });

  it('encodes errors as a code header plus a common.v1.Error body', () => {
    const encoded = serializer.serialize({ subject: Rpc.appGet.subject, err: { code: ErrorCode.APP_NOT_FOUND, message: 'gone' } });
    expect(encoded.headers?.get(ERROR_CODE_HEADER)).toBe(ErrorCode.APP_NOT_FOUND);
    expect(fromBinary(commonV1.ErrorSchema, encoded.data)).toMatchObject({ code: ErrorCode.APP_NOT_FOUND, message: 'gone' });
  });

  it('never leaks an unknown error’s message', () => {
    expect(errorFromPacket(new Error('password=hunter2 at db.ts:12'))).toEqual({
      code: ErrorCode.INTERNAL,
      message: 'Internal error in the remote service',
      details: {},
    });
    expect(errorFromPacket({ status: 'error', message: 'Internal server error' }).code).toBe(ErrorCode.INTERNAL);
    expect(errorFromPacket(new AppError(ErrorCode.TOOL_UNKNOWN, 'no such tool')).code).toBe(ErrorCode.TOOL_UNKNOWN);
    expect(errorFromPacket('There is no matching message handler defined in the remote service.').code).toBe(ErrorCode.SUBJECT_UNKNOWN);
  });

  it('refuses to send an empty reply as success', () => {
    expect(serializer.serialize({ subject: Rpc.gitRepoInit.subject, response: undefined }).headers?.get(ERROR_CODE_HEADER)).toBe(ErrorCode.INTERNAL);
    expect(serializer.serialize({ subject: 'nobody.knows.this.v1', response: {} }).headers?.get(ERROR_CODE_HEADER)).toBe(ErrorCode.SUBJECT_UNKNOWN);
  });
});
