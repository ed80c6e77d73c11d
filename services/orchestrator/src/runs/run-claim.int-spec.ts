import { randomUUID } from 'node:crypto';
import type { DataSource, QueryRunner } from 'typeorm';
import { pricedCheckpoint } from '../__tests__/priced-checkpoint';
import { postedMessage } from '../__tests__/posted-message';
import { openScratchOrchestratorDatabase, type ScratchOrchestratorDatabase } from '../__tests__/scratch-orchestrator-database';
import { AppEntity, MessageEntity, RunEntity, RunStepEntity } from '../persistence/entities';
import { startOfUtcDay } from './run-budget';
import { RunsRepository, type ClaimResult } from './runs.repository';

// Claiming a run on the real PostgreSQL, in a database of its own: one replica per run, one run per
// app in the order of its messages, a lapsed lease taken over; a claim that waited for the app's
// lock sees what the claim before it committed; and a won claim hands back what the run starts
// from, as committed when it won.
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
  const post = async (appId: string): Promise<string> => (await postedMessage(runs, { appId, teamId, content: 'hi', authorId: '' })).runId;
  const row = async (runId: string) =>
    (
      (await ds.query(`SELECT status, lease_owner, lease_until, started_at FROM orchestrator.runs WHERE id = $1`, [runId])) as Array<Record<string, unknown>>
    )[0];

  it('takes a queued run and hands it back as TypeORM reads it', async () => {
    const runId = await post(await newApp());
    const claim = await runs.claim(runId, 'replica-a', 60_000);
    if (!('claimed' in claim)) throw new Error(`not claimed: ${JSON.stringify(claim)}`);
    expect(claim.claimed.run).toBeInstanceOf(RunEntity);
    expect(claim.claimed.run).toEqual(await ds.getRepository(RunEntity).findOneBy({ id: runId }));
    expect(claim.claimed.run).toMatchObject({ status: 'running', leaseOwner: 'replica-a' });
    expect(claim.claimed.run.startedAt).toBeInstanceOf(Date);
    expect(claim.claimed.run.leaseUntil!.getTime()).toBeGreaterThan(Date.now() + 50_000);
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
    expect(taken).toHaveProperty('claimed.run.leaseOwner', 'replica-b');
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

  it('renews the lease for its holder alone, and tells it of a cancel asked for meanwhile', async () => {
    const runId = await post(await newApp());
    await runs.claim(runId, 'replica-a', 1_000);
    const before = (await row(runId))!['lease_until'] as Date;
    expect(await runs.renewLease(runId, 'replica-b', 60_000)).toEqual({ held: false, cancelRequested: false, cancelReason: '' });
    expect(await runs.renewLease(runId, 'replica-a', 60_000)).toEqual({ held: true, cancelRequested: false, cancelReason: '' });
    expect(((await row(runId))!['lease_until'] as Date).getTime()).toBeGreaterThan(before.getTime() + 50_000);
    await runs.requestCancel(runId, 'changed my mind');
    expect(await runs.renewLease(runId, 'replica-a', 60_000)).toEqual({ held: true, cancelRequested: true, cancelReason: 'changed my mind' });
    await runs.finishOwned(runId, 'replica-a', 'cancelled', { reply: 'Cancelled.' });
    expect(await runs.renewLease(runId, 'replica-a', 60_000)).toEqual({ held: false, cancelRequested: false, cancelReason: '' });
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
    await lapsed(first);

    // Another replica's claim of the second run holds the app's lock; ours waits for it.
    const ours = await claimWhileLocked(appId, first, (other) =>
      other.query(`UPDATE orchestrator.runs SET status = 'running', lease_owner = 'replica-b', lease_until = now() + interval '1 minute' WHERE id = $1`, [
        second,
      ]),
    );
    // Taken by replica-b while we waited: ours must not run beside it.
    expect(ours).toHaveProperty('busyUntil');
    expect(await row(first)).toMatchObject({ lease_owner: 'replica-dead' });
  });

  it('hands back with a won claim the run’s message, app, checkpoints, the conversation before it and the team’s spend', async () => {
    const appId = await newApp();
    // Earlier turns, two of them created at the same moment (the id orders those).
    for (const [i, msAgo] of [5000, 4000, 3000, 3000, 1000].entries()) {
      await ds.query(
        `INSERT INTO orchestrator.messages (id, app_id, team_id, role, content, created_at) VALUES ($1, $2, $3, $4, $5, now() - make_interval(secs => $6::float / 1000))`,
        [randomUUID(), appId, teamId, i % 2 ? 'assistant' : 'user', `m${i}`, msAgo],
      );
    }
    const runId = await post(appId);
    const run = await ds.getRepository(RunEntity).findOneByOrFail({ id: runId });
    // A later turn is not the run's history.
    await ds.query(
      `INSERT INTO orchestrator.messages (id, app_id, team_id, role, content, created_at) VALUES ($1, $2, $3, 'user', 'later', now() + interval '1 second')`,
      [randomUUID(), appId, teamId],
    );
    // Another run of the team spent.
    const otherRun = await post(await newApp());
    await runs.claim(otherRun, 'replica-a', 60_000);
    await runs.appendFencedStep(pricedCheckpoint(otherRun, 1, 0.5));
    await runs.finishOwned(otherRun, 'replica-a', 'completed', { reply: 'Done.' });
    const today = startOfUtcDay(new Date());

    const claim = await runs.claim(runId, 'replica-a', 60_000, { historyLimit: 3, spendDay: today });
    if (!('claimed' in claim)) throw new Error(`not claimed: ${JSON.stringify(claim)}`);
    const start = claim.claimed;
    expect(start.message).toBeInstanceOf(MessageEntity);
    expect(start.message).toEqual(await ds.getRepository(MessageEntity).findOneBy({ id: run.messageId }));
    expect(start.app).toBeInstanceOf(AppEntity);
    expect(start.app).toEqual(await ds.getRepository(AppEntity).findOneBy({ id: appId }));
    expect(start.steps).toEqual([]);
    const newest = await ds
      .getRepository(MessageEntity)
      .createQueryBuilder('m')
      .where('m.app_id = :appId AND m.id <> :id AND m.created_at <= :at', { appId, id: run.messageId, at: start.message!.createdAt })
      .orderBy('m.created_at', 'DESC')
      .addOrderBy('m.id', 'DESC')
      .limit(3)
      .getMany();
    expect(start.history[0]).toBeInstanceOf(MessageEntity);
    expect(start.history).toEqual(newest.reverse());
    expect(start.history.map((m) => m.content)).toEqual(expect.arrayContaining(['m4']));
    const [spent] = (await ds.query(`SELECT SUM(cost_usd)::text AS usd FROM orchestrator.runs WHERE team_id = $1 AND created_at >= $2`, [
      teamId,
      today,
    ])) as Array<{
      usd: string;
    }>;
    expect(start.teamSpend?.usd).toBe(Number(spent!.usd));
    expect(start.teamSpend!.usd).toBeGreaterThanOrEqual(0.5);

    // Only what was asked for: a redelivery to the holder, without history or spend.
    const again = await runs.claim(runId, 'replica-a', 60_000);
    expect(again).toHaveProperty('claimed.history', []);
    expect(again).not.toHaveProperty('claimed.teamSpend');
    // A claim lost reads nothing.
    expect(await runs.claim(runId, 'replica-b', 60_000, { historyLimit: 3, spendDay: today })).toEqual({ busyUntil: expect.any(Date) });
  });

  it('reads the checkpoints a lapsed replica committed while the claim waited for the app’s lock', async () => {
    const appId = await newApp();
    const runId = await post(appId);
    await lapsed(runId);
    // Committed after our statement began, before it won the claim.
    const claim = await claimWhileLocked(appId, runId, (other) =>
      other.query(
        `INSERT INTO orchestrator.run_steps (id, run_id, seq, kind, summary, data) VALUES ($1, $2, 1, 'run_started', 'Run started', '{"baseSha": "abc"}')`,
        [randomUUID(), runId],
      ),
    );
    if (!('claimed' in claim)) throw new Error(`not claimed: ${JSON.stringify(claim)}`);
    expect(claim.claimed.steps).toEqual(await ds.getRepository(RunStepEntity).find({ where: { runId } }));
    expect(claim.claimed.steps).toEqual([expect.objectContaining({ seq: 1, kind: 'run_started', data: { baseSha: 'abc' } })]);
    expect(claim.claimed.steps[0]).toBeInstanceOf(RunStepEntity);
  });

  // The run was taken by a replica that died: its lease has lapsed.
  async function lapsed(runId: string): Promise<void> {
    await runs.claim(runId, 'replica-dead', 60_000);
    await ds.query(`UPDATE orchestrator.runs SET lease_until = now() - interval '1 second' WHERE id = $1`, [runId]);
  }

  // replica-a's claim of the run while another transaction holds the app's lock and, while the
  // claim waits for it, does `meanwhile` and commits.
  async function claimWhileLocked(appId: string, runId: string, meanwhile: (other: QueryRunner) => Promise<unknown>): Promise<ClaimResult> {
    const other = ds.createQueryRunner();
    await other.connect();
    try {
      await other.startTransaction();
      await other.query(`SELECT id FROM orchestrator.apps WHERE id = $1 FOR UPDATE`, [appId]);
      const ours = runs.claim(runId, 'replica-a', 60_000);
      await waitForLockWait();
      await meanwhile(other);
      await other.commitTransaction();
      return await ours;
    } finally {
      await other.release();
    }
  }

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
