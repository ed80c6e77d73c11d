import { AppError, ErrorCode } from '@overskill/contracts';

const MAX_PATH_CHARS = 1024;

// The file a preview URL asks for, relative to the app root. Percent-decoded once, then every
// segment checked: `..`, `.` and encoded slashes are refused, and names starting with a dot
// (.git, .env) are never served.
export function previewFilePath(rawUrl: string): { path: string; hidden: boolean } {
  const pathname = rawUrl.split(/[?#]/, 1)[0] ?? '/';
  if (pathname.length > MAX_PATH_CHARS) throw new AppError(ErrorCode.PREVIEW_PATH_INVALID, `The path is longer than ${MAX_PATH_CHARS} characters`);
  const segments = pathname.split('/').filter((s, i, all) => s !== '' || i === all.length - 1);
  const names: string[] = [];
  let hidden = false;
  for (const raw of segments) {
    let name: string;
    try {
      name = decodeURIComponent(raw);
    } catch {
      throw new AppError(ErrorCode.PREVIEW_PATH_INVALID, `"${raw.slice(0, 80)}" is not valid percent-encoding`);
    }
    if (name === '..' || name === '.') throw new AppError(ErrorCode.PREVIEW_PATH_INVALID, 'Paths with . or .. segments are not served');
    // eslint-disable-next-line no-control-regex
    if (/[/\\\u0000-\u001f]/.test(name)) throw new AppError(ErrorCode.PREVIEW_PATH_INVALID, 'A path segment contains a slash, backslash or control character');
    if (name.startsWith('.')) hidden = true;
    names.push(name);
  }
  const last = names.at(-1);
  if (last === undefined || last === '') names[names.length ? names.length - 1 : 0] = 'index.html';
  return { path: names.join('/'), hidden };
}

// A path that names no file gets the app's index.html when it looks like a page (client-side
// routing), never when it asks for an asset such as /missing.js.
export function wantsPageFallback(path: string, accept: string | undefined): boolean {
  const last = path.split('/').at(-1) ?? '';
  return !last.includes('.') || (accept ?? '').includes('text/html');
}
