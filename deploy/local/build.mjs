#!/usr/bin/env node
// The one build: a single swc pass compiles libs/, services/ and tools/cli/src/ into dist/,
// keeping source paths (services/gateway/src/main.ts -> dist/services/gateway/src/main.js).
// .swcrc rewrites the @overskill/* aliases to relative requires, so dist/ runs with plain node.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DIST = path.join(REPO_ROOT, 'dist');
const SOURCE_ROOTS = ['libs', 'services', 'tools/cli/src'];
// Tests never ship (.swcrc already drops *.spec.ts; the integration tier's *.int-spec.ts too).
const IGNORED = ['**/*.spec.ts', '**/*.int-spec.ts', '**/__tests__/**', '**/*.d.ts'];

function walk(dir, visit) {
  if (!fs.existsSync(dir)) return;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full, visit);
    else visit(full);
  }
}

// JSON next to code (price tables, schemas) is required at run time; swc only copies code.
function copyJsonAssets() {
  let copied = 0;
  for (const root of SOURCE_ROOTS) {
    walk(path.join(REPO_ROOT, root), (file) => {
      const relative = path.relative(REPO_ROOT, file);
      if (!file.endsWith('.json') || !relative.split(path.sep).includes('src')) return;
      const target = path.join(DIST, relative);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.copyFileSync(file, target);
      copied += 1;
    });
  }
  return copied;
}

// Every entry point that has a source must have landed where start.mjs and the Dockerfile look.
function missingOutputs() {
  const expected = [];
  const entryPoints = (projectsDir, names) => {
    for (const project of fs.existsSync(path.join(REPO_ROOT, projectsDir)) ? fs.readdirSync(path.join(REPO_ROOT, projectsDir)) : []) {
      for (const name of names) {
        const source = path.join(projectsDir, project, 'src', `${name}.ts`);
        if (fs.existsSync(path.join(REPO_ROOT, source))) expected.push(source);
      }
    }
  };
  entryPoints('services', ['main', 'migrate']);
  entryPoints('libs', ['index']);
  if (fs.existsSync(path.join(REPO_ROOT, 'tools/cli/src/main.ts'))) expected.push('tools/cli/src/main.ts');
  return expected.map((source) => path.join('dist', source.replace(/\.ts$/, '.js'))).filter((output) => !fs.existsSync(path.join(REPO_ROOT, output)));
}

export function build() {
  const started = Date.now();
  const roots = SOURCE_ROOTS.filter((root) => fs.existsSync(path.join(REPO_ROOT, root)));
  const swc = path.join(REPO_ROOT, 'node_modules', '.bin', 'swc');
  if (!fs.existsSync(swc)) throw new Error(`${swc} not found: run \`npm install\` (or node deploy/local/bootstrap.mjs) first`);

  const result = spawnSync(swc, [...roots, '-d', 'dist', '--config-file', '.swcrc', '--quiet', '--ignore', IGNORED.join(',')], {
    cwd: REPO_ROOT,
    stdio: 'inherit',
  });
  if (result.error) throw new Error(`could not run swc: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`swc failed with exit code ${result.status} (see above)`);

  const copied = copyJsonAssets();
  const missing = missingOutputs();
  if (missing.length > 0) throw new Error(`swc finished but these outputs are missing:\n  ${missing.join('\n  ')}`);
  console.log(`build: ${roots.join(', ')} -> dist/ (${copied} JSON assets copied) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    build();
  } catch (error) {
    console.error(`build: ${error.message}`);
    process.exit(1);
  }
}
