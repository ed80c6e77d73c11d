import { connectNats } from '@overskill/messaging';
import { stackNatsCredentials, type StackNatsSeeds } from '@overskill/testing';
import { randomUUID } from 'node:crypto';
import { cpuPerUnitMs, cpuSnapshot } from './process-cpu';
import { median, percentile, round } from './stats';

// What a durable step cannot go below on this stack, measured bare in the bench's own run: one
// checkpoint-sized row committed from a plain `pg` client (the commit waits for the WAL flush;
// the same with synchronous_commit off for comparison) and one JetStream publish waiting for its
// ack, from a plain `nats` connection. One at a time, like a run's steps. And what fenced commits
// cost in CPU when many runs write at once (PostgreSQL commits them in groups then).

interface PgClient {
  connect(): Promise<void>;
  query(text: string, values?: unknown[]): Promise<unknown>;
  end(): Promise<void>;
}
const pg = require('pg') as { Client: new (config: { connectionString: string }) => PgClient };

export interface FloorSeries {
  medianMs: number;
  p99Ms: number;
  samples: number;
}

export interface DurableFloor {
  pgSyncCommit: FloorSeries;
  pgAsyncCommit: FloorSeries;
  // The row behind a fence, as a checkpoint is written: one lease row updated, the row inserted only if it matched.
  pgFencedSyncCommit: FloorSeries;
  jetstreamPublish: FloorSeries;
  coreNatsPublishFlush: FloorSeries;
  // CPU ms per fenced commit, CONCURRENT_WRITERS clients at once: PostgreSQL's and the client's.
  fencedCommitCpuMs: { postgres: number; client: number; writers: number; commits: number };
  // The same per row when each statement writes ROWS_PER_STATEMENT fenced rows, each behind its own lease row.
  batchedFencedCommitCpuMs: { postgres: number; client: number; writers: number; rowsPerStatement: number; rows: number };
  payloadBytes: number;
}

const CONCURRENT_WRITERS = 16;
const COMMITS_PER_WRITER = 50;
const BATCH_WRITERS = 2;
const ROWS_PER_STATEMENT = 8;

async function series(samples: number, fn: () => Promise<unknown>): Promise<FloorSeries> {
  for (let i = 0; i < Math.min(20, samples); i++) await fn();
  const ms: number[] = [];
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    await fn();
    ms.push(performance.now() - started);
  }
  return { medianMs: round(median(ms), 3), p99Ms: round(percentile(ms, 99), 3), samples };
}

