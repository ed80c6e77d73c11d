import { AppError, ErrorCode } from '@overskill/contracts';
import { validRange } from 'semver';

const MAX_NAME_LENGTH = 214;
// Characters npm has refused in new names since 2015.
const SPECIAL = /[~'!()*]/;

export interface PackageNameCheck {
  // Old-style names (capital letters) still install but cannot be published today.
  warning?: string;
}

// npm's package name rules (validate-npm-package-name): at most 214 characters, URL-safe,
// not starting with . or _, no spaces or ~'!()*, lowercase for new packages; `@scope/name`.
export function checkPackageName(name: string): PackageNameCheck {
  const refuse = (why: string) => {
    throw new AppError(ErrorCode.TOOL_PACKAGE_INVALID, `"${name}" is not a valid npm package name: ${why}`);
  };
  if (name.length === 0) refuse('it is empty');
  if (name.length > MAX_NAME_LENGTH) refuse(`it is longer than ${MAX_NAME_LENGTH} characters`);
  if (name.trim() !== name) refuse('it has leading or trailing spaces');
  if (name.startsWith('.') || name.startsWith('_')) refuse('it starts with . or _');
  if (['node_modules', 'favicon.ico'].includes(name.toLowerCase())) refuse('the name is reserved');
  let bare = name;
  if (name.startsWith('@')) {
    const [, scope = '', rest = ''] = /^@([^/]+)\/([^/]+)$/.exec(name) ?? [];
    if (!scope) refuse('a scoped name is @scope/name');
    if (encodeURIComponent(scope) !== scope) refuse('the scope has characters that are not URL-safe');
    bare = rest;
    if (bare.startsWith('.') || bare.startsWith('_')) refuse('the name after the scope starts with . or _');
  }
  if (encodeURIComponent(bare) !== bare) refuse('it has characters that are not URL-safe');
  if (SPECIAL.test(bare)) refuse("it contains one of ~'!()*");
  if (name.toLowerCase() !== name) return { warning: 'names with capital letters are legacy; new packages are lowercase' };
  return {};
}

export type VersionSpec = { kind: 'range'; range: string } | { kind: 'tag'; tag: string };

// A semver range (^1.2.0, ~3, >=2 <4, 1.x, *) or a dist-tag (latest, next). Git, file:, link:,
// URL and npm: alias specs are refused: they could fetch arbitrary code or point outside the app.
export function parseVersionSpec(spec: string): VersionSpec {
  const trimmed = spec.trim();
  if (/^(file|link|git|git\+\w+|github|gitlab|bitbucket|gist|npm|workspace|https?|portal|patch):/i.test(trimmed) || trimmed.includes('/')) {
    throw new AppError(
      ErrorCode.TOOL_PACKAGE_INVALID,
      `"${spec}" is not a version range; only semver ranges (^1.2.3, ~2.0, >=1 <3) and dist-tags (latest, next) are accepted`,
    );
  }
  if (validRange(trimmed) !== null) return { kind: 'range', range: trimmed };
  if (/^[a-z][a-z0-9._-]{0,63}$/i.test(trimmed)) return { kind: 'tag', tag: trimmed };
  throw new AppError(ErrorCode.TOOL_PACKAGE_INVALID, `"${spec}" is neither a semver range nor a dist-tag`);
}

export const DEPENDENCY_SECTIONS = ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies'] as const;
export type DependencySection = (typeof DEPENDENCY_SECTIONS)[number];

export interface PackageJsonDocument {
  data: Record<string, unknown>;
  indent: string;
  newline: string;
  finalNewline: boolean;
}

export function parsePackageJson(text: string): PackageJsonDocument {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new AppError(ErrorCode.TOOL_PACKAGE_JSON_INVALID, `package.json is not valid JSON (${(err as Error).message}); fix it with write_file first`);
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) throw new AppError(ErrorCode.TOOL_PACKAGE_JSON_INVALID, 'package.json must hold a JSON object');
  for (const section of DEPENDENCY_SECTIONS) {
    const value = (data as Record<string, unknown>)[section];
    if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) {
      throw new AppError(ErrorCode.TOOL_PACKAGE_JSON_INVALID, `package.json "${section}" must be an object`);
    }
  }
  const indent = /^[ \t]+(?=")/m.exec(text)?.[0] ?? '  ';
  return { data: data as Record<string, unknown>, indent, newline: text.includes('\r\n') ? '\r\n' : '\n', finalNewline: /\n$/.test(text) };
}

export function serializePackageJson(doc: PackageJsonDocument): string {
  const text = JSON.stringify(doc.data, null, doc.indent).replace(/\n/g, doc.newline);
  return doc.finalNewline ? text + doc.newline : text;
}

// npm keeps each section sorted by name.
export function sortedSection(entries: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(entries).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
