import { natsAuthOptions } from '@overskill/messaging';
import { stackNatsCredentials } from '@overskill/testing';
import { connect, nkeyAuthenticator, type ConnectionOptions } from 'nats';
import { integrationStack } from '../support/integration-env';
import { formatGoals, formatTable, goal, machineInfo, print, recordResult } from './support/results';
import { median, percentile, ratio, round } from './support/stats';

// What an identity costs a connection: connect (TCP, INFO, nonce signed, CONNECT, PING/PONG)
// then close, as the gateway's identity against the harness's nats-server with authorization
// on. The baseline is nats.js's own nkeyAuthenticator (tweetnacl in JS), measured in the same
// run, alternating with ours (Node's Ed25519) so load on the machine hits both alike.

const CONNECTS = Number(process.env.BENCH_NATS_CONNECTS ?? 60);
const GOAL_CONNECT_MS = 20;

describe('NATS identity: cost of a connect', () => {
  it('signs the nonce without costing the connect', async () => {
    const stack = integrationStack();
    const credentials = stackNatsCredentials(stack, 'gateway');
    const ours = natsAuthOptions(credentials);
    const baseline: Partial<ConnectionOptions> = { ...ours, authenticator: nkeyAuthenticator(new TextEncoder().encode(credentials.nkeySeed)) };
    const startedAt = new Date().toISOString();
    const machine = machineInfo();
    const timeConnect = async (options: Partial<ConnectionOptions>): Promise<number> => {
      const started = performance.now();
      const nc = await connect({ servers: stack.natsUrl, timeout: 60_000, ...options });
      const elapsed = performance.now() - started;
      await nc.close();
      return elapsed;
    };
    // Warm-up: module loading and JIT, not measured.
    for (let i = 0; i < 5; i++) {
      await timeConnect(ours);
      await timeConnect(baseline);
    }
    const samples = { ours: [] as number[], baseline: [] as number[] };
    for (let i = 0; i < CONNECTS; i++) {
      samples.ours.push(await timeConnect(ours));
      samples.baseline.push(await timeConnect(baseline));
    }
    const summary = (xs: number[]) => ({ medianMs: round(median(xs), 2), p90Ms: round(percentile(xs, 90), 2) });
    const results = {
      connects: CONNECTS,
      ours: summary(samples.ours),
      baseline: summary(samples.baseline),
      medianRatio: ratio(median(samples.ours), median(samples.baseline)),
    };
    const goals = [goal('median connect with an identity (Node Ed25519)', results.ours.medianMs, GOAL_CONNECT_MS, ' ms')];
    recordResult({
      benchmark: 'nats-identity',
      startedAt,
      finishedAt: new Date().toISOString(),
      machine,
      method: { connects: CONNECTS, alternating: true, identity: 'gateway', baseline: 'nats.js nkeyAuthenticator (tweetnacl)' },
      results,
      goals,
    });
    print(
      `\nNATS connect with an NKEY identity, ${CONNECTS} each, alternating (${machine.cpus} cpus, node ${machine.node}, load ${machine.loadAverage.join(' ')})`,
    );
    print(
      formatTable(
        ['signer', 'median ms', 'p90 ms'],
        [
          ["Node's Ed25519 (ours)", results.ours.medianMs, results.ours.p90Ms],
          ['nats.js nkeyAuthenticator (baseline)', results.baseline.medianMs, results.baseline.p90Ms],
        ],
      ),
    );
    print(`ours / baseline (median): ${results.medianRatio}\n${formatGoals(goals)}\n`);
    expect(samples.ours).toHaveLength(CONNECTS);
  });
});
