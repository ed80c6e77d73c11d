import { runAllMigrations, withPostgresClient, type PostgresClient } from '@overskill/testing';
import { randomUUID } from 'node:crypto';
import { integrationStack, REPO_ROOT } from '../support/integration-env';
import { formatTable, machineInfo, print, recordResult } from './support/results';
import { median, percentile, ratio, round } from './support/stats';

// What a run's claim costs as its team's runs of the day grow: the claim reads the team's spend
// today for the daily budget (orchestrator.team_spend_on: the ledger of its finished runs plus its
// running ones). Teams with 0 to BENCH_TEAM_SPEND_MAX finished runs today, claims taken in turn
// across them so load hits all alike; the baseline is the team with none, in the same run. Beside
// it, the read alone against the sum over the team's runs that the claim made before the ledger.

const SIZES = [0, 1_000, 10_000, Number(process.env.BENCH_TEAM_SPEND_MAX ?? 50_000)];
const CLAIMS = Number(process.env.BENCH_TEAM_SPEND_CLAIMS ?? 200);
// The conversation a run reads with its claim (the defaults' recent and condensed messages).
const HISTORY = 50;

const CLAIM = {
  name: 'bench.claim-start',
  text: `SELECT c.claimed, c.team_spend FROM "orchestrator"."claim_run_start"($1, $2, $3, $4, $5) c`,
};
const SPEND_ON = { name: 'bench.team-spend-on', text: `SELECT "orchestrator"."team_spend_on"($1, $2::date) AS usd` };
const SUM_SINCE = {
  name: 'bench.sum-since',
  text: `SELECT COALESCE(SUM(cost_usd), 0) AS usd FROM "orchestrator"."runs" WHERE team_id = $1 AND created_at >= $2`,
};

interface Team {
  size: number;
  teamId: string;
  appId: string;
}

