import { BUS_ROLES } from '@overskill/contracts';
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { nkeys } from 'nats';
import { integrationStack, REPO_ROOT, scratchDir } from '../support/integration-env';

// deploy/nats/identities.mjs, as an operator runs it: mint, rotate, retire; nats-server must
// accept the configuration it writes (with deploy/nats/nats-server.conf including it).
describe('deploy/nats/identities.mjs', () => {
  const dir = scratchDir(integrationStack().dataDir, 'nats-identities');
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [join(REPO_ROOT, 'deploy/nats/identities.mjs'), '--dir', dir, ...args], { encoding: 'utf8', timeout: 30_000 });
  const publicKey = (role: string) => nkeys.fromSeed(new TextEncoder().encode(readFileSync(join(dir, `${role}.nkey`), 'utf8').trim())).getPublicKey();
  const config = () => readFileSync(join(dir, 'authorization.conf'), 'utf8');

  it('mints a private seed per role and an authorization block of public keys that nats-server accepts', () => {
    expect(run()).toMatchObject({ status: 0 });
    for (const role of BUS_ROLES) {
      expect(statSync(join(dir, `${role}.nkey`)).mode & 0o777).toBe(0o600);
      expect(config()).toContain(publicKey(role));
    }
    expect(config()).not.toMatch(/"S[A-Z2-7]{57}"/);
    copyFileSync(join(REPO_ROOT, 'deploy/nats/nats-server.conf'), join(dir, 'nats-server.conf'));
    const check = spawnSync('nats-server', ['-t', '-c', join(dir, 'nats-server.conf')], { encoding: 'utf8', timeout: 30_000 });
    expect({ status: check.status, output: `${check.stdout}${check.stderr}` }).toMatchObject({ status: 0 });
    // A second run keeps the seeds: services already running keep their identity.
    const before = publicKey('gateway');
    expect(run()).toMatchObject({ status: 0 });
    expect(publicKey('gateway')).toBe(before);
  });

  it('rotates a key with the old one accepted until it is retired', () => {
    const old = publicKey('orchestrator');
    expect(run('--rotate', 'orchestrator')).toMatchObject({ status: 0 });
    expect(publicKey('orchestrator')).not.toBe(old);
    expect(config()).toContain(old);
    expect(config()).toContain(publicKey('orchestrator'));
    expect(run('--retire', 'orchestrator')).toMatchObject({ status: 0 });
    expect(config()).not.toContain(old);
    expect(config()).toContain(publicKey('orchestrator'));
  });

  it('refuses an unknown role or flag with a clear message and exit 2', () => {
    expect(run('--rotate', 'mallory')).toMatchObject({ status: 2, stderr: expect.stringContaining('unknown role mallory') });
    expect(run('--everything')).toMatchObject({ status: 2, stderr: expect.stringContaining('unknown argument --everything') });
  });
});
