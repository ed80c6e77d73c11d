import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { pricedCheckpoint } from '../__tests__/priced-checkpoint';
import { postedMessage } from '../__tests__/posted-message';
import { openScratchOrchestratorDatabase, type ScratchOrchestratorDatabase } from '../__tests__/scratch-orchestrator-database';
import { AppsRepository } from '../apps/apps.repository';
import { startOfUtcDay } from './run-budget';
import { RunsRepository } from './runs.repository';

// A team's spend on a day on the real PostgreSQL: the ledger of its runs that are not running plus
// the live cost of its running ones always equals the sum over its runs of that day, through every
// way a run's status changes; a deleted app's spend stays spent; runs finishing at once lose no cent; and a
// database migrated with finished runs in it starts its ledger from them.
jest.setTimeout(60_000);

describe('RunsRepository: a team’s spend on a day', () => {
  let db: ScratchOrchestratorDatabase;
  let ds: DataSource;
  let runs: RunsRepository;
  const today = startOfUtcDay(new Date());

  beforeAll(async () => {
    db = await openScratchOrchestratorDatabase('team_spend');
    ds = db.ds;
    runs = new RunsRepository(ds);
  });

  afterAll(async () => {
    await db?.close();
  });

  const newApp = async (teamId: string): Promise<string> => {
    const appId = randomUUID();
    await ds.query(`INSERT INTO orchestrator.apps (id, team_id, name, template) VALUES ($1, $2, 'a', 'empty')`, [appId, teamId]);
    return appId;
  };
  const post = async (teamId: string, appId?: string): Promise<string> =>
    (await postedMessage(runs, { appId: appId ?? (await newApp(teamId)), teamId, content: 'hi', authorId: '' })).runId;
  const spend = async (runId: string, seq: number, costUsd: number, owner = 'replica-a') => {
    expect(await runs.appendFencedStep(pricedCheckpoint(runId, seq, costUsd, owner))).not.toBeNull();
  };
  // The sum over the team's runs that still exist, as the spend was read before the ledger.
  const recount = async (teamId: string, day = today): Promise<number> => {
    const [row] = (await ds.query(
      `SELECT COALESCE(SUM(cost_usd), 0)::text AS usd FROM orchestrator.runs WHERE team_id = $1 AND created_at >= $2 AND created_at < $2::timestamptz + interval '1 day'`,
      [teamId, day],
    )) as Array<{ usd: string }>;
    return Number(row!.usd);
  };
  const ledgerRows = async (teamId: string): Promise<number> =>
    Number(((await ds.query(`SELECT count(*)::int AS n FROM orchestrator.team_daily_spend WHERE team_id = $1`, [teamId])) as Array<{ n: number }>)[0]!.n);

  it('equals the sum over the team’s runs through queued, running, checkpoints, finished, cancelled and refused runs', async () => {
    const teamId = randomUUID();
    const [a, b, c, d] = [await post(teamId), await post(teamId), await post(teamId), await post(teamId)];
    expect(await runs.teamSpendOn(teamId, today)).toBe(0);

    await runs.claim(a, 'replica-a', 60_000);
    await runs.claim(b, 'replica-a', 60_000);
    await spend(a, 1, 0.25);
    await spend(a, 2, 0.125);
    await spend(b, 1, 0.5);
    // Running runs are read live; the ledger has nothing yet.
    expect(await runs.teamSpendOn(teamId, today)).toBe(0.875);
    expect(await ledgerRows(teamId)).toBe(0);

    await runs.finishOwned(a, 'replica-a', 'completed', { reply: 'Done.' });
    expect(await runs.teamSpendOn(teamId, today)).toBe(0.875);
    expect(await ledgerRows(teamId)).toBe(1);
    // A finished run's checkpoint is fenced off: nothing changes.
    expect(
      await runs.appendFencedStep({ runId: a, owner: 'replica-a', leaseMs: 60_000, seq: 3, kind: 'k', summary: 's', data: {}, status: 'running' }),
    ).toBeNull();

    await runs.finishOwned(b, 'replica-a', 'failed', { errorCode: 'X', errorMessage: 'x', reply: 'Failed.' });
    expect(await runs.cancelQueued(c, 'not needed')).toBe(true);
    const token = ((await ds.query(`SELECT enqueue_token FROM orchestrator.runs WHERE id = $1`, [d])) as Array<{ enqueue_token: string }>)[0]!.enqueue_token;
    await runs.refuseQueued(d, token, 'BUS_DOWN', 'the bus was down');
    expect(await runs.requeueUnstarted(d, 'BUS_DOWN')).toEqual(expect.any(String));
    expect(await runs.teamSpendOn(teamId, today)).toBe(await recount(teamId));
    expect(await runs.teamSpendOn(teamId, today)).toBe(0.875);
  });

  it('stays exact when a run’s status is changed by hand, its cost with it', async () => {
    const teamId = randomUUID();
    const a = await post(teamId);
    await runs.claim(a, 'replica-a', 60_000);
    await spend(a, 1, 0.5);
    // The older path (finish without a lease), then an operator's corrections: the run put back
    // to running with its cost corrected, then failed with another cost.
    await runs.finish(a, 'completed', { iterations: 1 });
    expect(await runs.teamSpendOn(teamId, today)).toBe(0.5);
    await ds.query(`UPDATE orchestrator.runs SET status = 'running', cost_usd = 0.1 WHERE id = $1`, [a]);
    expect(await runs.teamSpendOn(teamId, today)).toBe(0.1);
    await ds.query(`UPDATE orchestrator.runs SET cost_usd = 0.7, status = 'failed' WHERE id = $1`, [a]);
    expect(await runs.teamSpendOn(teamId, today)).toBe(0.7);
    // A status set to what it was changes nothing.
    await ds.query(`UPDATE orchestrator.runs SET status = 'failed' WHERE id = $1`, [a]);
    expect(await runs.teamSpendOn(teamId, today)).toBe(await recount(teamId));
    expect(await ledgerRows(teamId)).toBe(1);
  });

  it('counts a run on the UTC day it was created, whenever it finishes', async () => {
    const teamId = randomUUID();
    const yesterday = new Date(today.getTime() - 86_400_000);
    const late = await post(teamId);
    await ds.query(`UPDATE orchestrator.runs SET created_at = $2 WHERE id = $1`, [late, new Date(today.getTime() - 1)]);
    const early = await post(teamId);
    await ds.query(`UPDATE orchestrator.runs SET created_at = $2 WHERE id = $1`, [early, today]);
    for (const id of [late, early]) {
      await runs.claim(id, 'replica-a', 60_000);
      await spend(id, 1, 1);
    }
    expect(await runs.teamSpendOn(teamId, yesterday)).toBe(1);
    expect(await runs.teamSpendOn(teamId, today)).toBe(1);
    await runs.finishOwned(late, 'replica-a', 'completed', { reply: 'Done.' });
    await runs.finishOwned(early, 'replica-a', 'completed', { reply: 'Done.' });
    expect(await runs.teamSpendOn(teamId, yesterday)).toBe(1);
    expect(await runs.teamSpendOn(teamId, today)).toBe(1);
    expect(await runs.teamSpendOn(teamId, new Date(today.getTime() + 86_400_000))).toBe(0);
  });

  it('keeps a deleted app’s spend, finished and running runs alike, and touches no other team', async () => {
    const teamId = randomUUID();
    const other = randomUUID();
    const appId = await newApp(teamId);
    const done = await post(teamId, appId);
    await runs.claim(done, 'replica-a', 60_000);
    await spend(done, 1, 0.4);
    await runs.finishOwned(done, 'replica-a', 'completed', { reply: 'Done.' });
    const running = await post(teamId, appId);
    await runs.claim(running, 'replica-a', 60_000);
    await spend(running, 1, 0.6);
    const otherRun = await post(other);
    await runs.claim(otherRun, 'replica-b', 60_000);
    await spend(otherRun, 1, 2, 'replica-b');

    expect(await new AppsRepository(ds).deleteWithHistory(teamId, appId)).toEqual([{ id: running, status: 'running', lastSeq: 1 }]);
    expect(await recount(teamId)).toBe(0);
    expect(await runs.teamSpendOn(teamId, today)).toBe(1);
    expect(await runs.teamSpendOn(other, today)).toBe(2);
  });

  it('loses nothing when many runs of one team finish at once', async () => {
    const teamId = randomUUID();
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) ids.push(await post(teamId));
    await Promise.all(ids.map((id) => runs.claim(id, 'replica-a', 60_000)));
    await Promise.all(ids.map((id, i) => spend(id, 1, (i + 1) / 1000)));
    await Promise.all(ids.map((id) => runs.finishOwned(id, 'replica-a', 'completed', { reply: 'Done.' })));
    // 0.001 + 0.002 + … + 0.040
    expect(await runs.teamSpendOn(teamId, today)).toBe(0.82);
    expect(await recount(teamId)).toBe(0.82);
    // Spread over the team's rows, never more than eight for a day.
    expect(await ledgerRows(teamId)).toBeGreaterThan(1);
    expect(await ledgerRows(teamId)).toBeLessThanOrEqual(8);
  });

  it('hands the spend to a run with its claim, its own cost included when it is taken over', async () => {
    const teamId = randomUUID();
    const done = await post(teamId);
    await runs.claim(done, 'replica-a', 60_000);
    await spend(done, 1, 0.3);
    await runs.finishOwned(done, 'replica-a', 'completed', { reply: 'Done.' });
    // A replica died holding this one after spending on it.
    const resumed = await post(teamId);
    await runs.claim(resumed, 'replica-dead', 60_000);
    await spend(resumed, 1, 0.01, 'replica-dead');
    await ds.query(`UPDATE orchestrator.runs SET lease_until = now() - interval '1 second' WHERE id = $1`, [resumed]);
    const claim = await runs.claim(resumed, 'replica-a', 60_000, { historyLimit: 0, spendDay: today });
    expect(claim).toHaveProperty('claimed.teamSpend.usd', 0.31);
  });

  it('starts the ledger from the runs a database already holds when it is migrated', async () => {
    const old = await openScratchOrchestratorDatabase('team_spend_migrate');
    try {
      // Back to the schema before the ledger, whatever migrations came after it.
      const hasLedger = async () =>
        ((await old.ds.query(`SELECT to_regclass('orchestrator.team_daily_spend') IS NOT NULL AS has`)) as Array<{ has: boolean }>)[0]!.has;
      while (await hasLedger()) await old.ds.undoLastMigration();
      const oldRuns = new RunsRepository(old.ds);
      const teamId = randomUUID();
      const insertRun = async (status: string, costUsd: number, createdAt: Date): Promise<void> => {
        const appId = randomUUID();
        const messageId = randomUUID();
        await old.ds.query(`INSERT INTO orchestrator.apps (id, team_id, name, template) VALUES ($1, $2, 'a', 'empty')`, [appId, teamId]);
        await old.ds.query(`INSERT INTO orchestrator.messages (id, app_id, team_id, role, content) VALUES ($1, $2, $3, 'user', 'hi')`, [
          messageId,
          appId,
          teamId,
        ]);
        await old.ds.query(
          `INSERT INTO orchestrator.runs (id, app_id, team_id, message_id, status, cost_usd, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
          [randomUUID(), appId, teamId, messageId, status, costUsd, createdAt],
        );
      };
      await insertRun('completed', 0.5, today);
      await insertRun('failed', 0.25, new Date(today.getTime() + 1000));
      await insertRun('running', 0.125, new Date(today.getTime() + 2000));
      await insertRun('completed', 4, new Date(today.getTime() - 1000));

      await old.ds.runMigrations();
      expect(await oldRuns.teamSpendOn(teamId, today)).toBe(0.875);
      expect(await oldRuns.teamSpendOn(teamId, new Date(today.getTime() - 86_400_000))).toBe(4);
      // The running run is read live, not from the ledger.
      const [ledger] = (await old.ds.query(`SELECT SUM(usd)::text AS usd FROM orchestrator.team_daily_spend WHERE team_id = $1 AND day = $2::date`, [
        teamId,
        today.toISOString().slice(0, 10),
      ])) as Array<{ usd: string }>;
      expect(Number(ledger!.usd)).toBe(0.75);
    } finally {
      await old.close();
    }
  });
});
