import { Inject, Injectable, Optional } from '@nestjs/common';
import { SERVICE_METRICS, type ServiceMetrics } from '@overskill/observability';
import { PgState, violatesConstraint } from '@overskill/persistence';
import { randomUUID } from 'node:crypto';
import { Histogram } from 'prom-client';
import { DataSource } from 'typeorm';
import { keysetBefore } from '../common/page-token';
import { AppEntity, MessageEntity, RunEntity, RunStepEntity, ToolCallEntity, type RunStatusName } from '../persistence/entities';
import { hydratedEntities, jsonEntities, jsonEntity, preparedEntities, preparedEntity, preparedQuery } from '../persistence/prepared-query';
import { TurnBatch } from './turn-batch';

export type ClaimResult = { claimed: RunStart } | { busyUntil: Date } | { gone: RunEntity | null };

// A claimed run and what its start reads, from the claim's statement.
export interface RunStart {
  run: RunEntity;
  steps: RunStepEntity[];
  // null: deleted with its app.
  message: MessageEntity | null;
  app: AppEntity | null;
  // The app's conversation before the run's message, oldest first.
  history: MessageEntity[];
  // The team's spend on the UTC day of `spendDay`, read after the claim (the run's own cost in it is the
  // claimed run's: only this replica changes it now); readAt: when the claim was asked for.
  teamSpend?: { usd: number; readAt: number };
}

// What the claim reads besides the run: the newest `historyLimit` messages before the run's, and
// the team's spend on the UTC day of `spendDay` (none when not given).
export interface StartReads {
  historyLimit: number;
  spendDay?: Date;
}

export interface FencedStep {
  runId: string;
  owner: string;
  leaseMs: number;
  seq: number;
  kind: string;
  summary: string;
  data: Record<string, unknown>;
  status: RunStatusName;
  usage?: { inputTokens: number; outputTokens: number; costUsd: number; iterations: number };
  // false: committed without waiting for the WAL flush (a step whose loss only repeats a read;
  // the next durable commit flushes it too, WAL order). Default: durable.
  durable?: boolean;
}

