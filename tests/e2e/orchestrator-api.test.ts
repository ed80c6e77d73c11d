import { AppError, orchestratorV1, Rpc, runEventsSubject } from '@overskill/contracts';
import { NatsRpcClient, natsAuthOptions } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import {
  AnthropicFake,
  launchPlatform,
  runAllMigrations,
  type FakeTurn,
  type RecordedAnthropicRequest,
  type RunningPlatform,
  stackNatsCredentials,
} from '@overskill/testing';
import { fromBinary } from '@bufbuild/protobuf';
import { randomUUID } from 'node:crypto';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type NatsConnection, type Subscription } from 'nats';
import { integrationStack, REPO_ROOT, scratchDir } from '../support/integration-env';

const { RunStatus } = orchestratorV1;

// The run's request (the last user message with text; earlier ones are history) decides what
// the fake model does: "slow" turns keep a run busy long enough to cancel or delete it;
// anything else ends the turn at once.
export function currentRequest(request: RecordedAnthropicRequest): { text: string; turns: number } {
  const messages = request.body.messages as Array<{ role: string; content: unknown }>;
  const hasText = (c: unknown) => typeof c === 'string' || (Array.isArray(c) && c.some((b: { type?: string }) => b.type === 'text'));
  let i = messages.length - 1;
  while (i > 0 && !(messages[i]?.role === 'user' && hasText(messages[i]?.content))) i--;
  return { text: JSON.stringify(messages[i]?.content ?? ''), turns: messages.length - i };
}

function modelFor(request: RecordedAnthropicRequest): FakeTurn {
  const { text: first, turns } = currentRequest(request);
  if (first.includes('slow')) {
    return {
      delayMs: 1500,
      stop_reason: 'tool_use',
      content: [{ type: 'tool_use', name: 'write_file', input: { path: `slow-${turns}.txt`, content: 'x\n' } }],
    };
  }
  if (first.includes('two files') && turns === 1) {
    return {
      stop_reason: 'tool_use',
      content: [
        { type: 'text', text: 'Writing.' },
        { type: 'tool_use', name: 'write_file', input: { path: 'a.txt', content: 'a\n' } },
      ],
    };
  }
  return { content: [{ type: 'text', text: `Done: ${first.slice(0, 40)}` }] };
}

jest.setTimeout(60_000);

