#!/usr/bin/env node
// `npm test` (and CI through .ci/run): every check, in order, stopping at the first failure.
// Ends with one line `tests: N passed, M failed[, K skipped]` (Vitest and Jest together). See docs/local-stack.md.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT, ensureNodeModules, ensureOsPackages } from './bootstrap.mjs';
import { StepFailedError, runCommand, step } from './script-steps.mjs';

const bin = (tool) => path.join(REPO_ROOT, 'node_modules', '.bin', tool);

// Jest and Vitest both write this JSON shape (Vitest's json reporter mirrors Jest's).
function countsOf(resultsFile) {
  const results = JSON.parse(fs.readFileSync(resultsFile, 'utf8'));
  const skipped = (results.numPendingTests ?? 0) + (results.numTodoTests ?? 0);
  // A suite that fails to load counts no test; it still is a failure.
  const failed = results.numFailedTests + (results.numRuntimeErrorTestSuites ?? 0);
  return { passed: results.numPassedTests, failed, skipped };
}

// Printed as the very last line, pass or fail: it is what a reader (and CI) looks for.
const counted = { passed: 0, failed: 0, skipped: 0, runners: [] };
let testSummary;

function count(runner, resultsFile) {
  if (!fs.existsSync(resultsFile)) {
    counted.failed += 1;
    counted.runners.push(`${runner}: no results were written (it crashed before reporting)`);
  } else {
    const c = countsOf(resultsFile);
    counted.passed += c.passed;
    counted.failed += c.failed;
    counted.skipped += c.skipped;
    counted.runners.push(runner);
  }
  const { passed, failed, skipped } = counted;
  // One word before the colon: CI reads `<word>: N passed, M failed` as the closing line.
  testSummary = `counted by ${counted.runners.join(' + ')}\ntests: ${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`;
}

// Runs a test runner that writes Jest-shaped JSON results to the file it is given, and counts them.
async function runCounted(runner, args) {
  const resultsDir = fs.mkdtempSync(path.join(os.tmpdir(), `overskill-${runner}-`));
  const resultsFile = path.join(resultsDir, 'results.json');
  let failure;
  try {
    runCommand(bin(runner), args(resultsFile));
  } catch (error) {
    failure = error;
  }
  try {
    count(runner, resultsFile);
  } finally {
    fs.rmSync(resultsDir, { recursive: true, force: true });
  }
  if (failure) throw failure;
}

// The web console's component tests (Vitest + Testing Library in jsdom).
const runVitest = () =>
  runCounted('vitest', (file) => ['run', '--config', 'services/console/vite.config.mts', '--reporter=default', '--reporter=json', `--outputFile.json=${file}`]);
const runJest = () => runCounted('jest', (file) => ['--ci', '--json', `--outputFile=${file}`]);

async function main() {
  const started = Date.now();
  await step('bootstrap: OS packages and node_modules', () => {
    ensureOsPackages([
      'nats-server',
      'redis-server',
      'postgresql',
      'git',
      'ripgrep',
      'prometheus',
      'docker-compose',
      'chromium',
      'bubblewrap',
      'age',
      'zstd',
      'openssl',
    ]);
    ensureNodeModules();
  });
  await step('proto: buf lint, generated code up to date, buf breaking against main', () => runCommand(process.execPath, ['deploy/local/proto-check.mjs']));
  await step('deploy: promtool rules + tests, compose, k8s, dashboards', () => runCommand(process.execPath, ['deploy/local/check-deploy.mjs']));
  await step('lint', () => {
    // @nx/enforce-module-boundaries reads Nx's cached project graph and silently skips itself
    // when there is none (a fresh clone): computing it first makes the rule really run.
    runCommand(bin('nx'), ['show', 'projects'], { stdio: ['ignore', 'ignore', 'inherit'] });
    runCommand(bin('eslint'), ['--max-warnings=0', '.']);
    runCommand(bin('prettier'), ['--check', '--log-level=warn', '**/*.{ts,tsx,mts,cts,js,mjs,cjs}']);
  });
  await step('type-check', () => {
    runCommand(bin('tsc'), ['-p', 'tsconfig.json', '--noEmit']);
    runCommand(bin('tsc'), ['-p', 'services/console/tsconfig.json', '--noEmit']);
  });
  await step('build', () => runCommand(process.execPath, ['deploy/local/build.mjs']));
  await step('openapi: generate the gateway document from the code and lint it (@redocly/cli)', () =>
    runCommand(process.execPath, ['services/gateway/scripts/check-openapi.mjs']),
  );
  await step('vitest (web console components)', runVitest);
  await step('jest (unit + integration, console end to end in Chromium)', runJest);
  console.log(`\nnpm test: all steps passed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  console.log(testSummary);
}

main().catch((error) => {
  console.error(`\nnpm test: ${error instanceof StepFailedError ? error.message : (error?.stack ?? error)}`);
  if (testSummary) console.log(testSummary);
  process.exit(1);
});