// A step's two checkpoint statements run on every step: named prepared statements (parsed and
// planned once per pooled connection).
const APPEND_FENCED_STEP = {
  name: 'orchestrator.runs.append-fenced-step',
  text: `WITH lease AS (
           UPDATE "orchestrator"."runs" SET lease_until = now() + ($3 * interval '1 millisecond'), input_tokens = input_tokens + $10, output_tokens = output_tokens + $11,
             cost_usd = cost_usd + $12::numeric, iterations = iterations + $13
            WHERE id = $1 AND lease_owner = $2 AND status = 'running'
            RETURNING id, cancel_requested_at, cancel_reason),
         ins AS (
           INSERT INTO "orchestrator"."run_steps" (id, run_id, seq, kind, summary, data, status)
           SELECT $4, lease.id, $5, $6, $7, $8::jsonb, $9 FROM lease RETURNING created_at)
         SELECT ins.created_at, lease.cancel_requested_at, lease.cancel_reason,
                CASE WHEN $14::boolean THEN set_config('synchronous_commit', 'off', true) END AS commit_mode FROM ins, lease`,
};
// The same for the checkpoints of many runs, one per run: one round trip, one transaction and one
// WAL flush for all. Each step is still fenced by its own run's lease; a run whose lease is gone
// returns no row, and the others are written.
const APPEND_FENCED_STEPS = {
  name: 'orchestrator.runs.append-fenced-steps',
  text: `WITH batch AS (
           SELECT * FROM jsonb_to_recordset($1::jsonb) AS b(run_id uuid, owner varchar, lease_ms int, seq int, kind varchar, summary text, data jsonb,
                                                            status varchar, input_tokens int, output_tokens int, cost_usd numeric, iterations int)),
         lease AS (
           UPDATE "orchestrator"."runs" r SET lease_until = now() + (b.lease_ms * interval '1 millisecond'), input_tokens = r.input_tokens + b.input_tokens,
             output_tokens = r.output_tokens + b.output_tokens, cost_usd = r.cost_usd + b.cost_usd, iterations = r.iterations + b.iterations
             FROM batch b WHERE r.id = b.run_id AND r.lease_owner = b.owner AND r.status = 'running'
            RETURNING r.id, r.cancel_requested_at, r.cancel_reason),
         ins AS (
           INSERT INTO "orchestrator"."run_steps" (id, run_id, seq, kind, summary, data, status)
           SELECT gen_random_uuid(), lease.id, b.seq, b.kind, b.summary, b.data, b.status FROM lease JOIN batch b ON b.run_id = lease.id
           RETURNING run_id, created_at)
         SELECT ins.run_id, ins.created_at, lease.cancel_requested_at, lease.cancel_reason,
                CASE WHEN $2::boolean THEN set_config('synchronous_commit', 'off', true) END AS commit_mode FROM ins JOIN lease ON lease.id = ins.run_id`,
};
// At most this many checkpoints (or intents) in one statement.
const ROWS_PER_STATEMENT = 64;
const RECORD_TOOL_INTENT = {
  name: 'orchestrator.runs.record-tool-intent',
  text: `INSERT INTO "orchestrator"."tool_calls" (run_id, tool_use_id, name, input_json, lease_owner)
         SELECT id, $3::varchar, $4::varchar, $5::text, $2::varchar FROM "orchestrator"."runs" WHERE id = $1 AND lease_owner = $2::varchar AND status = 'running'
         RETURNING run_id`,
};
// The same for the intents of many runs, each behind its own run's lease.
const RECORD_TOOL_INTENTS = {
  name: 'orchestrator.runs.record-tool-intents',
  text: `INSERT INTO "orchestrator"."tool_calls" (run_id, tool_use_id, name, input_json, lease_owner)
         SELECT r.id, b.tool_use_id, b.name, b.input_json, b.owner
           FROM jsonb_to_recordset($1::jsonb) AS b(run_id uuid, owner varchar, tool_use_id varchar, name varchar, input_json text)
           JOIN "orchestrator"."runs" r ON r.id = b.run_id AND r.lease_owner = b.owner AND r.status = 'running'
         RETURNING run_id, tool_use_id`,
};

// The claim's lock and update, and the reads of the run's start, in the database's
// orchestrator.claim_run_start (one round trip); the run comes back as it is after the claim,
// under its table's column names, the rest as JSON rows under theirs.
const CLAIM_RUN_START = {
  name: 'orchestrator.runs.claim-start',
  text: `SELECT c.claimed, (c.run).*, c.message AS start_message, c.app AS start_app, c.steps AS start_steps, c.history AS start_history,
                c.team_spend AS start_team_spend
           FROM "orchestrator"."claim_run_start"($1, $2, $3, $4, $5) c`,
};
type ClaimRow = Record<string, unknown> & {
  claimed: boolean;
  start_message: Record<string, unknown> | null;
  start_app: Record<string, unknown> | null;
  start_steps: Array<Record<string, unknown>> | null;
  start_history: Array<Record<string, unknown>> | null;
  start_team_spend: string | null;
};

// finishOwned's statement. Named like the claim, so it is parsed and planned once per connection:
// unnamed, it cost PostgreSQL ~0.5 ms of parsing and planning on every run.
const FINISH_OWNED = {
  name: 'orchestrator.runs.finish-owned',
  text: `WITH fin AS (
           UPDATE "orchestrator"."runs" SET status = $3, commit_sha = $4, error_code = $5, error_message = $6, finished_at = now(), lease_owner = NULL, lease_until = NULL
            WHERE id = $1 AND lease_owner = $2 AND status = 'running'
            RETURNING id, app_id, team_id, iterations),
         reply AS (
           INSERT INTO "orchestrator"."messages" (id, app_id, team_id, role, content, author_id, run_id)
           SELECT $7, fin.app_id, fin.team_id, 'assistant', $8, 'agent', fin.id FROM fin
            WHERE NOT EXISTS (SELECT 1 FROM "orchestrator"."messages" m WHERE m.run_id = $1 AND m.role = 'assistant'))
         SELECT iterations FROM fin`,
};

