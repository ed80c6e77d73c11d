#!/usr/bin/env node
// Generates the gateway's OpenAPI document from the built code (the same function that serves
// /api/documentation/json) and lints it with @redocly/cli. `npm test` runs it after the build.
//   node services/gateway/scripts/check-openapi.mjs [--out <file>]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const require = createRequire(import.meta.url);
const built = path.join(ROOT, 'dist/services/gateway/src/routing/openapi.js');
if (!fs.existsSync(built)) {
  console.error(`${built} is missing: build first (node deploy/local/build.mjs)`);
  process.exit(1);
}
const { buildOpenApiDocument } = require(built);
const outFlag = process.argv.indexOf('--out');
const out = outFlag > 0 ? path.resolve(process.argv[outFlag + 1]) : path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'overskill-openapi-')), 'openapi.json');
fs.writeFileSync(out, `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`);
const result = spawnSync(
  path.join(ROOT, 'node_modules/.bin/redocly'),
  ['lint', out, '--config', path.join(ROOT, 'services/gateway/redocly.yaml'), '--format', 'stylish'],
  {
    encoding: 'utf8',
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
  },
);
process.stdout.write(result.stdout);
process.stderr.write(result.stderr);
if (outFlag < 0) fs.rmSync(path.dirname(out), { recursive: true, force: true });
process.exit(result.status ?? 1);
