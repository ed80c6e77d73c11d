import helmet from 'helmet';
import { securityHeaders } from './security-headers';

const OPTIONS = {
  contentSecurityPolicy: { directives: { defaultSrc: ["'self'"], frameSrc: ['*.preview.localhost:*'], frameAncestors: ["'none'"] } },
  crossOriginResourcePolicy: { policy: 'same-origin' as const },
  strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true },
};

describe('securityHeaders', () => {
  it('is exactly what helmet sets on a response for the same options', () => {
    const set = new Map<string, string>();
    const res = { setHeader: (k: string, v: string) => set.set(k.toLowerCase(), v), removeHeader: () => undefined };
    helmet(OPTIONS)({} as never, res as never, () => undefined);
    expect(securityHeaders(OPTIONS)).toEqual(Object.fromEntries(set));
    expect(securityHeaders(OPTIONS)['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(securityHeaders(OPTIONS)['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
  });

  it('refuses options helmet refuses, at start rather than per request', () => {
    expect(() => securityHeaders({ contentSecurityPolicy: { directives: { defaultSrc: ["'self'"], scriptSrc: ['self'] } } })).toThrow(/self/);
  });
});