// Every few seconds for every running run (a third of its lease).
const RENEW_LEASE = {
  name: 'orchestrator.runs.renew-lease',
  text: `UPDATE "orchestrator"."runs" SET lease_until = now() + ($3 * interval '1 millisecond') WHERE id = $1 AND lease_owner = $2 AND status = 'running'
         RETURNING cancel_requested_at, cancel_reason`,
};
// The ledger of the team's finished runs that day plus its running runs (orchestrator.team_spend_on).
const TEAM_SPEND_ON = { name: 'orchestrator.runs.team-spend-on', text: `SELECT "orchestrator"."team_spend_on"($1, $2::date) AS total` };

// Reads by key, and the conversation's pages.
const RUN_BY_ID = { name: 'orchestrator.runs.by-id', tail: 'WHERE id = $1' };
const STEPS_OF_RUN = { name: 'orchestrator.run-steps.of-run', tail: 'WHERE run_id = $1 ORDER BY seq' };
// Keyset pagination on (created_at, id), newest first.
const MESSAGES_FIRST = { name: 'orchestrator.messages.page', tail: 'WHERE app_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2' };
const MESSAGES_AFTER = {
  name: 'orchestrator.messages.page-after',
  tail: `WHERE app_id = $1 AND ${keysetBefore('"messages"', '"orchestrator"."messages"', '$3', '$4')} ORDER BY created_at DESC, id DESC LIMIT $2`,
};
// The message and its run in one statement: never a run without its request. The run's
// reference to the message is checked at the statement's end, when both rows exist. The app is
// read in the same statement, as the app API sees it (the team's, not a task's workspace): no
// row comes back when there is none.
const INSERT_MESSAGE_WITH_RUN = {
  name: 'orchestrator.messages.insert-with-run',
  text: `WITH app AS (
           SELECT id, team_id FROM "orchestrator"."apps" WHERE id = $2 AND team_id = $3 AND kind = 'app'),
         message AS (
           INSERT INTO "orchestrator"."messages" (id, app_id, team_id, role, content, author_id, run_id, idempotency_key)
           SELECT $1, app.id, app.team_id, 'user', $4, $5, $6, $7 FROM app)
         INSERT INTO "orchestrator"."runs" (id, app_id, team_id, message_id, status, iterations, enqueue_token)
         SELECT $6, app.id, app.team_id, $1, 'queued', 0, $8 FROM app
         RETURNING id`,
};

export interface Cursor {
  createdAt: Date;
  id: string;
}

@Injectable()
export class RunsRepository {
  // Checkpoints (and the intents of writing calls) of many runs asked for in the same turn: one statement.
  private readonly steps: TurnBatch<FencedStep, FencedStepWritten | null>;
  private readonly intents: TurnBatch<ToolIntent, boolean>;

  constructor(
    private readonly dataSource: DataSource,
    @Optional() @Inject(SERVICE_METRICS) metrics?: ServiceMetrics,
  ) {
    const perStatement = metrics
      ? new Histogram({
          name: 'run_checkpoints_per_statement',
          help: 'Checkpoints written by one statement (those of several runs asked for in one turn share one)',
          buckets: [1, 2, 4, 8, 16, 32, 64],
          registers: [metrics.registry],
        })
      : undefined;
    this.steps = new TurnBatch({
      key: (step) => step.runId,
      max: ROWS_PER_STATEMENT,
      one: (step) => this.appendOne(step),
      many: (steps) => this.appendMany(steps),
      aloneAfter: refusedWhole,
      sent: (size) => perStatement?.observe(size),
    });
    this.intents = new TurnBatch({
      key: (intent) => intentKey(intent.runId, intent.toolUseId),
      max: ROWS_PER_STATEMENT,
      one: (intent) => this.recordOne(intent),
      many: (intents) => this.recordMany(intents),
      aloneAfter: refusedWhole,
    });
  }

