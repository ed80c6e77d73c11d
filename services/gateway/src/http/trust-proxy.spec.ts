import { ConfigError } from '@overskill/observability';
import Fastify from 'fastify';
import { gatewayEnvSchema } from '../config';
import { trustProxy } from './trust-proxy';

describe('trustProxy', () => {
  const settings = (env: Record<string, string>) => gatewayEnvSchema.pick({ GATEWAY_TRUST_PROXY_HOPS: true, GATEWAY_TRUSTED_PROXIES: true }).parse(env);

  // The address Fastify gives the request, from a peer and an X-Forwarded-For, as the gateway sets it up.
  async function clientAddress(env: Record<string, string>, peer: string, forwardedFor?: string): Promise<string> {
    const app = Fastify({ trustProxy: trustProxy(settings(env)) });
    app.get('/', async (request) => request.ip);
    const res = await app.inject({ url: '/', remoteAddress: peer, headers: forwardedFor ? { 'x-forwarded-for': forwardedFor } : {} });
    await app.close();
    return res.body;
  }

  it('with proxy addresses, skips trusted hops from the right and stops at the first other one', async () => {
    const env = { GATEWAY_TRUSTED_PROXIES: '127.0.0.1, 10.0.0.0/8' };
    expect(await clientAddress(env, '127.0.0.1', '198.51.100.1, 203.0.113.50, 10.1.2.3')).toBe('203.0.113.50');
    expect(await clientAddress(env, '127.0.0.1', '203.0.113.50')).toBe('203.0.113.50');
    expect(await clientAddress(env, '127.0.0.1')).toBe('127.0.0.1');
    // A peer that is not a trusted proxy is the client, whatever it claims.
    expect(await clientAddress(env, '192.0.2.9', '203.0.113.50')).toBe('192.0.2.9');
    expect(await clientAddress({ GATEWAY_TRUSTED_PROXIES: 'fd00::/8' }, 'fd00::1', '2001:db8::7')).toBe('2001:db8::7');
  });

  it('with hops, takes the address that many hops from the right, from any peer', async () => {
    expect(await clientAddress({ GATEWAY_TRUST_PROXY_HOPS: '1' }, '192.0.2.9', '198.51.100.1, 203.0.113.50')).toBe('203.0.113.50');
    expect(await clientAddress({ GATEWAY_TRUST_PROXY_HOPS: '2' }, '192.0.2.9', '198.51.100.1, 203.0.113.50')).toBe('198.51.100.1');
    expect(await clientAddress({}, '192.0.2.9', '203.0.113.50')).toBe('192.0.2.9');
  });

  it('refuses entries that are not addresses or ranges, and both settings at once', () => {
    for (const bad of ['nginx', '10.0.0.0/33', '::1/129', '10.0.0.1/8/8', '10.0.0.0/', '10.0.0.0/-1']) {
      const parsed = gatewayEnvSchema.pick({ GATEWAY_TRUSTED_PROXIES: true }).safeParse({ GATEWAY_TRUSTED_PROXIES: `127.0.0.1,${bad}` });
      expect(parsed.success).toBe(false);
    }
    expect(() => trustProxy(settings({ GATEWAY_TRUST_PROXY_HOPS: '1', GATEWAY_TRUSTED_PROXIES: '10.0.0.0/8' }))).toThrow(ConfigError);
    expect(() => trustProxy(settings({ GATEWAY_TRUST_PROXY_HOPS: '1', GATEWAY_TRUSTED_PROXIES: '10.0.0.0/8' }))).toThrow(/set one/);
  });
});
