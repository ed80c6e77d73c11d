import pino from 'pino';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { orchestratorEnvSchema, type OrchestratorEnv } from '../config';
import { TaskRetentionRepository } from './task-retention.repository';
import { TaskRetentionService } from './task-retention.service';
import { openScratchOrchestratorDatabase, type ScratchOrchestratorDatabase } from '../__tests__/scratch-orchestrator-database';

// Retention on the real PostgreSQL, in a database of its own: deliveries past the retention go,
// younger ones stay; the workspace of a task that ended past the grace goes (app row, runs and
// messages), as does one whose task is gone, while those of running, recent or followed-up tasks
// and every ordinary app stay. Fewer than 7 days of deliveries is refused at startup.
jest.setTimeout(60_000);

describe('TaskRetentionService.sweep', () => {
  let db: ScratchOrchestratorDatabase;
  let ds: DataSource;
  let service: TaskRetentionService;
  const team = randomUUID();
  const env = { TASK_RETENTION_INTERVAL_MS: 0, TASK_DELIVERY_RETENTION_DAYS: 7, TASK_WORKSPACE_GRACE_DAYS: 7 } as OrchestratorEnv;

  beforeAll(async () => {
    db = await openScratchOrchestratorDatabase('task_retention');
    ds = db.ds;
    service = new TaskRetentionService(env, new TaskRetentionRepository(ds), pino({ level: 'silent' }));
  });

  afterAll(async () => {
    await db?.close();
  });

  const delivery = async (ageDays: number) => {
    const id = randomUUID();
    await ds.query(
      `INSERT INTO orchestrator.github_deliveries (delivery_id, event, action, repository, payload, received_at) VALUES ($1, 'issues', 'labeled', 'acme/r', '{}', now() - ($2 * interval '1 day'))`,
      [id, ageDays],
    );
    return id;
  };
  const app = async (kind: 'task' | 'app') => {
    const id = randomUUID();
    await ds.query(`INSERT INTO orchestrator.apps (id, team_id, name, template, kind) VALUES ($1, $2, 'acme/r', 'github', $3)`, [id, team, kind]);
    const message = randomUUID();
    await ds.query(`INSERT INTO orchestrator.messages (id, app_id, team_id, role, content) VALUES ($1, $2, $3, 'user', 'do it')`, [message, id, team]);
    await ds.query(`INSERT INTO orchestrator.runs (id, app_id, team_id, message_id, status) VALUES ($1, $2, $3, $4, 'completed')`, [
      randomUUID(),
      id,
      team,
      message,
    ]);
    return id;
  };
  let issue = 1;
  const task = async (projectId: string, status: string, endedDaysAgo: number | null, pending = 0) => {
    const id = randomUUID();
    const appId = await app('task');
    await ds.query(
      `INSERT INTO orchestrator.tasks (id, team_id, project_id, repository, issue_number, title, status, priority, branch, delivery_id, app_id, base_sha, finished_at, pending_follow_ups)
       VALUES ($1, $2, $3, 'acme/r', $4, 't', $5, 50, 'b', 'test', $6, 'abc', CASE WHEN $7::float8 IS NULL THEN NULL ELSE now() - ($7::float8 * interval '1 day') END, $8)`,
      [id, team, projectId, issue++, status, appId, endedDaysAgo, pending],
    );
    return { id, appId };
  };
  const exists = async (appId: string) => ((await ds.query('SELECT 1 FROM orchestrator.apps WHERE id = $1', [appId])) as unknown[]).length === 1;

  it('removes deliveries past the retention and keeps younger ones', async () => {
    const [old, older, recent, young] = [await delivery(8), await delivery(30), await delivery(6.9), await delivery(0)];
    expect((await service.sweep()).deliveries).toBe(2);
    const left = ((await ds.query('SELECT delivery_id FROM orchestrator.github_deliveries')) as Array<{ delivery_id: string }>).map((r) => r.delivery_id);
    expect(left.sort()).toEqual([recent, young].sort());
    expect(left).not.toContain(old);
    expect(left).not.toContain(older);
  });

  it('removes the workspaces of tasks ended past the grace and of tasks that are gone, and nothing else', async () => {
    const project = randomUUID();
    await ds.query(
      `INSERT INTO orchestrator.projects (id, team_id, repository, auth_kind, secret, labels, priority_labels, base_branch, answer_mode, concurrency)
       VALUES ($1, $2, 'acme/r', 'token', 'sealed', '{}', '[]', 'main', 'auto', 2)`,
      [project, team],
    );
    const completed = await task(project, 'completed', 8);
    const failed = await task(project, 'failed', 10);
    const recent = await task(project, 'completed', 1);
    const followedUp = await task(project, 'completed', 8, 1);
    const running = await task(project, 'running', null);
    const orphan = await app('task');
    const ordinary = await app('app');
    const { workspaces } = await service.sweep();
    expect(workspaces).toBe(3);
    for (const gone of [completed.appId, failed.appId, orphan]) expect(await exists(gone)).toBe(false);
    for (const kept of [recent.appId, followedUp.appId, running.appId, ordinary]) expect(await exists(kept)).toBe(true);
    // Their runs and messages went with them; the task rows stay, without a workspace.
    expect(((await ds.query('SELECT 1 FROM orchestrator.runs WHERE app_id = $1', [completed.appId])) as unknown[]).length).toBe(0);
    const rows = (await ds.query('SELECT id, app_id, base_sha, status FROM orchestrator.tasks WHERE id = ANY($1::uuid[])', [
      [completed.id, recent.id],
    ])) as Array<{
      id: string;
      app_id: string | null;
      base_sha: string | null;
      status: string;
    }>;
    expect(rows.find((r) => r.id === completed.id)).toMatchObject({ app_id: null, base_sha: null, status: 'completed' });
    expect(rows.find((r) => r.id === recent.id)).toMatchObject({ app_id: recent.appId, base_sha: 'abc' });
    // Removing a project (its tasks go with it) leaves workspaces no task names: the next sweep takes them.
    await ds.query('DELETE FROM orchestrator.projects WHERE id = $1', [project]);
    expect((await service.sweep()).workspaces).toBe(3);
    expect(await exists(ordinary)).toBe(true);
    expect((await service.sweep()).workspaces).toBe(0);
  });

  it('refuses to keep deliveries for less than 7 days', () => {
    const parsed = orchestratorEnvSchema.safeParse({ DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db', TASK_DELIVERY_RETENTION_DAYS: '3' });
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error?.issues)).toContain('must be at least 7');
    expect(orchestratorEnvSchema.parse({ DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db' }).TASK_DELIVERY_RETENTION_DAYS).toBe(7);
  });
});
