import { Events, Rpc } from '@overskill/contracts';
import { connectNats, NatsRpcClient, publishDurable } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import { launchPlatform, runAllMigrations, stackNatsCredentials, withPostgresClient, type RunningPlatform } from '@overskill/testing';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { NatsConnection } from 'nats';
import { integrationStack, REPO_ROOT, scratchDir } from '../support/integration-env';
import { formatTable, machineInfo, print, recordResult } from './support/results';
import { median, ratio, round } from './support/stats';

// Analytics' daily aggregates, both sides in the same run on the same stack:
// - ingest: facts/s of tool facts (stored and aggregated in one transaction) against preview
//   console facts (stored only: they aggregate nowhere), published the same way;
// - reads: the 30-day business figures from the aggregates (analytics.business.read.v1) against
//   a recount of the same figures from the raw events by SQL.

const FACTS = Number(process.env.BENCH_ANALYTICS_FACTS ?? 2000);
const ROUNDS = 2;
const READS = 15;

describe('benchmark: analytics aggregates', () => {
  const stack = integrationStack();
  let platform: RunningPlatform | undefined;
  let nc: NatsConnection | undefined;

  afterAll(async () => {
    await nc?.close();
    await platform?.stop();
  });

  it('measures ingest with aggregates against plain storage, and aggregate reads against a raw recount', async () => {
    const startedAt = new Date().toISOString();
    const machine = machineInfo();
    const dir = scratchDir(stack.dataDir, 'bench-analytics');
    runAllMigrations(REPO_ROOT, stack.databaseUrl);
    platform = await launchPlatform({
      root: REPO_ROOT,
      ...stack,
      workspacesDir: join(dir, 'w'),
      backupDir: join(dir, 'b'),
      logDir: join(dir, 'logs'),
      services: ['analytics'],
      env: { LOG_LEVEL: 'warn' },
    });
    nc = await connectNats(stack.natsUrl, 'bench-analytics', stackNatsCredentials(stack));
    const rpc = new NatsRpcClient(nc, createServiceMetrics('bench-analytics'), 60_000);
    const conn = nc;
    const teamId = randomUUID();
    const appIds = Array.from({ length: 20 }, () => randomUUID());
    const day = (i: number) => new Date(Date.UTC(2026, 5, 1 + (i % 30), 12)).toISOString();
    const count = (type: string) =>
      withPostgresClient(stack.databaseUrl, async (c) =>
        Number((await c.query('SELECT count(*) AS n FROM analytics.events WHERE team_id = $1 AND type = $2', [teamId, type])).rows[0].n),
      );

    async function ingest(kind: 'aggregated' | 'plain', offset: number): Promise<number> {
      const type = kind === 'aggregated' ? Events.toolExecuted.subject : Events.previewConsoleLogged.subject;
      const before = await count(type);
      const started = performance.now();
      const pending: Array<Promise<void>> = [];
      for (let i = 0; i < FACTS; i++) {
        const eventId = randomUUID();
        const appId = appIds[i % appIds.length];
        pending.push(
          kind === 'aggregated'
            ? publishDurable(
                conn,
                Events.toolExecuted,
                {
                  eventId,
                  occurredAt: day(offset + i),
                  teamId,
                  appId,
                  runId: '',
                  toolUseId: 't',
                  tool: `tool_${i % 12}`,
                  outcome: i % 9 ? 'ok' : 'TOOL_FAILED',
                  durationMs: i % 50,
                  bytesWritten: 0n,
                  outputBytes: 0n,
                  outputTruncated: false,
                },
                { msgId: eventId },
              )
            : publishDurable(
                conn,
                Events.previewConsoleLogged,
                { occurredAt: day(offset + i), teamId, appId, level: 'info', message: `line ${i}`, source: 'app.js', pageUrl: '/' },
                { msgId: eventId },
              ),
        );
        if (pending.length >= 200) await Promise.all(pending.splice(0));
      }
      await Promise.all(pending);
      while ((await count(type)) < before + FACTS) await new Promise((r) => setTimeout(r, 20));
      return FACTS / ((performance.now() - started) / 1000);
    }

    // Interleaved rounds so drift in the machine's load hits both alike.
    const rates = { aggregated: [] as number[], plain: [] as number[] };
    await ingest('plain', 0);
    for (let r = 0; r < ROUNDS; r++) {
      rates.aggregated.push(await ingest('aggregated', r));
      rates.plain.push(await ingest('plain', r));
    }

    const recount = () =>
      withPostgresClient(stack.databaseUrl, (c) =>
        c.query(
          `SELECT to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, app_id, attributes->>'tool' AS tool, count(*) AS calls,
                  count(*) FILTER (WHERE attributes->>'outcome' <> 'ok') AS failures, sum((attributes->>'durationMs')::float8) AS ms
             FROM analytics.events WHERE team_id = $1 AND type = $2 AND occurred_at >= '2026-06-01' AND occurred_at < '2026-07-01' GROUP BY 1, 2, 3`,
          [teamId, Events.toolExecuted.subject],
        ),
      );
    const read = () => rpc.send(Rpc.analyticsBusinessRead, { teamId, from: '2026-06-01', to: '2026-06-30' });
    const timings = { aggregates: [] as number[], recount: [] as number[] };
    await read();
    await recount();
    for (let i = 0; i < READS; i++) {
      let t = performance.now();
      const r = await read();
      timings.aggregates.push(performance.now() - t);
      expect(Number(r.totals?.toolCalls)).toBe(FACTS * ROUNDS);
      t = performance.now();
      await recount();
      timings.recount.push(performance.now() - t);
    }

    const results = {
      ingestFactsPerS: { aggregated: round(median(rates.aggregated), 0), plain: round(median(rates.plain), 0) },
      readMs: { aggregates: round(median(timings.aggregates), 1), rawRecount: round(median(timings.recount), 1) },
    };
    recordResult({
      benchmark: 'analytics-aggregates',
      startedAt,
      finishedAt: new Date().toISOString(),
      machine,
      method: {
        ingest: `${FACTS} facts per round, published 200 at a time with msg-ids, until analytics stored all; ${ROUNDS} interleaved rounds; aggregated = events.tool.executed.v1 (insert + day lock + upsert of 3 aggregate rows, one transaction), plain = events.preview.console.v1 (insert only)`,
        read: `median of ${READS}: analytics.business.read.v1 over 30 days (NATS request, aggregate rows, figures computed) vs the raw SQL recount of tool calls, failures and durations per day, app and tool from analytics.events (${FACTS * ROUNDS} tool facts in range), from the bench process`,
      },
      results: {
        ...results,
        ratioIngest: ratio(results.ingestFactsPerS.aggregated, results.ingestFactsPerS.plain),
        ratioRead: ratio(results.readMs.aggregates, results.readMs.rawRecount),
      },
      goals: [],
    });
    print(`\nanalytics aggregates (${machine.cpus} cpus, load ${machine.loadAverage.join(' ')})`);
    print(
      formatTable(
        ['measure', 'aggregates', 'baseline', 'ratio'],
        [
          [
            'ingest facts/s (aggregated vs stored only)',
            results.ingestFactsPerS.aggregated,
            results.ingestFactsPerS.plain,
            ratio(results.ingestFactsPerS.aggregated, results.ingestFactsPerS.plain),
          ],
          [
            '30-day read ms (aggregates vs raw recount)',
            results.readMs.aggregates,
            results.readMs.rawRecount,
            ratio(results.readMs.aggregates, results.readMs.rawRecount),
          ],
        ],
      ),
    );
  });
});