describe('benchmark: a run’s claim against its team’s runs of the day', () => {
  it('reads the team’s spend in time bounded by its running runs', async () => {
    const stack = integrationStack();
    const startedAt = new Date().toISOString();
    const machine = machineInfo();
    runAllMigrations(REPO_ROOT, stack.databaseUrl);
    const day = startedAt.slice(0, 10);
    const dayStart = new Date(`${day}T00:00:00.000Z`);

    await withPostgresClient(stack.databaseUrl, async (pg) => {
      const teams: Team[] = [];
      for (const size of SIZES) teams.push(await seedTeam(pg, size));
      // The seeding's upserts of the ledger were one transaction each team; autovacuum would have
      // cleared their old row versions as a day of runs went by.
      await pg.query('VACUUM ANALYZE "orchestrator"."team_daily_spend"');
      await pg.query('ANALYZE "orchestrator"."runs"');

      const claims = new Map<number, number[]>(SIZES.map((s) => [s, []]));
      const reads = new Map<number, { ledger: number[]; sum: number[] }>(SIZES.map((s) => [s, { ledger: [], sum: [] }]));
      const timed = async (work: () => Promise<unknown>): Promise<number> => {
        const started = performance.now();
        await work();
        return performance.now() - started;
      };
      for (let i = 0; i < CLAIMS + 10; i++) {
        for (const team of teams) {
          const runId = await queueRun(pg, team);
          const ms = await timed(async () => {
            const { rows } = await pg.query(CLAIM, [runId, 'bench', 60_000, HISTORY, day]);
            if (rows[0]?.claimed !== true) throw new Error(`the claim of ${runId} was not won: ${JSON.stringify(rows)}`);
          });
          // Finished again at once: the team's running runs stay at one.
          await pg.query(`UPDATE "orchestrator"."runs" SET status = 'completed', finished_at = now(), lease_owner = NULL, lease_until = NULL WHERE id = $1`, [
            runId,
          ]);
          const usd = { ledger: 0, sum: 0 };
          const ledger = await timed(async () => (usd.ledger = Number((await pg.query(SPEND_ON, [team.teamId, day])).rows[0]!.usd)));
          const sum = await timed(async () => (usd.sum = Number((await pg.query(SUM_SINCE, [team.teamId, dayStart])).rows[0]!.usd)));
          if (usd.ledger !== usd.sum) throw new Error(`team of ${team.size} runs: the ledger says $${usd.ledger}, its runs sum to $${usd.sum}`);
          // The first rounds warm the plans and caches.
          if (i < 10) continue;
          claims.get(team.size)!.push(ms);
          reads.get(team.size)!.ledger.push(ledger);
          reads.get(team.size)!.sum.push(sum);
        }
      }

      const baseline = median(claims.get(0)!);
      const rows = SIZES.map((size) => {
        const c = claims.get(size)!;
        const r = reads.get(size)!;
        return {
          runsToday: size,
          claimMedianMs: round(median(c), 3),
          claimP90Ms: round(percentile(c, 90), 3),
          claimVsNoRuns: ratio(median(c), baseline),
          spendReadMedianMs: round(median(r.ledger), 3),
          sumOverRunsMedianMs: round(median(r.sum), 3),
          readVsSum: ratio(median(r.ledger), median(r.sum)),
        };
      });
      recordResult({
        benchmark: 'team-spend',
        startedAt,
        finishedAt: new Date().toISOString(),
        machine,
        method: { sizes: SIZES, claimsPerSize: CLAIMS, alternating: true, baseline: 'the claim for a team with no runs today' },
        results: { rows },
        goals: [],
      });
      print(`\nA run's claim against its team's runs today, ${CLAIMS} per team in turn (${machine.cpus} cpus, load ${machine.loadAverage.join(' ')})`);
      print(
        formatTable(
          ['runs today', 'claim median ms', 'claim p90 ms', 'claim / no runs', 'spend read ms', 'sum over runs ms', 'read / sum'],
          rows.map((r) => [r.runsToday, r.claimMedianMs, r.claimP90Ms, r.claimVsNoRuns, r.spendReadMedianMs, r.sumOverRunsMedianMs, r.readVsSum]),
        ),
      );
      expect(rows).toHaveLength(SIZES.length);
    });
  });
});

// A team with one app and `size` runs finished today at $0.001 each, inserted as the platform
// would leave them (the trigger fills the ledger).
async function seedTeam(pg: PostgresClient, size: number): Promise<Team> {
  const team = { size, teamId: randomUUID(), appId: randomUUID() };
  await pg.query(`INSERT INTO "orchestrator"."apps" (id, team_id, name, template) VALUES ($1, $2, 'bench', 'empty')`, [team.appId, team.teamId]);
  await pg.query(
    `WITH m AS (
       INSERT INTO "orchestrator"."messages" (id, app_id, team_id, role, content, created_at)
       SELECT gen_random_uuid(), $1, $2, 'user', 'hi', now() - g * interval '1 millisecond' FROM generate_series(1, $3::int) g RETURNING id)
     INSERT INTO "orchestrator"."runs" (id, app_id, team_id, message_id, status, cost_usd, iterations, started_at, finished_at)
     SELECT gen_random_uuid(), $1, $2, m.id, 'completed', 0.001, 1, now(), now() FROM m`,
    [team.appId, team.teamId, size],
  );
  return team;
}

async function queueRun(pg: PostgresClient, team: Team): Promise<string> {
  const messageId = randomUUID();
  const runId = randomUUID();
  await pg.query(`INSERT INTO "orchestrator"."messages" (id, app_id, team_id, role, content) VALUES ($1, $2, $3, 'user', 'hi')`, [
    messageId,
    team.appId,
    team.teamId,
  ]);
  await pg.query(`INSERT INTO "orchestrator"."runs" (id, app_id, team_id, message_id, status, cost_usd, iterations) VALUES ($1, $2, $3, $4, 'queued', 0, 0)`, [
    runId,
    team.appId,
    team.teamId,
    messageId,
  ]);
  return runId;
}
