import { AppError, ErrorCode, isEntityId } from '@overskill/contracts';
import { isAbsolute, join, posix } from 'node:path';

const MAX_NAME_BYTES = 255;

// C0/C1 controls, and the invisible characters that make a name read differently from what it
// is: bidi overrides and isolates (U+202A–202E, U+2066–2069, U+200E/200F, U+061C), zero-width
// characters (U+200B–200D, U+2060–2064, U+FEFF) and the Mongolian vowel separator.
// eslint-disable-next-line no-control-regex
const HIDDEN_OR_CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/u;

export interface WorkspacePath {
  // <WORKSPACES_DIR>/<appId>
  root: string;
  absolute: string;
  // POSIX, normalized, relative to root; '.' for the root itself.
  relative: string;
}

// `.git`, `.GIT`, `.git.` and `.git ` all name the repository's internals somewhere.
export function isGitInternalsName(name: string): boolean {
  return name.toLowerCase().replace(/[. ]+$/, '') === '.git';
}

// Turns a model-supplied path into a path inside the app's workspace, or refuses. Lexical only:
// the repository re-checks on disk, through file descriptors, where it really lands.
// The input is a path, never a URL: `%2e%2e` is a file literally named that, and nothing here or
// below ever percent-decodes it.
export function assertAppId(appId: string): void {
  if (!isEntityId(appId)) throw new AppError(ErrorCode.APP_NOT_FOUND, 'Not an app id');
}

export function resolveWorkspacePath(workspacesDir: string, appId: string, path: string, opts: { allowRoot?: boolean } = {}): WorkspacePath {
  assertAppId(appId);
  const root = join(workspacesDir, appId);
  if (typeof path !== 'string' || path.length === 0) throw new AppError(ErrorCode.TOOL_INPUT_INVALID, 'path must be a non-empty path relative to the app root');
  if (path.includes('\0')) throw new AppError(ErrorCode.TOOL_PATH_OUTSIDE_WORKSPACE, 'path contains a NUL byte');
  const unified = path.replace(/\\/g, '/');
  if (isAbsolute(unified) || /^[a-zA-Z]:/.test(unified))
    throw new AppError(ErrorCode.TOOL_PATH_OUTSIDE_WORKSPACE, `"${path}" is absolute; give a path relative to the app root`);
  if (HIDDEN_OR_CONTROL.test(path))
    throw new AppError(
      ErrorCode.TOOL_PATH_INVALID,
      `${JSON.stringify(path)} contains control or invisible characters (bidi overrides, zero-width); use a plain name`,
    );
  if (path.normalize('NFC') !== path)
    throw new AppError(ErrorCode.TOOL_PATH_INVALID, `"${path}" is not in Unicode NFC form; write accented letters as single characters`);

  const rel = posix.normalize(unified).replace(/\/+$/, '');
  if (rel === '..' || rel.startsWith('../')) throw new AppError(ErrorCode.TOOL_PATH_OUTSIDE_WORKSPACE, `"${path}" points outside the app workspace`);
  if (rel === '.' || rel === '') {
    if (opts.allowRoot) return { root, absolute: root, relative: '.' };
    throw new AppError(ErrorCode.TOOL_PATH_OUTSIDE_WORKSPACE, `"${path}" is the app root itself, not a file in it`);
  }
  for (const name of rel.split('/')) {
    // Fullwidth dots, one-dot leaders, fullwidth solidus…: harmless to the OS, but a name that
    // reads as `..` or contains a slash is a trick, not a file name.
    const folded = name.normalize('NFKC');
    if (folded !== name && (folded === '.' || folded === '..' || /[/\\]/.test(folded))) {
      throw new AppError(ErrorCode.TOOL_PATH_INVALID, `"${name}" imitates "${folded}" with lookalike characters`);
    }
    if (Buffer.byteLength(name) > MAX_NAME_BYTES) throw new AppError(ErrorCode.TOOL_PATH_INVALID, `a name in "${path}" is longer than ${MAX_NAME_BYTES} bytes`);
    if (isGitInternalsName(name))
      throw new AppError(ErrorCode.TOOL_PATH_PROTECTED, 'The .git folder is managed by overskill; use the git_* tools instead of touching it');
  }
  return { root, absolute: join(root, rel), relative: rel };
}
