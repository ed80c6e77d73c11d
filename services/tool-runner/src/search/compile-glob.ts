export interface CompiledGlob {
  source: string;
  regex: RegExp;
  // A trailing slash: only folders match.
  directoryOnly: boolean;
}

// .gitignore-style globs, the way ripgrep's --glob reads them, so the ripgrep engine and the
// JavaScript fallback pick the same files: a glob without a slash matches a name at any depth;
// one with a slash (or a leading one) is anchored at the app root; `*` and `?` stop at `/`;
// `**` spans folders; `[…]`/`[!…]` classes and `{a,b}` alternatives.
export function compileGlob(glob: string): CompiledGlob {
  let pattern = glob.trim();
  const directoryOnly = pattern.endsWith('/');
  pattern = pattern.replace(/\/+$/, '');
  let anchored = pattern.includes('/');
  if (pattern.startsWith('/')) {
    pattern = pattern.slice(1);
    anchored = true;
  }
  const body = translate(pattern);
  const prefix = anchored || pattern.startsWith('**/') ? '' : '(?:.*/)?';
  return { source: glob, regex: new RegExp(`^${prefix}${body}$`), directoryOnly };
}

function translate(pattern: string): string {
  let out = '';
  let i = 0;
  let inBraces = false;
  while (i < pattern.length) {
    const c = pattern.charAt(i);
    if (c === '\\' && i + 1 < pattern.length) {
      out += escape(pattern.charAt(i + 1));
      i += 2;
      continue;
    }
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        const atStart = i === 0 || pattern[i - 1] === '/';
        const next = pattern[i + 2];
        if (atStart && next === '/') {
          out += '(?:.*/)?';
          i += 3;
          continue;
        }
        if (atStart && next === undefined) {
          out += '.*';
          i += 2;
          continue;
        }
        // `**` that is not a whole path component is an ordinary star.
        out += '[^/]*';
        i += 2;
        continue;
      }
      out += '[^/]*';
      i += 1;
      continue;
    }
    if (c === '?') {
      out += '[^/]';
      i += 1;
      continue;
    }
    if (c === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close === -1) {
        out += '\\[';
        i += 1;
        continue;
      }
      let cls = pattern.slice(i + 1, close);
      const negated = cls.startsWith('!') || cls.startsWith('^');
      if (negated) cls = cls.slice(1);
      out += `[${negated ? '^/' : ''}${cls.replace(/\\/g, '\\\\').replace(/\[/g, '\\[')}]`;
      i = close + 1;
      continue;
    }
    if (c === '{' && !inBraces) {
      inBraces = true;
      out += '(?:';
      i += 1;
      continue;
    }
    if (c === '}' && inBraces) {
      inBraces = false;
      out += ')';
      i += 1;
      continue;
    }
    if (c === ',' && inBraces) {
      out += '|';
      i += 1;
      continue;
    }
    out += escape(c);
    i += 1;
  }
  if (inBraces) throw new Error(`unclosed { in glob "${pattern}"`);
  return out;
}

function escape(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? `\\${c}` : c;
}

export interface PathFilter {
  includes: CompiledGlob[];
  excludes: CompiledGlob[];
}

// Folders that are never searched: git's internals and installed packages.
export const ALWAYS_EXCLUDED_FOLDERS = ['.git', 'node_modules'] as const;

export function compilePathFilter(include: readonly string[], exclude: readonly string[]): PathFilter {
  return {
    includes: include.map(compileGlob),
    excludes: [...exclude, ...ALWAYS_EXCLUDED_FOLDERS].map(compileGlob),
  };
}

// A folder is skipped (with everything in it) when an exclude glob matches it; include globs
// pick files only, as in ripgrep.
export function folderIsSearched(filter: PathFilter, relative: string): boolean {
  return !filter.excludes.some((g) => g.regex.test(relative));
}

export function fileIsSearched(filter: PathFilter, relative: string): boolean {
  if (filter.excludes.some((g) => !g.directoryOnly && g.regex.test(relative))) return false;
  const includes = filter.includes.filter((g) => !g.directoryOnly);
  if (filter.includes.length === 0) return true;
  return includes.some((g) => g.regex.test(relative));
}
