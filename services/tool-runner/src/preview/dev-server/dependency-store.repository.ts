import { Inject, Injectable } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEV_SETTINGS, type DevSettings } from './dev-settings';
import { NODE_MODULES_SCRATCH } from './sandbox-command';
import { SandboxProcessRepository, type OutputLine } from './sandbox-process.repository';

export interface AppPackage {
  devScript?: string;
  // Absent when the app declares no dependencies.
  dependencySet?: string;
}

const DEPENDENCY_FIELDS = ['dependencies', 'devDependencies', 'optionalDependencies'] as const;
const READY_MARK = '.overskill-complete';

// One key per set of declared dependencies (and the lockfile when there is one): apps that
// declare the same set share one installed node_modules.
export function dependencySetKey(packageJson: Record<string, unknown>, lockfile?: string): string | undefined {
  const declared = DEPENDENCY_FIELDS.map((field) => [field, packageJson[field] ?? {}] as const);
  if (declared.every(([, deps]) => typeof deps !== 'object' || !deps || Object.keys(deps).length === 0)) return undefined;
  return createHash('sha256')
    .update(JSON.stringify(declared))
    .update(lockfile ?? '')
    .digest('hex')
    .slice(0, 32);
}

export function parseAppPackage(text: string, lockfile?: string): AppPackage {
  const pkg = JSON.parse(text) as Record<string, unknown>;
  const scripts = pkg['scripts'] as Record<string, unknown> | undefined;
  const dev = typeof scripts?.['dev'] === 'string' && scripts['dev'].trim() ? scripts['dev'] : undefined;
  return { devScript: dev, dependencySet: dependencySetKey(pkg, lockfile) };
}

// Installed dependency sets under PREVIEW_DEPS_DIR/sets/<key>/node_modules, each made once (by
// `npm install --ignore-scripts` in the sandbox, from npm's shared cache first) and then bound
// read-only into every dev server that declares that set.
@Injectable()
export class DependencyStoreRepository {
  private readonly building = new Map<string, Promise<string>>();

  constructor(
    private readonly processes: SandboxProcessRepository,
    @Inject(DEV_SETTINGS) private readonly settings: DevSettings,
  ) {}

  setDir(key: string): string {
    return join(this.settings.depsDir, 'sets', key);
  }

  // The app's own scratch folders under node_modules (Vite's pre-bundled dependencies): kept
  // across restarts so a warm start skips that work; an app writes only its own.
  async scratchFor(appId: string): Promise<string> {
    const dir = join(this.settings.depsDir, 'scratch', appId);
    for (const name of NODE_MODULES_SCRATCH) await mkdir(join(dir, name), { recursive: true });
    return dir;
  }

  // The set's node_modules, if it was installed before.
  installed(key: string): string | undefined {
    const dir = this.setDir(key);
    return existsSync(join(dir, READY_MARK)) ? join(dir, 'node_modules') : undefined;
  }

  // Installs the set declared by the workspace's package.json (and lockfile) unless it is there.
  ensure(key: string, workspace: string, onLine: OutputLine): Promise<string> {
    const ready = this.installed(key);
    if (ready) return Promise.resolve(ready);
    let pending = this.building.get(key);
    if (!pending) {
      pending = this.install(key, workspace, onLine).finally(() => this.building.delete(key));
      this.building.set(key, pending);
    }
    return pending;
  }

  private async install(key: string, workspace: string, onLine: OutputLine): Promise<string> {
    const staging = join(this.settings.depsDir, 'staging', `${key}-${randomUUID()}`);
    const cache = join(this.settings.depsDir, 'npm-cache');
    await mkdir(staging, { recursive: true });
    await mkdir(cache, { recursive: true });
    try {
      for (const file of ['package.json', 'package-lock.json']) {
        if (existsSync(join(workspace, file))) await writeFile(join(staging, file), await readFile(join(workspace, file)));
      }
      // Install scripts never run (the set is shared); a registry that is away fails in seconds.
      const npm = [
        'npm',
        'install',
        '--ignore-scripts',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        '--cache',
        '/npm-cache',
        '--registry',
        this.settings.registry,
      ];
      npm.push('--fetch-retries', '1', '--fetch-retry-mintimeout', '1000', '--fetch-retry-maxtimeout', '5000');
      const handle = this.processes.start(
        { ...this.settings.limits, bwrap: this.settings.bwrap, workspace: staging, port: 0, writable: [{ from: cache, to: '/npm-cache' }], command: npm },
        onLine,
      );
      const timer = setTimeout(() => void handle.stop(), this.settings.installTimeoutMs);
      const exit = await handle.exited;
      clearTimeout(timer);
      if (exit.code !== 0) throw new Error(`npm install ended with ${exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`}`);
      const modules = join(staging, 'node_modules');
      // Scratch folders get a private tmpfs in every sandbox; each needs a mount point.
      for (const scratch of NODE_MODULES_SCRATCH) await mkdir(join(modules, scratch), { recursive: true });
      await writeFile(join(staging, READY_MARK), new Date().toISOString());
      const target = this.setDir(key);
      await mkdir(join(this.settings.depsDir, 'sets'), { recursive: true });
      // Another replica may have finished the same set first: keep theirs.
      await rename(staging, target).catch(() => undefined);
      const done = this.installed(key);
      if (!done) throw new Error('the installed dependencies could not be moved into the store');
      return done;
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }
}
