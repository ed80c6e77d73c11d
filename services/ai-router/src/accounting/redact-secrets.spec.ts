import { debugJson, redactSecrets } from './redact-secrets';

describe('redactSecrets', () => {
  it('removes API keys, bearer tokens and URL credentials but keeps the prose', () => {
    const text =
      'use sk-ant-api03-AAAAAAAAAAAAAAAAAAAAAAAA and osk_abcdefghijkl_0123456789abcdefghijABCDEFGHIJ0123456789abc, Authorization: Bearer abcdef123456789xyz, postgres://app:hunter2@db/x';
    const out = redactSecrets(text);
    expect(out).not.toMatch(/AAAAAAAAAAAAAAAA|0123456789abcdefghij|abcdef123456789xyz|hunter2/);
    expect(out).toContain('use sk-[REDACTED]');
    expect(out).toContain('postgres://[REDACTED]@db/x');
  });

  it('redacts api_key fields inside JSON and handles bigint', () => {
    const out = debugJson({ api_key: 'supersecretvalue', n: 5n, text: 'hello' });
    expect(out).toBe('{"api_key":"[REDACTED]","n":"5","text":"hello"}');
  });
});