  // The message and its run in one statement. With an idempotency key, a key older than the
  // window is released first (on its own: an expired key means nothing, released or not); null
  // when another post of the same key won the unique index (read it with findKeyedMessage);
  // 'no-app' when the team has no such app (a task's workspace included), or it was deleted
  // meanwhile.
  async insertMessageWithRun(input: {
    appId: string;
    teamId: string;
    content: string;
    authorId: string;
    idempotencyKey?: string;
    keyWindowMs?: number;
  }): Promise<{ messageId: string; runId: string; enqueueToken: string } | 'no-app' | null> {
    const messageId = randomUUID();
    const runId = randomUUID();
    const enqueueToken = randomUUID();
    const key = input.idempotencyKey || null;
    try {
      if (key) {
        await this.dataSource.query(
          `UPDATE "orchestrator"."messages" SET idempotency_key = NULL
            WHERE team_id = $1 AND app_id = $2 AND idempotency_key = $3 AND created_at <= now() - make_interval(secs => $4)`,
          [input.teamId, input.appId, key, (input.keyWindowMs ?? 0) / 1000],
        );
      }
      const rows = await preparedQuery(this.dataSource, INSERT_MESSAGE_WITH_RUN, [
        messageId,
        input.appId,
        input.teamId,
        input.content,
        input.authorId,
        runId,
        key,
        enqueueToken,
      ]);
      if (rows.length === 0) return 'no-app';
    } catch (err) {
      if (key && violatesConstraint(err, PgState.UNIQUE_VIOLATION, ['messages_idempotency_key'])) return null;
      // The app's delete committed between the statement's read of it and its reference checks.
      if (violatesConstraint(err, PgState.FOREIGN_KEY_VIOLATION, APP_REFERENCES)) return 'no-app';
      throw err;
    }
    return { messageId, runId, enqueueToken };
  }

  // The message an idempotency key names, if it was posted within the window.
  async findKeyedMessage(teamId: string, appId: string, key: string, windowMs: number): Promise<MessageEntity | null> {
    return this.dataSource
      .getRepository(MessageEntity)
      .createQueryBuilder('m')
      .where('m.team_id = :teamId AND m.app_id = :appId AND m.idempotency_key = :key', { teamId, appId, key })
      .andWhere('m.created_at > now() - make_interval(secs => :secs)', { secs: windowMs / 1000 })
      .getOne();
  }

