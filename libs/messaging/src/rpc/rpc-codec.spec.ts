import { AppError, ErrorCode, Rpc } from '@overskill/contracts';
import { headers as natsHeaders } from 'nats';
import { decodeReply, decodeRequest, encodeErrorReply, encodeMessage } from './rpc-codec';
import { ERROR_CODE_HEADER } from './nats-headers';

describe('rpc codec', () => {
  it('round-trips a request and a reply as plain protobuf', () => {
    const bytes = encodeMessage(Rpc.gitRepoCommit.request, { appId: 'a', message: 'm' });
    expect(decodeRequest(Rpc.gitRepoCommit, bytes)).toMatchObject({ appId: 'a', message: 'm' });
    const reply = encodeMessage(Rpc.gitRepoCommit.response, { sha: 'abc', created: true, filesChanged: 2 });
    expect(decodeReply(Rpc.gitRepoCommit, reply, undefined)).toMatchObject({ sha: 'abc', created: true, filesChanged: 2 });
  });

  it('refuses a malformed request with MESSAGE_MALFORMED naming the subject and type', () => {
    expect(() => decodeRequest(Rpc.gitRepoCommit, new Uint8Array([0xff, 0xff, 0xff]))).toThrow(
      expect.objectContaining({ code: ErrorCode.MESSAGE_MALFORMED, message: expect.stringContaining('overskill.git.v1.RepoCommitRequest') }),
    );
  });

  it('turns an error reply back into the same AppError', () => {
    const reply = encodeErrorReply(ErrorCode.APP_NOT_FOUND, 'App x not found', { appId: 'x' });
    expect(reply.headers?.get(ERROR_CODE_HEADER)).toBe(ErrorCode.APP_NOT_FOUND);
    let caught: unknown;
    try {
      decodeReply(Rpc.appGet, reply.data, reply.headers);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AppError);
    expect(caught).toMatchObject({ code: ErrorCode.APP_NOT_FOUND, message: 'App x not found', details: { appId: 'x' } });
  });

  it('maps an unknown error code to INTERNAL and a garbled reply to RPC_REPLY_MALFORMED', () => {
    const headers = natsHeaders();
    headers.set(ERROR_CODE_HEADER, 'SOMETHING_NEW');
    expect(() => decodeReply(Rpc.appGet, new Uint8Array(), headers)).toThrow(expect.objectContaining({ code: ErrorCode.INTERNAL }));
    expect(() => decodeReply(Rpc.appGet, new Uint8Array([0xff, 0xff, 0xff]), undefined)).toThrow(
      expect.objectContaining({ code: ErrorCode.RPC_REPLY_MALFORMED }),
    );
  });
});
