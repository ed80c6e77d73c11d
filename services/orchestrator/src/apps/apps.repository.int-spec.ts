import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { openScratchOrchestratorDatabase, type ScratchOrchestratorDatabase } from '../__tests__/scratch-orchestrator-database';
import { createOrchestratorDataSource } from '../persistence/data-source';
import { AppsRepository, isoTime } from './apps.repository';

// The app list's prepared statements on the real PostgreSQL, in a database of its own: keyset
// pages on several pooled connections (each prepares its own copy), the team's apps only, task
// workspaces never listed, and a data source that is not connected refused as TypeORM refuses it.
jest.setTimeout(60_000);

describe('AppsRepository.listForTeam', () => {
  let db: ScratchOrchestratorDatabase;
  let ds: DataSource;
  let apps: AppsRepository;
  const team = randomUUID();
  const otherTeam = randomUUID();

  beforeAll(async () => {
    db = await openScratchOrchestratorDatabase('apps_list');
    ds = db.ds;
    apps = new AppsRepository(ds);
    // Distinct creation times, one millisecond apart, newest last.
    for (let i = 0; i < 7; i++) {
      await ds.query(
        `INSERT INTO orchestrator.apps (id, team_id, name, description, template, created_at, updated_at)
         VALUES ($1, $2, $3, '', 'empty', now() - make_interval(secs => $4::float / 1000), now())`,
        [randomUUID(), team, `app ${i}`, 7 - i],
      );
    }
    await ds.query(`INSERT INTO orchestrator.apps (id, team_id, name, description, template) VALUES ($1, $2, 'theirs', '', 'empty')`, [
      randomUUID(),
      otherTeam,
    ]);
    await apps.insertTaskWorkspace({ id: randomUUID(), teamId: team, name: 'task workspace', description: '' });
  });

  afterAll(async () => {
    await db?.close();
  });

  it('pages the team’s apps newest first, the same on every pooled connection', async () => {
    // Concurrent reads spread over several connections, each preparing the statements itself.
    const firstPages = await Promise.all(Array.from({ length: 6 }, () => apps.listForTeam(team, 3)));
    for (const page of firstPages) expect(page.map((a) => a.name)).toEqual(['app 6', 'app 5', 'app 4']);
    const seen: string[] = [];
    let after: { createdAt: Date; id: string } | undefined;
    for (;;) {
      const page = await apps.listForTeam(team, 3, after);
      seen.push(...page.map((a) => a.name));
      if (page.length < 3) break;
      const last = page[page.length - 1]!;
      after = { createdAt: new Date(last.createdAt), id: last.id };
    }
    expect(seen).toEqual(['app 6', 'app 5', 'app 4', 'app 3', 'app 2', 'app 1', 'app 0']);
    const [row] = await apps.listForTeam(team, 1);
    expect(row).toEqual({
      id: expect.any(String),
      teamId: team,
      name: 'app 6',
      description: '',
      template: 'empty',
      maxIterations: 0,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    // The times as Date#toISOString gives them for the stored values.
    const [stored] = await ds.query(`SELECT created_at, updated_at FROM orchestrator.apps WHERE id = $1`, [row!.id]);
    expect([row!.createdAt, row!.updatedAt]).toEqual([stored.created_at.toISOString(), stored.updated_at.toISOString()]);
  });

  it('answers the same ISO times whatever the session’s time zone', async () => {
    // New sessions of the scratch database start in +05:30; the connections already open stay UTC.
    const setZone = (zone: string) => ds.query(`DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET timezone = %L', current_database(), '${zone}'); END $$`);
    await setZone('Asia/Kolkata');
    const zoned = createOrchestratorDataSource(db.url);
    await zoned.initialize();
    try {
      const [{ tz }] = await zoned.query('SELECT current_setting($$TimeZone$$) AS tz');
      expect(tz).toBe('Asia/Kolkata');
      expect(await new AppsRepository(zoned).listForTeam(team, 100)).toEqual(await apps.listForTeam(team, 100));
    } finally {
      await zoned.destroy();
      await setZone('UTC');
    }
  });

  it('formats PostgreSQL’s timestamp text like Date#toISOString', () => {
    expect(isoTime('2026-12-05 09:58:01.123456+00')).toBe('2026-12-05T09:58:01.123Z');
    expect(isoTime('2026-12-05 09:58:01.1+00')).toBe('2026-12-05T09:58:01.100Z');
    expect(isoTime('2026-12-05 09:58:01+00')).toBe('2026-12-05T09:58:01.000Z');
    expect(isoTime('2026-12-05 15:28:01.9999+05:30')).toBe('2026-12-05T09:58:01.999Z');
    expect(isoTime('2026-12-05 06:58:01-03')).toBe('2026-12-05T09:58:01.000Z');
    expect(isoTime(new Date('2026-12-05T09:58:01.123Z'))).toBe('2026-12-05T09:58:01.123Z');
    expect(() => isoTime('infinity')).toThrow(/unexpected timestamp/);
  });

  it('lists nothing of another team and no task workspace', async () => {
    expect((await apps.listForTeam(otherTeam, 100)).map((a) => a.name)).toEqual(['theirs']);
    expect((await apps.listForTeam(randomUUID(), 100)).length).toBe(0);
    expect((await apps.listForTeam(team, 100)).some((a) => a.name === 'task workspace')).toBe(false);
  });

  it('refuses like any TypeORM query while the data source is not connected', async () => {
    const closed = new AppsRepository(createOrchestratorDataSource(db.url));
    await expect(closed.listForTeam(team, 3)).rejects.toThrow(/not connected/i);
  });
});
