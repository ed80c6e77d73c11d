import type { RunningPlatform } from '@overskill/testing';
import { request } from 'node:http';
import pg from 'pg';
import { launchGatewayReplica, startGatewayHarness, type ApiInit, type ApiResponse, type GatewayHarness } from '../support/gateway-harness';

// Posting a message with an Idempotency-Key: one message and one run per key, whichever gateway
// replica takes each attempt, whether the first answer was lost, and across an orchestrator restart.
// And its one length limit, the orchestrator's (set low here to show the gateway follows it).
const MAX_CHARS = 500;

describe('POST /api/apps/:appId/messages: Idempotency-Key and the length limit', () => {
  let h: GatewayHarness;
  let second: RunningPlatform;
  let db: pg.Client;
  let appId: string;
  const problems: string[] = [];

  async function post(content: string, key?: string, base?: string): Promise<ApiResponse> {
    const init: ApiInit = { method: 'POST', body: { content }, headers: key === undefined ? {} : { 'idempotency-key': key }, base };
    const res = await h.api(`/api/apps/${appId}/messages`, init);
    problems.push(...h.contract.check('POST', `/api/apps/${appId}/messages`, res));
    return res;
  }

  const messagesWithKey = async (key: string) =>
    (await db.query<{ id: string; run_id: string }>('SELECT id, run_id FROM orchestrator.messages WHERE app_id = $1 AND idempotency_key = $2', [appId, key]))
      .rows;
  const runsOfContent = async (content: string) =>
    (
      await db.query<{ id: string }>(
        `SELECT r.id FROM orchestrator.runs r JOIN orchestrator.messages m ON m.id = r.message_id WHERE m.app_id = $1 AND m.content = $2`,
        [appId, content],
      )
    ).rows;

  async function runEnds(runId: string, timeoutMs = 30_000): Promise<string> {
    for (let i = 0; i < timeoutMs / 100; i++) {
      const { rows } = await db.query<{ status: string }>('SELECT status FROM orchestrator.runs WHERE id = $1', [runId]);
      if (['completed', 'failed', 'cancelled'].includes(rows[0]?.status ?? '')) return rows[0]!.status;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`run ${runId} did not end`);
  }

  beforeAll(async () => {
    // Short leases: a run of the killed orchestrator is taken over in seconds.
    h = await startGatewayHarness({
      name: 'message-idempotency',
      redisDb: 5,
      env: { RUN_LEASE_MS: '3000', RUN_ACK_WAIT_MS: '5000', MESSAGE_MAX_CHARS: String(MAX_CHARS) },
    });
    second = await launchGatewayReplica(h, 'second');
    h.anthropic.respondWith(() => ({ content: [{ type: 'text', text: 'Done.' }] }));
    h.key('idempotency-team', 'owner');
    const app = await h.api('/api/apps', { method: 'POST', body: { name: 'Keyed', template: 'empty' } });
    expect(app.status).toBe(201);
    appId = app.body.id;
    db = new pg.Client({ connectionString: h.databaseUrl });
    await db.connect();
  }, 180_000);

  afterAll(async () => {
    await db?.end();
    await second?.stop();
    await h?.stop();
  });

  afterEach(() => {
    expect(problems.splice(0)).toEqual([]);
  });

  it('without a key, posts the same message twice as two runs (as before)', async () => {
    const [a, b] = [await post('twice, no key'), await post('twice, no key')];
    expect([a.status, b.status]).toEqual([202, 202]);
    expect(a.body.runId).not.toBe(b.body.runId);
    expect(a.body.replayed).toBe(false);
    expect(await runsOfContent('twice, no key')).toHaveLength(2);
  });

  it('answers a repeated key with the original message and run, on either replica', async () => {
    const first = await post('add a page', 'key-sequential-1');
    expect(first.status).toBe(202);
    expect(first.body.replayed).toBe(false);
    const again = await post('add a page', 'key-sequential-1', second.urls.gateway);
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ messageId: first.body.messageId, runId: first.body.runId, eventsUrl: first.body.eventsUrl, replayed: true });
    expect(await messagesWithKey('key-sequential-1')).toEqual([{ id: first.body.messageId, run_id: first.body.runId }]);
    expect(await runsOfContent('add a page')).toHaveLength(1);
    await runEnds(first.body.runId);
    // After the run ended, still the same answer (and no new run).
    expect((await post('add a page', 'key-sequential-1')).body).toMatchObject({ runId: first.body.runId, replayed: true });
    expect(await runsOfContent('add a page')).toHaveLength(1);
  });

  it('makes one run of concurrent duplicates spread over two replicas', async () => {
    const bases = [h.gateway, second.urls.gateway!];
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => post('concurrent duplicate', 'key-concurrent', bases[i % 2])));
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(202));
    expect(new Set(answers.map((a) => a.body.runId)).size).toBe(1);
    expect(answers.filter((a) => a.body.replayed === false)).toHaveLength(1);
    expect(await runsOfContent('concurrent duplicate')).toHaveLength(1);
  });

  it('refuses the same key with a different message (422 IDEMPOTENCY_KEY_REUSED), storing nothing', async () => {
    const first = await post('the first message', 'key-different-body');
    expect(first.status).toBe(202);
    const other = await post('a different message', 'key-different-body', second.urls.gateway);
    expect(other.status).toBe(422);
    expect(other.body).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', message: expect.stringMatching(/different message/) });
    expect(await runsOfContent('a different message')).toEqual([]);
    // The key is another app's own: the same key on another app is a new post.
    const otherApp = await h.api('/api/apps', { method: 'POST', body: { name: 'Keyed too', template: 'empty' } });
    const elsewhere = await h.api(`/api/apps/${otherApp.body.id}/messages`, {
      method: 'POST',
      body: { content: 'a different message' },
      headers: { 'idempotency-key': 'key-different-body' },
    });
    expect(elsewhere.status).toBe(202);
    expect(elsewhere.body.replayed).toBe(false);
  });

  it.each([
    ['too long', 'k'.repeat(129)],
    ['with a space', 'two words'],
    ['with a non-ASCII letter', 'clé'],
    ['empty', ''],
  ])('refuses a key %s with 400 VALIDATION_FAILED naming the header', async (_, key) => {
    const res = await post('bad key message', key);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('Idempotency-Key') });
    expect(await runsOfContent('bad key message')).toEqual([]);
  });

  it('answers a retry after a lost reply with the run the first attempt started', async () => {
    // The request reaches the gateway; the client gives up once the run exists (it never reads the answer).
    const url = new URL(`/api/apps/${appId}/messages`, h.gateway);
    const req = request(url, {
      method: 'POST',
      headers: { 'x-api-key': h.key('idempotency-team').key, 'content-type': 'application/json', 'idempotency-key': 'key-lost-reply' },
    });
    req.on('error', () => undefined);
    req.end(JSON.stringify({ content: 'lost reply' }));
    let stored = await messagesWithKey('key-lost-reply');
    for (let i = 0; i < 100 && stored.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      stored = await messagesWithKey('key-lost-reply');
    }
    req.destroy();
    expect(stored).toHaveLength(1);
    const retry = await post('lost reply', 'key-lost-reply', second.urls.gateway);
    expect(retry.status).toBe(202);
    expect(retry.body).toMatchObject({ runId: stored[0]!.run_id, replayed: true });
    expect(await runsOfContent('lost reply')).toHaveLength(1);
  });

  it('answers the same run after the orchestrator was killed and restarted', async () => {
    const first = await post('across a restart', 'key-restart');
    expect(first.status).toBe(202);
    await h.platform.stopService('orchestrator', 'SIGKILL');
    await h.platform.start('orchestrator');
    const again = await post('across a restart', 'key-restart', second.urls.gateway);
    expect(again.body).toMatchObject({ runId: first.body.runId, replayed: true });
    expect(await runsOfContent('across a restart')).toHaveLength(1);
    // Taken over once the killed replica's lease lapses: it ends, once.
    await runEnds(first.body.runId, 120_000);
  });

  it('starts a run the queue refused when the post is repeated, and forgets a key after 24 hours', async () => {
    // What a post leaves when JetStream refused its run: the message, and its run failed before
    // it started. The repeated post queues that run instead of making another.
    const first = await post('refused by the queue', 'key-refused');
    await runEnds(first.body.runId);
    await db.query(
      `UPDATE orchestrator.runs SET status = 'failed', error_code = 'DEPENDENCY_UNAVAILABLE', started_at = NULL, finished_at = now() WHERE id = $1`,
      [first.body.runId],
    );
    await db.query(`DELETE FROM orchestrator.run_steps WHERE run_id = $1`, [first.body.runId]);
    const again = await post('refused by the queue', 'key-refused');
    expect(again.body).toMatchObject({ runId: first.body.runId, replayed: true });
    await runEnds(first.body.runId);
    const worked = await db.query<{ started: boolean; error_code: string | null }>(
      'SELECT started_at IS NOT NULL AS started, error_code FROM orchestrator.runs WHERE id = $1',
      [first.body.runId],
    );
    expect(worked.rows[0]).toMatchObject({ started: true });
    expect(worked.rows[0]!.error_code).not.toBe('DEPENDENCY_UNAVAILABLE');
    // A failed run that had started is answered as it is, not run again.
    await db.query(`UPDATE orchestrator.runs SET status = 'failed', error_code = 'RUN_MAX_ITERATIONS' WHERE id = $1`, [first.body.runId]);
    expect((await post('refused by the queue', 'key-refused')).body).toMatchObject({ runId: first.body.runId, replayed: true });
    const { rows } = await db.query<{ status: string }>('SELECT status FROM orchestrator.runs WHERE id = $1', [first.body.runId]);
    expect(rows[0]!.status).toBe('failed');

    // 24 hours later the key names nothing: the same post is a new message and run.
    await db.query(`UPDATE orchestrator.messages SET created_at = now() - interval '25 hours' WHERE id = $1`, [first.body.messageId]);
    const later = await post('refused by the queue', 'key-refused');
    expect(later.status).toBe(202);
    expect(later.body.replayed).toBe(false);
    expect(later.body.runId).not.toBe(first.body.runId);
    expect(await messagesWithKey('key-refused')).toEqual([{ id: later.body.messageId, run_id: later.body.runId }]);
  });

  it('has one length limit with one error, wherever the message is too long', async () => {
    // Counted once trimmed: surrounding whitespace does not count.
    const fits = await post(`  ${'a'.repeat(MAX_CHARS)}\n`);
    expect(fits.status).toBe(202);
    for (const content of ['b'.repeat(MAX_CHARS + 1), 'c'.repeat(100_001)]) {
      const res = await post(content, `key-too-long-${content.length}`, second.urls.gateway);
      expect(res.status).toBe(413);
      expect(res.body).toMatchObject({
        code: 'MESSAGE_TOO_LARGE',
        message: `The message is ${content.length} characters; the limit is ${MAX_CHARS}. Split it or attach less text.`,
      });
      expect(await messagesWithKey(`key-too-long-${content.length}`)).toEqual([]);
    }
  });
});
