import { basicAuthValue, redactSecrets } from './redact-secrets';

describe('redactSecrets', () => {
  const token = 'ghp_abcdefghijklmnopqrstuvwxyz0123456789';

  it('removes the token, its Basic auth form and URL credentials from git’s error text', () => {
    const stderr = [
      `fatal: unable to access 'https://x-access-token:${token}@github.com/o/r.git/': The requested URL returned error: 403`,
      `> Authorization: Basic ${basicAuthValue(token)}`,
      `remote: invalid token ${token}`,
    ].join('\n');
    const clean = redactSecrets(stderr, [token]);
    expect(clean).not.toContain(token);
    expect(clean).not.toContain(basicAuthValue(token));
    expect(clean).toContain('https://***@github.com/o/r.git/');
    expect(clean).toContain('returned error: 403');
  });

  it('leaves text without secrets as it was', () => {
    expect(redactSecrets('fatal: not a git repository', [token])).toBe('fatal: not a git repository');
  });
});