  // A run that could not be queued (the bus was down) fails at once: only while no worker has
  // it, and only if no later attempt (a repeated post) has queued it since.
  async refuseQueued(id: string, enqueueToken: string, errorCode: string, errorMessage: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE "orchestrator"."runs" SET status = 'failed', error_code = $3, error_message = $4, iterations = 0, finished_at = now()
        WHERE id = $1 AND status = 'queued' AND enqueue_token = $2`,
      [id, enqueueToken, errorCode, errorMessage],
    );
  }

  // A repeated post queues its run again if no worker has started it: still queued, or refused
  // at the queue (failed with the given code before it started). Null when it has started.
  async requeueUnstarted(id: string, refusedCode: string): Promise<string | null> {
    const enqueueToken = randomUUID();
    const result = await this.dataSource.query(
      `UPDATE "orchestrator"."runs" SET status = 'queued', error_code = NULL, error_message = NULL, finished_at = NULL, enqueue_token = $2
        WHERE id = $1 AND started_at IS NULL AND (status = 'queued' OR (status = 'failed' AND error_code = $3))`,
      [id, enqueueToken, refusedCode],
    );
    return rowCount(result) > 0 ? enqueueToken : null;
  }

  findRun(id: string): Promise<RunEntity | null> {
    return preparedEntity(this.dataSource, RunEntity, RUN_BY_ID, [id]);
  }

  findRunForTeam(teamId: string, id: string): Promise<RunEntity | null> {
    return this.dataSource.getRepository(RunEntity).findOneBy({ id, teamId });
  }

  listSteps(runId: string): Promise<RunStepEntity[]> {
    return preparedEntities(this.dataSource, RunStepEntity, STEPS_OF_RUN, [runId]);
  }

  listStepsAfter(runId: string, afterSeq: number, limit: number): Promise<RunStepEntity[]> {
    return this.dataSource
      .getRepository(RunStepEntity)
      .createQueryBuilder('s')
      .where('s.run_id = :runId AND s.seq > :afterSeq', { runId, afterSeq })
      .orderBy('s.seq', 'ASC')
      .limit(limit)
      .getMany();
  }

  listMessages(appId: string, limit: number, after?: Cursor): Promise<MessageEntity[]> {
    return after
      ? preparedEntities(this.dataSource, MessageEntity, MESSAGES_AFTER, [appId, limit, after.createdAt, after.id])
      : preparedEntities(this.dataSource, MessageEntity, MESSAGES_FIRST, [appId, limit]);
  }

  listRuns(teamId: string, appId: string | undefined, limit: number, after?: Cursor): Promise<RunEntity[]> {
    const runs = this.dataSource.getRepository(RunEntity);
    const qb = runs.createQueryBuilder('r').where('r.team_id = :teamId', { teamId });
    if (appId) qb.andWhere('r.app_id = :appId', { appId });
    if (after) qb.andWhere(keysetBefore('r', runs.metadata.tablePath, ':createdAt', ':id'), after);
    return qb.orderBy('r.created_at', 'DESC').addOrderBy('r.id', 'DESC').limit(limit).getMany();
  }

  // A queued run nobody has taken yet ends at once; false = it already started (or ended).
  async cancelQueued(id: string, reason: string): Promise<boolean> {
    const result = await this.dataSource.query(
      `UPDATE "orchestrator"."runs" SET status = 'cancelled', error_code = 'RUN_CANCELLED', error_message = $2, cancel_requested_at = now(), cancel_reason = $3, finished_at = now()
        WHERE id = $1 AND status = 'queued'`,
      [id, cancelMessage(reason), reason],
    );
    return rowCount(result) > 0;
  }

  // A running run stops at its next step boundary; the first request's reason is kept.
  async requestCancel(id: string, reason: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE "orchestrator"."runs" SET cancel_requested_at = COALESCE(cancel_requested_at, now()), cancel_reason = COALESCE(cancel_reason, $2)
        WHERE id = $1 AND status = 'running'`,
      [id, reason],
    );
  }

  // One replica works a run at a time: it takes the run when it is free, its own, or its
  // holder's lease has lapsed (that replica died). And one run works an app at a time, in the
  // order the messages came: another run of the app that is running (with a live lease) or was
  // queued earlier makes this one wait, so two runs never interleave their edits and commits.
  // A claim this owner wins brings back what the run starts from, read after it in the same
  // statement: a run makes no read of its own before its first checkpoint.
  async claim(id: string, owner: string, leaseMs: number, reads: StartReads = { historyLimit: 0 }): Promise<ClaimResult> {
    const askedAt = Date.now();
    const rows = await preparedQuery<ClaimRow>(this.dataSource, CLAIM_RUN_START, [
      id,
      owner,
      leaseMs,
      reads.historyLimit,
      reads.spendDay ? utcDate(reads.spendDay) : null,
    ]);
    const row = rows[0];
    const run = row && hydratedEntities(this.dataSource, RunEntity, [row])[0];
    if (!row || !run) return { gone: null };
    if (row.claimed) {
      return {
        claimed: {
          run,
          steps: jsonEntities(this.dataSource, RunStepEntity, row.start_steps ?? []),
          message: jsonEntity(this.dataSource, MessageEntity, row.start_message),
          app: jsonEntity(this.dataSource, AppEntity, row.start_app),
          history: jsonEntities(this.dataSource, MessageEntity, row.start_history ?? []),
          ...(row.start_team_spend === null ? {} : { teamSpend: { usd: Number(row.start_team_spend), readAt: askedAt } }),
        },
      };
    }
    if (run.status === 'running' || run.status === 'queued') return { busyUntil: run.leaseUntil ?? new Date(Date.now() + 2000) };
    return { gone: run };
  }

  async renewLease(id: string, owner: string, leaseMs: number): Promise<{ held: boolean; cancelRequested: boolean; cancelReason: string }> {
    const rows = await preparedQuery<{ cancel_requested_at: Date | null; cancel_reason: string | null }>(this.dataSource, RENEW_LEASE, [id, owner, leaseMs]);
    const row = rows[0];
    return { held: !!row, cancelRequested: !!row?.cancel_requested_at, cancelReason: row?.cancel_reason ?? '' };
  }

  // A checkpoint, fenced by the lease in one statement: the step is written (and the run's
  // usage added) only while this replica still holds the run. null = it does not (lease taken
  // over, run finished elsewhere, or its app deleted). Also says whether a cancel is pending.
  // The checkpoints of several runs asked for in the same turn share one statement.
  appendFencedStep(step: FencedStep): Promise<FencedStepWritten | null> {
    return this.steps.add(step);
  }

  private async appendOne(step: FencedStep): Promise<FencedStepWritten | null> {
    const u = usageOf(step);
    try {
      const rows = await preparedQuery<FencedStepRow>(this.dataSource, APPEND_FENCED_STEP, [
        step.runId,
        step.owner,
        step.leaseMs,
        randomUUID(),
        step.seq,
        step.kind,
        step.summary,
        JSON.stringify(step.data),
        step.status,
        u.inputTokens,
        u.outputTokens,
        u.costUsd.toFixed(6),
        u.iterations,
        step.durable === false,
      ]);
      const row = rows[0];
      return row ? written(row) : null;
    } catch (err) {
      // Someone else wrote this seq: the run is no longer ours.
      if (violatesConstraint(err, PgState.UNIQUE_VIOLATION)) return null;
      throw err;
    }
  }

  private async appendMany(steps: FencedStep[]): Promise<Array<FencedStepWritten | null>> {
    // One JSON document for the whole batch: each step's data goes in as the object it is.
    const batch = steps.map((s) => {
      const u = usageOf(s);
      return {
        run_id: s.runId,
        owner: s.owner,
        lease_ms: s.leaseMs,
        seq: s.seq,
        kind: s.kind,
        summary: s.summary,
        data: s.data,
        status: s.status,
        input_tokens: u.inputTokens,
        output_tokens: u.outputTokens,
        cost_usd: u.costUsd.toFixed(6),
        iterations: u.iterations,
      };
    });
    const rows = await preparedQuery<FencedStepRow & { run_id: string }>(this.dataSource, APPEND_FENCED_STEPS, [
      JSON.stringify(batch),
      // The transaction waits for the WAL flush if any of its steps must be durable.
      steps.every((s) => s.durable === false),
    ]);
    const byRun = new Map(rows.map((r) => [r.run_id, r]));
    return steps.map((s) => {
      const row = byRun.get(s.runId);
      return row ? written(row) : null;
    });
  }

  // The intent, fenced like a step: false = this replica no longer holds the run.
  // The intents of several runs asked for in the same turn share one statement, like their steps.
  recordToolIntent(intent: ToolIntent): Promise<boolean> {
    return this.intents.add(intent);
  }

  private async recordOne(intent: ToolIntent): Promise<boolean> {
    try {
      const rows = await preparedQuery<{ run_id: string }>(this.dataSource, RECORD_TOOL_INTENT, [
        intent.runId,
        intent.owner,
        intent.toolUseId,
        intent.name,
        intent.inputJson,
      ]);
      return rows.length > 0;
    } catch (err) {
      if (violatesConstraint(err, PgState.UNIQUE_VIOLATION)) return false;
      throw err;
    }
  }

  private async recordMany(intents: ToolIntent[]): Promise<boolean[]> {
    const batch = intents.map((i) => ({ run_id: i.runId, owner: i.owner, tool_use_id: i.toolUseId, name: i.name, input_json: i.inputJson }));
    const rows = await preparedQuery<{ run_id: string; tool_use_id: string }>(this.dataSource, RECORD_TOOL_INTENTS, [JSON.stringify(batch)]);
    const recorded = new Set(rows.map((r) => intentKey(r.run_id, r.tool_use_id)));
    return intents.map((i) => recorded.has(intentKey(i.runId, i.toolUseId)));
  }

  listToolIntents(runId: string): Promise<ToolCallEntity[]> {
    return this.dataSource.getRepository(ToolCallEntity).findBy({ runId });
  }

  // USD the team's runs created on the UTC day of `day` spent: the daily budget's input, in time
  // bounded by the team's running runs.
  async teamSpendOn(teamId: string, day: Date): Promise<number> {
    const rows = await preparedQuery<{ total: string }>(this.dataSource, TEAM_SPEND_ON, [teamId, utcDate(day)]);
    return Number(rows[0]?.total ?? 0);
  }

  // The run's final state, written after its final step, with the agent's reply as the
  // conversation's assistant message (unless an earlier attempt stored it), in one statement; only
  // by the replica holding the run. null = it does not hold it; else the run's model turns.
  async finishOwned(
    id: string,
    owner: string,
    status: RunStatusName,
    fields: { commitSha?: string; errorCode?: string; errorMessage?: string; reply: string },
  ): Promise<{ iterations: number } | null> {
    const rows = await preparedQuery<{ iterations: number }>(this.dataSource, FINISH_OWNED, [
      id,
      owner,
      status,
      fields.commitSha || null,
      fields.errorCode || null,
      fields.errorMessage || null,
      randomUUID(),
      fields.reply,
    ]);
    const row = rows[0];
    return row ? { iterations: Number(row.iterations) } : null;
  }

  async finish(
    id: string,
    status: RunStatusName,
    fields: { commitSha?: string; errorCode?: string; errorMessage?: string; iterations: number },
  ): Promise<void> {
    await this.dataSource.getRepository(RunEntity).update(
      { id },
      {
        status,
        commitSha: fields.commitSha ?? null,
        errorCode: fields.errorCode ?? null,
        errorMessage: fields.errorMessage ?? null,
        iterations: fields.iterations,
        finishedAt: new Date(),
      },
    );
  }

  // Checkpoint: the step is durable before the run acts on its result.
  async appendStep(runId: string, kind: string, summary: string, data: Record<string, unknown>, status: RunStatusName = 'running'): Promise<RunStepEntity> {
    const repo = this.dataSource.getRepository(RunStepEntity);
    const rows: Array<{ next: number }> = await this.dataSource.query(
      `SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM "orchestrator"."run_steps" WHERE run_id = $1`,
      [runId],
    );
    const step = repo.create({ id: randomUUID(), runId, seq: Number(rows[0]?.next ?? 1), kind, summary, data, status });
    return repo.save(step);
  }
}

