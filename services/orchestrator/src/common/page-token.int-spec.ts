import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { AppsRepository } from '../apps/apps.repository';
import { ProjectsRepository } from '../projects/projects.repository';
import { decodePageToken, paginate } from './page-token';
import { openScratchOrchestratorDatabase, type ScratchOrchestratorDatabase } from '../__tests__/scratch-orchestrator-database';

// Keyset pages over rows created within one millisecond, on the real PostgreSQL: the token
// carries milliseconds, created_at microseconds. Both query forms are covered: the apps list's
// prepared statement and a TypeORM query builder (projects).
jest.setTimeout(60_000);

describe('page tokens over rows of the same millisecond', () => {
  let db: ScratchOrchestratorDatabase;
  let ds: DataSource;
  const team = randomUUID();
  // Newest first, all within 12:00:00.123.
  const micros = ['.123900', '.123700', '.123500', '.123300', '.123100'];

  beforeAll(async () => {
    db = await openScratchOrchestratorDatabase('page_tokens');
    ds = db.ds;
    for (const [i, us] of micros.entries()) {
      const at = `2026-12-05T12:00:00${us}Z`;
      await ds.query(`INSERT INTO orchestrator.apps (id, team_id, name, description, template, created_at) VALUES ($1, $2, $3, '', 'empty', $4)`, [
        randomUUID(),
        team,
        `app ${i}`,
        at,
      ]);
      await ds.query(
        `INSERT INTO orchestrator.projects
           (id, team_id, repository, auth_kind, secret, labels, priority_labels, base_branch, answer_mode, concurrency, created_at)
         VALUES ($1, $2, $3, 'token', 's', '{}', '[]', 'main', 'pull_request', 1, $4)`,
        [randomUUID(), team, `acme/repo-${i}`, at],
      );
    }
  });

  afterAll(async () => {
    await db?.close();
  });

  // Walks every page of one row through the encoded token, as a client would.
  const walk = async <T extends { createdAt: Date | string; id: string }>(
    list: (after?: { createdAt: Date; id: string }) => Promise<T[]>,
    onPage?: (row: T) => Promise<void>,
  ) => {
    const seen: T[] = [];
    let token = '';
    do {
      const { page, nextPageToken } = paginate(await list(decodePageToken(token)), 1);
      seen.push(...page);
      for (const row of page) await onPage?.(row);
      token = nextPageToken;
    } while (token);
    return seen;
  };

  it('lists every app once, in order, one per page', async () => {
    const apps = new AppsRepository(ds);
    const seen = await walk((after) => apps.listForTeam(team, 2, after));
    expect(seen.map((a) => a.name)).toEqual(['app 0', 'app 1', 'app 2', 'app 3', 'app 4']);
  });

  it('lists every project once, in order, one per page', async () => {
    const projects = new ProjectsRepository(ds);
    const seen = await walk((after) => projects.listForTeam(team, 2, after));
    expect(seen.map((p) => p.repository)).toEqual(['acme/repo-0', 'acme/repo-1', 'acme/repo-2', 'acme/repo-3', 'acme/repo-4']);
  });

  it('skips nothing when the row a token points at is deleted before the next page', async () => {
    const apps = new AppsRepository(ds);
    const deleted: string[] = [];
    const seen = await walk(
      (after) => apps.listForTeam(team, 2, after),
      async (row) => {
        if (row.name !== 'app 1') return;
        await ds.query('DELETE FROM orchestrator.apps WHERE id = $1', [row.id]);
        deleted.push(row.id);
      },
    );
    const names = seen.map((a) => a.name);
    // The page after the deleted row starts from the token's millisecond: rows may repeat, none is missing.
    for (const name of ['app 0', 'app 1', 'app 2', 'app 3', 'app 4']) expect(names).toContain(name);
    expect(deleted).toHaveLength(1);
  });
});
