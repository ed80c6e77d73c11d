import { ConfigError } from '@overskill/observability';
import type { GatewayEnv } from '../config';

type TrustProxy = false | string[] | ((address: string, hop: number) => boolean);

// Which X-Forwarded-For entries Fastify may take the client address from (request.ip).
export function trustProxy(env: Pick<GatewayEnv, 'GATEWAY_TRUST_PROXY_HOPS' | 'GATEWAY_TRUSTED_PROXIES'>): TrustProxy {
  const hops = env.GATEWAY_TRUST_PROXY_HOPS;
  const proxies = env.GATEWAY_TRUSTED_PROXIES;
  if (hops > 0 && proxies.length > 0) {
    throw new ConfigError(
      ['GATEWAY_TRUSTED_PROXIES', 'GATEWAY_TRUST_PROXY_HOPS'],
      ['GATEWAY_TRUSTED_PROXIES and GATEWAY_TRUST_PROXY_HOPS are both set; set one (the addresses are the stricter)'],
    );
  }
  if (proxies.length > 0) return proxies;
  // A function: Fastify 5.12 reads a bare hop count as "trust no proxy".
  return hops > 0 ? (_address, hop) => hop < hops : false;
}