export function cancelMessage(reason: string): string {
  return reason ? `Cancelled: ${reason}` : 'Cancelled on request';
}

// TypeORM's raw query result for UPDATE on Postgres is [rows, affectedCount].
function rowCount(result: unknown): number {
  return Array.isArray(result) && typeof result[1] === 'number' ? result[1] : 0;
}

// A message's or run's reference to its app.
const APP_REFERENCES = ['messages_app_id_fkey', 'runs_app_id_fkey'];

export interface ToolIntent {
  runId: string;
  owner: string;
  toolUseId: string;
  name: string;
  inputJson: string;
}

function intentKey(runId: string, toolUseId: string): string {
  return `${runId} ${toolUseId}`;
}

export interface FencedStepWritten {
  createdAt: Date;
  cancelRequested: boolean;
  cancelReason: string;
}

interface FencedStepRow {
  created_at: Date;
  cancel_requested_at: Date | null;
  cancel_reason: string | null;
}

function usageOf(step: FencedStep): NonNullable<FencedStep['usage']> {
  return step.usage ?? { inputTokens: 0, outputTokens: 0, costUsd: 0, iterations: 0 };
}

function written(row: FencedStepRow): FencedStepWritten {
  return { createdAt: new Date(row.created_at), cancelRequested: row.cancel_requested_at !== null, cancelReason: row.cancel_reason ?? '' };
}

// The server's answer that a shared statement failed whole (a data exception, an integrity
// constraint such as one run's seq or intent written already, a transaction rollback such as a
// deadlock): nothing of it committed, so each of its rows is written alone for its own answer. A
// lost connection or a client deadline may have come after the commit, and is not one of these.
function refusedWhole(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && typeof (err as { severity?: unknown }).severity === 'string' && /^(22|23|40)/.test(code);
}

// A UTC day as PostgreSQL's date text, from any moment of it.
function utcDate(day: Date): string {
  return day.toISOString().slice(0, 10);
}
