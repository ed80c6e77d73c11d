import { backupProgressSubject, ErrorCode } from '@overskill/contracts';
import { natsAuthOptions } from '@overskill/messaging';
import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import { ProgressPublisher } from './progress.publisher';

// On the integration stack's nats-server: the service publishes progress on its connection and
// answers on the RPC server's, as in the running service.
describe('ProgressPublisher', () => {
  const natsUrl = process.env.OVERSKILL_TEST_NATS_URL;
  const seeds = process.env.OVERSKILL_TEST_NATS_SEEDS;
  if (!natsUrl || !seeds) throw new Error('integration stack not running');
  const credentials = { role: 'test-harness', nkeySeed: (JSON.parse(seeds) as Record<string, string>)['test-harness'] };
  let service: NatsConnection;
  let rpc: NatsConnection;
  let cli: NatsConnection;

  beforeAll(async () => {
    [service, rpc, cli] = await Promise.all([0, 1, 2].map(() => connect({ servers: natsUrl, ...natsAuthOptions(credentials) })));
  });

  afterAll(async () => {
    for (const nc of [service, rpc, cli]) await nc?.close();
  });

  it('hands the answer back only once the last progress is at nats-server, so the reply never overtakes it', async () => {
    const publisher = new ProgressPublisher(service);
    const overtaken: number[] = [];
    // Without the wait, the reply arrived first in about one round of seven here.
    for (let round = 0; round < 200; round++) {
      const subject = backupProgressSubject(randomUUID().replace(/-/g, '').slice(0, 16));
      const inbox = `_INBOX.progress-spec.${randomUUID()}`;
      const seen: string[] = [];
      const replied = new Promise<void>((resolve) => {
        cli.subscribe(subject, { max: 1, callback: () => seen.push('progress') });
        cli.subscribe(inbox, { max: 1, callback: () => resolve(void seen.push('reply')) });
      });
      await cli.flush();
      await publisher.during(subject, async (progress) => progress('tables', 3, 3, 'tables'));
      rpc.publish(inbox);
      await replied;
      await new Promise((resolve) => setTimeout(resolve, 2));
      if (seen.join() !== 'progress,reply') overtaken.push(round);
    }
    expect(overtaken).toEqual([]);
  }, 60_000);

  it('refuses a subject of its choosing before any work, and runs the work without one', async () => {
    const work = jest.fn(async () => 'done');
    await expect(new ProgressPublisher(service).during('audit.events', work)).rejects.toMatchObject({ code: ErrorCode.VALIDATION_FAILED });
    expect(work).not.toHaveBeenCalled();
    await expect(new ProgressPublisher(service).during('', work)).resolves.toBe('done');
  });
});
