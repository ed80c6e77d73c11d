import { redactSecrets, redactUrl } from './redact-secrets';

describe('redactSecrets', () => {
  it('removes provider, platform and cloud credentials, JWTs and bearer tokens', () => {
    const text = [
      'anthropic sk-ant-api03-abcdefghijklmnopqrstuv',
      'openai sk-proj-abcdefghijklmnopqrstuv',
      'key osk_ab12cd34_abcdefghijklmnopqrstuvwxyz',
      'gh ghp_abcdefghijklmnopqrstuvwxyz0123',
      'aws AKIAABCDEFGHIJKLMNOP',
      'jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijklmnop',
      'Authorization: Bearer abcdef123456789',
    ].join('\n');
    const out = redactSecrets(text);
    for (const secret of ['sk-ant-api03', 'sk-proj-', 'osk_ab12', 'ghp_', 'AKIA', 'eyJhbGci', 'abcdef123456789']) expect(out).not.toContain(secret);
    expect(out.match(/\[redacted\]/g)?.length).toBe(7);
  });

  it('removes values of secret-named pairs, in JSON and in key=value text', () => {
    expect(redactSecrets('login failed for {"user":"ann","password":"hunter2"}')).toBe('login failed for {"user":"ann","password":"[redacted]"}');
    expect(redactSecrets('config api_key=12345 region=eu')).toBe('config api_key=[redacted] region=eu');
    expect(redactSecrets('nothing secret here: 42 todos')).toBe('nothing secret here: 42 todos');
  });
});

describe('redactUrl', () => {
  const origin = 'http://abc.preview.localhost:3080';

  it('drops credentials, secret query values and the fragment; same-origin URLs are shown as paths', () => {
    expect(redactUrl('http://abc.preview.localhost:3080/api/x?token=s3cr3t&page=2#frag', origin)).toBe('/api/x?token=[redacted]&page=2');
    expect(redactUrl('https://user:pw@api.example.com/v1?api_key=k&q=a', origin)).toBe('https://api.example.com/v1?api_key=[redacted]&q=a');
    expect(redactUrl('/relative?sig=abc', origin)).toBe('/relative?sig=[redacted]');
  });
});
