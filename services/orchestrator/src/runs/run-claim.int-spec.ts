import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { openScratchOrchestratorDatabase, type ScratchOrchestratorDatabase } from '../__tests__/scratch-orchestrator-database';
import { RunEntity } from '../persistence/entities';
import { RunsRepository } from './runs.repository';

// Claiming a run on the real PostgreSQL, in a database of its own: one replica per run, one run per
// app in the order of its messages, a lapsed lease taken over; and a claim that waited for the
// app's lock sees what the claim before it committed.
jest.setTimeout(60_000);

describe('RunsRepository: claiming a run', () => {
  let db: ScratchOrchestratorDatabase;
  let ds: DataSource;
  let runs: RunsRepository;
  const teamId = randomUUID();

  beforeAll(async () => {
    db = await openScratchOrchestratorDatabase('run_claim');
    ds = db.ds;
    runs = new RunsRepository(ds);
  });

  afterAll(async () => {
    await db?.close();
  });

  const newApp = async (): Promise<string> => {
    const appId = randomUUID();
    await ds.query(`INSERT INTO orchestrator.apps (id, team_id, name, template) VALUES ($1, $2, 'a', 'empty')`, [appId, teamId]);
    return appId;
  };
  const post = async (appId: string): Promise<string> => (await runs.insertMessageWithRun({ appId, teamId, content: 'hi', authorId: '' }))!.runId;
  const row = async (runId: string) =>
    (
      (await ds.query(`SELECT status, lease_owner, lease_until, started_at FROM orchestrator.runs WHERE id = $1`, [runId])) as Array<Record<string, unknown>>
    )[0];

  it('takes a queued run and hands it back as TypeORM reads it', async () => {
    const runId = await post(await newApp());
    const claim = await runs.claim(runId, 'replica-a', 60_000);
    if (!('claimed' in claim)) throw new Error(`not claimed: ${JSON.stringify(claim)}`);
    expect(claim.claimed).toBeInstanceOf(RunEntity);
    expect(claim.claimed).toEqual(await ds.getRepository(RunEntity).findOneBy({ id: runId }));
    expect(claim.claimed).toMatchObject({ status: 'running', leaseOwner: 'replica-a' });
    expect(claim.claimed.startedAt).toBeInstanceOf(Date);
    expect(claim.claimed.leaseUntil!.getTime()).toBeGreaterThan(Date.now() + 50_000);
  });

  it('refuses another replica while the lease lives, takes it back for its holder, and over once it lapsed', async () => {
    const runId = await post(await newApp());
    expect(await runs.claim(runId, 'replica-a', 60_000)).toHaveProperty('claimed');
    const held = await row(runId);

    const busy = await runs.claim(runId, 'replica-b', 60_000);
    expect(busy).toEqual({ busyUntil: held!['lease_until'] });
    expect(await row(runId)).toEqual(held);
    // A redelivery to the holder.
    expect(await runs.claim(runId, 'replica-a', 60_000)).toHaveProperty('claimed');

    await ds.query(`UPDATE orchestrator.runs SET lease_until = now() - interval '1 second' WHERE id = $1`, [runId]);
    const taken = await runs.claim(runId, 'replica-b', 60_000);
    expect(taken).toHaveProperty('claimed.leaseOwner', 'replica-b');
    // The run started when it was first taken.
    expect((await row(runId))!['started_at']).toEqual(held!['started_at']);
  });

  it('lets an app’s later run wait for the earlier one, queued or running', async () => {
    const appId = await newApp();
    const first = await post(appId);
    const second = await post(appId);
    expect(await runs.claim(second, 'replica-a', 60_000)).toHaveProperty('busyUntil');
    expect(await row(second)).toMatchObject({ status: 'queued', lease_owner: null });
    expect(await runs.claim(first, 'replica-b', 60_000)).toHaveProperty('claimed');
    expect(await runs.claim(second, 'replica-a', 60_000)).toHaveProperty('busyUntil');

    await runs.finishOwned(first, 'replica-b', 'completed', { reply: 'Done.' });
    expect(await runs.claim(second, 'replica-a', 60_000)).toHaveProperty('claimed');
    // Another app's run never waits for this one.
    expect(await runs.claim(await post(await newApp()), 'replica-c', 60_000)).toHaveProperty('claimed');
  });

  it('says a finished run is gone (with its row) and a missing one is gone (without)', async () => {
    const runId = await post(await newApp());
    await runs.claim(runId, 'replica-a', 60_000);
    await runs.finishOwned(runId, 'replica-a', 'completed', { reply: 'Done.' });
    const gone = await runs.claim(runId, 'replica-a', 60_000);
    expect(gone).toEqual({ gone: expect.objectContaining({ id: runId, status: 'completed' }) });
    expect(await runs.claim(randomUUID(), 'replica-a', 60_000)).toEqual({ gone: null });
  });

  it('sees a claim committed while it waited for the app’s lock', async () => {
    // The first run's replica died (its lease lapsed); the second was posted after it.
    const appId = await newApp();
    const first = await post(appId);
    const second = await post(appId);
    await runs.claim(first, 'replica-dead', 60_000);
    await ds.query(`UPDATE orchestrator.runs SET lease_until = now() - interval '1 second' WHERE id = $1`, [first]);

    // Another replica's claim of the second run holds the app's lock; ours waits for it.
    const other = ds.createQueryRunner();
    await other.connect();
    try {
      await other.startTransaction();
      await other.query(`SELECT id FROM orchestrator.apps WHERE id = $1 FOR UPDATE`, [appId]);
      const ours = runs.claim(first, 'replica-a', 60_000);
      await waitForLockWait();
      await other.query(`UPDATE orchestrator.runs SET status = 'running', lease_owner = 'replica-b', lease_until = now() + interval '1 minute' WHERE id = $1`, [
        second,
      ]);
      await other.commitTransaction();
      // Taken by replica-b while we waited: ours must not run beside it.
      expect(await ours).toHaveProperty('busyUntil');
      expect(await row(first)).toMatchObject({ lease_owner: 'replica-dead' });
    } finally {
      await other.release();
    }
  });

  async function waitForLockWait(): Promise<void> {
    for (let i = 0; i < 200; i++) {
      const [waiting] = (await ds.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      )) as Array<{ n: number }>;
      if (waiting!.n > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error('the claim never waited for the lock');
  }
});
