#!/usr/bin/env node
// The one build: a single swc pass compiles libs/, services/ and tools/cli/src/ into dist/,
// keeping source paths (services/gateway/src/main.ts -> dist/services/gateway/src/main.js).
// .swcrc rewrites the @overskill/* aliases to relative requires, so dist/ runs with plain node.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DIST = path.join(REPO_ROOT, 'dist');
const SOURCE_ROOTS = ['libs', 'services', 'tools/cli/src'];
// Tests never ship (.swcrc already drops *.spec.ts; the integration tier's *.int-spec.ts too).
const IGNORED = ['**/*.spec.ts', '**/*.int-spec.ts', '**/__tests__/**', '**/*.d.ts', 'services/console/**'];
// The web console is a browser bundle: Vite builds it into dist/services/console, served by the gateway.
const CONSOLE_CONFIG = 'services/console/vite.config.mts';

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

// Vite's production build of the console, then its size report: the JavaScript index.html loads
// at start (entry + its static imports), gzipped, against the 250 KB budget.
function buildConsole() {
  const vite = path.join(REPO_ROOT, 'node_modules', '.bin', 'vite');
  const result = spawnSync(vite, ['build', '--config', CONSOLE_CONFIG, '--logLevel', 'warn'], { cwd: REPO_ROOT, stdio: 'inherit' });
  if (result.error) throw new Error(`could not run vite: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`vite build of the console failed with exit code ${result.status} (see above)`);
  precompress(path.join(DIST, 'services', 'console', 'assets'));
  const report = consoleSizeReport(path.join(DIST, 'services', 'console'));
  fs.writeFileSync(path.join(DIST, 'services', 'console-size.json'), `${JSON.stringify(report, null, 2)}\n`);
  if (report.initialGzipBytes > report.budgetGzipBytes)
    throw new Error(`the console's initial JavaScript is ${kb(report.initialGzipBytes)} gzipped, over the ${kb(report.budgetGzipBytes)} budget`);
  return `console -> dist/services/console (initial JS ${kb(report.initialGzipBytes)} gzipped of ${kb(report.budgetGzipBytes)}, all JS ${kb(report.totalGzipBytes)})`;
}

const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;

// Brotli at its best quality costs about a second per 300 KB: done once here, the gateway serves
// these files as they are instead of compressing each response.
function precompress(dir) {
  for (const file of fs.readdirSync(dir)) {
    if (!/\.(js|css|svg|json|html)$/.test(file)) continue;
    const body = fs.readFileSync(path.join(dir, file));
    fs.writeFileSync(
      path.join(dir, `${file}.br`),
      zlib.brotliCompressSync(body, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: body.length } }),
    );
    fs.writeFileSync(path.join(dir, `${file}.gz`), zlib.gzipSync(body, { level: 9 }));
  }
}

export function consoleSizeReport(dir) {
  const html = fs.readFileSync(path.join(dir, 'index.html'), 'utf8');
  const gz = (file) => zlib.gzipSync(fs.readFileSync(path.join(dir, file)), { level: 9 }).length;
  // What the page loads before any interaction: the entry module and the chunks it preloads.
  const initial = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.js)"/g)].map((m) => m[1]);
  const all = fs
    .readdirSync(path.join(dir, 'assets'))
    .filter((f) => f.endsWith('.js'))
    .map((f) => `assets/${f}`);
  return {
    initialFiles: initial,
    initialGzipBytes: initial.reduce((sum, f) => sum + gz(f), 0),
    totalGzipBytes: all.reduce((sum, f) => sum + gz(f), 0),
    budgetGzipBytes: 250 * 1024,
  };
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
  const consoleReport = buildConsole();
  const missing = missingOutputs();
  if (missing.length > 0) throw new Error(`swc finished but these outputs are missing:\n  ${missing.join('\n  ')}`);
  console.log(`build: ${roots.join(', ')} -> dist/ (${copied} JSON assets copied); ${consoleReport}; in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    build();
  } catch (error) {
    console.error(`build: ${error.message}`);
    process.exit(1);
  }
}
