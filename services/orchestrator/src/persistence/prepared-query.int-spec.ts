import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { openScratchOrchestratorDatabase, type ScratchOrchestratorDatabase } from '../__tests__/scratch-orchestrator-database';
import { postedMessage } from '../__tests__/posted-message';
import { AppsRepository } from '../apps/apps.repository';
import { RunsRepository } from '../runs/runs.repository';
import { createOrchestratorDataSource } from './data-source';
import { AppEntity, MessageEntity, RunEntity, RunStepEntity } from './entities';
import { jsonEntities, preparedEntities } from './prepared-query';

// The reads every run makes, as prepared statements or JSON rows of its claim hydrated from
// TypeORM's metadata, on the real PostgreSQL in a database of their own: each must hand back what
// TypeORM's own read hands back (instances of the entity, every column converted the same way,
// nulls included). And a message with its run is written whole or not at all.
jest.setTimeout(60_000);

describe('prepared entity reads', () => {
  let db: ScratchOrchestratorDatabase;
  let ds: DataSource;
  let runs: RunsRepository;
  let apps: AppsRepository;
  const teamId = randomUUID();
  const appId = randomUUID();
  let posted: { messageId: string; runId: string; enqueueToken: string };

  beforeAll(async () => {
    db = await openScratchOrchestratorDatabase('prepared_entities');
    ds = db.ds;
    runs = new RunsRepository(ds);
    apps = new AppsRepository(ds);
    await ds.query(
      `INSERT INTO orchestrator.apps (id, team_id, name, description, template, max_iterations, init_sha) VALUES ($1, $2, 'a', 'd', 'empty', 7, 'abc')`,
      [appId, teamId],
    );
    posted = await postedMessage(runs, { appId, teamId, content: 'hello', authorId: 'user-1' });
    // Every kind of column set, from the run's own statements: usage (bigint, numeric), lease, a step's jsonb.
    await ds.query(
      `UPDATE orchestrator.runs SET status = 'running', lease_owner = 'r', lease_until = now() + interval '1 minute', started_at = now(), error_code = NULL WHERE id = $1`,
      [posted.runId],
    );
    for (const seq of [2, 1]) {
      const written = await runs.appendFencedStep({
        runId: posted.runId,
        owner: 'r',
        leaseMs: 60_000,
        seq,
        kind: 'model_call',
        summary: `step ${seq}`,
        data: { content: [{ type: 'text', text: 'hi' }], costUsd: 0.25, nested: { n: seq, none: null } },
        status: 'running',
        usage: { inputTokens: 12_345_678_901, outputTokens: 3, costUsd: 0.123456, iterations: 1 },
      });
      expect(written).not.toBeNull();
    }
  });

  afterAll(async () => {
    await db?.close();
  });

  it('reads a run, and with its claim its message, its steps and its app, as TypeORM does', async () => {
    const run = await runs.findRun(posted.runId);
    expect(run).toBeInstanceOf(RunEntity);
    expect(run).toEqual(await ds.getRepository(RunEntity).findOneBy({ id: posted.runId }));
    expect(run).toMatchObject({ inputTokens: '24691357802', costUsd: '0.246912', leaseOwner: 'r', errorCode: null, finishedAt: null });
    expect(run?.leaseUntil).toBeInstanceOf(Date);

    const claim = await runs.claim(posted.runId, 'r', 60_000, { historyLimit: 10 });
    if (!('claimed' in claim)) throw new Error(`not claimed: ${JSON.stringify(claim)}`);
    const start = claim.claimed;
    expect(start.run).toEqual(await ds.getRepository(RunEntity).findOneBy({ id: posted.runId }));

    expect(start.message).toBeInstanceOf(MessageEntity);
    expect(start.message).toEqual(await ds.getRepository(MessageEntity).findOneBy({ id: posted.messageId }));
    expect(start.message).toMatchObject({ role: 'user', content: 'hello', authorId: 'user-1', runId: posted.runId, idempotencyKey: null });

    const steps = await runs.listSteps(posted.runId);
    expect(steps.map((s) => s.seq)).toEqual([1, 2]);
    expect(steps[0]).toBeInstanceOf(RunStepEntity);
    expect(steps).toEqual(await ds.getRepository(RunStepEntity).find({ where: { runId: posted.runId }, order: { seq: 'ASC' } }));
    expect(steps[0]?.data).toEqual({ content: [{ type: 'text', text: 'hi' }], costUsd: 0.25, nested: { n: 1, none: null } });
    expect(start.steps[0]).toBeInstanceOf(RunStepEntity);
    expect(start.steps).toEqual(steps);

    expect(start.app).toBeInstanceOf(AppEntity);
    expect(start.app).toEqual(await ds.getRepository(AppEntity).findOneBy({ id: appId }));
    expect(await apps.findForTeam(teamId, appId)).toEqual(start.app);
    // JSON numbers are not pg's exact text of a bigint or numeric.
    expect(() => jsonEntities(ds, RunEntity, [])).toThrow('RunEntity.inputTokens (bigint) cannot be read from JSON exactly');
  });

  it('finds nothing for a missing row, another team or a task workspace', async () => {
    expect(await runs.findRun(randomUUID())).toBeNull();
    expect(await runs.listSteps(randomUUID())).toEqual([]);
    expect(await apps.findForTeam(randomUUID(), appId)).toBeNull();
    const task = randomUUID();
    await apps.insertTaskWorkspace({ id: task, teamId, name: 'task', description: '' });
    expect(await apps.findForTeam(teamId, task)).toBeNull();
    // A task's run starts from its workspace all the same (the task attaches it, not a post).
    const [taskMessage, taskRun] = [randomUUID(), randomUUID()];
    await ds.query(
      `WITH m AS (INSERT INTO orchestrator.messages (id, app_id, team_id, role, content, author_id, run_id) VALUES ($1, $2, $3, 'user', 'fix it', '', $4))
       INSERT INTO orchestrator.runs (id, app_id, team_id, message_id, status, iterations) VALUES ($4, $2, $3, $1, 'queued', 0)`,
      [taskMessage, task, teamId, taskRun],
    );
    expect(await runs.claim(taskRun, 'r', 60_000)).toHaveProperty('claimed.app.kind', 'task');
  });

  it('pages an app’s messages newest first, as TypeORM’s query builder did', async () => {
    const app = randomUUID();
    await ds.query(`INSERT INTO orchestrator.apps (id, team_id, name, template) VALUES ($1, $2, 'paged', 'empty')`, [app, teamId]);
    // Two share a creation time: the id orders them.
    const times = [5, 4, 3, 3, 1];
    for (const [i, ms] of times.entries()) {
      await ds.query(
        `INSERT INTO orchestrator.messages (id, app_id, team_id, role, content, created_at) VALUES ($1, $2, $3, 'user', $4, now() - make_interval(secs => $5::float / 1000))`,
        [randomUUID(), app, teamId, `m${i}`, ms],
      );
    }
    const expected = await ds
      .getRepository(MessageEntity)
      .createQueryBuilder('m')
      .where('m.app_id = :app', { app })
      .orderBy('m.created_at', 'DESC')
      .addOrderBy('m.id', 'DESC')
      .getMany();
    const seen: MessageEntity[] = [];
    let page = await runs.listMessages(app, 2);
    while (page.length > 0) {
      seen.push(...page);
      const last = page[page.length - 1]!;
      page = await runs.listMessages(app, 2, { createdAt: last.createdAt, id: last.id });
    }
    expect(seen).toEqual(expected);
    expect(seen[0]).toBeInstanceOf(MessageEntity);
  });

  it('writes a message and its run together, or neither', async () => {
    const app = randomUUID();
    await ds.query(`INSERT INTO orchestrator.apps (id, team_id, name, template) VALUES ($1, $2, 'atomic', 'empty')`, [app, teamId]);
    const created = await postedMessage(runs, { appId: app, teamId, content: 'one', authorId: '' });
    expect(await runs.findRun(created.runId)).toMatchObject({ messageId: created.messageId, status: 'queued', enqueueToken: created.enqueueToken });
    // The run's insert refused after the message's: the statement leaves no message behind.
    await ds.query(`CREATE FUNCTION orchestrator.refuse_run() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$`);
    await ds.query(`CREATE TRIGGER refuse_run BEFORE INSERT ON orchestrator.runs FOR EACH ROW EXECUTE FUNCTION orchestrator.refuse_run()`);
    try {
      await expect(runs.insertMessageWithRun({ appId: app, teamId, content: 'two', authorId: '' })).rejects.toThrow(/refused/);
    } finally {
      await ds.query(`DROP TRIGGER refuse_run ON orchestrator.runs`);
      await ds.query(`DROP FUNCTION orchestrator.refuse_run()`);
    }
    const contents = (await ds.query(`SELECT content FROM orchestrator.messages WHERE app_id = $1`, [app])) as Array<{ content: string }>;
    expect(contents.map((c) => c.content)).toEqual(['one']);
  });

  it('stores no post for an app the team does not have, a task’s workspace, or an app deleted meanwhile', async () => {
    const task = randomUUID();
    await apps.insertTaskWorkspace({ id: task, teamId, name: 'task', description: '' });
    const gone = randomUUID();
    await ds.query(`INSERT INTO orchestrator.apps (id, team_id, name, template) VALUES ($1, $2, 'gone', 'empty')`, [gone, teamId]);
    const count = (): Promise<unknown> =>
      ds.query(`SELECT (SELECT count(*) FROM orchestrator.messages) AS messages, (SELECT count(*) FROM orchestrator.runs) AS runs`);
    const before = await count();
    for (const [app, team] of [
      [randomUUID(), teamId],
      [appId, randomUUID()],
      [task, teamId],
    ] as const) {
      expect(await runs.insertMessageWithRun({ appId: app, teamId: team, content: 'x', authorId: '' })).toBe('no-app');
    }
    // The app goes after the statement read it: its references then fail, and the post is answered the same.
    await ds.query(
      `CREATE FUNCTION orchestrator.drop_app() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN DELETE FROM orchestrator.apps WHERE id = NEW.app_id; RETURN NEW; END $$`,
    );
    await ds.query(`CREATE TRIGGER drop_app BEFORE INSERT ON orchestrator.runs FOR EACH ROW EXECUTE FUNCTION orchestrator.drop_app()`);
    try {
      expect(await runs.insertMessageWithRun({ appId: gone, teamId, content: 'x', authorId: '', idempotencyKey: 'k2', keyWindowMs: 60_000 })).toBe('no-app');
    } finally {
      await ds.query(`DROP TRIGGER drop_app ON orchestrator.runs`);
      await ds.query(`DROP FUNCTION orchestrator.drop_app()`);
    }
    expect(await count()).toEqual(before);
  });

  it('takes a key again once its window has passed, and not before', async () => {
    const app = randomUUID();
    await ds.query(`INSERT INTO orchestrator.apps (id, team_id, name, template) VALUES ($1, $2, 'keyed', 'empty')`, [app, teamId]);
    const first = await postedMessage(runs, { appId: app, teamId, content: 'a', authorId: '', idempotencyKey: 'k', keyWindowMs: 60_000 });
    expect(await runs.insertMessageWithRun({ appId: app, teamId, content: 'b', authorId: '', idempotencyKey: 'k', keyWindowMs: 60_000 })).toBeNull();
    await ds.query(`UPDATE orchestrator.messages SET created_at = now() - interval '2 minutes' WHERE id = $1`, [first.messageId]);
    const again = await postedMessage(runs, { appId: app, teamId, content: 'c', authorId: '', idempotencyKey: 'k', keyWindowMs: 60_000 });
    expect((await runs.findKeyedMessage(teamId, app, 'k', 60_000))?.id).toBe(again.messageId);
    expect((await ds.getRepository(MessageEntity).findOneBy({ id: first.messageId }))?.idempotencyKey).toBeNull();
  });

  it('refuses like any TypeORM query while the data source is not connected', async () => {
    const closed = createOrchestratorDataSource(db.url);
    await expect(preparedEntities(closed, RunEntity, { name: 'orchestrator.runs.by-id', tail: 'WHERE id = $1' }, [randomUUID()])).rejects.toThrow(
      /not connected/i,
    );
    await expect(new RunsRepository(closed).findRun(randomUUID())).rejects.toThrow(/not connected/i);
  });
});
