// `npx overskill …` from the repository root: runs the compiled CLI, building it first when
// dist/ is missing (a fresh clone).
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const { spawnSync } = require('node:child_process');

const root = join(__dirname, '..', '..');
const entry = join(root, 'dist', 'tools', 'cli', 'src', 'main.js');
if (!existsSync(entry)) {
  const built = spawnSync(process.execPath, [join(root, 'deploy', 'local', 'build.mjs')], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  if (built.status !== 0 || !existsSync(entry)) {
    process.stderr.write('overskill: could not build the CLI; run `npm run build` and try again\n');
    process.exit(1);
  }
}
require(entry);
