import { demoResponder, GitHttpFake } from '@overskill/testing';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { droppableProxy, launchChromium, screenshot, seriousViolations, type DroppableProxy } from '../support/browser';
import { startGatewayHarness, type GatewayHarness } from '../support/gateway-harness';

// The web console in real Chromium against the real platform in demo mode: the scripted model
// builds a small web app through every service while the browser watches.
jest.setTimeout(120_000);

describe('console in Chromium', () => {
  let h: GatewayHarness;
  let browser: Browser;
  let owner: { key: string; teamId: string };
  let viewer: { key: string; teamId: string };
  let appId: string;
  const contexts: BrowserContext[] = [];
  // The repository tasks are cloned from and pushed to (real git http-backend on loopback).
  const GOOD_TOKEN = 'ghp_console_good_0123456789';
  const remote = new GitHttpFake({ token: GOOD_TOKEN });

  async function newPage(base = h.gateway, viewport = { width: 1280, height: 800 }): Promise<Page> {
    const context = await browser.newContext({ baseURL: base, viewport });
    contexts.push(context);
    return context.newPage();
  }

  async function signIn(page: Page, key: string): Promise<void> {
    await page.goto('/');
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Apps', level: 1 }).waitFor();
  }

  // Polls from the test side: the page's CSP forbids the string evaluation waitForFunction uses.
  async function until(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error('condition not met in time');
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  // The run with its steps (the runs list carries none).
  async function latestRun(id: string) {
    const { id: runId } = (await h.api(`/api/apps/${id}/runs?limit=1`, { key: owner.key })).body.data[0];
    return (await h.api(`/api/runs/${runId}`, { key: owner.key })).body;
  }

  async function expectAccessible(page: Page, screen: string): Promise<void> {
    expect({ screen, violations: await seriousViolations(page) }).toEqual({ screen, violations: [] });
  }

  beforeAll(async () => {
    const remoteUrl = await remote.start();
    remote.createRepo('acme/shop', { 'README.md': '# Shop\n' });
    h = await startGatewayHarness({
      name: 'console-browser',
      redisDb: 10,
      env: {
        GATEWAY_RATE_LIMIT_IP_MAX: '100000',
        GATEWAY_RATE_LIMIT_KEY_MAX: '100000',
        GITHUB_GIT_URL: remoteUrl,
        GIT_REMOTE_ALLOWED_HOSTS: '127.0.0.1',
        GIT_REMOTE_ALLOW_HTTP: 'true',
        TASK_SCHEDULE_INTERVAL_MS: '200',
      },
    });
    // Each model turn takes a moment, so the browser sees the run stream in step by step.
    h.anthropic.respondWith((request) => ({ ...demoResponder(request), delayMs: 700 }));
    owner = h.key('console-e2e', 'owner');
    viewer = h.key('console-e2e', 'viewer');
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await h?.stop();
    await remote.stop();
  });

  it('sign in → create an app → send a message → steps stream → files → diff → restore → a new version', async () => {
    const page = await newPage();
    await page.goto('/');
    await page.getByLabel('API key').waitFor();
    await expectAccessible(page, 'sign-in');
    await screenshot(page, '01-sign-in');
    await signIn(page, owner.key);
    // The key is never kept by the page: the session cookie is HttpOnly, storage is empty.
    // (Expressions as strings: they run in the page, whose globals this file's types do not know;
    // page.evaluate goes through the debugger protocol, which the page's CSP does not govern.)
    const stored = await page.evaluate('JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage }, cookie: document.cookie })');
    expect(stored).toBe(JSON.stringify({ local: {}, session: {}, cookie: '' }));
    await page.getByText('No apps yet').waitFor();
    await expectAccessible(page, 'apps (empty)');

    await page.getByRole('button', { name: 'New app' }).click();
    await page.getByRole('textbox', { name: 'Name', exact: true }).fill('Groceries');
    await page.getByLabel('Vite + React').check();
    await page.getByLabel('Static web page').check();
    await expectAccessible(page, 'new app dialog');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.waitForURL(/\/apps\/[0-9a-f-]{36}$/);
    appId = /\/apps\/([0-9a-f-]{36})/.exec(page.url())![1]!;
    await page.getByRole('heading', { name: 'Groceries', level: 1 }).waitFor();
    // The preview is made on the first ask: a new app shows its state and no check yet.
    await page.getByTestId('preview-state').waitFor();
    await page.getByText('No headless check yet: one runs after each agent turn.').waitFor();

    await page.getByLabel('Message to the agent').fill('Build a grocery list');
    await page.getByRole('button', { name: 'Send' }).click();
    const steps = page.getByTestId('run-steps').locator('li');
    // Steps arrive while the run is still going, not all at the end.
    await page.locator('.run .badge.running').waitFor();
    await steps.filter({ hasText: 'Model turn' }).first().waitFor();
    const seenWhileRunning = await steps.count();
    await page.locator('.run .badge.completed').waitFor({ timeout: 60_000 });
    const final = await steps.count();
    expect(seenWhileRunning).toBeGreaterThan(0);
    expect(final).toBeGreaterThan(seenWhileRunning);
    const seqs = await steps.evaluateAll((items) => items.map((li) => Number(li.getAttribute('data-seq'))));
    expect(new Set(seqs).size).toBe(seqs.length);
    const run = await latestRun(appId);
    expect(seqs).toEqual(run.steps.map((s: { seq: number }) => s.seq));
    await expect(page.getByTestId('run-steps').locator('details').first().getAttribute('open')).resolves.toBeNull();
    await page.getByText(/model turn\(s\) · [\d,]+ in \/ [\d,]+ out tokens/).waitFor();
    // The preview pane picks up the headless check the run ended with, and its screenshot loads
    // with the session cookie under the page's CSP.
    const check = page.getByTestId('preview-check');
    await check.waitFor({ timeout: 30_000 });
    const preview = (await h.api(`/api/apps/${appId}/preview`, { key: owner.key })).body;
    await check.locator('.badge', { hasText: preview.lastCheck.outcome }).waitFor();
    expect(await check.innerText()).toContain(preview.lastCheck.sha.slice(0, 7));
    const shot = check.getByRole('img');
    await until(async () => (await shot.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)) > 0);
    await expectAccessible(page, 'workspace chat');
    await screenshot(page, '03-workspace-chat');

    await page.getByRole('tab', { name: 'Files' }).click();
    await page.getByRole('treeitem', { name: 'index.html' }).click();
    await page.locator('.cm-editor .cm-content').waitFor();
    await expect(page.locator('.cm-content').innerText()).resolves.toMatch(/<!doctype html>/i);
    // Highlighted: CodeMirror's HTML grammar styles the tags.
    expect(await page.locator('.cm-content span[class^="ͼ"]').count()).toBeGreaterThan(0);
    await expectAccessible(page, 'workspace files');
    await screenshot(page, '04-workspace-files');

    await page.getByRole('tab', { name: 'Versions' }).click();
    const versions = page.getByRole('list', { name: 'Versions' }).getByRole('button');
    await page.getByTestId('diff-view').waitFor();
    const before = await versions.count();
    expect(before).toBeGreaterThanOrEqual(2);
    await expect(page.locator('.diff-file').count()).resolves.toBeGreaterThan(0);
    expect(await page.locator('.diff-code-insert').count()).toBeGreaterThan(0);
    await page.getByLabel('Split').check();
    await page.locator('table.diff-split').first().waitFor();
    await expectAccessible(page, 'workspace versions');
    await screenshot(page, '05-workspace-versions-split');

    const oldest = versions.nth(before - 1);
    const oldSha = (await oldest.locator('code').innerText()).trim();
    await oldest.click();
    await page.getByRole('button', { name: 'Restore this version' }).click();
    const dialog = page.getByRole('dialog', { name: `Restore ${oldSha}?` });
    await dialog.waitFor();
    await expectAccessible(page, 'restore dialog');
    await dialog.getByRole('button', { name: 'Restore' }).click();
    await dialog.waitFor({ state: 'detached' });
    await versions.nth(before).waitFor();
    await expect(versions.first().innerText()).resolves.toContain(`restored from ${oldSha}`);
    const log = (await h.api(`/api/apps/${appId}/versions`, { key: owner.key })).body.data;
    expect(log).toHaveLength(before + 1);
    expect(log[0].restoredFrom.startsWith(oldSha)).toBe(true);

    await page.getByRole('link', { name: 'Apps' }).first().click();
    await page.getByRole('link', { name: 'Groceries' }).waitFor();
    await expectAccessible(page, 'apps');
    await screenshot(page, '02-apps');
  });

  it('admin screens: keys (created key shown once), audit log with filters, AI usage, service health', async () => {
    const page = await newPage();
    await signIn(page, owner.key);
    await page.getByRole('link', { name: 'Admin' }).click();
    await page.getByRole('grid').locator('tbody tr').first().waitFor();
    await page.getByRole('button', { name: 'New key' }).click();
    await page.getByRole('textbox', { name: 'Name', exact: true }).fill('from the console');
    await page.getByRole('button', { name: 'Create' }).click();
    const secret = await page.getByTestId('new-key').inputValue();
    expect(secret).toMatch(/^osk_[a-z0-9]{12}_/);
    await expectAccessible(page, 'new key shown once');
    await page.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('rowheader', { name: 'from the console', exact: true }).waitFor();
    await expectAccessible(page, 'admin keys');
    await screenshot(page, '06-admin-keys');

    await page.getByRole('tab', { name: 'Audit log' }).click();
    await page.getByRole('rowheader', { name: 'POST /api/keys', exact: true }).first().waitFor();
    await page.getByLabel('Action').fill('POST /api/session');
    await page.getByRole('button', { name: 'Filter' }).click();
    await until(async () => {
      const actions = await page.locator('tbody tr td:nth-child(3)').allInnerTexts();
      return actions.length > 0 && actions.every((a) => a === 'POST /api/session');
    });
    await expectAccessible(page, 'admin audit');
    await screenshot(page, '07-admin-audit');

    await page.getByRole('tab', { name: 'AI usage & model' }).click();
    await page.getByText('Active alias:').waitFor();
    await page.getByText('Only owners of an operator team may switch the model.').waitFor();
    await expectAccessible(page, 'admin ai');
    await screenshot(page, '08-admin-ai');

    await page.getByRole('tab', { name: 'Service health' }).click();
    await page.getByRole('rowheader', { name: 'postgres', exact: false }).first().waitFor();
    await expectAccessible(page, 'admin health');
    await screenshot(page, '09-admin-health');
  });

  it('projects → tasks: add a project (a missing permission shown as the API names it), tasks worked by priority, a task with its run and pull request, edit; a viewer reads only', async () => {
    const alice = { login: 'alice', id: 11, type: 'User' as const };
    h.github.addRepo('acme', 'shop', { refs: () => remote.refs('acme/shop') });
    h.github.addToken(GOOD_TOKEN, alice, { metadata: 'read', contents: 'write', issues: 'write', pull_requests: 'write' });
    h.github.addToken('ghp_console_limited_012345', alice, { metadata: 'read', contents: 'write', issues: 'write' });
    const page = await newPage();
    await signIn(page, owner.key);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Projects' }).click();
    await page.getByText('No projects yet').waitFor();
    await page.getByText('No task is queued or running.').waitFor();
    await expectAccessible(page, 'projects (empty)');

    await page.getByRole('button', { name: 'New project' }).click();
    await page.getByLabel('Repository (owner/name)').fill('acme/shop');
    await page.getByLabel('Token', { exact: true }).fill('ghp_console_limited_012345');
    await expectAccessible(page, 'new project dialog');
    await page.getByRole('button', { name: 'Add project' }).click();
    const refusal = page.getByRole('dialog').getByRole('alert');
    await refusal.getByText('GITHUB_PERMISSION_MISSING').waitFor();
    expect(await refusal.innerText()).toMatch(/pull_requests/);
    await page.getByLabel('Token', { exact: true }).fill('ghp_console_good_0123456789');
    await page.getByRole('button', { name: 'Add project' }).click();
    await page.getByRole('heading', { name: 'acme/shop', level: 1 }).waitFor();
    const projectId = /\/projects\/([0-9a-f-]{36})/.exec(page.url())![1]!;
    // The token is never shown again, not even to the admin who typed it.
    expect(await page.content()).not.toContain('ghp_console_good');
    await page.getByText('No tasks yet').waitFor();

    // Three labelled issues become tasks, worked by the orchestrator: each an agent run on a clone,
    // its branch pushed and a draft pull request opened.
    const titles: Record<string, string> = { low: 'Tidy the footer', urgent: 'Checkout is broken', high: 'Add a search box' };
    for (const label of ['low', 'urgent', 'high']) {
      const n = h.github.createIssue('acme/shop', { title: titles[label]!, labels: [label], user: alice });
      const sent = await h.github.sendWebhook(
        `${h.gateway}/api/github/webhook`,
        'issues',
        h.github.labelIssue('acme/shop', n, 'overskill', alice),
        h.webhookSecret,
      );
      expect(sent.status).toBe(202);
    }
    await until(async () => (await h.api(`/api/projects/${projectId}/tasks`, { key: owner.key })).body.data.length === 3);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Projects' }).click();
    await page
      .getByRole('grid', { name: /^Queue: / })
      .first()
      .waitFor();
    await expectAccessible(page, 'projects and queue');
    await screenshot(page, '11-projects');

    const tasksOf = async () =>
      (await h.api(`/api/projects/${projectId}/tasks`, { key: owner.key })).body.data as Array<{
        id: string;
        title: string;
        status: string;
        answerUrl: string | null;
      }>;
    await until(async () => (await tasksOf()).every((t) => t.status === 'completed'), 120_000);
    const urgent = (await tasksOf()).find((t) => t.title === titles.urgent)!;
    await page.reload();
    await page.getByText('No task is queued or running.').waitFor();
    await page.getByRole('link', { name: 'acme/shop' }).click();
    // Grouped by state, each state highest priority first.
    const completed = page.getByRole('grid', { name: 'Tasks: Completed' });
    await completed.waitFor();
    const order = await completed.locator('tbody [role=rowheader]').allInnerTexts();
    expect(order.map((t) => t.replace(/^#\d+ /, ''))).toEqual([titles.urgent, titles.high, titles.low]);
    await completed.getByText('urgent (100)').waitFor();

    await completed.getByRole('link', { name: new RegExp(titles.urgent!) }).click();
    await page.getByRole('heading', { name: new RegExp(titles.urgent!), level: 1 }).waitFor();
    const issueLink = page.getByRole('link', { name: /acme\/shop#\d+/ });
    expect(await issueLink.getAttribute('href')).toMatch(/^https:\/\/github\.com\/acme\/shop\/issues\/\d+$/);
    await page.getByText(/^overskill\/issue-\d+$/).waitFor();
    // The draft pull request that answered it, and the run's steps in the workspace's timeline.
    const pull = page.getByRole('link', { name: /^Pull request #\d+$/ });
    expect(await pull.getAttribute('href')).toBe(urgent.answerUrl);
    const steps = page.getByTestId('run-steps').locator('li');
    await steps.filter({ hasText: 'Model turn' }).first().waitFor();
    await page.locator('.run .badge.completed').waitFor();
    // A completed task can be neither cancelled nor retried.
    expect(await page.getByRole('button', { name: /^(Cancel|Retry) task$/ }).count()).toBe(0);
    await expectAccessible(page, 'task');
    await screenshot(page, '12-task');

    await page.getByRole('link', { name: '← acme/shop' }).click();
    await page.getByRole('grid', { name: 'Tasks: Completed' }).waitFor();
    await page.getByLabel('State').selectOption('failed');
    await page.getByText('No failed tasks.').waitFor();
    await page.getByRole('button', { name: 'Edit' }).click();
    expect(await page.getByLabel(/New token/).inputValue()).toBe('');
    await page.getByLabel('Tasks at once').fill('4');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    await until(async () => (await h.api(`/api/projects/${projectId}`, { key: owner.key })).body.concurrency === 4);
    await expectAccessible(page, 'project');
    await screenshot(page, '13-project');

    const phone = await newPage(h.gateway, { width: 390, height: 844 });
    await signIn(phone, owner.key);
    await phone.goto('/projects');
    await phone.getByText('No task is queued or running.').waitFor();
    expect(await phone.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await expectAccessible(phone, 'projects (phone)');
    await screenshot(phone, '14-projects-phone');

    const viewerPage = await newPage();
    await signIn(viewerPage, viewer.key);
    await viewerPage.goto(`/projects/${projectId}`);
    await viewerPage.getByRole('grid', { name: 'Tasks: Completed' }).waitFor();
    expect(await viewerPage.getByRole('button', { name: /^(Edit|Delete)$/ }).count()).toBe(0);
    await viewerPage.getByRole('link', { name: '← Projects' }).click();
    await viewerPage.getByRole('link', { name: 'acme/shop' }).waitFor();
    expect(await viewerPage.getByRole('button', { name: 'New project' }).count()).toBe(0);
  }, 240_000);

  it('AI usage and cost by day and by app, the app named, one app by day; at a phone size too', async () => {
    const page = await newPage();
    await signIn(page, owner.key);
    await page.goto('/admin/ai');
    const byApp = page.getByRole('grid', { name: 'AI usage by app' });
    // The first test's run spent tokens in the Groceries app.
    await byApp.getByRole('rowheader', { name: 'Groceries' }).waitFor({ timeout: 30_000 });
    const daily = (await h.api('/api/admin/ai/usage/daily', { key: owner.key })).body;
    const groceries = daily.apps.find((a: { appId: string | null }) => a.appId === appId);
    expect(groceries.requests).toBeGreaterThan(0);
    expect(await byApp.getByRole('row', { name: /Groceries/ }).innerText()).toContain(groceries.costUsd.toFixed(4));
    await page.getByLabel('App', { exact: true }).selectOption({ label: 'Groceries' });
    await page.getByRole('heading', { name: 'By day: Groceries' }).waitFor();
    const today = new Date().toISOString().slice(0, 10);
    expect(
      await page
        .getByRole('grid', { name: 'AI usage by day' })
        .getByRole('row', { name: new RegExp(today) })
        .innerText(),
    ).toContain(String(groceries.requests));
    await page.getByLabel('Range', { exact: true }).selectOption('30');
    await until(async () => (await page.getByRole('grid', { name: 'AI usage by day' }).locator('tbody tr').count()) === 30);
    await expectAccessible(page, 'admin ai by app');
    await screenshot(page, '15-admin-ai-by-app');

    const phone = await newPage(h.gateway, { width: 390, height: 844 });
    await signIn(phone, owner.key);
    await phone.goto('/admin/ai');
    await phone.getByRole('grid', { name: 'AI usage by app' }).getByRole('rowheader', { name: 'Groceries' }).waitFor();
    expect(await phone.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await expectAccessible(phone, 'admin ai (phone)');
    await screenshot(phone, '16-admin-ai-phone');
  });

  it('a viewer key sees no write actions', async () => {
    const page = await newPage();
    await signIn(page, viewer.key);
    await page.getByRole('link', { name: 'Groceries' }).click();
    await page.getByTestId('run-steps').waitFor();
    expect(await page.getByRole('button', { name: 'New app' }).count()).toBe(0);
    expect(await page.getByLabel('Message to the agent').count()).toBe(0);
    await page.getByText('This key can read the conversation but not send messages.').waitFor();
    await page.getByRole('tab', { name: 'Versions' }).click();
    await page.getByTestId('diff-view').waitFor();
    await page.getByRole('list', { name: 'Versions' }).getByRole('button').last().click();
    await page.getByTestId('diff-summary').waitFor();
    expect(await page.getByRole('button', { name: 'Restore this version' }).count()).toBe(0);
    // Any version's files, not only the latest.
    const oldest = (await page.getByRole('list', { name: 'Versions' }).getByRole('button').last().locator('code').innerText()).trim();
    await page.getByRole('link', { name: 'Files at this version' }).click();
    await page.waitForURL(new RegExp(`/files\\?ref=${oldest}`));
    await page.getByRole('heading', { name: new RegExp(`Files at ${oldest}`) }).waitFor();
    await page.getByRole('link', { name: 'Back to the latest version' }).waitFor();
    await page.getByRole('link', { name: 'Apps' }).first().click();
    await page.getByRole('link', { name: 'Groceries' }).waitFor();
    expect(await page.getByRole('button', { name: /^(Rename|Delete) / }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Admin' }).count()).toBe(0);
  });

  it('a revoked key is signed out', async () => {
    const created = (await h.api('/api/keys', { method: 'POST', key: owner.key, body: { name: 'soon revoked', role: 'member' } })).body;
    const page = await newPage();
    await signIn(page, created.key);
    await page.getByRole('link', { name: 'Groceries' }).waitFor();
    expect((await h.api(`/api/keys/${created.id}`, { method: 'DELETE', key: owner.key })).status).toBe(200);
    await page.getByRole('link', { name: 'Groceries' }).click();
    await page.getByText('Your session ended (it expired or its key was revoked). Sign in again.').waitFor();
    await page.getByLabel('API key').waitFor();
    await page.reload();
    await page.getByLabel('API key').waitFor();
  });

  it("a run's stream survives a dropped connection: nothing lost, nothing repeated", async () => {
    let proxy: DroppableProxy | undefined;
    // Slower turns: the run must still be going after two cuts and two reconnections.
    h.anthropic.respondWith((request) => ({ ...demoResponder(request), delayMs: 2000 }));
    try {
      proxy = await droppableProxy(h.gateway);
      const page = await newPage(proxy.url);
      await signIn(page, owner.key);
      await page.getByRole('link', { name: 'Groceries' }).click();
      await page.getByLabel('Message to the agent').fill('Build a packing list');
      await page.getByRole('button', { name: 'Send' }).click();
      await page.locator('.run .badge.running').waitFor();
      await page.getByTestId('stream-state').getByText('Live').waitFor();
      await page.getByTestId('run-steps').locator('li').first().waitFor();
      // Cut every connection mid-run, twice; each time the page reconnects and goes live again.
      for (let i = 0; i < 2; i++) {
        expect(proxy.dropAll()).toBeGreaterThan(0);
        await page.getByTestId('stream-state').getByText('Reconnecting…').waitFor();
        await page.getByTestId('stream-state').getByText('Live').waitFor();
      }
      await page.locator('.run .badge.completed').waitFor({ timeout: 60_000 });
      const seqs = await page
        .getByTestId('run-steps')
        .locator('li')
        .evaluateAll((items) => items.map((li) => Number(li.getAttribute('data-seq'))));
      const run = await latestRun(appId);
      expect(run.status).toBe('completed');
      expect(seqs).toEqual(run.steps.map((s: { seq: number }) => s.seq));
    } finally {
      h.anthropic.respondWith((request) => ({ ...demoResponder(request), delayMs: 700 }));
      await proxy?.close();
    }
  });

  it('renders the editor and the diff with every request to another origin blocked (air-gapped)', async () => {
    const page = await newPage();
    const origin = new URL(h.gateway).origin;
    const blocked: string[] = [];
    await page.context().route('**/*', (route) => {
      const url = route.request().url();
      if (new URL(url).origin === origin) return route.continue();
      blocked.push(url);
      return route.abort('blockedbyclient');
    });
    await signIn(page, owner.key);
    await page.goto(`/apps/${appId}/files`);
    await page.getByRole('treeitem', { name: 'app.js' }).click();
    await page.locator('.cm-editor .cm-content').waitFor();
    await page.goto(`/apps/${appId}/versions`);
    await page.locator('.diff-file').first().waitFor();
    expect(blocked).toEqual([]);
  });

  it('renames and, after a confirmation, deletes an app; cancels a running run', async () => {
    const page = await newPage();
    await signIn(page, owner.key);
    await page.getByRole('button', { name: 'New app' }).click();
    await page.getByRole('textbox', { name: 'Name', exact: true }).fill('Scratch');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('heading', { name: 'Scratch', level: 1 }).waitFor();
    await page.getByLabel('Message to the agent').fill('Build a scratch pad');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByRole('button', { name: 'Cancel run' }).click();
    await page.locator('.run .badge.cancelled').waitFor();
    expect(await page.getByRole('button', { name: 'Cancel run' }).count()).toBe(0);

    await page.getByRole('link', { name: 'Apps' }).first().click();
    await page.getByRole('button', { name: 'Rename Scratch' }).click();
    await page.getByRole('textbox', { name: 'Name', exact: true }).fill('Scratch renamed');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('link', { name: 'Scratch renamed' }).waitFor();
    await page.getByRole('button', { name: 'Delete Scratch renamed' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete Scratch renamed?' });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect(await page.getByRole('link', { name: 'Scratch renamed' }).count()).toBe(1);
    await page.getByRole('button', { name: 'Delete Scratch renamed' }).click();
    await page.getByRole('button', { name: 'Delete app' }).click();
    await page.getByRole('link', { name: 'Scratch renamed' }).waitFor({ state: 'detached' });
    const apps = (await h.api('/api/apps', { key: owner.key })).body.data.map((a: { name: string }) => a.name);
    expect(apps).not.toContain('Scratch renamed');
  });

  it('works by keyboard: sign in, open a dialog and leave it, move through the file tree', async () => {
    const page = await newPage();
    await page.goto('/');
    await page.getByLabel('API key').waitFor();
    // The key field is the first stop; Enter submits.
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement && document.activeElement.id')).toBe('api-key');
    await page.keyboard.type(owner.key);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Apps', level: 1 }).waitFor();
    const newApp = page.getByRole('button', { name: 'New app' });
    await newApp.focus();
    await page.keyboard.press('Enter');
    await page.getByRole('dialog', { name: 'New app' }).waitFor();
    expect(await page.evaluate('document.activeElement && document.activeElement.id')).toBe('app-name');
    // Focus stays inside the dialog, and Escape closes it, handing focus back.
    for (let i = 0; i < 8; i++) await page.keyboard.press('Tab');
    expect(await page.evaluate(`!!document.activeElement.closest('[role="dialog"]')`)).toBe(true);
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    expect(await settledActive(page, 'document.activeElement && document.activeElement.textContent', 'New app')).toBe('New app');

    await page.goto(`/apps/${appId}/files`);
    const first = page.getByRole('treeitem').first();
    await first.focus();
    // The tree moves focus on the next animation frame: each step is waited for before the next key.
    for (const row of [1, 2]) {
      await page.keyboard.press('ArrowDown');
      await settledActive(page, `document.activeElement && document.activeElement.getAttribute('data-row')`, String(row));
    }
    const focused = (await page.evaluate('document.activeElement && document.activeElement.textContent')) as string;
    expect(focused).not.toBe(await first.innerText());
    await page.keyboard.press('Enter');
    // The viewer's heading names the file Enter opened (waited for: the previous file's view may still be up).
    await page
      .getByRole('heading', { level: 2 })
      .filter({ hasText: focused.replace(/^[▸▾] /, '') })
      .first()
      .waitFor();
    await page.locator('.cm-editor .cm-content').waitFor();

    // Tabs: arrows move between them, Enter opens one (its address follows).
    await page.goto('/admin/keys');
    await page.getByRole('tab', { name: 'API keys' }).focus();
    await page.keyboard.press('ArrowRight');
    expect(await page.evaluate('document.activeElement && document.activeElement.textContent')).toBe('Audit log');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/admin\/audit$/);
    await page.getByRole('grid', { name: 'Audit log' }).waitFor();
    // A key's actions menu, reached inside the grid by arrow keys: Enter opens it on its first
    // item, Escape closes it and returns focus.
    await page.goto('/admin/keys');
    await page.getByRole('grid', { name: 'API keys' }).getByRole('row').nth(1).focus();
    for (let i = 0; i < 7; i++) await page.keyboard.press('ArrowRight');
    const actionsLabel = 'document.activeElement && document.activeElement.getAttribute("aria-label")';
    const trigger = (await page.evaluate(actionsLabel)) as string;
    expect(trigger).toMatch(/^Actions for /);
    await page.keyboard.press('Enter');
    await page.getByRole('menu').waitFor();
    expect(await settledActive(page, 'document.activeElement && document.activeElement.textContent', 'Rotate')).toBe('Rotate');
    await page.keyboard.press('Escape');
    await page.getByRole('menu').waitFor({ state: 'detached' });
    expect(await settledActive(page, actionsLabel, trigger)).toMatch(/^Actions for /);
    // The projects screen's dialog: focus on its first field, Escape back to the button.
    await page.goto('/projects');
    const newProject = page.getByRole('button', { name: 'New project' });
    await newProject.focus();
    await page.keyboard.press('Enter');
    await page.getByRole('dialog', { name: 'New project' }).waitFor();
    expect(await settledActive(page, 'document.activeElement && document.activeElement.id', 'project-repo')).toBe('project-repo');
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    expect(await settledActive(page, 'document.activeElement && document.activeElement.textContent', 'New project')).toBe('New project');
  });

  it('works at a phone size (390×844)', async () => {
    const page = await newPage(h.gateway, { width: 390, height: 844 });
    await signIn(page, owner.key);
    await page.getByRole('link', { name: 'Groceries' }).click();
    await page.getByTestId('run-steps').waitFor();
    // Nothing wider than the screen: the layout stacks instead of scrolling sideways.
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await expectAccessible(page, 'workspace (phone)');
    await screenshot(page, '10-workspace-phone');
  });
});

// Focus moves a frame after the key (the tree) or after a dialog's exit (back to its trigger):
// what `expression` says of the focused element, once it is `expected` or after 2 s. Polled from
// here: the console's CSP forbids the eval waitForFunction would need.
async function settledActive(page: Page, expression: string, expected: string): Promise<unknown> {
  let value: unknown;
  for (let i = 0; i < 100 && (value = await page.evaluate(expression)) !== expected; i++) await new Promise((r) => setTimeout(r, 20));
  return value;
}
