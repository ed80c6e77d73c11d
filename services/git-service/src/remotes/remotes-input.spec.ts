import { ErrorCode } from '@overskill/contracts';
import { parseRemoteUrl } from './parse-remote-url';
import { remoteFailure } from './remote-failure';

describe('parseRemoteUrl', () => {
  const github = { allowedHosts: ['github.com'], allowHttp: false };

  it('keeps scheme, host and path, and scopes auth to the origin', () => {
    expect(parseRemoteUrl(' https://github.com/acme/shop.git ', github)).toEqual({ url: 'https://github.com/acme/shop.git', origin: 'https://github.com/' });
    expect(parseRemoteUrl('http://127.0.0.1:8080/r.git', { allowedHosts: ['127.0.0.1'], allowHttp: true })).toEqual({
      url: 'http://127.0.0.1:8080/r.git',
      origin: 'http://127.0.0.1:8080/',
    });
  });

  it.each([
    ['https://x-access-token:ghp_secret@github.com/acme/shop.git', 'credentials'],
    ['http://github.com/acme/shop.git', 'must use https'],
    ['ssh://git@github.com/acme/shop.git', 'credentials'],
    ['ext::sh -c id', 'must use https'],
    ['file:///etc', 'must use https'],
    ['https://gitlab.com/acme/shop.git', 'not an allowed remote host'],
    ['https://github.com.evil.test/acme.git', 'not an allowed remote host'],
    ['https://github.com/', 'must name a repository'],
    ['https://github.com/acme/shop.git?x=1', 'must name a repository'],
  ])('refuses %s', (url, reason) => {
    expect(() => parseRemoteUrl(url, github)).toThrow(
      expect.objectContaining({ code: ErrorCode.GIT_REMOTE_URL_INVALID, message: expect.stringContaining(reason) }),
    );
    try {
      parseRemoteUrl(url, github);
    } catch (err) {
      expect((err as Error).message).not.toContain('ghp_secret');
    }
  });
});

describe('remoteFailure', () => {
  it.each([
    ["fatal: could not read Username for 'https://github.com': terminal prompts disabled", ErrorCode.GIT_REMOTE_AUTH_FAILED],
    [
      "remote: Permission to acme/shop.git denied to bot.\nfatal: unable to access 'https://github.com/acme/shop.git/': The requested URL returned error: 403",
      ErrorCode.GIT_REMOTE_AUTH_FAILED,
    ],
    ["remote: Repository not found.\nfatal: repository 'https://github.com/acme/nope.git/' not found", ErrorCode.GIT_REMOTE_NOT_FOUND],
    ['fatal: Remote branch release not found in upstream origin', ErrorCode.GIT_BRANCH_NOT_FOUND],
    [" ! [rejected]        main -> main (fetch first)\nerror: failed to push some refs to 'https://github.com/acme/shop.git'", ErrorCode.GIT_PUSH_REJECTED],
    ["fatal: unable to access 'https://github.com/acme/shop.git/': Could not resolve host: github.com", ErrorCode.GIT_REMOTE_UNAVAILABLE],
    ["fatal: unable to access 'http://127.0.0.1:1/x.git/': Failed to connect to 127.0.0.1 port 1: Connection refused", ErrorCode.GIT_REMOTE_UNAVAILABLE],
  ])('maps %j', (stderr, code) => {
    expect(remoteFailure(stderr).code).toBe(code);
  });
});
