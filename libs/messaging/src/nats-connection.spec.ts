import { nkeys } from 'nats';
import { natsAuthOptions } from './nats-connection';

describe('natsAuthOptions with an NKEY seed', () => {
  const authenticate = (seed: string, nonce?: string) => {
    const authenticator = natsAuthOptions({ role: 'gateway', nkeySeed: seed }).authenticator as (nonce?: string) => { nkey: string; sig: string };
    return authenticator(nonce);
  };

  it('presents the public key nkeys.js derives and a signature it verifies', () => {
    for (let i = 0; i < 5; i++) {
      const pair = nkeys.createUser();
      const seed = new TextDecoder().decode(pair.getSeed());
      const { nkey, sig } = authenticate(seed, 'nonce-from-the-server');
      expect(nkey).toBe(pair.getPublicKey());
      expect(pair.verify(new TextEncoder().encode('nonce-from-the-server'), Buffer.from(sig, 'base64'))).toBe(true);
    }
  });

  it('refuses a seed whose checksum does not match, before any connect', () => {
    const seed = new TextDecoder().decode(nkeys.createUser().getSeed());
    const damaged = seed.slice(0, 20) + (seed[20] === 'A' ? 'B' : 'A') + seed.slice(21);
    expect(() => authenticate(damaged)).toThrow('the NATS NKEY seed is damaged: its checksum does not match');
  });
});
