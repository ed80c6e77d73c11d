import { connectNats, natsCredentialsFromEnv } from '@overskill/messaging';
import { stackNatsCredentials, startStack, type RunningStack } from '@overskill/testing';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { integrationStack, scratchDir } from '../support/integration-env';

// TLS to nats-server, as production can require it: a throwaway CA made by openssl, a server
// certificate for 127.0.0.1, and a client that trusts the CA from its environment.
describe('NATS over TLS', () => {
  let stack: RunningStack;
  let caFile: string;

  beforeAll(async () => {
    const dir = scratchDir(integrationStack().dataDir, 'bus-tls');
    const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=overskill test CA');
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
    writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    openssl(
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'server.crt',
      '-days',
      '1',
      '-extfile',
      'server.ext',
    );
    caFile = join(dir, 'ca.crt');
    stack = await startStack({ dataDir: join(dir, 'stack'), natsTls: { certFile: join(dir, 'server.crt'), keyFile: join(dir, 'server.key') } });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('connects a service whose environment names the CA, with its own identity', async () => {
    const credentials = natsCredentialsFromEnv('gateway', { NATS_NKEY_SEED: stack.natsSeeds.gateway, NATS_TLS_CA_FILE: caFile });
    const nc = await connectNats(stack.natsUrl, 'tls-gateway', credentials);
    try {
      expect(nc.info?.tls_required).toBe(true);
      await expect(nc.flush()).resolves.toBeUndefined();
    } finally {
      await nc.close();
    }
  });

  it('refuses a client that does not trust the CA, and one with no identity over TLS', async () => {
    // Node's own CA store does not know the throwaway CA: the certificate check fails.
    await expect(connectNats(stack.natsUrl, 'tls-untrusting', stackNatsCredentials(stack, 'gateway'))).rejects.toMatchObject({
      code: expect.stringMatching(/CERT|VERIFY/),
    });
    await expect(connectNats(stack.natsUrl, 'tls-anonymous', { role: 'gateway', tls: { caFile } })).rejects.toMatchObject({ code: 'AUTHORIZATION_VIOLATION' });
  });
});