describe('orchestrator API: apps, messages, runs, cancel, event replay', () => {
  const stack = integrationStack();
  const anthropic = new AnthropicFake({ apiKey: 'test-key' });
  let platform: RunningPlatform;
  let logDir = '';
  let nc: NatsConnection;
  let rpc: NatsRpcClient;
  const team = randomUUID();
  const otherTeam = randomUUID();

  beforeAll(async () => {
    const dir = scratchDir(stack.dataDir, 'orchestrator-api');
    logDir = join(dir, 'logs');
    const anthropicUrl = await anthropic.start();
    anthropic.respondWith(modelFor);
    runAllMigrations(REPO_ROOT, stack.databaseUrl);
    platform = await launchPlatform({
      root: REPO_ROOT,
      ...stack,
      workspacesDir: join(dir, 'workspaces'),
      backupDir: join(dir, 'backups'),
      logDir: join(dir, 'logs'),
      services: ['orchestrator', 'ai-router', 'tool-runner', 'git-service'],
      // One run at a time, so a second run stays queued behind a slow one.
      env: { ANTHROPIC_API_KEY: 'test-key', ANTHROPIC_BASE_URL: anthropicUrl, LOG_LEVEL: process.env.KEEP_LOGS ? 'info' : 'warn', RUN_CONCURRENCY: '1' },
    });
    nc = await connect({ servers: stack.natsUrl, ...natsAuthOptions(stackNatsCredentials(stack)) });
    rpc = new NatsRpcClient(nc, createServiceMetrics('orchestrator-api-test'));
  }, 120_000);

  afterAll(async () => {
    // KEEP_LOGS=<dir> keeps the service logs of a failing run for a look afterwards.
    if (process.env.KEEP_LOGS) cpSync(logDir, process.env.KEEP_LOGS, { recursive: true });
    await nc?.close();
    await platform?.stop();
    await anthropic.stop();
  });

  const createApp = (name: string, teamId = team) => rpc.send(Rpc.appCreate, { teamId, name, description: 'd', template: 'empty' });
  const code = (promise: Promise<unknown>) =>
    promise.then(
      () => 'resolved',
      (err: unknown) => (err instanceof AppError ? err.code : String(err)),
    );

  async function waitForRun(runId: string, teamId = team) {
    for (let i = 0; i < 600; i++) {
      const run = await rpc.send(Rpc.runGet, { teamId, runId });
      if ([RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED].includes(run.status)) return run;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`run ${runId} did not finish`);
  }

  async function waitForStatus(runId: string, status: orchestratorV1.RunStatus) {
    for (let i = 0; i < 600; i++) {
      const run = await rpc.send(Rpc.runGet, { teamId: team, runId });
      if (run.status === status) return run;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`run ${runId} never reached ${status}`);
  }

  function collectEvents(): { sub: Subscription; events: orchestratorV1.RunEvent[] } {
    const events: orchestratorV1.RunEvent[] = [];
    const sub = nc.subscribe(runEventsSubject('*'));
    void (async () => {
      for await (const m of sub) events.push(fromBinary(orchestratorV1.RunEventSchema, m.data));
    })();
    return { sub, events };
  }

  describe('app update', () => {
    it('changes only the fields that are set and validates them first', async () => {
      const app = await createApp('Before');
      const renamed = await rpc.send(Rpc.appUpdate, { teamId: team, appId: app.id, name: '  After  ' });
      expect(renamed).toMatchObject({ id: app.id, name: 'After', description: 'd', template: 'empty', maxIterations: 0 });
      const limited = await rpc.send(Rpc.appUpdate, { teamId: team, appId: app.id, maxIterations: 7, description: '' });
      expect(limited).toMatchObject({ name: 'After', description: '', maxIterations: 7 });
      expect(await rpc.send(Rpc.appGet, { teamId: team, appId: app.id })).toMatchObject({ name: 'After', maxIterations: 7 });
      // Nothing set: nothing changes.
      expect(await rpc.send(Rpc.appUpdate, { teamId: team, appId: app.id })).toMatchObject({ name: 'After', description: '', maxIterations: 7 });

      for (const bad of [
        { name: '' },
        { name: '   ' },
        { name: 'x'.repeat(201) },
        { maxIterations: -1 },
        { maxIterations: 201 },
        { description: 'd'.repeat(2001) },
      ]) {
        expect(await code(rpc.send(Rpc.appUpdate, { teamId: team, appId: app.id, ...bad }))).toBe('VALIDATION_FAILED');
      }
      // A bad field in a request with a good one writes nothing.
      expect(await code(rpc.send(Rpc.appUpdate, { teamId: team, appId: app.id, name: 'Half', maxIterations: 999 }))).toBe('VALIDATION_FAILED');
      expect((await rpc.send(Rpc.appGet, { teamId: team, appId: app.id })).name).toBe('After');
    });

    it('answers another team exactly like a missing app', async () => {
      const app = await createApp('Mine');
      expect(await code(rpc.send(Rpc.appUpdate, { teamId: otherTeam, appId: app.id, name: 'Theirs' }))).toBe('APP_NOT_FOUND');
      expect(await code(rpc.send(Rpc.appUpdate, { teamId: team, appId: randomUUID(), name: 'x' }))).toBe('APP_NOT_FOUND');
      expect(await code(rpc.send(Rpc.appUpdate, { teamId: team, appId: 'not-a-uuid', name: 'x' }))).toBe('APP_NOT_FOUND');
      expect((await rpc.send(Rpc.appGet, { teamId: team, appId: app.id })).name).toBe('Mine');
    });
  });

  describe('team id', () => {
    it('refuses a team id the platform does not mint on every app request, with the same code and message, writing nothing', async () => {
      const app = await createApp('Kept');
      const message = (promise: Promise<unknown>) =>
        promise.then(
          () => 'resolved',
          (err: unknown) => (err instanceof AppError ? `${err.code}: ${err.message}` : String(err)),
        );
      const refused = 'VALIDATION_FAILED: team_id is not a valid team id';
      for (const teamId of ['', 'team-1', team.toUpperCase(), `${team}\u0000`]) {
        expect(await message(rpc.send(Rpc.appList, { teamId, pageSize: 0, pageToken: '' }))).toBe(refused);
        expect(await message(rpc.send(Rpc.appGet, { teamId, appId: app.id }))).toBe(refused);
        expect(await message(rpc.send(Rpc.appCreate, { teamId, name: 'Never', description: '', template: 'empty' }))).toBe(refused);
        expect(await message(rpc.send(Rpc.appUpdate, { teamId, appId: app.id, name: 'Never' }))).toBe(refused);
        expect(await message(rpc.send(Rpc.appDelete, { teamId, appId: app.id }))).toBe(refused);
      }
      expect(await rpc.send(Rpc.appGet, { teamId: team, appId: app.id })).toMatchObject({ name: 'Kept' });
      expect((await rpc.send(Rpc.appList, { teamId: team, pageSize: 100, pageToken: '' })).apps.some((a) => a.name === 'Never')).toBe(false);
    });
  });

  describe('messages and runs', () => {
    it('lists messages newest first with cursor pages, user and assistant, each with its run', async () => {
      const app = await createApp('Chat');
      const runIds: string[] = [];
      for (const text of ['first', 'second', 'third']) {
        const posted = await rpc.send(Rpc.messagePost, { teamId: team, appId: app.id, content: text, authorId: 'u1' });
        runIds.push(posted.runId);
        expect((await waitForRun(posted.runId)).status).toBe(RunStatus.COMPLETED);
      }
      const page1 = await rpc.send(Rpc.messageList, { teamId: team, appId: app.id, pageSize: 4, pageToken: '' });
      expect(page1.messages).toHaveLength(4);
      expect(page1.nextPageToken).not.toBe('');
      const page2 = await rpc.send(Rpc.messageList, { teamId: team, appId: app.id, pageSize: 4, pageToken: page1.nextPageToken });
      expect(page2.nextPageToken).toBe('');
      const all = [...page1.messages, ...page2.messages];
      expect(all.map((m) => [m.role, m.role === 'user' ? m.content : m.content.startsWith('Done:')])).toEqual([
        ['assistant', true],
        ['user', 'third'],
        ['assistant', true],
        ['user', 'second'],
        ['assistant', true],
        ['user', 'first'],
      ]);
      expect(all.map((m) => m.runId)).toEqual([runIds[2], runIds[2], runIds[1], runIds[1], runIds[0], runIds[0]]);
      expect(all[1]).toMatchObject({ appId: app.id, authorId: 'u1', createdAt: expect.stringMatching(/Z$/) });

      expect(await code(rpc.send(Rpc.messageList, { teamId: otherTeam, appId: app.id, pageSize: 0, pageToken: '' }))).toBe('APP_NOT_FOUND');
      expect(await code(rpc.send(Rpc.messageList, { teamId: team, appId: app.id, pageSize: 0, pageToken: 'garbage' }))).toBe('VALIDATION_FAILED');
    });

    it('lists runs newest first, filtered by app, without steps, and only the team’s own', async () => {
      const a = await createApp('Runs A');
      const b = await createApp('Runs B');
      const runA1 = (await rpc.send(Rpc.messagePost, { teamId: team, appId: a.id, content: 'a1', authorId: '' })).runId;
      const runB1 = (await rpc.send(Rpc.messagePost, { teamId: team, appId: b.id, content: 'b1', authorId: '' })).runId;
      const runA2 = (await rpc.send(Rpc.messagePost, { teamId: team, appId: a.id, content: 'a2', authorId: '' })).runId;
      for (const id of [runA1, runB1, runA2]) await waitForRun(id);

      const onlyA = await rpc.send(Rpc.runList, { teamId: team, appId: a.id, pageSize: 1, pageToken: '' });
      expect(onlyA.runs.map((r) => r.id)).toEqual([runA2]);
      expect(onlyA.runs[0]).toMatchObject({ appId: a.id, teamId: team, status: RunStatus.COMPLETED, steps: [] });
      const onlyA2 = await rpc.send(Rpc.runList, { teamId: team, appId: a.id, pageSize: 1, pageToken: onlyA.nextPageToken });
      expect(onlyA2.runs.map((r) => r.id)).toEqual([runA1]);
      expect(onlyA2.nextPageToken).toBe('');

      const everything = await rpc.send(Rpc.runList, { teamId: team, appId: '', pageSize: 100, pageToken: '' });
      const ids = everything.runs.map((r) => r.id);
      expect(ids.indexOf(runA2)).toBeLessThan(ids.indexOf(runB1));
      expect(ids.indexOf(runB1)).toBeLessThan(ids.indexOf(runA1));

      expect((await rpc.send(Rpc.runList, { teamId: otherTeam, appId: '', pageSize: 100, pageToken: '' })).runs).toEqual([]);
      expect(await code(rpc.send(Rpc.runList, { teamId: otherTeam, appId: a.id, pageSize: 10, pageToken: '' }))).toBe('APP_NOT_FOUND');
      expect(await code(rpc.send(Rpc.runGet, { teamId: otherTeam, runId: runA1 }))).toBe('RUN_NOT_FOUND');
    });

    it('rejects an empty or 1 MB message and a message to another team’s app, storing nothing', async () => {
      const app = await createApp('Limits');
      expect(await code(rpc.send(Rpc.messagePost, { teamId: team, appId: app.id, content: ' \n ', authorId: '' }))).toBe('VALIDATION_FAILED');
      expect(await code(rpc.send(Rpc.messagePost, { teamId: team, appId: app.id, content: 'x'.repeat(1024 * 1024), authorId: '' }))).toBe('MESSAGE_TOO_LARGE');
      expect(await code(rpc.send(Rpc.messagePost, { teamId: otherTeam, appId: app.id, content: 'hi', authorId: '' }))).toBe('APP_NOT_FOUND');
      expect((await rpc.send(Rpc.messageList, { teamId: team, appId: app.id, pageSize: 10, pageToken: '' })).messages).toEqual([]);
      expect((await rpc.send(Rpc.runList, { teamId: team, appId: app.id, pageSize: 10, pageToken: '' })).runs).toEqual([]);
    });
  });

  describe('run cancel', () => {
    it('stops a running run at the next step boundary, cancels a queued one at once, and is idempotent', async () => {
      const { sub, events } = collectEvents();
      const app = await createApp('Cancel');
      const slow = (await rpc.send(Rpc.messagePost, { teamId: team, appId: app.id, content: 'slow work', authorId: '' })).runId;
      await waitForStatus(slow, RunStatus.RUNNING);
      // RUN_CONCURRENCY=1: this one waits behind the slow run.
      const queued = (await rpc.send(Rpc.messagePost, { teamId: team, appId: app.id, content: 'waiting', authorId: '' })).runId;

      const cancelledQueued = await rpc.send(Rpc.runCancel, { teamId: team, runId: queued, reason: 'changed my mind', requestedBy: 'u1' });
      expect(cancelledQueued).toMatchObject({ status: RunStatus.CANCELLED, errorCode: 'RUN_CANCELLED', errorMessage: 'Cancelled: changed my mind' });
      expect(cancelledQueued.finishedAt).not.toBe('');

      expect(await code(rpc.send(Rpc.runCancel, { teamId: otherTeam, runId: slow, reason: '', requestedBy: '' }))).toBe('RUN_NOT_FOUND');
      const marked = await rpc.send(Rpc.runCancel, { teamId: team, runId: slow, reason: '', requestedBy: 'u1' });
      expect([RunStatus.RUNNING, RunStatus.CANCELLED]).toContain(marked.status);
      const again = await rpc.send(Rpc.runCancel, { teamId: team, runId: slow, reason: 'second reason', requestedBy: 'u1' });
      expect([RunStatus.RUNNING, RunStatus.CANCELLED]).toContain(again.status);

      const finished = await waitForRun(slow);
      expect(finished).toMatchObject({ status: RunStatus.CANCELLED, errorCode: 'RUN_CANCELLED', errorMessage: 'Cancelled on request' });
      expect(finished.steps.at(-1)).toMatchObject({ kind: 'run_cancelled' });

      // The queued run never started, even once the worker got to it.
      const other = await rpc.send(Rpc.messagePost, { teamId: team, appId: app.id, content: 'after', authorId: '' });
      await waitForRun(other.runId);
      const queuedRun = await rpc.send(Rpc.runGet, { teamId: team, runId: queued });
      expect(queuedRun.steps.map((s) => s.kind)).toEqual(['run_cancelled']);
      expect(queuedRun.status).toBe(RunStatus.CANCELLED);

      // A finished run is answered unchanged.
      const unchanged = await rpc.send(Rpc.runCancel, { teamId: team, runId: other.runId, reason: 'late', requestedBy: '' });
      expect(unchanged).toMatchObject({ status: RunStatus.COMPLETED, errorCode: '' });
      expect(await code(rpc.send(Rpc.runCancel, { teamId: team, runId: 'nope', reason: '', requestedBy: '' }))).toBe('RUN_NOT_FOUND');
      expect(events.filter((e) => e.runId === queued).map((e) => [e.kind, e.status])).toEqual([['run_cancelled', RunStatus.CANCELLED]]);
      sub.unsubscribe();
    });
  });

  describe('run event replay', () => {
    it('replays exactly the events published live, after any seq, in pages', async () => {
      const { sub, events } = collectEvents();
      const app = await createApp('Replay');
      const { runId } = await rpc.send(Rpc.messagePost, { teamId: team, appId: app.id, content: 'two files please', authorId: '' });
      const run = await waitForRun(runId);
      expect(run.status).toBe(RunStatus.COMPLETED);
      // Live events are core NATS: wait until the last one arrived.
      for (let i = 0; i < 100 && !events.some((e) => e.runId === runId && e.kind === 'run_completed'); i++) await new Promise((r) => setTimeout(r, 50));
      sub.unsubscribe();
      const live = events.filter((e) => e.runId === runId);
      expect(live.map((e) => e.seq)).toEqual(live.map((_, i) => i + 1));

      const replay = await rpc.send(Rpc.runEventsList, { teamId: team, runId, afterSeq: 0, limit: 0 });
      expect(replay.complete).toBe(true);
      expect(replay.status).toBe(RunStatus.COMPLETED);
      const strip = (e: orchestratorV1.RunEvent) => ({
        runId: e.runId,
        seq: e.seq,
        kind: e.kind,
        summary: e.summary,
        status: e.status,
        createdAt: e.createdAt,
      });
      expect(replay.events.map(strip)).toEqual(live.map(strip));
      expect(live.at(-1)).toMatchObject({ kind: 'run_completed', status: RunStatus.COMPLETED });

      // Last-Event-ID = 2: the rest, nothing twice; a page that does not reach the end is not complete.
      const rest = await rpc.send(Rpc.runEventsList, { teamId: team, runId, afterSeq: 2, limit: 2 });
      expect(rest.events.map((e) => e.seq)).toEqual([3, 4]);
      expect(rest.complete).toBe(false);
      const tail = await rpc.send(Rpc.runEventsList, { teamId: team, runId, afterSeq: 4, limit: 1000 });
      expect(tail.events.map((e) => e.seq)).toEqual(live.slice(4).map((e) => e.seq));
      expect(tail.complete).toBe(true);
      const past = await rpc.send(Rpc.runEventsList, { teamId: team, runId, afterSeq: 999, limit: 10 });
      expect(past).toMatchObject({ events: [], complete: true });

      expect(await code(rpc.send(Rpc.runEventsList, { teamId: otherTeam, runId, afterSeq: 0, limit: 0 }))).toBe('RUN_NOT_FOUND');
      expect(await code(rpc.send(Rpc.runEventsList, { teamId: team, runId, afterSeq: -1, limit: 0 }))).toBe('VALIDATION_FAILED');
      expect(await code(rpc.send(Rpc.runEventsList, { teamId: team, runId, afterSeq: 0, limit: 5000 }))).toBe('VALIDATION_FAILED');
    });

    it('says a running run is not complete', async () => {
      const app = await createApp('Replay running');
      const { runId } = await rpc.send(Rpc.messagePost, { teamId: team, appId: app.id, content: 'slow replay', authorId: '' });
      await waitForStatus(runId, RunStatus.RUNNING);
      const replay = await rpc.send(Rpc.runEventsList, { teamId: team, runId, afterSeq: 0, limit: 0 });
      expect(replay.complete).toBe(false);
      expect(replay.status).toBe(RunStatus.RUNNING);
      await rpc.send(Rpc.runCancel, { teamId: team, runId, reason: '', requestedBy: '' });
      await waitForRun(runId);
    });
  });

  describe('app delete', () => {
    it('deletes the app with its messages, runs and steps, and stops its run in flight', async () => {
      const { sub, events } = collectEvents();
      const app = await createApp('Doomed');
      const done = (await rpc.send(Rpc.messagePost, { teamId: team, appId: app.id, content: 'quick', authorId: '' })).runId;
      await waitForRun(done);
      const { runId } = await rpc.send(Rpc.messagePost, { teamId: team, appId: app.id, content: 'slow and doomed', authorId: '' });
      await waitForStatus(runId, RunStatus.RUNNING);

      expect(await code(rpc.send(Rpc.appDelete, { teamId: otherTeam, appId: app.id }))).toBe('APP_NOT_FOUND');
      expect((await rpc.send(Rpc.appGet, { teamId: team, appId: app.id })).id).toBe(app.id);

      expect(await rpc.send(Rpc.appDelete, { teamId: team, appId: app.id })).toMatchObject({ appId: app.id });
      expect(await code(rpc.send(Rpc.appGet, { teamId: team, appId: app.id }))).toBe('APP_NOT_FOUND');
      expect(await code(rpc.send(Rpc.messageList, { teamId: team, appId: app.id, pageSize: 10, pageToken: '' }))).toBe('APP_NOT_FOUND');
      expect(await code(rpc.send(Rpc.runGet, { teamId: team, runId: done }))).toBe('RUN_NOT_FOUND');
      expect(await code(rpc.send(Rpc.runEventsList, { teamId: team, runId, afterSeq: 0, limit: 0 }))).toBe('RUN_NOT_FOUND');
      expect(await code(rpc.send(Rpc.messagePost, { teamId: team, appId: app.id, content: 'hello?', authorId: '' }))).toBe('APP_NOT_FOUND');
      // Deleting again answers like any missing app.
      expect(await code(rpc.send(Rpc.appDelete, { teamId: team, appId: app.id }))).toBe('APP_NOT_FOUND');
      expect((await rpc.send(Rpc.appIdsExist, { appIds: [app.id] })).existingAppIds).toEqual([]);

      // The live listener of the run in flight got a final event saying why.
      for (let i = 0; i < 100 && !events.some((e) => e.runId === runId && e.status === RunStatus.CANCELLED); i++) await new Promise((r) => setTimeout(r, 50));
      expect(events.filter((e) => e.runId === runId).at(-1)).toMatchObject({
        kind: 'run_cancelled',
        status: RunStatus.CANCELLED,
        summary: expect.stringContaining('RUN_APP_DELETED'),
      });
      sub.unsubscribe();

      // The worker let go of it: a new app's run still gets served (RUN_CONCURRENCY=1).
      const next = await createApp('After delete');
      const after = (await rpc.send(Rpc.messagePost, { teamId: team, appId: next.id, content: 'quick', authorId: '' })).runId;
      expect((await waitForRun(after)).status).toBe(RunStatus.COMPLETED);
    });
  });
});
