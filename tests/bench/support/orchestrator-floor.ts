import { connectNats } from '@overskill/messaging';
import { stackNatsCredentials, type StackNatsSeeds } from '@overskill/testing';
import { randomUUID } from 'node:crypto';
import { median, percentile, round } from './stats';

// What a durable step cannot go below on this stack, measured bare in the bench's own run: one
// checkpoint-sized row committed from a plain `pg` client (the commit waits for the WAL flush;
// the same with synchronous_commit off for comparison) and one JetStream publish waiting for its
// ack, from a plain `nats` connection. One at a time, like a run's steps.

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
  jetstreamPublish: FloorSeries;
  coreNatsPublishFlush: FloorSeries;
  payloadBytes: number;
}

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
}): Promise<DurableFloor> {
  const { stack, payload, samples } = opts;
  const client = new pg.Client({ connectionString: stack.databaseUrl });
  await client.connect();
  const table = `bench_floor_${randomUUID().slice(0, 8)}`;
  await client.query(
    `CREATE TABLE public.${table} (id uuid PRIMARY KEY, run_id uuid NOT NULL, seq int NOT NULL, kind varchar(32) NOT NULL, summary text NOT NULL,
       data jsonb NOT NULL, status varchar(16) NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), UNIQUE (run_id, seq))`,
  );
  const runId = randomUUID();
  let seq = 0;
  const insert = () =>
    client.query(`INSERT INTO public.${table} (id, run_id, seq, kind, summary, data, status) VALUES ($1, $2, $3, 'model_call', $4, $5::jsonb, 'running')`, [
      randomUUID(),
      runId,
      ++seq,
      '1 tool call(s)',
      payload,
    ]);
  const nc = await connectNats(stack.natsUrl, 'bench-floor', stackNatsCredentials(stack));
  const stream = `BENCH_FLOOR_${randomUUID().slice(0, 8)}`;
  const jsm = await nc.jetstreamManager();
  try {
    const pgSyncCommit = await series(samples, insert);
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
    return { pgSyncCommit, pgAsyncCommit, jetstreamPublish, coreNatsPublishFlush, payloadBytes: Buffer.byteLength(payload) };
  } finally {
    await jsm.streams.delete(stream).catch(() => undefined);
    await nc.close();
    await client.query(`DROP TABLE IF EXISTS public.${table}`);
    await client.end();
  }
}
