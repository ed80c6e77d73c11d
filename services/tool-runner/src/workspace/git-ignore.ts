import ignore, { type Ignore } from 'ignore';

// One file of ignore rules: `.git/info/exclude` or a `.gitignore`, with the folder its patterns are
// relative to ('' for the workspace's root).
export interface IgnoreRules {
  folder: string;
  patterns: string;
}

// Whether `git ls-files --others --exclude-standard` would leave out an untracked file at `path`,
// given the rules that can apply to it: `.git/info/exclude`, then the `.gitignore` of the root and
// of each folder down to the file's own, in that order. As git decides it: a folder it excludes is
// not descended into, so nothing below it can come back; for the folder or file itself, the
// deepest `.gitignore` with a matching pattern decides, then the shallower ones, then
// `info/exclude`; within one file the last matching pattern wins, and `!` re-includes.
export function gitIgnores(path: string, rules: IgnoreRules[]): boolean {
  const matchers = rules.map((r) => ({ folder: r.folder, matcher: ignore({ ignorecase: false }).add(r.patterns) as Ignore })).reverse();
  const parts = path.split('/');
  for (let depth = 1; depth <= parts.length; depth++) {
    const entry = parts.slice(0, depth).join('/');
    if (excluded(entry, depth < parts.length, matchers)) return true;
  }
  return false;
}

function excluded(entry: string, isFolder: boolean, matchers: Array<{ folder: string; matcher: Ignore }>): boolean {
  for (const { folder, matcher } of matchers) {
    // A `.gitignore` speaks only about what is below its own folder.
    if (folder && !entry.startsWith(`${folder}/`)) continue;
    const relative = folder ? entry.slice(folder.length + 1) : entry;
    const result = matcher.test(isFolder ? `${relative}/` : relative);
    if (result.ignored) return true;
    if (result.unignored) return false;
  }
  return false;
}
