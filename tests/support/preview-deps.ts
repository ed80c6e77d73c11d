import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO_ROOT } from './integration-env';

const KEY_MODULE = join(REPO_ROOT, 'dist', 'services', 'tool-runner', 'src', 'preview', 'dev-server', 'dependency-store.repository.js');

// tool-runner's key of a dependency set, from the built service (tests have no path alias into it).
export function dependencySetKey(packageJson: Record<string, unknown>): string {
  const { dependencySetKey: key } = require(KEY_MODULE) as { dependencySetKey: (pkg: Record<string, unknown>) => string | undefined };
  const found = key(packageJson);
  if (!found) throw new Error('this package.json declares no dependencies');
  return found;
}

// The exact versions this repository has installed of `names`, for an app's package.json.
export function installedVersions(names: string[]): Record<string, string> {
  return Object.fromEntries(
    names.map((name) => [name, (JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version]),
  );
}

// Primes PREVIEW_DEPS_DIR with the set `packageJson` declares, copied from this repository's own
// node_modules (no registry in tests): the packages and everything they need, hoisted as npm
// installed them, and their .bin links.
export function seedDependencySet(depsDir: string, packageJson: Record<string, unknown>): string {
  const roots = Object.keys({ ...(packageJson['dependencies'] as object), ...(packageJson['devDependencies'] as object) });
  const target = join(depsDir, 'sets', dependencySetKey(packageJson));
  const modules = join(target, 'node_modules');
  const seen = new Set<string>();
  const queue = [...roots];
  while (queue.length) {
    const name = queue.shift() as string;
    const from = join(REPO_ROOT, 'node_modules', name);
    if (seen.has(name) || !existsSync(from)) continue;
    seen.add(name);
    cpSync(from, join(modules, name), { recursive: true, verbatimSymlinks: true });
    const pkg = JSON.parse(readFileSync(join(from, 'package.json'), 'utf8')) as {
      dependencies?: object;
      optionalDependencies?: object;
      peerDependencies?: object;
    };
    // A dependency nested under the package came along with it; the rest are hoisted.
    for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies, ...pkg.peerDependencies }))
      if (!existsSync(join(from, 'node_modules', dep))) queue.push(dep);
  }
  mkdirSync(join(modules, '.bin'), { recursive: true });
  for (const name of roots) {
    const pkg = JSON.parse(readFileSync(join(modules, name, 'package.json'), 'utf8')) as { bin?: string | Record<string, string> };
    const bins = typeof pkg.bin === 'string' ? { [name.split('/').at(-1) as string]: pkg.bin } : (pkg.bin ?? {});
    for (const [bin, file] of Object.entries(bins)) symlinkSync(relative(join(modules, '.bin'), join(modules, name, file)), join(modules, '.bin', bin));
  }
  for (const scratch of ['.vite', '.vite-temp', '.cache']) mkdirSync(join(modules, scratch), { recursive: true });
  writeFileSync(join(target, '.overskill-complete'), new Date().toISOString());
  return modules;
}
