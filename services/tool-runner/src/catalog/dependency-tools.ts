import { AppError, ErrorCode } from '@overskill/contracts';
import { maxSatisfying } from 'semver';
import {
  checkPackageName,
  DEPENDENCY_SECTIONS,
  parsePackageJson,
  parseVersionSpec,
  serializePackageJson,
  sortedSection,
  type DependencySection,
  type PackageJsonDocument,
} from '../dependencies/package-spec';
import type { RegistryLookup } from '../dependencies/npm-registry.repository';
import type { WorkspaceWriter } from '../workspace/workspace';
import { defineTool } from './tool-definition';

const PACKAGE_JSON = 'package.json';
const nameProperty = { type: 'string', minLength: 1, maxLength: 214, description: 'npm package name, e.g. react or @tanstack/react-query' };

async function loadPackageJson(w: WorkspaceWriter, createIfMissing: boolean): Promise<{ doc: PackageJsonDocument; created: boolean }> {
  const info = await w.inspect(PACKAGE_JSON);
  if (!info) {
    if (!createIfMissing) throw new AppError(ErrorCode.TOOL_FILE_NOT_FOUND, 'The app has no package.json');
    return { doc: { data: { name: 'app', version: '0.0.0', private: true }, indent: '  ', newline: '\n', finalNewline: true }, created: true };
  }
  return { doc: parsePackageJson((await w.readText(PACKAGE_JSON)).text), created: false };
}

// What goes into package.json, and what the result says about the registry check.
function chooseVersion(name: string, requested: string | undefined, lookup: RegistryLookup, registry: string): { spec: string; note: string } {
  const spec = parseVersionSpec(requested ?? 'latest');
  if (lookup.status === 'disabled')
    return { spec: spec.kind === 'range' ? spec.range : spec.tag, note: 'not checked against the npm registry (lookups are turned off)' };
  if (lookup.status === 'unreachable') {
    return {
      spec: spec.kind === 'range' ? spec.range : spec.tag,
      note: `NOT checked: the npm registry (${registry}) was not reachable (${lookup.reason}); the install will tell whether it exists`,
    };
  }
  if (lookup.status === 'missing') throw new AppError(ErrorCode.TOOL_PACKAGE_NOT_FOUND, `${name} does not exist in the npm registry; check the spelling`);
  if (spec.kind === 'tag') {
    const version = lookup.distTags[spec.tag];
    if (!version)
      throw new AppError(ErrorCode.TOOL_PACKAGE_NOT_FOUND, `${name} has no "${spec.tag}" tag (tags: ${Object.keys(lookup.distTags).join(', ') || 'none'})`);
    // A tag moves; package.json gets a caret range on what it points to today.
    return { spec: `^${version}`, note: `checked against the npm registry: ${spec.tag} is ${version}` };
  }
  const best = maxSatisfying(lookup.versions, spec.range);
  if (!best)
    throw new AppError(
      ErrorCode.TOOL_PACKAGE_NOT_FOUND,
      `No published version of ${name} matches ${spec.range} (latest is ${lookup.distTags.latest ?? 'unknown'})`,
    );
  return { spec: spec.range, note: `checked against the npm registry: ${spec.range} resolves to ${best}` };
}

export const addDependencyTool = defineTool<{ name: string; version?: string; dev?: boolean }>({
  name: 'add_dependency',
  description: () =>
    "Add (or change the version of) an npm package in the app's package.json. version is a semver range or a dist-tag (default: latest, saved as ^<version>). The package is looked up in the npm registry when it is reachable; the result says whether it was checked.",
  inputSchema: () => ({
    type: 'object',
    additionalProperties: false,
    required: ['name'],
    properties: {
      name: nameProperty,
      version: { type: 'string', minLength: 1, maxLength: 100, description: 'Semver range (^1.2.0, ~3.1, >=2 <4) or dist-tag (latest, next)' },
      dev: { type: 'boolean', description: 'Add to devDependencies instead of dependencies' },
    },
  }),
  writes: 'workspace',
  async run(input, ctx) {
    const { warning } = checkPackageName(input.name);
    parseVersionSpec(input.version ?? 'latest');
    // The registry is asked before the lock: other writes to the app need not wait for it.
    const lookup = await ctx.deps.npm.lookup(input.name);
    const { spec, note } = chooseVersion(input.name, input.version, lookup, ctx.deps.npm.registryUrl);
    const section: DependencySection = input.dev ? 'devDependencies' : 'dependencies';
    return ctx.withWriteLock(async (w) => {
      const { doc, created } = await loadPackageJson(w, true);
      const moved = DEPENDENCY_SECTIONS.filter(
        (s) => s !== section && s !== 'peerDependencies' && (doc.data[s] as Record<string, string> | undefined)?.[input.name] !== undefined,
      );
      for (const other of moved) {
        const entries = { ...(doc.data[other] as Record<string, string>) };
        delete entries[input.name];
        doc.data[other] = entries;
      }
      const entries = { ...((doc.data[section] as Record<string, string> | undefined) ?? {}) };
      const previous = entries[input.name];
      entries[input.name] = spec;
      doc.data[section] = sortedSection(entries);
      const content = Buffer.from(serializePackageJson(doc), 'utf8');
      await w.write(PACKAGE_JSON, content);
      const what = previous ? `Changed ${input.name} from ${previous} to ${spec}` : `Added ${input.name}@${spec}`;
      const notes = [note, created ? 'package.json was created' : '', moved.length ? `removed it from ${moved.join(', ')}` : '', warning ?? ''].filter(Boolean);
      return { output: `${what} in ${section} (${notes.join('; ')}). The preview installs it on its next start.`, bytesWritten: content.length };
    });
  },
});

export const removeDependencyTool = defineTool<{ name: string }>({
  name: 'remove_dependency',
  description: () => "Remove an npm package from the app's package.json (dependencies, devDependencies, peerDependencies, optionalDependencies).",
  inputSchema: () => ({ type: 'object', additionalProperties: false, required: ['name'], properties: { name: nameProperty } }),
  writes: 'workspace',
  async run(input, ctx) {
    checkPackageName(input.name);
    return ctx.withWriteLock(async (w) => {
      const { doc } = await loadPackageJson(w, false);
      const from: DependencySection[] = [];
      for (const section of DEPENDENCY_SECTIONS) {
        const entries = doc.data[section] as Record<string, string> | undefined;
        if (entries?.[input.name] === undefined) continue;
        const rest = { ...entries };
        delete rest[input.name];
        doc.data[section] = rest;
        from.push(section);
      }
      if (from.length === 0) throw new AppError(ErrorCode.TOOL_PACKAGE_NOT_FOUND, `${input.name} is not a dependency in package.json`);
      const content = Buffer.from(serializePackageJson(doc), 'utf8');
      await w.write(PACKAGE_JSON, content);
      return { output: `Removed ${input.name} from ${from.join(', ')}`, bytesWritten: content.length };
    });
  },
});
