import { stripUrlCredentials } from './strip-url-credentials';

describe('stripUrlCredentials', () => {
  it('removes user:password@ from every URL in the text', () => {
    expect(stripUrlCredentials('connect to postgres://app:s3cr%40t@db:5432/x failed, then redis://:pw@cache:6379 too')).toBe(
      'connect to postgres://db:5432/x failed, then redis://cache:6379 too',
    );
  });

  it('leaves URLs without credentials and e-mail addresses alone', () => {
    const text = 'nats://127.0.0.1:4222 and ops@example.com';
    expect(stripUrlCredentials(text)).toBe(text);
  });
});
