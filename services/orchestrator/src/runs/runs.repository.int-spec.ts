import { randomUUID } from 'node:crypto';
import type { DataSource, QueryRunner } from 'typeorm';
import { RunsRepository, type FencedStep } from './runs.repository';
import { openScratchOrchestratorDatabase, type ScratchOrchestratorDatabase } from '../__tests__/scratch-orchestrator-database';

// A checkpoint's commit mode on the real PostgreSQL, in a database of its own: a step marked
// not durable turns synchronous_commit off for its own transaction only, and stays fenced by the
// lease like any other step.
jest.setTimeout(60_000);

describe('RunsRepository: checkpoint commit mode, final state', () => {
  let db: ScratchOrchestratorDatabase;
  let ds: DataSource;
  let runner: QueryRunner;
  // The repository's statements on one connection, so the test can look inside their transaction.
  let runs: RunsRepository;
  const owner = 'replica-a';

  beforeAll(async () => {
    db = await openScratchOrchestratorDatabase('run_steps');
    ds = db.ds;
    runner = ds.createQueryRunner();
    await runner.connect();
    runs = new RunsRepository({ query: (sql: string, params?: unknown[]) => runner.query(sql, params) } as unknown as DataSource);
  });

  afterAll(async () => {
    await runner?.release();
    await db?.close();
  });

  const runningRun = async (): Promise<string> => {
    const [appId, messageId, runId, teamId] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    await ds.query(`INSERT INTO orchestrator.apps (id, team_id, name, template) VALUES ($1, $2, 'a', 'empty')`, [appId, teamId]);
    await ds.query(`INSERT INTO orchestrator.messages (id, app_id, team_id, role, content, run_id) VALUES ($1, $2, $3, 'user', 'hi', $4)`, [
      messageId,
      appId,
      teamId,
      runId,
    ]);
    await ds.query(
      `INSERT INTO orchestrator.runs (id, app_id, team_id, message_id, status, lease_owner, lease_until, started_at)
       VALUES ($1, $2, $3, $4, 'running', $5, now() + interval '1 minute', now())`,
      [runId, appId, teamId, messageId, owner],
    );
    return runId;
  };
  const step = (runId: string, seq: number, durable?: boolean, by = owner): FencedStep => ({
    runId,
    owner: by,
    leaseMs: 60_000,
    seq,
    kind: 'tool_call',
    summary: 'read_file: hello',
    data: { name: 'read_file' },
    status: 'running',
    durable,
  });
  const commitMode = async () => ((await runner.query('SHOW synchronous_commit')) as Array<{ synchronous_commit: string }>)[0]?.synchronous_commit;
  // What `work` answered, and the names of the prepared statements it sent to the pool, in order.
  const withStatements = async <T>(work: () => Promise<T>): Promise<{ answers: T; names: Array<string | undefined> }> => {
    const pool = (ds.driver as unknown as { master: { query: (config: { name?: string }) => unknown } }).master;
    const statements = jest.spyOn(pool, 'query');
    try {
      const answers = await work();
      return { answers, names: statements.mock.calls.map(([config]) => config.name) };
    } finally {
      statements.mockRestore();
    }
  };

  it('commits a step that is not durable without waiting for the flush, and only that transaction', async () => {
    const runId = await runningRun();
    await runner.startTransaction();
    expect(await runs.appendFencedStep(step(runId, 1, false))).not.toBeNull();
    // Read at commit time: the step's own transaction commits asynchronously.
    expect(await commitMode()).toBe('off');
    await runner.commitTransaction();
    // Set LOCAL: the pooled connection's next statement waits for the flush again.
    expect(await commitMode()).toBe('on');

    await runner.startTransaction();
    expect(await runs.appendFencedStep(step(runId, 2))).not.toBeNull();
    expect(await commitMode()).toBe('on');
    await runner.commitTransaction();

    const rows = (await ds.query('SELECT seq FROM orchestrator.run_steps WHERE run_id = $1 ORDER BY seq', [runId])) as Array<{ seq: number }>;
    expect(rows.map((r) => r.seq)).toEqual([1, 2]);
  });

  it('fences a step that is not durable by the lease like any other', async () => {
    const runId = await runningRun();
    expect(await runs.appendFencedStep(step(runId, 1, false, 'replica-b'))).toBeNull();
    expect(await commitMode()).toBe('on');
    expect(await runs.appendFencedStep(step(runId, 1, false))).not.toBeNull();
    // A second writer of the same seq is refused, whatever the commit mode.
    expect(await runs.appendFencedStep(step(runId, 1, false))).toBeNull();
    const rows = (await ds.query('SELECT count(*)::int AS n FROM orchestrator.run_steps WHERE run_id = $1', [runId])) as Array<{ n: number }>;
    expect(rows[0]?.n).toBe(1);
  });

  it('writes steps and intents as named prepared statements on the pool, fenced the same way', async () => {
    // The real data source: the statements go to the driver's pool, prepared once per connection.
    const pooled = new RunsRepository(ds);
    const runId = await runningRun();
    const viaTypeorm = jest.spyOn(ds, 'query');
    for (let seq = 1; seq <= 8; seq++) {
      expect(
        await pooled.appendFencedStep({ ...step(runId, seq, seq % 2 === 0), usage: { inputTokens: 10, outputTokens: 5, costUsd: 0.001, iterations: 1 } }),
      ).not.toBeNull();
    }
    expect(await pooled.appendFencedStep(step(runId, 9, true, 'replica-b'))).toBeNull();
    expect(await pooled.appendFencedStep(step(runId, 8, true))).toBeNull();
    expect(await pooled.recordToolIntent({ runId, owner, toolUseId: 'tu-1', name: 'write_file', inputJson: '{}' })).toBe(true);
    expect(await pooled.recordToolIntent({ runId, owner, toolUseId: 'tu-1', name: 'write_file', inputJson: '{}' })).toBe(false);
    expect(await pooled.recordToolIntent({ runId, owner: 'replica-b', toolUseId: 'tu-2', name: 'write_file', inputJson: '{}' })).toBe(false);
    // TypeORM's query runner was skipped: every statement went to the pool by name.
    expect(viaTypeorm).not.toHaveBeenCalled();
    viaTypeorm.mockRestore();
    const [row] = (await ds.query(`SELECT input_tokens, output_tokens, cost_usd::text AS cost, iterations FROM orchestrator.runs WHERE id = $1`, [
      runId,
    ])) as Array<Record<string, unknown>>;
    expect(row).toEqual({ input_tokens: '80', output_tokens: '40', cost: '0.008000', iterations: 8 });
  });

  it('writes the checkpoints of several runs asked for in one turn in one statement, each fenced by its own lease', async () => {
    const pooled = new RunsRepository(ds);
    const [a, b, lost] = [await runningRun(), await runningRun(), await runningRun()];
    await ds.query(`UPDATE orchestrator.runs SET cancel_requested_at = now(), cancel_reason = 'user' WHERE id = $1`, [b]);
    const usage = { inputTokens: 10, outputTokens: 5, costUsd: 0.001, iterations: 1 };
    const { answers, names } = await withStatements(() =>
      Promise.all([
        pooled.appendFencedStep({ ...step(a, 1), usage }),
        pooled.appendFencedStep({ ...step(b, 1, false), usage, data: { name: 'read_file', text: 'a "quoted" \\ line\nand {braces}, ünïcode' } }),
        pooled.appendFencedStep({ ...step(lost, 1, true, 'replica-b'), usage }),
      ]),
    );
    const [wroteA, wroteB, wroteLost] = answers;
    expect(names).toEqual(['orchestrator.runs.append-fenced-steps']);
    expect(wroteA).toEqual({ createdAt: expect.any(Date), cancelRequested: false, cancelReason: '' });
    expect(wroteB).toEqual({ createdAt: wroteA!.createdAt, cancelRequested: true, cancelReason: 'user' });
    expect(wroteLost).toBeNull();

    const rows = (await ds.query(
      `SELECT r.id, r.input_tokens, r.cost_usd::text AS cost, r.iterations, s.seq, s.kind, s.data
         FROM orchestrator.runs r LEFT JOIN orchestrator.run_steps s ON s.run_id = r.id WHERE r.id = ANY($1) ORDER BY r.id`,
      [[a, b, lost]],
    )) as Array<Record<string, unknown>>;
    const of = (id: string) => rows.filter((r) => r.id === id).map(({ id: _, ...rest }) => rest);
    expect(of(a)).toEqual([{ input_tokens: '10', cost: '0.001000', iterations: 1, seq: 1, kind: 'tool_call', data: { name: 'read_file' } }]);
    expect(of(b)).toEqual([
      {
        input_tokens: '10',
        cost: '0.001000',
        iterations: 1,
        seq: 1,
        kind: 'tool_call',
        data: { name: 'read_file', text: 'a "quoted" \\ line\nand {braces}, ünïcode' },
      },
    ]);
    // Fenced: the run this replica does not hold got neither a step nor its usage.
    expect(of(lost)).toEqual([{ input_tokens: '0', cost: '0.000000', iterations: 0, seq: null, kind: null, data: null }]);
  });

  it('answers each step alone when the database refuses the shared statement, writing every other step once', async () => {
    const pooled = new RunsRepository(ds);
    const [taken, a, b] = [await runningRun(), await runningRun(), await runningRun()];
    expect(await pooled.appendFencedStep(step(taken, 1))).not.toBeNull();
    const usage = { inputTokens: 7, outputTokens: 3, costUsd: 0.002, iterations: 1 };
    // seq 1 of `taken` is written already: the shared statement fails on its unique key.
    const { answers, names } = await withStatements(() =>
      Promise.all([
        pooled.appendFencedStep({ ...step(a, 1), usage }),
        pooled.appendFencedStep({ ...step(taken, 1), usage }),
        pooled.appendFencedStep({ ...step(b, 1), usage }),
      ]),
    );
    expect(names).toEqual([
      'orchestrator.runs.append-fenced-steps',
      'orchestrator.runs.append-fenced-step',
      'orchestrator.runs.append-fenced-step',
      'orchestrator.runs.append-fenced-step',
    ]);
    expect(answers.map((w) => w !== null)).toEqual([true, false, true]);
    const rows = (await ds.query(
      `SELECT r.id, r.input_tokens, (SELECT count(*)::int FROM orchestrator.run_steps s WHERE s.run_id = r.id) AS steps
         FROM orchestrator.runs r WHERE r.id = ANY($1)`,
      [[taken, a, b]],
    )) as Array<{ id: string; input_tokens: string; steps: number }>;
    const byId = new Map(rows.map((r) => [r.id, { tokens: r.input_tokens, steps: r.steps }]));
    expect(byId.get(a)).toEqual({ tokens: '7', steps: 1 });
    expect(byId.get(b)).toEqual({ tokens: '7', steps: 1 });
    expect(byId.get(taken)).toEqual({ tokens: '0', steps: 1 });
  });

  it('commits a shared statement without waiting for the flush only when none of its steps must be durable', async () => {
    const [a, b] = [await runningRun(), await runningRun()];
    await runner.startTransaction();
    const repeatable = await Promise.all([runs.appendFencedStep(step(a, 1, false)), runs.appendFencedStep(step(b, 1, false))]);
    expect(repeatable.every((w) => w !== null)).toBe(true);
    expect(await commitMode()).toBe('off');
    await runner.commitTransaction();
    expect(await commitMode()).toBe('on');

    await runner.startTransaction();
    const mixed = await Promise.all([runs.appendFencedStep(step(a, 2, false)), runs.appendFencedStep(step(b, 2))]);
    expect(mixed.every((w) => w !== null)).toBe(true);
    expect(await commitMode()).toBe('on');
    await runner.commitTransaction();
    const rows = (await ds.query('SELECT count(*)::int AS n FROM orchestrator.run_steps WHERE run_id = ANY($1)', [[a, b]])) as Array<{ n: number }>;
    expect(rows[0]?.n).toBe(4);
  });

  it('records the intents of several runs asked for in one turn in one statement, fenced, and each alone when one was recorded already', async () => {
    const pooled = new RunsRepository(ds);
    const [a, b, lost] = [await runningRun(), await runningRun(), await runningRun()];
    const intent = (runId: string, toolUseId: string, by = owner) => ({
      runId,
      owner: by,
      toolUseId,
      name: 'write_file',
      inputJson: '{"path":"a \\"b\\".txt"}',
    });
    const { answers, names } = await withStatements(async () => [
      await Promise.all([
        pooled.recordToolIntent(intent(a, 'tu-1')),
        pooled.recordToolIntent(intent(b, 'tu-1')),
        pooled.recordToolIntent(intent(lost, 'tu-1', 'replica-b')),
      ]),
      // tu-1 of `a` is recorded already: the shared statement is refused, then each goes alone.
      await Promise.all([pooled.recordToolIntent(intent(a, 'tu-1')), pooled.recordToolIntent(intent(b, 'tu-2'))]),
    ]);
    expect(answers).toEqual([
      [true, true, false],
      [false, true],
    ]);
    expect(names).toEqual([
      'orchestrator.runs.record-tool-intents',
      'orchestrator.runs.record-tool-intents',
      'orchestrator.runs.record-tool-intent',
      'orchestrator.runs.record-tool-intent',
    ]);
    const rows = (await ds.query(
      `SELECT run_id, tool_use_id, input_json, lease_owner FROM orchestrator.tool_calls WHERE run_id = ANY($1) ORDER BY run_id, tool_use_id`,
      [[a, b, lost]],
    )) as Array<{ run_id: string; tool_use_id: string; input_json: string; lease_owner: string }>;
    expect(rows.map((r) => `${r.run_id === a ? 'a' : r.run_id === b ? 'b' : 'lost'} ${r.tool_use_id}`).sort()).toEqual(['a tu-1', 'b tu-1', 'b tu-2']);
    expect(rows.every((r) => r.input_json === '{"path":"a \\"b\\".txt"}' && r.lease_owner === owner)).toBe(true);
  });

  it('finishes the run and stores the reply in one statement, only for the lease holder, the reply once', async () => {
    const runId = await runningRun();
    const replies = async () =>
      (await ds.query(`SELECT content FROM orchestrator.messages WHERE run_id = $1 AND role = 'assistant'`, [runId])) as Array<{ content: string }>;
    expect(await runs.finishOwned(runId, 'replica-b', 'completed', { reply: 'Not mine' })).toBeNull();
    expect(await replies()).toEqual([]);

    await ds.query(`UPDATE orchestrator.runs SET iterations = 3 WHERE id = $1`, [runId]);
    expect(await runs.finishOwned(runId, owner, 'completed', { commitSha: 'a'.repeat(40), reply: 'Added the button.' })).toEqual({ iterations: 3 });
    expect(await replies()).toEqual([{ content: 'Added the button.' }]);
    const [row] = (await ds.query(`SELECT status, commit_sha, lease_owner FROM orchestrator.runs WHERE id = $1`, [runId])) as Array<Record<string, unknown>>;
    expect(row).toEqual({ status: 'completed', commit_sha: 'a'.repeat(40), lease_owner: null });

    // A reply stored by an earlier attempt (a crash before the run row was final) is not doubled.
    await ds.query(`UPDATE orchestrator.runs SET status = 'running', lease_owner = $2 WHERE id = $1`, [runId, owner]);
    expect(await runs.finishOwned(runId, owner, 'completed', { reply: 'Again' })).toEqual({ iterations: 3 });
    expect(await replies()).toEqual([{ content: 'Added the button.' }]);
  });
});
