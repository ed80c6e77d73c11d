import { AppError, ErrorCode, gitV1 } from '@overskill/contracts';
import { createHarness, type Harness } from '../__tests__/tool-harness';

const unavailable = (subject: string) => async () => {
  throw new AppError(ErrorCode.TOOL_DEPENDENCY_UNAVAILABLE, `analytics does not serve it yet (${subject}: SUBJECT_UNKNOWN); this tool cannot work right now`);
};

describe('tools that delegate', () => {
  let h: Harness;
  afterEach(() => h.close());

  it('read_console_logs / read_network_requests / read_analytics format what analytics answers', async () => {
    h = createHarness({
      deps: {
        analytics: {
          consoleLogs: async (_c: unknown, q: { minLevel?: string; limit: number }) => {
            expect(q).toEqual({ minLevel: 'warn', since: undefined, limit: 2 });
            return { entries: [{ level: 'error', message: 'TypeError: x is undefined', source: 'app.js:3:7', occurredAt: '2026-01-01T00:00:01Z' }], total: 3n };
          },
          networkRequests: async () => ({
            entries: [{ method: 'GET', url: '/api/todos', status: 0, error: 'net::ERR_FAILED', durationMs: 12.4, occurredAt: '2026-01-01T00:00:02Z' }],
            total: 1n,
          }),
          report: async () => ({
            days: 7,
            pageViews: 120n,
            uniqueVisitors: 30n,
            topPages: [{ path: '/', views: 100n, visitors: 28n }],
            consoleErrors: 2n,
            failedRequests: 1n,
            avgLoadMs: 812.6,
          }),
        } as never,
      },
    });
    expect((await h.run('read_console_logs', { min_level: 'warn', limit: 2 })).output).toBe(
      '2026-01-01T00:00:01Z [error] TypeError: x is undefined (app.js:3:7)\n(2 older entries not shown)',
    );
    expect((await h.run('read_network_requests', { failed_only: true })).output).toBe('2026-01-01T00:00:02Z GET /api/todos → failed: net::ERR_FAILED (12 ms)');
    expect((await h.run('read_analytics', {})).output).toBe(
      'Last 7 days: 120 page views, 30 unique visitors, average load 813 ms\nConsole errors: 2; failed requests: 1\nTop pages:\n  /: 100 views, 28 visitors',
    );
  });

  it('answers TOOL_DEPENDENCY_UNAVAILABLE when the owner does not serve the subject', async () => {
    h = createHarness({
      deps: {
        analytics: {
          consoleLogs: unavailable('analytics.console.read.v1'),
          networkRequests: unavailable('analytics.network.read.v1'),
          report: unavailable('analytics.report.read.v1'),
        } as never,
      },
    });
    for (const tool of ['read_console_logs', 'read_network_requests', 'read_analytics']) {
      const reply = await h.run(tool, {});
      expect(reply).toMatchObject({ isError: true, errorCode: ErrorCode.TOOL_DEPENDENCY_UNAVAILABLE });
    }
  });

  it("git tools format git-service answers and never take tool-runner's lock", async () => {
    h = createHarness({
      deps: {
        git: {
          status: async () => ({
            branch: 'main',
            headSha: 'a'.repeat(40),
            detached: false,
            clean: false,
            files: [
              { path: 'b.txt', originalPath: 'a.txt', change: gitV1.FileChange.RENAMED },
              { path: 'c.txt', originalPath: '', change: gitV1.FileChange.UNTRACKED },
            ],
            upstream: '',
            ahead: 0,
            behind: 0,
          }),
          commit: async (_c: unknown, message: string) => ({ sha: 'b'.repeat(40), created: message !== 'empty', filesChanged: 2 }),
          log: async () => ({
            commits: [{ sha: 'c'.repeat(40), message: 'Add page', authorName: 'overskill', committedAt: '2026-01-01T00:00:00Z' }],
            nextPageToken: '',
          }),
          diff: async () => ({
            files: [
              {
                path: 'a.txt',
                patch: '--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-a\n+b',
                binary: false,
                change: gitV1.FileChange.MODIFIED,
                patchTruncated: false,
              },
            ],
            filesChanged: 1,
            additions: 1,
            deletions: 1,
          }),
          listBranches: async () => ({
            branches: [
              { name: 'main', sha: 'd'.repeat(40), current: true, subject: 'init' },
              { name: 'feature', sha: 'e'.repeat(40), current: false, subject: 'wip' },
            ],
            current: 'main',
          }),
          createBranch: async (_c: unknown, name: string) => ({ branch: { name, sha: 'f'.repeat(40) } }),
          switchBranch: async (_c: unknown, name: string) => ({ branch: { name }, previous: 'main' }),
          deleteBranch: async () => ({ sha: '1'.repeat(40), archivedRef: '' }),
        } as never,
      },
    });
    expect((await h.run('git_status', {})).output).toBe(
      `On branch main (${'a'.repeat(12)})\nChanges not committed yet (2):\n  renamed: a.txt → b.txt\n  untracked: c.txt`,
    );
    expect((await h.run('git_commit', { message: 'Add page\n\nbody' })).output).toBe(`Committed ${'b'.repeat(12)}: Add page (2 files changed)`);
    expect((await h.run('git_commit', { message: 'empty' })).output).toBe(`Nothing to commit; HEAD stays at ${'b'.repeat(12)}.`);
    expect((await h.run('git_log', { limit: 1 })).output).toBe(`${'c'.repeat(12)} 2026-01-01T00:00:00Z overskill: Add page`);
    expect((await h.run('git_diff', {})).output).toBe('1 file changed, +1 -1\n--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-a\n+b');
    expect((await h.run('git_branch', { action: 'list' })).output).toBe(`* main ${'d'.repeat(12)} init\n  feature ${'e'.repeat(12)} wip`);
    expect((await h.run('git_branch', { action: 'create', name: 'x', switch_to: true })).output).toBe(
      `Created branch x at ${'f'.repeat(12)} and switched to it`,
    );
    expect((await h.run('git_branch', { action: 'switch', name: 'feature' })).output).toBe('Switched from main to feature');
    expect(await h.run('git_branch', { action: 'delete' })).toMatchObject({ isError: true, errorCode: ErrorCode.TOOL_INPUT_INVALID });
    expect(await h.run('git_log', { path: '../x' })).toMatchObject({ isError: true, errorCode: ErrorCode.TOOL_PATH_OUTSIDE_WORKSPACE });
    expect(h.locks).toEqual([]);
  });

  it("broadcast_progress puts a note on the run's event stream", async () => {
    h = createHarness();
    expect((await h.run('broadcast_progress', { message: 'Styling the header' })).output).toBe('Shown to the user.');
    expect(h.progress).toEqual([{ runId: 'run-1', message: 'Styling the header' }]);
  });
});
