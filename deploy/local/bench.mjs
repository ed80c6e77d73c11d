#!/usr/bin/env node
// `npm run bench`: builds, then runs tests/bench/**/*.bench.ts one at a time against a real
// local stack (the integration tier's global setup). Benchmarks write their numbers to
// tests/bench/results/latest.json.
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, ensureNodeModules, ensureOsPackages } from './bootstrap.mjs';
import { StepFailedError, runCommand, step } from './script-steps.mjs';

const RESULTS_FILE = path.join(REPO_ROOT, 'tests/bench/results/latest.json');

async function main() {
  await step('bootstrap: OS packages and node_modules', () => {
    ensureOsPackages(['nats-server', 'redis-server', 'postgresql', 'git', 'chromium', 'age', 'zstd']);
    ensureNodeModules();
  });
  await step('build', () => runCommand(process.execPath, ['deploy/local/build.mjs']));
  const started = Date.now();
  await step('benchmarks', () =>
    runCommand(path.join(REPO_ROOT, 'node_modules/.bin/jest'), [
      '--config',
      'tests/bench/jest.bench.config.js',
      '--rootDir',
      '.',
      '--runInBand',
      '--testMatch',
      '<rootDir>/tests/bench/**/*.bench.ts',
      '--passWithNoTests',
      ...process.argv.slice(2),
    ]),
  );
  const written = fs.existsSync(RESULTS_FILE) && fs.statSync(RESULTS_FILE).mtimeMs >= started;
  console.log(
    written
      ? `\nbench: results written to ${path.relative(REPO_ROOT, RESULTS_FILE)}`
      : `\nbench: no benchmark wrote ${path.relative(REPO_ROOT, RESULTS_FILE)} in this run`,
  );
}

main().catch((error) => {
  console.error(`\nnpm run bench: ${error instanceof StepFailedError ? error.message : (error?.stack ?? error)}`);
  process.exit(1);
});
