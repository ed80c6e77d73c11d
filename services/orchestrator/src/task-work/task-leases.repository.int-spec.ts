import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { TaskEntity } from '../persistence/entities';
import { TaskLeasesRepository } from './task-leases.repository';
import { openScratchOrchestratorDatabase, type ScratchOrchestratorDatabase } from '../__tests__/scratch-orchestrator-database';

// The scheduler's claim on the real PostgreSQL, in a database of its own (no other suite's
// tasks): priority order across projects, each project's concurrency and the global cap, also
// with several replicas claiming at once, and a lapsed lease handed to another replica.
jest.setTimeout(60_000);

describe('TaskLeasesRepository.claimNext', () => {
  let db: ScratchOrchestratorDatabase;
  let ds: DataSource;
  let leases: TaskLeasesRepository;
  const team = randomUUID();

  beforeAll(async () => {
    db = await openScratchOrchestratorDatabase('task_claims');
    ds = db.ds;
    leases = new TaskLeasesRepository(ds);
  });

  afterAll(async () => {
    await db?.close();
  });

  beforeEach(async () => {
    await ds.query('DELETE FROM orchestrator.tasks');
    await ds.query('DELETE FROM orchestrator.projects');
  });

  const project = async (concurrency: number) => {
    const id = randomUUID();
    await ds.query(
      `INSERT INTO orchestrator.projects (id, team_id, repository, auth_kind, secret, labels, priority_labels, base_branch, answer_mode, concurrency)
       VALUES ($1, $2, $3, 'token', 'sealed', '{}', '[]', 'main', 'auto', $4)`,
      [id, team, `acme/r-${id.slice(0, 8)}`, concurrency],
    );
    return id;
  };
  let issue = 1;
  const task = async (projectId: string, priority: number) => {
    const id = randomUUID();
    const n = issue++;
    await ds.query(
      `INSERT INTO orchestrator.tasks (id, team_id, project_id, repository, issue_number, title, status, priority, branch, delivery_id, created_at)
       VALUES ($1, $2, $3, 'acme/r', $4::int, $5, 'queued', $6, $7, 'test', now() + ($4::int * interval '1 millisecond'))`,
      [id, team, projectId, n, `issue ${n}`, priority, `overskill/issue-${n}`],
    );
    return id;
  };
  const status = async (id: string) => ((await ds.query('SELECT status FROM orchestrator.tasks WHERE id = $1', [id])) as Array<{ status: string }>)[0]?.status;

  it('hands out tasks by priority across projects, oldest first within a priority', async () => {
    const [a, b] = [await project(10), await project(10)];
    const low = await task(a, 25);
    const normal1 = await task(b, 50);
    const urgent = await task(a, 100);
    const normal2 = await task(a, 50);
    const high = await task(b, 75);
    const order: string[] = [];
    for (;;) {
      const next = await leases.claimNext('r1', 60_000, 100);
      if (!next) break;
      order.push(next.id);
    }
    expect(order).toEqual([urgent, high, normal1, normal2, low]);
  });

  it('hands back the claimed task as it is after the claim, and renews its lease for its holder alone', async () => {
    const p = await project(1);
    const id = await task(p, 50);
    const claimed = await leases.claimNext('r1', 1_000, 10);
    expect(claimed).toBeInstanceOf(TaskEntity);
    expect(claimed).toEqual(await ds.getRepository(TaskEntity).findOneBy({ id }));
    expect(claimed).toMatchObject({ id, status: 'running', leaseOwner: 'r1', attempts: 1 });
    expect(await leases.renew(id, 'r2', 60_000)).toEqual({ held: false, cancelRequested: false });
    expect(await leases.renew(id, 'r1', 60_000)).toEqual({ held: true, cancelRequested: false });
    expect((await ds.getRepository(TaskEntity).findOneBy({ id }))!.leaseUntil!.getTime()).toBeGreaterThan(Date.now() + 50_000);
    await ds.query(`UPDATE orchestrator.tasks SET cancel_requested_at = now() WHERE id = $1`, [id]);
    expect(await leases.renew(id, 'r1', 60_000)).toEqual({ held: true, cancelRequested: true });
  });

  it('never runs more than a project’s concurrency or the global cap, with several replicas claiming at once', async () => {
    const projects = [await project(2), await project(1), await project(3)];
    for (const p of projects) for (let i = 0; i < 6; i++) await task(p, [25, 50, 75, 100][i % 4] ?? 50);
    // Eight replicas, each claiming as much as it can, all at once.
    const claimed = (
      await Promise.all(
        Array.from({ length: 8 }, async (_, r) => {
          const mine = [];
          for (let i = 0; i < 10; i++) {
            const t = await leases.claimNext(`r${r}`, 60_000, 5);
            if (t) mine.push(t);
          }
          return mine;
        }),
      )
    ).flat();
    const perProject = new Map<string, number>();
    for (const t of claimed) perProject.set(t.projectId, (perProject.get(t.projectId) ?? 0) + 1);
    // The cap (5) is below the projects' sum (6): it is what stops the claims.
    expect(claimed).toHaveLength(5);
    expect(new Set(claimed.map((t) => t.id)).size).toBe(5);
    expect(perProject.get(projects[0]!) ?? 0).toBeLessThanOrEqual(2);
    expect(perProject.get(projects[1]!) ?? 0).toBeLessThanOrEqual(1);
    expect(perProject.get(projects[2]!) ?? 0).toBeLessThanOrEqual(3);
    // A generous cap: each project's concurrency is then the limit.
    const more = [];
    for (let i = 0; i < 10; i++) {
      const t = await leases.claimNext('r9', 60_000, 100);
      if (t) more.push(t);
    }
    const running = (await ds.query(`SELECT project_id, count(*)::int AS n FROM orchestrator.tasks WHERE status = 'running' GROUP BY project_id`)) as Array<{
      project_id: string;
      n: number;
    }>;
    expect(Object.fromEntries(running.map((r) => [r.project_id, r.n]))).toEqual({ [projects[0]!]: 2, [projects[1]!]: 1, [projects[2]!]: 3 });
    expect(claimed.length + more.length).toBe(6);
  });

  it('gives a task whose lease lapsed to another replica, and fences the old holder out', async () => {
    const p = await project(1);
    const id = await task(p, 50);
    const first = await leases.claimNext('dead', 300, 10);
    expect(first?.id).toBe(id);
    // The project is at its concurrency while the lease is live.
    await task(p, 100);
    expect(await leases.claimNext('other', 60_000, 10)).toBeUndefined();
    await new Promise((r) => setTimeout(r, 400));
    const taken = await leases.claimNext('other', 60_000, 10);
    // The lapsed task and the urgent newcomer compete: the urgent one goes first, the lapsed one next.
    expect(taken?.priority).toBe(100);
    await leases.finish(taken!.id, 'other', 'completed');
    const resumed = await leases.claimNext('other', 60_000, 10);
    expect(resumed).toMatchObject({ id, attempts: 2, leaseOwner: 'other' });
    expect(await leases.record(id, 'dead', { baseSha: 'abc' })).toBe(false);
    expect(await leases.finish(id, 'dead', 'failed')).toBe(false);
    expect((await leases.renew(id, 'dead', 1000)).held).toBe(false);
    expect(await leases.finish(id, 'other', 'completed')).toBe(true);
    expect(await status(id)).toBe('completed');
  });
});
