#!/usr/bin/env node
// Regenerates the tool table in docs/tool-runner.md from the tool definitions (build first:
// node deploy/local/build.mjs). A unit spec fails while the doc and the definitions disagree.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const require = createRequire(import.meta.url);
const { renderToolTable, DOCS_BEGIN, DOCS_END } = require(path.join(root, 'dist/services/tool-runner/src/catalog/tool-docs.js'));
const { toolRunnerEnvSchema } = require(path.join(root, 'dist/services/tool-runner/src/config.js'));

const defaults = toolRunnerEnvSchema.parse({ WORKSPACES_DIR: '/srv/workspaces' });
const docPath = path.join(root, 'docs/tool-runner.md');
const doc = fs.readFileSync(docPath, 'utf8');
const begin = doc.indexOf(DOCS_BEGIN);
const end = doc.indexOf(DOCS_END);
if (begin === -1 || end === -1) throw new Error(`${docPath} has no generated block (${DOCS_BEGIN} … ${DOCS_END})`);
fs.writeFileSync(docPath, doc.slice(0, begin) + renderToolTable(defaults) + doc.slice(end + DOCS_END.length));
console.log(`wrote the tool table in ${path.relative(root, docPath)}`);
