// The headless preview check of a task's web app, as its pull request shows it: passed or failed
// with what went wrong, and the screenshot. GitHub has no public upload API for images, so the
// screenshot is committed to the task's branch under SCREENSHOT_PATH and shown by its blob URL at
// that commit (`?raw=true`): readers of the repository see it, nobody else, and no token or
// preview address is in the body.

export const SCREENSHOT_PATH = '.overskill/preview.png';
const SECTION_START = '<!-- overskill:preview -->';
const SECTION_END = '<!-- /overskill:preview -->';
const MAX_LISTED = 10;
const MAX_ITEM = 300;

export interface PreviewReport {
  sha: string;
  outcome: string;
  loadMs: number;
  pageErrors: string[];
  consoleErrors: string[];
  failedRequests: string[];
  blank: boolean;
  reason: string;
  screenshot: boolean;
  // The screenshot's blob URL, once committed and pushed.
  imageUrl?: string;
}

// The check of the run's last version, from its `preview_check` step; none when the repository is
// no web app (the check says so) or the run checked nothing.
export function previewReportOf(steps: ReadonlyArray<{ kind: string; data: Record<string, unknown> }>): PreviewReport | undefined {
  const step = steps.findLast((s) => s.kind === 'preview_check');
  if (!step) return undefined;
  const d = step.data;
  const outcome = String(d['outcome'] ?? '');
  if (!outcome || outcome === 'not_web_app') return undefined;
  const strings = (v: unknown) => (Array.isArray(v) ? v.map(String) : []);
  return {
    sha: String(d['sha'] ?? ''),
    outcome,
    loadMs: Number(d['loadMs'] ?? 0),
    pageErrors: strings(d['pageErrors']),
    consoleErrors: strings(d['consoleErrors']),
    failedRequests: strings(d['failedRequests']),
    blank: d['blank'] === true,
    reason: String(d['reason'] ?? ''),
    screenshot: d['screenshot'] === true,
  };
}

export function screenshotUrl(webBase: string, repository: string, commitSha: string): string {
  return `${webBase.replace(/\/+$/, '')}/${repository}/blob/${commitSha}/${SCREENSHOT_PATH}?raw=true`;
}

// The section of the pull request body, between hidden markers so that a later turn replaces it.
export function previewSection(report: PreviewReport): string {
  const version = `\`${report.sha.slice(0, 12)}\``;
  const lines =
    report.outcome === 'passed'
      ? [`✅ **Passed**: a headless browser opened ${version} (loaded in ${Math.round(report.loadMs)} ms) with no errors.`]
      : report.outcome === 'failed'
        ? [
            `❌ **Failed**: a headless browser opened ${version} and found errors.`,
            ...list('Uncaught exceptions', report.pageErrors),
            ...list('Console errors', report.consoleErrors),
            ...list('Failed requests', report.failedRequests),
            ...(report.blank ? ['', 'The page is blank: nothing visible after it loaded.'] : []),
          ]
        : [`⚠️ **Not checked**: ${oneLine(report.reason) || 'the check could not run'}.`];
  const image = report.imageUrl ? ['', `![The preview of ${report.sha.slice(0, 12)} in a headless browser](${report.imageUrl})`] : [];
  return [SECTION_START, '## Preview check', ...lines, ...image, SECTION_END].join('\n');
}

// The body with its preview section replaced (or added at the end).
export function withPreviewSection(body: string, section: string): string {
  const start = body.indexOf(SECTION_START);
  const end = body.indexOf(SECTION_END);
  if (start >= 0 && end > start) return `${body.slice(0, start)}${section}${body.slice(end + SECTION_END.length)}`;
  return `${body.trimEnd()}\n\n${section}`;
}

// Page errors are the app's own text: one line each, cut, in a code span they cannot close.
function list(title: string, items: string[]): string[] {
  if (items.length === 0) return [];
  const shown = items.slice(0, MAX_LISTED).map((i) => `- ${code(i)}`);
  return ['', `${title}:`, ...shown, ...(items.length > MAX_LISTED ? [`- … and ${items.length - MAX_LISTED} more`] : [])];
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_ITEM ? `${flat.slice(0, MAX_ITEM - 1)}…` : flat;
}

function code(text: string): string {
  const flat = oneLine(text);
  const longest = Math.max(0, ...[...flat.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence} ${flat} ${fence}`;
}
