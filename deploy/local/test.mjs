#!/usr/bin/env node
// `npm test` (and CI through .ci/run): every check, in order, stopping at the first failure.
// Ends with one line `jest: N passed, M failed[, K skipped]`. See docs/local-stack.md.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT, ensureNodeModules, ensureOsPackages } from './bootstrap.mjs';
import { StepFailedError, runCommand, step } from './script-steps.mjs';

const bin = (tool) => path.join(REPO_ROOT, 'node_modules', '.bin', tool);


function jestSummaryLine(resultsFile) {
  const results = JSON.parse(fs.readFileSync(resultsFile, 'utf8'));
  const skipped = (results.numPendingTests ?? 0) + (results.numTodoTests ?? 0);
  // A suite that fails to load counts no test; it still is a failure.
  const failed = results.numFailedTests + (results.numRuntimeErrorTestSuites ?? 0);
  return `jest: ${results.numPassedTests} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`;
}

// Printed as the very last line, pass or fail: it is what a reader (and CI) looks for.
let jestSummary;

async function runJest() {
  const resultsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'overskill-jest-'));
  const resultsFile = path.join(resultsDir, 'results.json');
  let failure;
  try {
    runCommand(bin('jest'), ['--ci', '--json', `--outputFile=${resultsFile}`]);
  } catch (error) {
    failure = error;
  }
  try {
    jestSummary = fs.existsSync(resultsFile) ? jestSummaryLine(resultsFile) : 'jest: no results were written (Jest crashed before reporting)';
  } finally {
    fs.rmSync(resultsDir, { recursive: true, force: true });
  }
  if (failure) throw failure;
}

async function main() {
  const started = Date.now();
  await step('bootstrap: OS packages and node_modules', () => {
    ensureOsPackages(['nats-server', 'redis-server', 'postgresql', 'git', 'ripgrep', 'prometheus', 'docker-compose', 'chromium']);
    ensureNodeModules();
  });
  await step('proto: buf lint, generated code up to date, buf breaking against main', () => runCommand(process.execPath, ['deploy/local/proto-check.mjs']));
  await step('deploy: promtool rules + tests, compose, k8s, dashboards', () => runCommand(process.execPath, ['deploy/local/check-deploy.mjs']));
  await step('lint', () => {
    // @nx/enforce-module-boundaries reads Nx's cached project graph and silently skips itself
    // when there is none (a fresh clone): computing it first makes the rule really run.
    runCommand(bin('nx'), ['show', 'projects'], { stdio: ['ignore', 'ignore', 'inherit'] });
    runCommand(bin('eslint'), ['--max-warnings=0', '.']);
  });
  await step('type-check', () => runCommand(bin('tsc'), ['-p', 'tsconfig.json', '--noEmit']));
  await step('build', () => runCommand(process.execPath, ['deploy/local/build.mjs']));
  await step('openapi: generate the gateway document from the code and lint it (@redocly/cli)', () => runCommand(process.execPath, ['services/gateway/scripts/check-openapi.mjs']));
  await step('jest (unit + integration)', runJest);
  console.log(`\nnpm test: all steps passed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  console.log(jestSummary);
}

main().catch((error) => {
  console.error(`\nnpm test: ${error instanceof StepFailedError ? error.message : error?.stack ?? error}`);
  if (jestSummary) console.log(jestSummary);
  process.exit(1);
});
