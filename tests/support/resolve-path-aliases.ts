import Module from 'node:module';
import type { ProjectConfig } from 'jest';

type ResolveFilename = (this: unknown, request: string, ...rest: unknown[]) => string;
const installed = Symbol.for('overskill.resolvePathAliases');

// Jest applies moduleNameMapper to test files only, not to globalSetup/globalTeardown, which it
// loads with plain Node resolution. This teaches Node the same mapping, taken from the project
// config, so global setup can import libraries through their @overskill/* alias too.
export function resolvePathAliasesLikeJest(projectConfig: ProjectConfig): void {
  const moduleWithResolver = Module as unknown as { _resolveFilename: ResolveFilename } & Record<symbol, boolean>;
  if (moduleWithResolver[installed]) return;
  moduleWithResolver[installed] = true;

  const mappings = projectConfig.moduleNameMapper.map(([pattern, target]) => ({ pattern: new RegExp(pattern), target }));
  const resolveFilename = moduleWithResolver._resolveFilename;
  moduleWithResolver._resolveFilename = function (request, ...rest) {
    for (const { pattern, target } of mappings) {
      const match = pattern.exec(request);
      if (match)
        return resolveFilename.call(
          this,
          target.replace(/\$(\d+)/g, (_, group: string) => match[Number(group)] ?? ''),
          ...rest,
        );
    }
    return resolveFilename.call(this, request, ...rest);
  };
}