export async function measureDurableFloor(opts: {
  stack: { natsUrl: string; natsSeeds: StackNatsSeeds; databaseUrl: string };
  // A checkpoint's `data`, as the loop wrote it in this run (its size is what the WAL carries).
  payload: string;
  samples: number;
  // The PostgreSQL server's process, whose tree's CPU the concurrent commits are charged.
  postgresPid: number | undefined;
}): Promise<DurableFloor> {
  const { stack, payload, samples } = opts;
  const client = new pg.Client({ connectionString: stack.databaseUrl });
  await client.connect();
  const table = `bench_floor_${randomUUID().slice(0, 8)}`;
  await client.query(
    `CREATE TABLE public.${table} (id uuid PRIMARY KEY, run_id uuid NOT NULL, seq int NOT NULL, kind varchar(32) NOT NULL, summary text NOT NULL,
       data jsonb NOT NULL, status varchar(16) NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), UNIQUE (run_id, seq))`,
  );
  await client.query(`CREATE TABLE public.${table}_lease (id uuid PRIMARY KEY, owner text NOT NULL, until timestamptz NOT NULL, steps int NOT NULL DEFAULT 0)`);
  const runId = randomUUID();
  await client.query(`INSERT INTO public.${table}_lease (id, owner, until) VALUES ($1, 'bench', now())`, [runId]);
  let seq = 0;
  const insert = () =>
    client.query(`INSERT INTO public.${table} (id, run_id, seq, kind, summary, data, status) VALUES ($1, $2, $3, 'model_call', $4, $5::jsonb, 'running')`, [
      randomUUID(),
      runId,
      ++seq,
      '1 tool call(s)',
      payload,
    ]);
  const fencedInsertBy = (writer: PgClient, leaseId: string) =>
    writer.query(
      `WITH lease AS (UPDATE public.${table}_lease SET until = now() + interval '20 seconds', steps = steps + 1 WHERE id = $1 AND owner = 'bench' RETURNING id)
       INSERT INTO public.${table} (id, run_id, seq, kind, summary, data, status) SELECT $2, lease.id, $3, 'model_call', $4, $5::jsonb, 'running' FROM lease`,
      [leaseId, randomUUID(), ++seq, '1 tool call(s)', payload],
    );
  const fencedInsert = () => fencedInsertBy(client, runId);
  const nc = await connectNats(stack.natsUrl, 'bench-floor', stackNatsCredentials(stack));
  const stream = `BENCH_FLOOR_${randomUUID().slice(0, 8)}`;
  const jsm = await nc.jetstreamManager();
  try {
    const pgSyncCommit = await series(samples, insert);
    const pgFencedSyncCommit = await series(samples, fencedInsert);
    // Each writer one lease, one fenced row per statement.
    const alone = await fencedCommitsAtOnce(
      stack.databaseUrl,
      table,
      { writers: CONCURRENT_WRITERS, leasesPerWriter: 1, commit: (writer, [leaseId]) => fencedInsertBy(writer, leaseId!) },
      opts.postgresPid,
    );
    const fencedCommitCpuMs = { postgres: alone.postgres, client: alone.client, writers: CONCURRENT_WRITERS, commits: alone.rows };
    let batchSeq = 1_000_000;
    const batchedFencedInsertBy = (writer: PgClient, leaseIds: string[]) =>
      writer.query(
        `WITH b AS (SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::int[]) AS b(lease_id, id, seq)),
              lease AS (UPDATE public.${table}_lease l SET until = now() + interval '20 seconds', steps = l.steps + 1 FROM b WHERE l.id = b.lease_id AND l.owner = 'bench' RETURNING l.id)
         INSERT INTO public.${table} (id, run_id, seq, kind, summary, data, status)
         SELECT b.id, lease.id, b.seq, 'model_call', $4, $5::jsonb, 'running' FROM lease JOIN b ON b.lease_id = lease.id`,
        [leaseIds, leaseIds.map(() => randomUUID()), leaseIds.map(() => ++batchSeq), '1 tool call(s)', payload],
      );
    const shared = await fencedCommitsAtOnce(
      stack.databaseUrl,
      table,
      { writers: BATCH_WRITERS, leasesPerWriter: ROWS_PER_STATEMENT, commit: batchedFencedInsertBy },
      opts.postgresPid,
    );
    const batchedFencedCommitCpuMs = {
      postgres: shared.postgres,
      client: shared.client,
      writers: BATCH_WRITERS,
      rowsPerStatement: ROWS_PER_STATEMENT,
      rows: shared.rows,
    };
    await client.query(`SET synchronous_commit = off`);
    const pgAsyncCommit = await series(samples, insert);
    await jsm.streams.add({ name: stream, subjects: [`bench.floor.${stream}`] });
    const js = nc.jetstream();
    const bytes = new TextEncoder().encode(payload);
    const jetstreamPublish = await series(samples, () => js.publish(`bench.floor.${stream}`, bytes));
    const coreNatsPublishFlush = await series(samples, () => {
      nc.publish(`bench.floor.core.${stream}`, bytes);
      return nc.flush();
    });
    return {
      pgSyncCommit,
      pgAsyncCommit,
      pgFencedSyncCommit,
      jetstreamPublish,
      coreNatsPublishFlush,
      fencedCommitCpuMs,
      batchedFencedCommitCpuMs,
      payloadBytes: Buffer.byteLength(payload),
    };
  } finally {
    await jsm.streams.delete(stream).catch(() => undefined);
    await nc.close();
    await client.query(`DROP TABLE IF EXISTS public.${table}, public.${table}_lease`);
    await client.end();
  }
}

// `writers` clients at once, each with leases of its own, committing statement after statement:
// the CPU (PostgreSQL's tree and the client's) per fenced row written.
async function fencedCommitsAtOnce(
  databaseUrl: string,
  table: string,
  shape: { writers: number; leasesPerWriter: number; commit: (writer: PgClient, leaseIds: string[]) => Promise<unknown> },
  postgresPid: number | undefined,
): Promise<{ postgres: number; client: number; rows: number }> {
  const writers: Array<{ client: PgClient; leaseIds: string[] }> = [];
  try {
    for (let i = 0; i < shape.writers; i++) {
      const writer = new pg.Client({ connectionString: databaseUrl });
      await writer.connect();
      const leaseIds = Array.from({ length: shape.leasesPerWriter }, () => randomUUID());
      writers.push({ client: writer, leaseIds });
      for (const id of leaseIds) await writer.query(`INSERT INTO public.${table}_lease (id, owner, until) VALUES ($1, 'bench', now())`, [id]);
      await shape.commit(writer, leaseIds);
    }
    const before = cpuSnapshot({ postgres: postgresPid });
    await Promise.all(
      writers.map(async (w) => {
        for (let i = 0; i < COMMITS_PER_WRITER; i++) await shape.commit(w.client, w.leaseIds);
      }),
    );
    const rows = shape.writers * COMMITS_PER_WRITER * shape.leasesPerWriter;
    const cpu = cpuPerUnitMs(before, cpuSnapshot({ postgres: postgresPid }), rows);
    return { postgres: cpu['postgres']!, client: cpu['bench']!, rows };
  } finally {
    for (const w of writers) await w.client.end();
  }
}
