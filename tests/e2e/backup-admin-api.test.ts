import { startGatewayHarness, type ApiInit, type GatewayHarness } from '../support/gateway-harness';

// The backup admin API through the gateway's route table: operator teams' admins only, long work
// answered 202 and finished in the catalog row, every answer checked against the OpenAPI document.
describe('backup: admin API', () => {
  let h: GatewayHarness;
  let operator: string;
  const problems: string[] = [];
  const api = async (path: string, init: ApiInit = {}) => {
    const res = await h.api(path, { key: operator, ...init });
    problems.push(...h.contract.check(init.method ?? 'GET', path, res));
    return res;
  };
  const until = async (path: string, done: (body: { status: string; verifiedAt: string | null; drill: unknown }) => boolean) => {
    for (let i = 0; i < 300; i += 1) {
      const res = await api(path);
      if (done(res.body)) return res.body;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${path} did not reach the expected state`);
  };

  beforeAll(async () => {
    h = await startGatewayHarness({
      name: 'backup-admin-api',
      redisDb: 9,
      services: ['gateway', 'backup'],
      env: { GATEWAY_OPERATOR_TEAMS: 'backup-ops', BACKUP_SCHEDULE_FULL: 'off', BACKUP_SCHEDULE_DATABASE: 'off', BACKUP_SCHEDULE_DRILL: 'off' },
    });
    operator = h.key('backup-ops', 'admin').key;
  }, 120_000);

  afterAll(async () => {
    await h?.stop();
  });

  it('creates a backup (202), shows its status and manifest, verifies and drills it', async () => {
    const created = await api('/api/admin/backups', { method: 'POST', body: { type: 'database', encrypt: false } });
    expect(created.status).toBe(202);
    expect(created.body).toMatchObject({ type: 'database', status: 'running', encrypted: false });
    const id = created.body.id as string;
    const done = await until(`/api/admin/backups/${id}`, (b) => b.status !== 'running');
    expect(done).toMatchObject({ id, status: 'completed', error: null });
    const full = await api(`/api/admin/backups/${id}`);
    expect(full.body.manifest.database.schemas).toEqual(expect.arrayContaining(['gateway', 'orchestrator']));
    expect(full.body.manifest.artifacts[0]).toMatchObject({ path: 'database/overskill.dump', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });

    const verify = await api(`/api/admin/backups/${id}/verify`, { method: 'POST' });
    expect(verify.status).toBe(202);
    expect(verify.body).toEqual({ backupId: id, status: 'verifying' });
    await until(`/api/admin/backups/${id}`, (b) => b.verifiedAt !== null);

    const drill = await api('/api/admin/backups/drill', { method: 'POST', body: { backupId: id } });
    expect(drill.status).toBe(202);
    const drilled = await until(`/api/admin/backups/${id}`, (b) => b.drill !== null);
    expect(drilled.drill).toMatchObject({ result: 'passed', rtoMs: expect.any(Number) });

    const list = await api('/api/admin/backups?limit=5');
    expect(list.body.backups[0].id).toBe(id);
    expect(problems).toEqual([]);
  });

  it('answers clear errors: unknown backup, bad id, bad type, encryption not configured, not an operator', async () => {
    expect((await api('/api/admin/backups/3f1d5f5e-8a4e-4d8c-9c55-0d1f2b1a7e11')).body.code).toBe('BACKUP_NOT_FOUND');
    const badId = await api('/api/admin/backups/not-a-uuid');
    expect([badId.status, badId.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    // Point-in-time restore: the moment is checked, and without a base backup there is nothing to start from.
    const badMoment = await api('/api/admin/backups/restore', { method: 'POST', body: { to: 'yesterday' } });
    expect(badMoment).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED' } });
    expect(badMoment.body.message).toContain('with its zone');
    const noBase = await api('/api/admin/backups/restore', { method: 'POST', body: { to: 'latest' } });
    expect(noBase).toMatchObject({ status: 404, body: { code: 'BACKUP_NOT_FOUND' } });
    expect((await api('/api/admin/backups/restore', { method: 'POST', body: { to: 'latest', target: 'live' } })).status).toBe(400);
    const badType = await api('/api/admin/backups', { method: 'POST', body: { type: 'everything' } });
    expect([badType.status, badType.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    const noKeys = await api('/api/admin/backups', { method: 'POST', body: { type: 'config' } });
    expect([noKeys.status, noKeys.body.code]).toEqual([503, 'BACKUP_NOT_CONFIGURED']);
    expect(noKeys.body.message).toMatch(/BACKUP_AGE_RECIPIENTS/);
    const otherTeam = h.key('backup-not-ops', 'owner').key;
    const refused = await h.api('/api/admin/backups', { key: otherTeam });
    expect(refused.status).toBe(403);
    const member = h.key('backup-ops', 'member').key;
    expect((await h.api('/api/admin/backups', { key: member })).status).toBe(403);
    expect(problems).toEqual([]);
  });
});
