import { ErrorCode } from '@overskill/contracts';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RegistryLookup } from '../dependencies/npm-registry.repository';
import { createHarness, type Harness } from '../__tests__/tool-harness';

function registry(answers: Record<string, RegistryLookup>) {
  return { registryUrl: 'http://registry.test', lookup: async (name: string) => answers[name] ?? { status: 'missing' } } as never;
}

const REACT: RegistryLookup = { status: 'found', versions: ['18.2.0', '18.3.1', '19.0.0-rc.1'], distTags: { latest: '18.3.1', next: '19.0.0-rc.1' } };

describe('add_dependency / remove_dependency', () => {
  let h: Harness;
  afterEach(() => h.close());
  const pkg = () => JSON.parse(readFileSync(join(h.root, 'package.json'), 'utf8'));

  it("adds the latest version as a caret range, sorted, keeping the file's formatting", async () => {
    h = createHarness({ deps: { npm: registry({ react: REACT, zod: { status: 'found', versions: ['3.0.0'], distTags: { latest: '3.0.0' } } }) } });
    writeFileSync(join(h.root, 'package.json'), '{\n    "name": "demo",\n    "dependencies": {\n        "zod": "^3.0.0"\n    }\n}\n');
    const reply = await h.run('add_dependency', { name: 'react' });
    expect(reply.output).toBe(
      'Added react@^18.3.1 in dependencies (checked against the npm registry: latest is 18.3.1). The preview installs it on its next start.',
    );
    expect(readFileSync(join(h.root, 'package.json'), 'utf8')).toBe(
      '{\n    "name": "demo",\n    "dependencies": {\n        "react": "^18.3.1",\n        "zod": "^3.0.0"\n    }\n}\n',
    );
  });

  it('checks a range against the published versions, and moves a package between sections', async () => {
    h = createHarness({ deps: { npm: registry({ react: REACT }) } });
    writeFileSync(join(h.root, 'package.json'), JSON.stringify({ name: 'demo', dependencies: { react: '^18.2.0' } }));
    expect((await h.run('add_dependency', { name: 'react', version: '~18.2.0', dev: true })).output).toMatch(
      /^Added react@~18.2.0 in devDependencies \(checked against the npm registry: ~18.2.0 resolves to 18.2.0; removed it from dependencies\)/,
    );
    expect(pkg()).toEqual({ name: 'demo', dependencies: {}, devDependencies: { react: '~18.2.0' } });
    expect(await h.run('add_dependency', { name: 'react', version: '^20' })).toMatchObject({ isError: true, errorCode: ErrorCode.TOOL_PACKAGE_NOT_FOUND });
    expect(await h.run('add_dependency', { name: 'react', version: 'canary' })).toMatchObject({ isError: true, errorCode: ErrorCode.TOOL_PACKAGE_NOT_FOUND });
    expect(await h.run('add_dependency', { name: 'reactt' })).toMatchObject({ isError: true, errorCode: ErrorCode.TOOL_PACKAGE_NOT_FOUND });
  });

  it('goes on when the registry is not reachable, and says so', async () => {
    h = createHarness({ deps: { npm: registry({ react: { status: 'unreachable', reason: 'no answer within 3000 ms' } }) } });
    const reply = await h.run('add_dependency', { name: 'react', version: '^18.0.0' });
    expect(reply.output).toContain('NOT checked: the npm registry (http://registry.test) was not reachable (no answer within 3000 ms)');
    expect(reply.output).toContain('package.json was created');
    expect(pkg()).toEqual({ name: 'app', version: '0.0.0', private: true, dependencies: { react: '^18.0.0' } });
  });

  it('refuses invalid names and specs before anything else happens', async () => {
    h = createHarness();
    expect(await h.run('add_dependency', { name: '../evil' })).toMatchObject({ isError: true, errorCode: ErrorCode.TOOL_PACKAGE_INVALID });
    expect(await h.run('add_dependency', { name: 'left-pad', version: 'file:../../etc' })).toMatchObject({
      isError: true,
      errorCode: ErrorCode.TOOL_PACKAGE_INVALID,
    });
    expect(await h.run('add_dependency', { name: 'left-pad', version: 'git+https://example.com/x.git' })).toMatchObject({
      isError: true,
      errorCode: ErrorCode.TOOL_PACKAGE_INVALID,
    });
  });

  it('refuses a package.json that is not JSON instead of overwriting it', async () => {
    h = createHarness({ deps: { npm: registry({ react: REACT }) } });
    writeFileSync(join(h.root, 'package.json'), '{ "name": ');
    expect(await h.run('add_dependency', { name: 'react' })).toMatchObject({ isError: true, errorCode: ErrorCode.TOOL_PACKAGE_JSON_INVALID });
    expect(readFileSync(join(h.root, 'package.json'), 'utf8')).toBe('{ "name": ');
  });

  it('removes a package from every section it is in', async () => {
    h = createHarness();
    writeFileSync(join(h.root, 'package.json'), JSON.stringify({ dependencies: { a: '1', b: '2' }, peerDependencies: { a: '1' } }, null, 2));
    expect((await h.run('remove_dependency', { name: 'a' })).output).toBe('Removed a from dependencies, peerDependencies');
    expect(pkg()).toEqual({ dependencies: { b: '2' }, peerDependencies: {} });
    expect(await h.run('remove_dependency', { name: 'a' })).toMatchObject({ isError: true, errorCode: ErrorCode.TOOL_PACKAGE_NOT_FOUND });
  });
});
