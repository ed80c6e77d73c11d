// npm test step: the wire contracts are lint-clean, the generated TypeScript matches proto/,
// and nothing in proto/ breaks the wire format that main's replicas speak.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const buf = join(root, 'node_modules/.bin/buf');
const env = { ...process.env, PATH: `${join(root, 'node_modules/.bin')}:${process.env.PATH}` };

function run(args, what) {
  const res = spawnSync(buf, args, { cwd: root, env, stdio: 'inherit' });
  if (res.status !== 0) {
    console.error(`proto-check: ${what} failed`);
    process.exit(1);
  }
  console.log(`proto-check: ${what} ok`);
}

function listFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...listFiles(full));
    else out.push(full);
  }
  return out;
}

run(['lint'], 'buf lint');

const genDir = join(root, 'libs/contracts/src/gen');
const scratch = mkdtempSync(join(tmpdir(), 'overskill-proto-'));
try {
  run(['generate', '-o', scratch], 'buf generate');
  const fresh = join(scratch, 'libs/contracts/src/gen');
  const committed = listFiles(genDir)
    .map((f) => relative(genDir, f))
    .sort();
  const generated = listFiles(fresh)
    .map((f) => relative(fresh, f))
    .sort();
  const stale = generated.filter((f) => !committed.includes(f) || readFileSync(join(fresh, f), 'utf8') !== readFileSync(join(genDir, f), 'utf8'));
  const orphaned = committed.filter((f) => !generated.includes(f));
  if (stale.length || orphaned.length) {
    console.error(`proto-check: libs/contracts/src/gen is out of date (${[...stale, ...orphaned].join(', ')}); run \`npm run proto:generate\``);
    process.exit(1);
  }
  console.log('proto-check: generated code is up to date');
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

// Baseline: main as committed. Against itself (CI on main) this passes; on a branch it
// catches a change that old replicas could not decode.
let baselineHasProto = false;
try {
  baselineHasProto =
    execFileSync('git', ['ls-tree', '-d', 'main', 'proto'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
} catch {
  baselineHasProto = false;
}
if (!baselineHasProto) {
  console.log('proto-check: buf breaking has no baseline (main has no proto/ yet); nothing to compare');
} else {
  run(['breaking', '--against', `${join(root, '.git')}#branch=main`], 'buf breaking against main');
}
